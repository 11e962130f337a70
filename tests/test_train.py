import dataclasses

import numpy as np
from datasets import load_from_disk

from spindetect.features.extractor import FeatureExtractor
from spindetect.features.lexical import LexicalScorer
from spindetect.features.perplexity import LanguageModelScorer
from spindetect.features.word_probe import WORD_PROBE_FEATURE_NAMES, FlagLevels
from spindetect.model import TrainedModel, UnlistedCopies
from spindetect.model_card import model_card
from spindetect.synth.dataset import RATE_SWEEP_SPLIT, CorpusLocations
from spindetect.train import (
    DATASET_DIR,
    TORTURED_FEATURE,
    _unlisted_copies,
    train_model,
)

from .conftest import BROWN_SAMPLE, ROOT, tiny_training_config
from .test_word_probe import random_probe


def test_training_is_deterministic_and_splits_never_share_a_source(tiny_model_dir, tmp_path) -> None:
    config = tiny_training_config()
    again = tmp_path / "again"
    train_model(config, again, CorpusLocations(brown_dir=BROWN_SAMPLE), cache_dir=tmp_path / "fresh-cache")

    examples = _saved_examples(again)
    assert examples == _saved_examples(tiny_model_dir)
    first, second = TrainedModel.load(tiny_model_dir), TrainedModel.load(again)
    assert first.threshold == second.threshold
    rows = np.random.default_rng(1).normal(size=(20, len(first.feature_names)))
    np.testing.assert_array_equal(first.predict_proba(rows), second.predict_proba(rows))
    first_metrics = {k: v for k, v in first.metrics.items() if k != "training_seconds"}
    assert first_metrics == {k: v for k, v in second.metrics.items() if k != "training_seconds"}

    splits_of_source: dict[str, set[str]] = {}
    for example in examples:
        splits_of_source.setdefault(example["source_id"], set()).add(example["split"])
    assert all(len(splits) == 1 for splits in splits_of_source.values())
    assert {example["split"] for example in examples} == {"train", "valid", "test"}
    spun = [example for example in examples if example["style"] in ("thesaurus_spin", "phrase_spin", "tortured")]
    assert spun and all(example["label"] == 1 and example["replaced"] > 0 for example in spun)


def _saved_examples(model_dir) -> list[dict]:
    saved = load_from_disk(str(model_dir / DATASET_DIR))
    return [row for split in ("train", "valid", "test") for row in saved[split].to_list()]


def test_training_writes_plots_of_the_test_split(tiny_model_dir) -> None:
    for name in ("roc.png", "pr.png", "score_histogram.png", "recall_by_rate.png"):
        path = tiny_model_dir / "plots" / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_training_reports_each_style_and_rates_only_of_thesaurus_spin(tiny_model_dir) -> None:
    model = TrainedModel.load(tiny_model_dir)
    by_style = model.metrics["test_by_style"]
    examples = [e for e in _saved_examples(tiny_model_dir) if e["split"] == "test"]
    n_garble_pairs = sum(e["style"] in ("mt_garble", "mt_post_edit") for e in examples)
    assert by_style["mt_garble"]["n"] == n_garble_pairs and "roc_auc" in by_style["mt_garble"]
    clean_styles = {"clean", "mt_post_edit"} | ({"round_trip", "mt_clean"} & set(by_style))
    assert all(by_style[style]["n_spun"] == 0 and "false_positive_rate" in by_style[style] for style in clean_styles)
    # phrase_spin's rates (0.3, 0.6, 1.0) are not spin rates of content words: they are not in by-rate.
    assert set(model.metrics["test_by_rate"]) == {"0.2", "0.4"}
    clean_corpus = sum(e["style"] == "clean" for e in examples)
    assert all(m["n"] - m["n_spun"] == clean_corpus for m in model.metrics["test_by_rate"].values())
    # Each rate is measured on the test twins drawn at it and the rate sweep's twins at it.
    swept = load_from_disk(str(tiny_model_dir / DATASET_DIR / RATE_SWEEP_SPLIT)).to_list()
    for rate, measured in model.metrics["test_by_rate"].items():
        at_rate = [e for e in examples + swept if e["style"] == "thesaurus_spin" and f"{e['rate']:g}" == rate]
        assert measured["n_spun"] == len(at_rate) > sum(e["split"] == "test" for e in at_rate)
    # Phrase and WordNet spins (only a share of paragraphs gets such a twin) are swept too, every test paragraph
    # at every rate, and measured on their own.
    for style in ("phrase_spin", "wordnet_spin"):
        spins = [e for e in examples + swept if e["style"] == style]
        style_swept = model.metrics[f"test_{style}_swept"]
        assert style_swept["pooled"]["n_spun"] == len(spins) > sum(e["split"] == "test" for e in spins), style
        assert style_swept["pooled"]["n"] - style_swept["pooled"]["n_spun"] == clean_corpus
        assert sum(m["n_spun"] for m in style_swept["by_rate"].values()) == len(spins)
    assert set(model.metrics["test_wordnet_spin_swept"]["by_rate"]) <= {"0.2", "0.4"}  # the thesaurus rates


def test_training_writes_a_model_card_with_the_models_own_numbers(tiny_model_dir) -> None:
    model = TrainedModel.load(tiny_model_dir)
    card = (tiny_model_dir / "MODEL_CARD.md").read_text()
    assert f"Threshold {model.threshold:.3f}" in card
    garble = model.metrics["test_by_style"]["mt_garble"]
    assert f"| mt_garble | {garble['n']} | {garble['roc_auc']:.3f} |" in card
    assert "## Known weaknesses" in card
    # The tiny config has no word probe, so nothing was copied, and the card says nothing of copies.
    assert model.metrics["unlisted_copies"] is None and "copies" not in card
    model.metrics["unlisted_copies"] = 7
    card = model_card(model)
    assert "also fitted on 7 copies of the spun training paragraphs that the tortured-phrase lexicon finds" in card


def test_unlisted_tortured_metrics_hide_the_lexicon_count_against_clean_paragraphs_of_the_same_documents() -> None:
    from spindetect.train import TORTURED_FEATURE, _unlisted_tortured_metrics

    class ScoresTheLexiconCount:  # a classifier that trusts the lexicon alone
        def predict_proba(self, features):
            return np.column_stack([1 - features[:, 1], features[:, 1]])

    features = np.array([[0.3, 1.0], [0.2, 0.0], [0.9, 1.0], [0.1, 0.0], [0.5, 0.0], [0.4, 0.0]])
    labels = np.array([1, 0, 1, 0, 1, 0])
    styles = np.array(["tortured", "clean", "tortured", "clean", "thesaurus_spin", "clean"])
    # The last clean paragraph comes from a document no tortured paragraph comes from: it is left out.
    documents = np.array(["wiki/A", "wiki/A", "wiki/B", "wiki/B", "wiki/A", "brown/ca01"])
    names = ("other", TORTURED_FEATURE)
    blind = _unlisted_tortured_metrics(ScoresTheLexiconCount(), features, names, labels, styles, documents, 0.5)
    assert blind["n"] == 4 and blind["n_spun"] == 2
    assert blind["roc_auc"] == 0.5 and blind["recall"] == 0.0  # without the count it sees nothing
    assert _unlisted_tortured_metrics(ScoresTheLexiconCount(), features, ("a", "b"), labels, styles, documents, 0.5) is None


def _labeled_file(path, count: int) -> None:
    """`count` labeled texts, half spun (prose, as users label it in test_evaluate) and half clean (word salad)."""
    import json
    import random

    from .texts import NEWS_SENTENCES

    prose = [" ".join(NEWS_SENTENCES[(n + k) % len(NEWS_SENTENCES)] for k in range(3)) + f" Report {n}." for n in range(count)]
    salad = [" ".join(random.Random(n).sample(text.split(), len(text.split()))) for n, text in enumerate(prose)]
    rows = [{"text": text, "label": "spun"} for text in prose[: count // 2]]
    rows += [{"text": text, "label": "clean"} for text in salad[count // 2 :]]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def test_training_refuses_a_split_without_both_classes(tmp_path) -> None:
    """10 texts leave the valid split without a spun one: no threshold can be chosen. Refused before any
    feature is extracted, and no model is written."""
    from typer.testing import CliRunner

    from spindetect.cli import app

    _labeled_file(tmp_path / "few.jsonl", 10)
    output = tmp_path / "model"
    result = CliRunner().invoke(
        app,
        ["train", str(ROOT / "configs" / "test.yaml"), "--data", str(tmp_path / "few.jsonl"), "--only-data", "--output", str(output)],
        env={"SPINDETECT_CACHE": str(tmp_path / "cache")},
    )
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "the valid split has no spun paragraphs (sources clean/spun by split: train 2/4, valid 2/0, test 1/1)" in message
    assert "about 50 source texts of each class would put 10 of each in the valid and test splits" in message
    assert not output.exists()


def test_training_refuses_a_classifier_that_scores_everything_alike(tmp_path) -> None:
    """Gradient boosting on 18 training paragraphs makes no split: every score is the same, ROC-AUC 0.5, and
    any threshold is arbitrary."""
    from typer.testing import CliRunner

    from spindetect.cli import app

    config = (ROOT / "configs" / "test.yaml").read_text().replace("kind: logistic_regression", "kind: hist_gradient_boosting")
    (tmp_path / "boosting.yaml").write_text(config)
    _labeled_file(tmp_path / "few.jsonl", 30)
    output = tmp_path / "model"
    result = CliRunner().invoke(
        app,
        ["train", str(tmp_path / "boosting.yaml"), "--data", str(tmp_path / "few.jsonl"), "--only-data", "--output", str(output)],
        env={"SPINDETECT_CACHE": str(tmp_path / "cache")},
    )
    assert result.exit_code == 2
    assert "the classifier gives every validation paragraph the same score" in " ".join(result.stderr.split())
    assert not (output / "model.json").exists()


def test_split_warnings_name_splits_with_fewer_than_the_minimum_of_sources() -> None:
    from spindetect.config import DataConfig
    from spindetect.synth.dataset import Example
    from spindetect.train import MIN_SOURCES_PER_CLASS, split_warnings

    def examples(per_class: dict[str, int]) -> list[Example]:
        return [
            Example("text", label, split, f"{split}-{label}-{n}", "clean", 0.0, 0)
            for split, count in per_class.items()
            for label in (0, 1)
            for n in range(count)
        ]

    data = DataConfig(valid_fraction=0.15, test_fraction=0.15)
    enough = examples({"train": 50, "valid": MIN_SOURCES_PER_CLASS, "test": MIN_SOURCES_PER_CLASS})
    assert split_warnings(enough, data) == []
    (warning,) = split_warnings(examples({"train": 50, "valid": MIN_SOURCES_PER_CLASS, "test": 4}), data)
    assert warning.startswith("the test split holds fewer than 10 sources of a class (sources clean/spun by split: train 50/50, valid 10/10, test 4/4)")
    assert "about 67 source texts of each class" in warning


def test_a_model_trained_on_small_splits_carries_the_warning(tiny_model_dir) -> None:
    """configs/test.yaml's Brown sample leaves 4 or 5 sources of a class in the valid and test splits."""
    from typer.testing import CliRunner

    from spindetect.cli import app

    (warning,) = TrainedModel.load(tiny_model_dir).metrics["warnings"]
    assert warning.startswith("the valid and test splits hold fewer than 10 sources of a class")
    assert f"**Warning:** {warning}." in (tiny_model_dir / "MODEL_CARD.md").read_text()
    result = CliRunner().invoke(app, ["info", "--model", str(tiny_model_dir)])
    assert f"warning: {warning}" in result.stdout


def test_training_reports_metrics_by_style_and_corpus_cross_validated_by_source(tiny_model_dir) -> None:
    model = TrainedModel.load(tiny_model_dir)
    results = model.metrics["cross_validated"]
    assert results["folds"] == 5 and results["left_out_styles"] == ["tortured"]
    assert "tortured" not in results["by_style"]
    dataset = load_from_disk(str(tiny_model_dir / DATASET_DIR))
    pooled = sum(
        sum(style != "tortured" for style in dataset[split]["style"]) for split in ("train", "valid", "test")
    )
    assert results["overall"]["n"] == pooled  # every paragraph of every split once, the rate sweep left out
    for style in ("thesaurus_spin", "phrase_spin", "mt_garble"):
        metrics = results["by_style"][style]
        assert 0 <= metrics["roc_auc_se"] < 0.5 and metrics["n_spun"] > 0
    low, high = results["by_style"]["round_trip"]["false_positive_rate_ci"]
    assert low <= results["by_style"]["round_trip"]["false_positive_rate"] <= high
    assert {"brown", "mlqe-si-en", "mqm-zh-en"} <= set(results["by_corpus"])
    assert "## Cross-validated by source document" in (tiny_model_dir / "MODEL_CARD.md").read_text()


def test_training_reports_unlisted_tortured_phrases_cross_validated_with_their_phrases_kept_out(tiny_model_dir) -> None:
    from typer.testing import CliRunner

    from spindetect.cli import app

    unlisted = TrainedModel.load(tiny_model_dir).metrics["cross_validated"]["tortured_unlisted"]
    dataset = load_from_disk(str(tiny_model_dir / DATASET_DIR))
    tortured = sum(style == "tortured" for split in ("train", "valid", "test") for style in dataset[split]["style"])
    assert unlisted["n_spun"] == tortured > 0 and unlisted["n"] > tortured
    assert 0 <= unlisted["roc_auc"] <= 1 and unlisted["roc_auc_se"] > 0
    card = (tiny_model_dir / "MODEL_CARD.md").read_text()
    assert f"Tortured phrases nobody has listed, on every tortured paragraph ({tortured}, against" in card
    assert f"ROC-AUC {unlisted['roc_auc']:.3f} ± {unlisted['roc_auc_se']:.3f}" in card
    result = CliRunner().invoke(app, ["info", "--model", str(tiny_model_dir)])
    assert f"tortured phrases never listed nor trained on: roc_auc {unlisted['roc_auc']:.4f}" in result.stdout


def test_a_model_is_saved_with_the_precision_its_language_model_ran_in(reference, monkeypatch) -> None:
    from spindetect.features import language_model as language_model_module
    from spindetect.features.extractor import build_extractor
    from spindetect.train import as_run

    config = tiny_training_config()
    in_bfloat16 = config.model_copy(update={"language_model": config.language_model.model_copy(update={"precision": "bfloat16"})})
    monkeypatch.setattr(language_model_module, "native_bfloat16", lambda device: False)
    assert as_run(in_bfloat16, build_extractor(in_bfloat16, reference)).language_model.precision == "float32"
    monkeypatch.setattr(language_model_module, "native_bfloat16", lambda device: True)
    assert as_run(in_bfloat16, build_extractor(in_bfloat16, reference)) == in_bfloat16
    without_language_model = config.model_copy(update={"features": config.features.model_copy(update={"language_model": False})})
    assert as_run(without_language_model, build_extractor(without_language_model, reference)) == without_language_model


def test_unlisted_copies_read_the_lexicon_count_and_the_probe_at_its_flag_level(tiny_language_model, reference) -> None:
    hidden = tiny_language_model.model.config.hidden_size
    probe = dataclasses.replace(random_probe(hidden, layer=1), flag_levels=FlagLevels(0.7, 2.0))
    lexical = LexicalScorer.load(reference)
    with_probe = LanguageModelScorer(tiny_language_model, reference.unigram, word_probe=probe)
    extractor = FeatureExtractor([lexical, with_probe])
    names = extractor.feature_names
    config = tiny_training_config()
    assert _unlisted_copies(config, extractor) == UnlistedCopies(
        names.index(TORTURED_FEATURE), names.index(WORD_PROBE_FEATURE_NAMES[0]), 0.7
    )
    switched_off = config.model_copy(update={"classifier": config.classifier.model_copy(update={"unlisted_copies": False})})
    assert _unlisted_copies(switched_off, extractor) is None
    # Without the lexicon's count, the probe, or the probe's flag levels, there is nothing to copy by.
    without_levels = LanguageModelScorer(tiny_language_model, reference.unigram, word_probe=random_probe(hidden, layer=1))
    without_probe = LanguageModelScorer(tiny_language_model, reference.unigram)
    for families in ([with_probe], [lexical, without_levels], [lexical, without_probe]):
        assert _unlisted_copies(config, FeatureExtractor(families)) is None
