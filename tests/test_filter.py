"""`spindetect filter` and `Detector.filter`: every record lands in exactly one place, in order, once."""

import json
import pickle

import numpy as np
import pytest
from typer.testing import CliRunner

from spindetect import filtering
from spindetect.cli import app
from spindetect.detector import Detector
from spindetect.filtering import cut_spans

runner = CliRunner()

BODY = (
    "The city council voted on Tuesday to approve a new budget for the coming year, after months of debate "
    "over the cost of repairing roads and bridges across the county."
)
OTHER = (
    "Scientists at the university said the new telescope would let them study the atmospheres of distant "
    "planets in far greater detail than any instrument built before it."
)


@pytest.fixture(scope="module")
def detector(tiny_model_dir) -> Detector:
    return Detector.load(tiny_model_dir)


GOOD_RECORDS = [{"id": i, "text": f"{BODY if i % 2 else OTHER} Item {i}."} for i in range(12)]


def _mixed_lines() -> list[str]:
    """`GOOD_RECORDS` interleaved with every kind of bad input the filter must set aside."""
    good = [json.dumps(record) for record in GOOD_RECORDS]
    bad = [
        "this is not json",
        json.dumps({"id": "no-text", "body": BODY}),
        json.dumps({"id": "number", "text": 42}),
        json.dumps({"id": "empty", "text": "  "}),
        json.dumps({"id": "binary", "text": "\x00\x01\x02\x03" * 50}),
        json.dumps({"id": "huge", "text": BODY * 1000}),
        json.dumps(["not", "an", "object"]),
    ]
    lines = []
    for index, line in enumerate(good):
        lines.append(line)
        if index < len(bad):
            lines.append(bad[index])
    return lines


def _read_jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _threshold_between_scores(detector: Detector) -> float:
    """A threshold that splits the good records of `_mixed_lines`, so both kept and rejected are non-empty."""
    scores = sorted({round(r.score, 6) for r in detector.score([f"{BODY} Item 1.", f"{OTHER} Item 0."])})
    if len(scores) < 2:
        pytest.skip("the tiny model scores both texts alike")
    return (scores[0] + scores[1]) / 2


def test_every_record_lands_in_exactly_one_place_in_order(tiny_model_dir, detector, tmp_path) -> None:
    source = tmp_path / "in.jsonl"
    lines = _mixed_lines()
    source.write_text("\n".join(lines) + "\n\n", encoding="utf-8")  # a trailing blank line is not a record
    threshold = _threshold_between_scores(detector)
    out, rejected, errors = tmp_path / "kept.jsonl", tmp_path / "rejected.jsonl", tmp_path / "errors.jsonl"
    result = runner.invoke(
        app,
        ["filter", str(source), "--model", str(tiny_model_dir), "--threshold", str(threshold),
         "--out", str(out), "--rejected", str(rejected), "--errors", str(errors)],
    )
    assert result.exit_code == 0, result.output
    kept_records, rejected_records, error_records = _read_jsonl(out), _read_jsonl(rejected), _read_jsonl(errors)
    assert len(kept_records) + len(rejected_records) + len(error_records) == len(lines)
    assert kept_records and rejected_records

    # Each good record is where its score puts it, and each file keeps input order.
    good = GOOD_RECORDS
    scores = [r.score for r in detector.score([record["text"] for record in good], threshold=threshold)]
    assert [r["id"] for r in kept_records] == [g["id"] for g, s in zip(good, scores) if s < threshold]
    assert [r["id"] for r in rejected_records] == [g["id"] for g, s in zip(good, scores) if s >= threshold]
    assert kept_records[0] == next(g for g, s in zip(good, scores) if s < threshold)  # kept records are unchanged
    for record in rejected_records:
        assert record["spin_score"] >= threshold and record["spin_label"] == "spun" and record["paragraphs"]

    assert [e["line"] for e in error_records] == sorted(e["line"] for e in error_records)
    reasons = {e["record"]["id"]: e["error"] for e in error_records if "record" in e}
    not_objects = [e for e in error_records if "record" not in e]
    assert [e["raw"] for e in not_objects] == ["this is not json", '["not", "an", "object"]']
    assert "invalid JSON" in not_objects[0]["error"] and "expected a JSON object" in not_objects[1]["error"]
    assert "no field 'text'" in reasons["no-text"]
    assert "not a string" in reasons["number"]
    assert "empty" in reasons["empty"]
    assert "binary" in reasons["binary"]
    assert "over the limit" in reasons["huge"]

    read = len(lines)
    assert f"read {read}: kept {len(kept_records)}, rejected {len(rejected_records)}, errored {len(error_records)}" in result.stderr
    assert not list(tmp_path.glob("*.partial")) and not list(tmp_path.glob("*.checkpoint.json"))


def test_without_files_kept_go_to_stdout_and_errors_to_stderr(tiny_model_dir) -> None:
    lines = [json.dumps({"id": 1, "text": BODY}), "{broken", json.dumps({"id": 3, "text": OTHER})]
    result = runner.invoke(app, ["filter", "-", "--model", str(tiny_model_dir), "--threshold", "1"], input="\n".join(lines))
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [1, 3]
    assert "<stdin>:2: invalid JSON" in result.stderr
    assert "read 3: kept 2, rejected 0, errored 1 (reasons above)" in result.stderr


def test_rejected_without_a_file_are_counted(tiny_model_dir) -> None:
    result = runner.invoke(app, ["filter", "-", "--model", str(tiny_model_dir), "--threshold", "0"], input=json.dumps({"text": BODY}))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "rejected 1 (not saved: no --rejected)" in result.stderr


def test_an_interrupted_run_resumes_without_duplicates_or_gaps(tiny_model_dir, tmp_path, monkeypatch) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(_mixed_lines()) + "\n", encoding="utf-8")
    args = ["filter", str(source), "--model", str(tiny_model_dir), "--threshold", "0.5"]

    expected_dir = tmp_path / "expected"
    expected_dir.mkdir()
    expected = runner.invoke(app, [*args, "--out", str(expected_dir / "kept"), "--rejected", str(expected_dir / "rej"), "--errors", str(expected_dir / "err")])
    assert expected.exit_code == 0, expected.output

    monkeypatch.setattr(filtering, "CHUNK_RECORDS", 4)
    monkeypatch.setattr("spindetect.cli.CHECKPOINT_SECONDS", 0.0)
    real_score = filtering.score_isolating_failures
    calls = {"n": 0}

    def interrupted_on_third_chunk(*arguments, **keywords):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_score(*arguments, **keywords)

    monkeypatch.setattr(filtering, "score_isolating_failures", interrupted_on_third_chunk)
    outputs = ["--out", str(tmp_path / "kept"), "--rejected", str(tmp_path / "rej"), "--errors", str(tmp_path / "err")]
    first = runner.invoke(app, [*args, *outputs])
    assert first.exit_code == 130
    assert "--resume" in first.stderr
    assert not (tmp_path / "kept").exists()  # nothing under the real name until the run completes
    assert (tmp_path / "kept.partial").exists() and (tmp_path / "kept.checkpoint.json").exists()
    # A line written after the last checkpoint (the crash hit mid-write) must not survive the resume.
    with open(tmp_path / "kept.partial", "a", encoding="utf-8") as handle:
        handle.write('{"half": "a line')

    fresh = runner.invoke(app, [*args, *outputs])
    assert fresh.exit_code == 2 and "--resume" in fresh.stderr  # an interrupted run is never overwritten silently
    other_settings = runner.invoke(app, [*args[:-1], "0.7", *outputs, "--resume"])
    assert other_settings.exit_code == 2 and "settings" in other_settings.stderr

    resumed = runner.invoke(app, [*args, *outputs, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert "resumed after" in resumed.stderr
    for name in ("kept", "rej", "err"):
        assert (tmp_path / name).read_text() == (expected_dir / name).read_text(), name
    assert not (tmp_path / "kept.checkpoint.json").exists()


def test_resume_needs_a_file_for_kept_records(tiny_model_dir) -> None:
    result = runner.invoke(app, ["filter", "-", "--model", str(tiny_model_dir), "--resume"], input="")
    assert result.exit_code == 2
    assert "--resume needs --out" in result.stderr


def test_paragraph_mode_cuts_only_the_spun_paragraphs(tiny_model_dir, detector) -> None:
    text = f"{BODY}\n\n{OTHER}\n\nShort closing line."
    paragraphs = detector.score([text])[0].paragraphs
    first, second = paragraphs[0].score, paragraphs[1].score
    if abs(first - second) < 1e-6:
        pytest.skip("the tiny model scores both paragraphs alike")
    threshold = (first + second) / 2
    spun_text, kept_text = (BODY, OTHER) if first > second else (OTHER, BODY)
    result = runner.invoke(
        app, ["filter", "-", "--paragraphs", "--model", str(tiny_model_dir), "--threshold", str(threshold)],
        input=json.dumps({"id": 7, "text": text}),
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["id"] == 7
    assert spun_text not in record["text"] and kept_text in record["text"]
    assert "Short closing line." in record["text"]
    (cut,) = record["spin_cut"]
    assert cut["text"] == spun_text and text[cut["start"] : cut["end"]] == spun_text
    assert cut["score"] >= threshold


def test_paragraph_mode_rejects_a_record_with_nothing_left(tiny_model_dir, tmp_path) -> None:
    rejected = tmp_path / "rejected.jsonl"
    result = runner.invoke(
        app, ["filter", "-", "--paragraphs", "--model", str(tiny_model_dir), "--threshold", "0", "--rejected", str(rejected)],
        input=json.dumps({"text": f"{BODY}\n\n{OTHER}"}),
    )
    assert result.exit_code == 0
    assert result.stdout == ""
    assert _read_jsonl(rejected)[0]["spin_label"] == "spun"


def test_cut_spans_keeps_the_remaining_paragraphs_separated() -> None:
    text = "One.\n\nTwo.\n\nThree."
    assert cut_spans(text, [(6, 10)]) == "One.\n\nThree."
    assert cut_spans(text, [(0, 4)]) == "Two.\n\nThree."
    assert cut_spans(text, [(12, 18)]) == "One.\n\nTwo."
    assert cut_spans(text, [(0, 4), (12, 18)]) == "Two."
    assert cut_spans(text, []) == text


def test_api_filter_takes_dicts_and_strings_and_never_raises(detector) -> None:
    records = [{"id": 1, "text": BODY}, OTHER, {"id": 3}, {"id": 4, "text": None}, ""]
    decisions = list(detector.filter(records, threshold=1.0))
    assert [d.action for d in decisions] == ["keep", "keep", "error", "error", "error"]
    assert [d.line_number for d in decisions] == [1, 2, 3, 4, 5]
    assert decisions[0].output == {"id": 1, "text": BODY}
    assert decisions[1].output == {"text": OTHER}
    assert decisions[2].output["record"] == {"id": 3} and "no field 'text'" in decisions[2].error
    assert all(d.score is not None for d in decisions[:2])
    assert [d.action for d in detector.filter([BODY], threshold=0.0)] == ["reject"]


def test_a_failing_record_costs_only_itself(detector, monkeypatch) -> None:
    real_score = Detector.score

    def fail_on_poison(self, documents, threshold=None, progress=None):
        if any("POISON" in document for document in documents):
            raise RuntimeError("boom")
        return real_score(self, documents, threshold=threshold, progress=progress)

    monkeypatch.setattr(Detector, "score", fail_on_poison)
    decisions = list(detector.filter([BODY, f"{OTHER} POISON", OTHER], threshold=1.0))
    assert [d.action for d in decisions] == ["keep", "error", "keep"]
    assert "internal error" in decisions[1].error and "boom" in decisions[1].error


def test_a_loaded_detector_pickles_small_and_reloads_on_first_use(detector) -> None:
    data = pickle.dumps(detector)
    assert len(data) < 2_000  # the models do not travel, only where to load them from
    copy = pickle.loads(data)
    assert copy._parts is None  # nothing loaded until it is used
    assert [r.score for r in copy.score([BODY, OTHER])] == [r.score for r in detector.score([BODY, OTHER])]


def test_a_detector_built_from_parts_refuses_to_pickle(detector) -> None:
    built = Detector(detector.model, detector.extractor, detector.reference, detector.runtime)
    with pytest.raises(TypeError, match="Detector.load"):
        pickle.dumps(built)


def test_dataset_map_adds_score_columns_row_for_row(detector) -> None:
    datasets = pytest.importorskip("datasets")
    from spindetect.dataset_columns import SpinColumns

    texts = [BODY, "", OTHER, None, f"{BODY} Again."] * 3
    dataset = datasets.Dataset.from_dict({"id": list(range(len(texts))), "text": texts})
    scored = dataset.map(SpinColumns(detector, threshold=0.5), batched=True, batch_size=4)
    assert scored["id"] == list(range(len(texts)))  # every row, in order
    expected = detector.score([BODY, OTHER, f"{BODY} Again."], threshold=0.5)
    assert scored["spin_score"][:5] == [round(expected[0].score, 4), None, round(expected[1].score, 4), None, round(expected[2].score, 4)]
    assert scored["spin_label"][1] is None and "empty" in scored["spin_error"][1]
    assert scored["spin_label"][0] == expected[0].label and scored["spin_error"][0] is None
    kept = scored.filter(lambda batch: [label == "clean" for label in batch["spin_label"]], batched=True)
    assert kept.num_rows == sum(label == "clean" for label in scored["spin_label"])
    with pytest.raises(KeyError, match="no column 'body'"):
        dataset.map(SpinColumns(detector, text_field="body"), batched=True)


def test_threshold_for_a_false_positive_budget() -> None:
    from spindetect.model import threshold_for_fpr

    scores = np.arange(1, 11) / 10  # 0.1 ... 1.0
    # Above the highest clean score by a margin that a rescoring's rounding cannot cross, and no more.
    assert threshold_for_fpr(scores[:9], 0.0) == pytest.approx(0.9 + 1e-5, abs=1e-12)
    at_20_percent = threshold_for_fpr(scores, 0.2)
    assert np.mean(scores >= at_20_percent) == pytest.approx(0.2)
    assert np.mean(scores >= threshold_for_fpr(scores, 0.25)) <= 0.25
    with pytest.raises(ValueError):
        threshold_for_fpr(scores, 1.0)


def test_max_fpr_reads_the_threshold_from_the_models_clean_scores(tiny_model_dir, detector) -> None:
    model = detector.model
    assert model.clean_scores is not None and model.cascade_clean_scores is not None
    expected = detector.threshold_for_fpr(0.1)
    assert np.mean(model.clean_scores >= expected) <= 0.1
    result = runner.invoke(app, ["filter", "-", "--model", str(tiny_model_dir), "--max-fpr", "0.1"], input=json.dumps({"text": BODY}))
    assert result.exit_code == 0, result.output
    assert f"threshold {expected:.4f}" in result.stderr
    both = runner.invoke(app, ["score", "-", "--model", str(tiny_model_dir), "--max-fpr", "0.1", "--threshold", "0.5"], input=BODY)
    assert both.exit_code == 2 and "not both" in both.stderr


def test_python_api_errors_name_the_record_and_no_command_line_flag(detector) -> None:
    decisions = list(detector.filter([{"text": BODY}, {"body": BODY}, {"text": ""}]))
    errors = [decision.error for decision in decisions if decision.action == "error"]
    assert len(errors) == 2 and errors[0].startswith("record 2:") and errors[1].startswith("record 3:")
    assert not any("--" in error for error in errors)


@pytest.mark.parametrize("unjudged", ["keep", "reject", "error"])
def test_records_with_nothing_to_judge_go_where_unjudged_says(tiny_model_dir, tmp_path, unjudged) -> None:
    lines = [json.dumps({"id": 1, "text": BODY}), json.dumps({"id": 2, "text": "Council approves budget after debate"})]
    out, rejected, errors = tmp_path / "kept.jsonl", tmp_path / "rejected.jsonl", tmp_path / "errors.jsonl"
    result = runner.invoke(
        app,
        ["filter", "-", "--model", str(tiny_model_dir), "--threshold", "1", "--unjudged", unjudged,
         "--out", str(out), "--rejected", str(rejected), "--errors", str(errors)],
        input="\n".join(lines),
    )
    assert result.exit_code == 0, result.output
    places = {"keep": out, "reject": rejected, "error": errors}
    headline = [record for record in _read_jsonl(places[unjudged]) if record.get("id") == 2 or record.get("record", {}).get("id") == 2]
    assert len(headline) == 1
    if unjudged == "reject":
        assert headline[0]["spin_label"] == "unjudged" and headline[0]["spin_score"] is None
    if unjudged == "error":
        assert "unjudged" in headline[0]["error"]
    assert [record["id"] for record in _read_jsonl(out)] == ([1, 2] if unjudged == "keep" else [1])
    assert "1 of them unjudged" in result.stderr
