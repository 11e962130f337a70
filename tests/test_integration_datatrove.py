"""SpinFilter in a datatrove pipeline decides as `spindetect filter` does and scores as `score --jsonl` does."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spindetect.cli import app
from spindetect.config import RuntimeConfig
from spindetect.features.thesaurus import MobyThesaurus
from spindetect.model import ModelError
from spindetect.synth.brown import load_brown_paragraphs
from spindetect.synth.spinner import ThesaurusSpinner
from tests.conftest import BROWN_SAMPLE
from tests.texts import NEWS_SENTENCES

pytest.importorskip("datatrove")

from datatrove.data import Document
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter

from spindetect.integrations.datatrove import SpinFilter

runner = CliRunner()
BODY = " ".join(NEWS_SENTENCES[:3])
HEADLINES = ["City council approves budget", "Rain closes highway", "New telescope unveiled", "Profits rise"]
WORDS = 24
# Scored in other batches than the command's, a float32 score moves by rounding, which can tip its fourth decimal.
ROUNDING = 1e-4 + 1e-5


def _records() -> list[dict]:
    """About 300 records: Brown paragraphs, spun copies of some, documents of several paragraphs, headlines
    (unjudged), blank texts and binary data (errors), and one text over the model's length limit (an error)."""
    # Cut to their first words: the scores need prose long enough to judge, and the test runs in seconds.
    paragraphs = [" ".join(paragraph.text.split()[:WORDS]) for paragraph in load_brown_paragraphs(BROWN_SAMPLE)]
    spinner = ThesaurusSpinner(MobyThesaurus.load(), rate=0.3)
    rng = random.Random(5)
    texts = list(paragraphs)
    texts += [spinner.spin(text, rng).text for text in paragraphs[::3]]
    texts += ["\n\n".join(paragraphs[i : i + 3]) for i in range(0, 72, 3)]
    texts += [f"{headline}\n{HEADLINES[(i + 1) % 4]}" for i, headline in enumerate(HEADLINES)] + HEADLINES
    texts += ["   ", "\n\n \t", "\x00\x01\x02 binary \x03\x04\x05\x06\x07\x08"]
    texts.append("\n\n".join([BODY] * 500))  # over runtime.max_document_chars (100,000)
    random.Random(1).shuffle(texts)
    return [{"id": f"doc-{number}", "text": text, "source": "test"} for number, text in enumerate(texts)]


def _write_shards(records: list[dict], folder: Path, shards: int) -> None:
    folder.mkdir()
    for shard in range(shards):
        lines = [json.dumps(record) for record in records[shard::shards]]
        (folder / f"shard-{shard}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _read_folder(folder: Path) -> list[dict]:
    return [json.loads(line) for file in sorted(folder.glob("*.jsonl")) for line in file.read_text("utf-8").splitlines()]


def _read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_a_two_task_pipeline_keeps_and_excludes_every_document_as_the_filter_command_and_scores_as_score(
    tiny_model_dir, tmp_path
) -> None:
    records = _records()
    assert len(records) >= 290
    _write_shards(records, tmp_path / "input", shards=3)
    stats = LocalPipelineExecutor(
        pipeline=[
            JsonlReader(str(tmp_path / "input")),
            SpinFilter(tiny_model_dir, batch_size=32, exclusion_writer=JsonlWriter(str(tmp_path / "excluded"), compression=None)),
            JsonlWriter(str(tmp_path / "kept"), compression=None),
        ],
        tasks=2,
        workers=2,
        logging_dir=str(tmp_path / "logs"),
    ).run()
    kept, excluded = _read_folder(tmp_path / "kept"), _read_folder(tmp_path / "excluded")

    # Nothing vanishes and nothing doubles: each record leaves by exactly one door.
    assert Counter(doc["id"] for doc in kept + excluded) == Counter(record["id"] for record in records)
    documents = {doc["id"]: doc for doc in kept + excluded}
    assert all(documents[r["id"]]["text"] == r["text"] for r in records)

    # The same decisions as `spindetect filter` on the same records.
    (tmp_path / "all.jsonl").write_text("\n".join(json.dumps(record) for record in records) + "\n", encoding="utf-8")
    outputs = {name: tmp_path / f"filter-{name}.jsonl" for name in ("kept", "rejected", "errors")}
    result = runner.invoke(
        app,
        ["filter", str(tmp_path / "all.jsonl"), "--model", str(tiny_model_dir), "-q"]
        + ["--out", str(outputs["kept"]), "--rejected", str(outputs["rejected"]), "--errors", str(outputs["errors"])],
    )
    assert result.exit_code == 0, result.output
    by_command = {
        "kept": {record["id"] for record in _read_lines(outputs["kept"])},
        "spun": {record["id"] for record in _read_lines(outputs["rejected"])},
        "error": {error["record"]["id"] for error in _read_lines(outputs["errors"])},
    }
    by_pipeline = {"kept": {doc["id"] for doc in kept}} | {
        reason: {doc["id"] for doc in excluded if doc["metadata"]["filter_reason"] == reason} for reason in ("spun", "error")
    }
    assert by_pipeline == by_command
    assert len(by_command["error"]) == 4 and by_command["spun"] and len(by_command["kept"]) > 100

    # Scores, labels and paragraphs as `spindetect score --jsonl` gives them (the over-long text, an error for
    # the filter, is left out: score would judge its first part).
    scorable = [record for record in records if record["id"] not in by_command["error"]]
    (tmp_path / "scorable.jsonl").write_text("\n".join(json.dumps(r) for r in scorable) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["score", "--jsonl", str(tmp_path / "scorable.jsonl"), "--model", str(tiny_model_dir), "-q"])
    assert result.exit_code == 0, result.output
    for line in result.stdout.splitlines():
        expected = json.loads(line)
        metadata = documents[expected["id"]]["metadata"]
        assert metadata["spin_label"] == expected["spin_label"]
        assert metadata.get("spin_unjudged") == expected.get("spin_unjudged")
        assert (metadata["spin_score"] is None) == (expected["spin_score"] is None)
        if expected["spin_score"] is not None:
            assert metadata["spin_score"] == pytest.approx(expected["spin_score"], abs=ROUNDING)
        assert [(p["start"], p["end"]) for p in metadata["spin_paragraphs"]] == [(p["start"], p["end"]) for p in expected["paragraphs"]]
        assert [p["score"] for p in metadata["spin_paragraphs"]] == pytest.approx([p["score"] for p in expected["paragraphs"]], abs=ROUNDING)
    labels = Counter(json.loads(line)["spin_label"] for line in result.stdout.splitlines())
    assert set(labels) == {"spun", "clean", "unjudged"}

    for doc in excluded:
        if doc["metadata"]["filter_reason"] == "error":
            assert doc["metadata"]["spin_label"] is None and doc["metadata"]["spin_error"].startswith("this document: ")

    # Datatrove's stats for the step count every decision.
    counts = {name: metric.total for name, metric in stats.stats[1].stats.items()}
    assert counts["kept"] == counts["forwarded"] == len(kept)
    assert counts["rejected"] == counts["spun"] == counts["dropped_spun"] == len(by_command["spun"])
    assert counts["errored"] == counts["dropped_error"] == 4
    assert counts["unjudged"] == labels["unjudged"] >= len(HEADLINES) * 2
    assert counts["clean"] == labels["clean"]


def _docs(*texts: str) -> list[Document]:
    return [Document(text=text, id=str(number)) for number, text in enumerate(texts)]


@pytest.mark.parametrize(("unjudged", "reason"), [("reject", "unjudged"), ("error", "error")])
def test_an_unjudged_document_is_dropped_with_its_reason_when_asked(tiny_model_dir, unjudged, reason) -> None:
    spin_filter = SpinFilter(tiny_model_dir, unjudged=unjudged)
    docs = _docs(HEADLINES[0], BODY)
    verdicts = spin_filter.filter_batch(docs)
    assert verdicts[0] == (False, reason)
    assert docs[0].metadata["spin_label"] == "unjudged" and docs[0].metadata["spin_unjudged"] == "too_short"
    assert docs[0].metadata["spin_score"] is None and len(docs[0].metadata["spin_paragraphs"]) == 1
    assert ("spin_error" in docs[0].metadata) == (unjudged == "error")
    assert docs[1].metadata["spin_label"] in ("spun", "clean")


def test_a_threshold_decides_and_the_model_loads_once_per_copy(tiny_model_dir) -> None:
    keep_all, drop_all = SpinFilter(tiny_model_dir, threshold=1.0), SpinFilter(tiny_model_dir, threshold=0.0)
    assert keep_all.filter_batch(_docs(BODY, BODY)) == [True, True]
    assert drop_all.filter(_docs(BODY)[0]) == (False, "spun")
    loaded = drop_all.detector
    drop_all.filter_batch(_docs(BODY))
    assert drop_all.detector is loaded


def test_settings_are_checked_when_the_pipeline_is_built(tmp_path) -> None:
    with pytest.raises(ValueError, match="unjudged must be one of keep, reject, error"):
        SpinFilter(unjudged="drop")
    with pytest.raises(ModelError, match="not a spindetect model directory"):
        SpinFilter(tmp_path)


def test_filters_with_the_same_settings_share_one_detector_per_process(tiny_model_dir) -> None:
    first, second = SpinFilter(model=tiny_model_dir), SpinFilter(model=str(tiny_model_dir))
    assert first.detector is second.detector
    other_runtime = RuntimeConfig(batch_tokens=256)
    assert SpinFilter(model=tiny_model_dir, runtime=other_runtime).detector is not first.detector
