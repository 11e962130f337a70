import json
import os
from dataclasses import replace

import numpy as np
import pytest
import skops.io
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from spindetect.config import SpindetectConfig
from spindetect.model import (
    ModelError,
    TrainedModel,
    UnlistedCopies,
    choose_threshold,
    fit_classifier,
)


def test_saved_model_loads_with_the_same_predictions(tiny_model_dir, tmp_path) -> None:
    model = TrainedModel.load(tiny_model_dir)
    rows = np.random.default_rng(0).normal(size=(5, len(model.feature_names)))
    model.save(tmp_path / "copy")
    copy = TrainedModel.load(tmp_path / "copy")
    np.testing.assert_array_equal(model.predict_proba(rows), copy.predict_proba(rows))
    assert copy.threshold == model.threshold and copy.feature_names == model.feature_names
    assert copy.config == model.config


def _invalid_copy(config):
    """`config` with the deletion test on and the language model off, which loading refuses; model_copy lets it be."""
    features = config.features.model_copy(update={"language_model": False, "deletion_test": True})
    return config.model_copy(update={"features": features})


def test_a_model_whose_config_would_not_load_is_not_saved(tiny_model_dir, tmp_path) -> None:
    model = TrainedModel.load(tiny_model_dir)
    with pytest.raises(ModelError, match="refusing to save.*deletion_test"):
        replace(model, config=_invalid_copy(model.config)).save(tmp_path / "invalid")
    assert not (tmp_path / "invalid").exists()
    assert model.fast is not None, "the tiny model has a cascade: its fast model's config is checked too"
    with pytest.raises(ModelError, match="refusing to save.*deletion_test"):
        replace(model, fast=replace(model.fast, config=_invalid_copy(model.fast.config))).save(tmp_path / "fast")
    assert not (tmp_path / "fast").exists()


def test_a_model_file_with_untrusted_types_is_refused(tiny_model_dir, tmp_path) -> None:
    directory = tmp_path / "evil"
    directory.mkdir()
    (directory / "model.json").write_text((tiny_model_dir / "model.json").read_text())
    # A model file may name any callable; this one would run shell commands. It must never be loaded.
    skops.io.dump(make_pipeline(FunctionTransformer(os.system)), directory / "classifier.skops")
    with pytest.raises(ModelError, match="does not trust"):
        TrainedModel.load(directory)


def test_missing_or_foreign_model_directories_explain_themselves(tiny_model_dir, tmp_path) -> None:
    with pytest.raises(ModelError, match="not a spindetect model directory"):
        TrainedModel.load(tmp_path)
    old = tmp_path / "old"
    old.mkdir()
    metadata = json.loads((tiny_model_dir / "model.json").read_text())
    metadata["format_version"] = 0
    (old / "model.json").write_text(json.dumps(metadata))
    with pytest.raises(ModelError, match="retrain"):
        TrainedModel.load(old)


def test_threshold_strategies() -> None:
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    scores = np.array([0.1, 0.2, 0.3, 0.6, 0.5, 0.7, 0.8, 0.9])
    assert choose_threshold(labels, scores, "max_f1", 0.0) in (0.5, 0.7)
    # No clean text may be flagged: the cut must sit above the highest clean score.
    assert choose_threshold(labels, scores, "target_fpr", 0.01) > 0.6


def _damaged_copy(tiny_model_dir, tmp_path, change_metadata=None, change_classifier=None):
    import shutil

    directory = tmp_path / "damaged"
    shutil.copytree(tiny_model_dir, directory)
    if change_metadata is not None:
        metadata = json.loads((directory / "model.json").read_text())
        change_metadata(metadata)
        (directory / "model.json").write_text(json.dumps(metadata))  # writes NaN as the bare token NaN
    if change_classifier is not None:
        path = directory / "classifier.skops"
        path.write_bytes(change_classifier(path.read_bytes()))
    return directory


def _flip_middle_byte(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]


def _other_classifier(features: int):
    from sklearn.linear_model import LogisticRegression

    rows = np.random.default_rng(0).normal(size=(20, features))
    return make_pipeline(LogisticRegression().fit(rows, np.arange(20) % 2))


@pytest.mark.parametrize(
    ("change_metadata", "change_classifier", "message"),
    [
        (lambda m: m.update(threshold=float("nan")), None, "threshold"),
        (lambda m: m.update(threshold=1.5), None, "threshold"),
        (lambda m: m.pop("reference"), None, "reference"),
        (lambda m: m["reference"]["clean_std"].pop(), None, "clean_std has"),
        (lambda m: m["reference"]["clean_std"].__setitem__(0, 0.0), None, "clean_std"),
        (lambda m: m["reference"]["clean_mean"].__setitem__(0, float("inf")), None, "clean_mean"),
        (lambda m: m["feature_names"].append(m["feature_names"][0]), None, "repeated feature"),
        (lambda m: m.update(calibration={"clean_scores": [0.1, "x"]}), None, "calibration"),
        (lambda m: m.update(config={"classifier": {"kind": "magic"}}), None, "classifier.kind"),
        (None, lambda data: data[: len(data) // 2], "cannot be read"),
        (None, lambda data: b"not a zip file at all", "cannot be read"),
        (None, _flip_middle_byte, "classifier.skops"),
    ],
    ids=["nan-threshold", "threshold-above-1", "no-reference", "short-reference", "zero-std", "inf-mean",
         "repeated-feature", "bad-calibration", "bad-config", "truncated", "not-zip", "crc"],
)
def test_a_damaged_model_directory_is_refused_with_one_line(tiny_model_dir, tmp_path, change_metadata, change_classifier, message) -> None:
    directory = _damaged_copy(tiny_model_dir, tmp_path, change_metadata, change_classifier)
    with pytest.raises(ModelError, match=message) as refused:
        TrainedModel.load(directory)
    assert "\n" not in str(refused.value)


def test_a_classifier_that_does_not_fit_the_features_is_refused(tiny_model_dir, tmp_path) -> None:
    directory = _damaged_copy(tiny_model_dir, tmp_path)
    features = len(TrainedModel.load(tiny_model_dir).feature_names)
    skops.io.dump(_other_classifier(features + 1), directory / "classifier.skops")
    with pytest.raises(ModelError, match=f"takes {features + 1} features"):
        TrainedModel.load(directory)
    (directory / "classifier.skops").unlink()
    with pytest.raises(ModelError, match="missing"):
        TrainedModel.load(directory)


def test_a_classifier_holding_object_arrays_is_refused(tiny_model_dir, tmp_path) -> None:
    directory = _damaged_copy(tiny_model_dir, tmp_path)
    features = len(TrainedModel.load(tiny_model_dir).feature_names)
    classifier = _other_classifier(features)
    classifier[-1].coef_ = np.array([["a"] * features], dtype=object)
    skops.io.dump(classifier, directory / "classifier.skops")
    with pytest.raises(ModelError, match="cannot score|cannot be read"):
        TrainedModel.load(directory)


def test_the_cli_refuses_a_damaged_model_without_a_traceback(tiny_model_dir, tmp_path) -> None:
    from typer.testing import CliRunner

    from spindetect.cli import app

    directory = _damaged_copy(tiny_model_dir, tmp_path, lambda m: m.update(threshold=float("nan")))
    result = CliRunner().invoke(app, ["info", "--model", str(directory)])
    assert result.exit_code == 2
    assert "threshold" in result.output and "Traceback" not in result.output


def test_unlisted_copies_repeat_the_spun_rows_the_lexicon_finds_and_the_probe_marks_with_the_count_hidden() -> None:
    copies = UnlistedCopies(count_column=0, probe_column=1, probe_level=1.5)
    features = np.array(
        [
            [2.0, 1.5, 7.0],  # spun, found, marked at the level: copied
            [1.0, 3.0, 8.0],  # spun, found, marked: copied
            [1.0, 1.4, 9.0],  # spun and found, the probe below its level
            [0.0, 3.0, 6.0],  # spun, not found
            [1.0, 3.0, 5.0],  # clean, found and marked
        ]
    )
    labels = np.array([1, 1, 1, 1, 0])
    grown, grown_labels = copies.added_to(features, labels)
    assert copies.copied(features, labels).tolist() == [True, True, False, False, False]
    np.testing.assert_array_equal(grown[:5], features)
    np.testing.assert_array_equal(grown[5:], [[0.0, 1.5, 7.0], [0.0, 3.0, 8.0]])
    assert grown_labels.tolist() == [1, 1, 1, 1, 0, 1, 1]
    assert features[0, 0] == 2.0  # the rows given are left as they were


def test_a_classifier_fitted_with_unlisted_copies_finds_a_marked_paragraph_the_lexicon_does_not_list() -> None:
    # Every spun paragraph is found by the lexicon (column 0), so without copies the count alone tells them
    # apart; the probe (column 1) marks most of them and a few clean ones.
    rng = np.random.default_rng(0)
    clean = np.column_stack([np.zeros(200), rng.uniform(0, 1.6, 200)])
    spun = np.column_stack([np.ones(200), rng.uniform(1.0, 3.0, 200)])
    features, labels = np.vstack([clean, spun]), np.r_[np.zeros(200, int), np.ones(200, int)]
    config = SpindetectConfig(classifier={"kind": "hist_gradient_boosting", "params": {"min_samples_leaf": 5}})
    copies = UnlistedCopies(count_column=0, probe_column=1, probe_level=1.5)
    unlisted_marked, unlisted_unmarked = [0.0, 2.8], [0.0, 0.3]
    plain = fit_classifier(config, features, labels).predict_proba([unlisted_marked, unlisted_unmarked])[:, 1]
    with_copies = fit_classifier(config, features, labels, copies).predict_proba([unlisted_marked, unlisted_unmarked])[:, 1]
    assert plain[0] < 0.5 and with_copies[0] > 0.5
    assert with_copies[1] < 0.5
