"""`spindetect evaluate` and `spindetect calibrate` on a user's labeled texts."""

import csv
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from spindetect.cli import app
from spindetect.detector import Detector
from tests.conftest import ROOT
from tests.texts import NEWS_SENTENCES
from spindetect.labeled import LabeledDataError, read_labeled
from spindetect.metrics import wilson_interval
from spindetect.model import TrainedModel

runner = CliRunner()

SENTENCES = NEWS_SENTENCES


def _rows(count: int = 24) -> list[dict]:
    rows = []
    for number in range(count):
        text = " ".join(SENTENCES[(number + k) % len(SENTENCES)] for k in range(2 + number % 3))
        rows.append({"id": number, "body": text, "is_spun": "garbled" if number % 3 == 0 else "human", "site": "ab"[number % 2]})
    return rows


def _write_jsonl(path, rows) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


LABEL_ARGS = ["--text-field", "body", "--label-field", "is_spun", "--spun-value", "garbled", "--clean-value", "human"]


def test_labels_are_read_from_jsonl_and_csv_alike(tmp_path) -> None:
    rows = _rows()
    _write_jsonl(tmp_path / "data.jsonl", rows)
    with open(tmp_path / "data.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    from_jsonl = read_labeled(tmp_path / "data.jsonl", "body", "is_spun", "site", ("garbled",), ("human",))
    from_csv = read_labeled(tmp_path / "data.csv", "body", "is_spun", "site", ("garbled",), ("human",))
    assert from_jsonl.texts == from_csv.texts == [row["body"] for row in rows]
    assert from_jsonl.labels.tolist() == from_csv.labels.tolist() == [int(row["is_spun"] == "garbled") for row in rows]
    assert from_jsonl.groups == [row["site"] for row in rows]


def test_an_unknown_label_is_an_error_naming_it(tmp_path) -> None:
    _write_jsonl(tmp_path / "data.jsonl", [{"text": "Some text.", "label": "spun"}, {"text": "More.", "label": "spnu"}])
    with pytest.raises(LabeledDataError, match="'spnu'"):
        read_labeled(tmp_path / "data.jsonl")


def test_evaluate_reports_overall_and_per_group(tiny_model_dir, tmp_path) -> None:
    _write_jsonl(tmp_path / "data.jsonl", _rows())
    report = tmp_path / "report"
    result = runner.invoke(
        app, ["evaluate", "--model", str(tiny_model_dir), "--data", str(tmp_path / "data.jsonl"), *LABEL_ARGS, "--group-field", "site", "--report", str(report)]
    )
    assert result.exit_code == 0, result.output
    written = json.loads((report / "report.json").read_text())
    assert written["overall"]["n"] == 24 and written["overall"]["n_spun"] == 8
    assert 0.0 <= written["overall"]["roc_auc"] <= 1.0
    assert set(written["by_group"]) == {"a", "b"}
    assert sum(group["n"] for group in written["by_group"].values()) == 24
    assert "| overall | 24 | 8 |" in (report / "report.md").read_text()
    assert "| a | 12 |" in result.stdout
    for name in ("roc.png", "pr.png", "score_histogram.png"):
        assert (report / name).read_bytes()[:4] == b"\x89PNG"


def test_evaluate_bounds_its_rates_with_wilson_intervals(tiny_model_dir, tmp_path) -> None:
    _write_jsonl(tmp_path / "data.jsonl", _rows())
    report = tmp_path / "report"
    result = runner.invoke(app, ["evaluate", "--model", str(tiny_model_dir), "--data", str(tmp_path / "data.jsonl"), *LABEL_ARGS, "--report", str(report)])
    assert result.exit_code == 0, result.output
    overall = json.loads((report / "report.json").read_text())["overall"]
    n_clean = overall["n"] - overall["n_spun"]
    low, high = wilson_interval(round(overall["false_positive_rate"] * n_clean), n_clean)
    assert overall["false_positive_rate_ci"] == pytest.approx([low, high], abs=1e-4)
    assert high - low > 0.15  # 16 clean texts bound a rate loosely, whatever it is
    assert overall["recall_ci"] == pytest.approx(wilson_interval(round(overall["recall"] * 8), 8), abs=1e-4)
    assert f"| {overall['false_positive_rate']:.4f} [{low:.3f}, {high:.3f}] |" in result.stdout


def test_info_bounds_the_test_rates_with_wilson_intervals(tiny_model_dir) -> None:
    test = TrainedModel.load(tiny_model_dir).metrics["test"]
    n_clean = test["n"] - test["n_spun"]
    low, high = wilson_interval(round(test["false_positive_rate"] * n_clean), n_clean)
    result = runner.invoke(app, ["info", "--model", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    assert f"test false_positive_rate  {test['false_positive_rate']:.4f}  95% CI [{low:.4f}, {high:.4f}]" in result.stdout


def test_calibrate_sets_a_threshold_the_new_model_follows(tiny_model_dir, tmp_path) -> None:
    rows = _rows()
    _write_jsonl(tmp_path / "data.jsonl", rows)
    output = tmp_path / "calibrated"
    result = runner.invoke(
        app, ["calibrate", "--model", str(tiny_model_dir), "--data", str(tmp_path / "data.jsonl"), *LABEL_ARGS, "--max-fpr", "0", "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    assert "flags 0.00% of 16 clean texts" in result.stdout
    model = TrainedModel.load(output)
    assert model.metrics["calibration"]["clean_texts"] == 16
    assert model.fast is not None  # the cascade travels with the copy

    # With a budget of 0, every clean text of the calibration data is kept by the calibrated model.
    clean = [row for row in rows if row["is_spun"] == "human"]
    decisions = list(Detector.load(output).filter(clean, text_field="body"))
    assert [d.action for d in decisions] == ["keep"] * len(clean)
    original = Detector.load(tiny_model_dir)
    assert max(r.score for r in original.score([row["body"] for row in clean])) < model.threshold

    cascade_budget = runner.invoke(app, ["score", "-", "--model", str(output), "--cascade", "--max-fpr", "0.1"], input=rows[0]["body"])
    assert cascade_budget.exit_code == 2 and "calibrate" in cascade_budget.stderr


def test_calibrate_refuses_a_budget_too_fine_for_its_clean_texts(tiny_model_dir, tmp_path) -> None:
    """6 clean texts cannot show a 1% false-positive rate: not one of them could be flagged, and the threshold
    would silently go above them all."""
    _write_jsonl(tmp_path / "data.jsonl", _rows(9))  # 6 clean, 3 spun
    output = tmp_path / "calibrated"
    result = runner.invoke(
        app, ["calibrate", "--model", str(tiny_model_dir), "--data", str(tmp_path / "data.jsonl"), *LABEL_ARGS, "--max-fpr", "0.01", "--output", str(output)]
    )
    assert result.exit_code == 2
    assert "6 clean texts cannot measure a 1.00% false-positive budget: it needs at least 100" in " ".join(result.stderr.split())
    assert not output.exists()
    # Refused from the labels alone, before any model is loaded or text scored.
    no_model = runner.invoke(
        app, ["calibrate", "--model", str(tmp_path / "no-model"), "--data", str(tmp_path / "data.jsonl"), *LABEL_ARGS, "--max-fpr", "0.01", "--output", str(output)]
    )
    assert no_model.exit_code == 2 and "needs at least 100" in " ".join(no_model.stderr.split())


def test_calibrate_on_few_clean_texts_warns_with_the_wilson_bound(tiny_model_dir, tmp_path) -> None:
    _write_jsonl(tmp_path / "data.jsonl", _rows())  # 16 clean, 8 spun
    output = tmp_path / "calibrated"
    result = runner.invoke(
        app, ["calibrate", "--model", str(tiny_model_dir), "--data", str(tmp_path / "data.jsonl"), *LABEL_ARGS, "--max-fpr", "0.1", "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    calibration = TrainedModel.load(output).metrics["calibration"]
    flagged = round(calibration["false_positive_rate"] * 16)
    low, high = wilson_interval(flagged, 16)
    assert f"of 16 clean texts (95% CI [{low:.2%}, {high:.2%}]; budget 10.00%)" in result.stdout
    caught = round(calibration["recall"] * 8)
    assert calibration["spun_texts"] == 8
    assert f"recall on the 8 spun texts: {calibration['recall']:.2%} (95% CI [{wilson_interval(caught, 8)[0]:.2%}," in result.stdout
    warning = " ".join(result.stderr.split())
    assert f"warning: {flagged} of 16 clean texts are flagged at the new threshold" in warning
    assert f"as high as {high:.2%} (95% Wilson upper bound); 100 clean texts would let 10 be flagged" in warning


def test_a_calibrated_model_says_its_test_metrics_predate_calibration(tiny_model_dir, tmp_path) -> None:
    _write_jsonl(tmp_path / "data.jsonl", _rows())
    output = tmp_path / "calibrated"
    calibrate = ["calibrate", "--model", str(tiny_model_dir), "--data", str(tmp_path / "data.jsonl"), *LABEL_ARGS, "--output", str(output)]
    assert runner.invoke(app, [*calibrate, "--max-fpr", "0.1"]).exit_code == 0
    trained = TrainedModel.load(tiny_model_dir).threshold
    model = TrainedModel.load(output)

    result = runner.invoke(app, ["info", "--model", str(output)])
    assert result.exit_code == 0, result.output
    assert f"threshold {model.threshold:.3f}\n" in result.stdout
    assert f"calibrated on {tmp_path / 'data.jsonl'}: threshold {trained:.4f} -> {model.threshold:.4f}: flags" in result.stdout
    assert f"the test metrics below were measured at threshold {trained:.3f}, before calibration" in result.stdout
    assert "warning: " in result.stdout  # 16 clean texts: the calibration's warning stays with the model

    card = (output / "MODEL_CARD.md").read_text()
    assert f"Threshold {model.threshold:.3f}, calibrated on the clean texts of `{tmp_path / 'data.jsonl'}`" in card
    assert "## Calibration" in card and f"measured at the threshold training chose, {trained:.3f}, before calibration" in card
    assert f"Measured at threshold {trained:.3f}, before calibration." in card

    # Calibrated again, the test metrics still date from training's threshold, not the first calibration's.
    again = tmp_path / "again"
    recalibrate = ["calibrate", "--model", str(output), "--data", str(tmp_path / "data.jsonl"), *LABEL_ARGS, "--output", str(again)]
    assert runner.invoke(app, [*recalibrate, "--max-fpr", "0.2"]).exit_code == 0
    assert f"Measured at threshold {trained:.3f}, before calibration." in (again / "MODEL_CARD.md").read_text()


def test_calibrate_without_clean_texts_says_so(tiny_model_dir, tmp_path) -> None:
    _write_jsonl(tmp_path / "data.jsonl", [{"text": SENTENCES[0] * 3, "label": "spun"}])
    result = runner.invoke(app, ["calibrate", "--model", str(tiny_model_dir), "--data", str(tmp_path / "data.jsonl"), "--max-fpr", "0.01", "--output", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert "no clean texts" in result.stderr


def _word_salad(text: str, seed: int) -> str:
    import random

    words = text.split()
    random.Random(seed).shuffle(words)
    return " ".join(words)


def test_training_on_the_users_labels_follows_them(tmp_path) -> None:
    """Labels that contradict what the synthetic data teaches: here ordinary prose is "spun" and shuffled
    word salad is "clean". A model trained on them alone must score prose above salad."""
    prose = [" ".join(NEWS_SENTENCES[(n + k) % len(NEWS_SENTENCES)] for k in range(3)) + f" Report {n}." for n in range(40)]
    rows = [{"text": text, "label": "spun"} for text in prose]
    rows += [{"text": _word_salad(text, n), "label": "clean"} for n, text in enumerate(prose)]
    _write_jsonl(tmp_path / "mine.jsonl", rows)
    output = tmp_path / "mine"
    result = runner.invoke(
        app,
        ["train", str(ROOT / "configs" / "test.yaml"), "--data", str(tmp_path / "mine.jsonl"), "--only-data", "--output", str(output)],
        env={"SPINDETECT_CACHE": str(tmp_path / "cache")},
    )
    assert result.exit_code == 0, result.output
    model = TrainedModel.load(output)
    assert model.metrics["test_labeled_files"]["n"] > 0
    assert not model.config.data.synthetic and model.config.data.labeled_files[0].path == tmp_path / "mine.jsonl"
    detector = Detector.load(output)
    fresh_prose = " ".join(NEWS_SENTENCES[k] for k in (5, 2, 0)) + " A new report."
    prose_score, salad_score = (r.score for r in detector.score([fresh_prose, _word_salad(fresh_prose, 99)]))
    assert prose_score > salad_score
    assert (prose_score >= detector.threshold) and (salad_score < detector.threshold)


def test_only_data_needs_data() -> None:
    result = runner.invoke(app, ["train", str(ROOT / "configs" / "test.yaml"), "--only-data"])
    assert result.exit_code == 2 and "--only-data needs --data" in result.stderr


def test_labeled_texts_of_one_group_share_a_split(tmp_path) -> None:
    from spindetect.config import DataConfig, LabeledFileConfig, SegmentationConfig
    from spindetect.labeled import labeled_examples

    prose = [" ".join(NEWS_SENTENCES[(n + k) % len(NEWS_SENTENCES)] for k in range(3)) for n in range(30)]
    rows = [{"text": text, "label": "clean", "doc": n} for n, text in enumerate(prose)]
    rows += [{"text": _word_salad(text, n), "label": "spun", "doc": n} for n, text in enumerate(prose)]
    _write_jsonl(tmp_path / "pairs.jsonl", rows)
    segmentation = SegmentationConfig(min_words=5)
    grouped = labeled_examples([LabeledFileConfig(path=tmp_path / "pairs.jsonl", group_field="doc")], segmentation, DataConfig(), 13)
    splits_of_doc: dict[str, set[str]] = {}
    for example in grouped:
        splits_of_doc.setdefault(example.source_id, set()).add(example.split)
    assert len(splits_of_doc) == 30 and all(len(splits) == 1 for splits in splits_of_doc.values())
    assert {example.split for example in grouped} == {"train", "valid", "test"}
    ungrouped = labeled_examples([LabeledFileConfig(path=tmp_path / "pairs.jsonl")], segmentation, DataConfig(), 13)
    assert len({example.source_id for example in ungrouped}) == 60


def test_the_readmes_python_evaluation_and_calibration_recipe(tiny_model_dir, tmp_path) -> None:
    from spindetect.evaluation import calibrated, calibration_lines, calibration_warning, evaluation_report, score_labeled
    from spindetect.labeled import read_labeled

    prose = [" ".join(NEWS_SENTENCES[(n + k) % len(NEWS_SENTENCES)] for k in range(3)) for n in range(12)]
    rows = [{"text": text, "is_spun": False, "source": "prose"} for text in prose]
    rows += [{"text": _word_salad(text, n), "is_spun": True, "source": "salad"} for n, text in enumerate(prose)]
    _write_jsonl(tmp_path / "labeled.jsonl", rows)
    detector = Detector.load(tiny_model_dir)

    data = read_labeled(tmp_path / "labeled.jsonl", label_field="is_spun", group_field="source")
    scores, scored = score_labeled(detector, data)
    report = evaluation_report(data, scores, scored, detector.threshold)
    assert report["overall"]["n"] == 24 and set(report["by_group"]) == {"prose", "salad"}
    clean_scores = scores[scored & (data.labels == 0)]
    calibrated_model = calibrated(detector.model, clean_scores, max_fpr=0.1, source="labeled.jsonl")
    assert calibration_lines(calibrated_model.metrics["calibration"])[0].endswith("budget 10.00%)")
    assert "95% Wilson upper bound" in calibration_warning(calibrated_model.metrics["calibration"])  # 12 clean texts
    calibrated_model.save(tmp_path / "mine")

    mine = Detector.load(tmp_path / "mine")
    assert np.mean(clean_scores >= mine.threshold) <= 0.1
    assert mine.model.metrics["calibration"]["source"] == "labeled.jsonl"
