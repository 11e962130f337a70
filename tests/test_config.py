from pathlib import Path

import pytest

from spindetect.config import ConfigError, SpindetectConfig, load_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["default.yaml", "fast.yaml", "test.yaml"])
def test_shipped_configs_load(name: str) -> None:
    assert isinstance(load_config(ROOT / "configs" / name), SpindetectConfig)


def test_unknown_key_is_named_with_its_section(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("language_model:\n  nmae: smollm2-135m\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert "language_model.nmae" in str(error.value)
    assert str(path) in str(error.value)


def test_bad_value_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("data:\n  spin_rates: [0.1, 1.5]\n")
    with pytest.raises(ConfigError, match="data"):
        load_config(path)
    path.write_text("language_model:\n  name: gpt-9\n")
    with pytest.raises(ConfigError, match="language_model.name"):
        load_config(path)


def test_disabling_every_feature_family_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("features:\n  language_model: false\n  ngram: false\n  lexical: false\n")
    with pytest.raises(ConfigError, match="at least one"):
        load_config(path)


def test_the_deletion_test_is_off_by_default_and_needs_the_language_model(tmp_path: Path) -> None:
    assert not load_config(ROOT / "configs" / "default.yaml").features.deletion_test
    path = tmp_path / "bad.yaml"
    path.write_text("features:\n  language_model: false\n  deletion_test: true\n")
    with pytest.raises(ConfigError, match="deletion_test needs features.language_model"):
        load_config(path)


def test_not_a_mapping_and_not_yaml_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(path)
    path.write_text("key: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert load_config(path) == SpindetectConfig()


def test_training_on_labeled_files_alone_needs_files() -> None:
    from spindetect.config import parse_config

    with pytest.raises(ConfigError, match="data.labeled_files"):
        parse_config({"data": {"synthetic": False}})
    config = parse_config({"data": {"synthetic": False, "labeled_files": [{"path": "mine.jsonl", "label_field": "is_spun"}]}})
    assert config.data.labeled_files[0].label_field == "is_spun"
    with pytest.raises(ConfigError, match="labeled_files.0.lable_field"):
        parse_config({"data": {"labeled_files": [{"path": "x.jsonl", "lable_field": "y"}]}})
