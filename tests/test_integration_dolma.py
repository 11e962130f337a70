"""The dolma tagger, run by dolma's own `dolma tag` over sharded documents, agrees with `score --jsonl`.

The run goes in a subprocess: dolma sets the multiprocessing start method of the process it runs in to
"spawn", for good, and asserts it; in the test process that would fail after any earlier test that started a
process, and change how every later one does.
"""

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spindetect.cli import app
from spindetect.detector import Detector
from tests.texts import NEWS_SENTENCES

pytest.importorskip("dolma")

ROOT = Path(__file__).resolve().parents[1]
SHARDS = 3
RECORDS = 300
# Attribute names: dolma prefixes each type with the experiment and the tagger's name.
PREFIX = "spin__spindetect__"

GERMAN = (
    "Der Stadtrat hat am Dienstag einen neuen Haushalt für das kommende Jahr beschlossen, nachdem monatelang "
    "über die Kosten für die Reparatur von Straßen und Brücken im ganzen Landkreis gestritten worden war."
)
# A spinner's rewrite: sense-blind synonyms for common words.
SPUN = (
    "The metropolis chamber balloted on Tuesday to sanction a fresh allocation for the approaching annum, "
    "subsequent to moons of deliberation over the expense of mending thoroughfares and overpasses."
)


def _text(number: int) -> str:
    """Judged prose of one to three paragraphs, some under a headline; a few short, foreign, spun or empty."""
    kind = number % 10
    if kind == 3:
        return NEWS_SENTENCES[number % len(NEWS_SENTENCES)]  # a single short line: unjudged, too short
    if kind == 5 and number % 20 == 5:
        return GERMAN
    if number % 50 == 7:
        return "" if number % 100 == 7 else "   \n  "
    paragraphs = []
    for k in range(1 + number % 3):
        first = (number + k) % len(NEWS_SENTENCES)
        paragraphs.append(" ".join(NEWS_SENTENCES[(first + j) % len(NEWS_SENTENCES)] for j in range(2 + k)))
    if kind == 8:
        paragraphs.append(SPUN)
    if kind in (1, 4):
        paragraphs.insert(0, f"Local News, Item {number}")
    return "\n\n".join(paragraphs) + f" Record {number}."


def _records() -> list[dict]:
    return [
        {"id": f"doc-{number:03d}", "text": _text(number), "source": "test", "added": "2026-01-01T00:00:00Z"}
        for number in range(RECORDS)
    ]


@pytest.fixture(scope="module")
def tagged(tiny_model_dir, tmp_path_factory) -> tuple[list[dict], list[list[dict]]]:
    """The records, and the attribute lines dolma wrote for each shard, shard by shard."""
    base = tmp_path_factory.mktemp("dolma")
    records = _records()
    per_shard = RECORDS // SHARDS
    (base / "documents").mkdir()
    for shard in range(SHARDS):
        with gzip.open(base / "documents" / f"{shard:04d}.json.gz", "wt", encoding="utf-8") as file:
            for record in records[shard * per_shard : (shard + 1) * per_shard]:
                file.write(json.dumps(record) + "\n")
    env = {
        **os.environ,
        "SPINDETECT_MODEL": str(tiny_model_dir),
        # Two workers, each with torch's default of a thread per core, would fight over the cores.
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }
    documents = str(base / "documents" / "*.json.gz")
    command = [sys.executable, "-m", "dolma.cli", "tag", "--documents", documents, "--experiment", "spin", "--processes", "2"]
    command += ["--taggers", "spindetect", "--tagger_modules", "spindetect.integrations.dolma"]
    run = subprocess.run(command, check=False, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-4000:]
    shards = []
    for shard in range(SHARDS):
        with gzip.open(base / "attributes" / "spin" / f"{shard:04d}.json.gz", "rt", encoding="utf-8") as file:
            shards.append([json.loads(line) for line in file])
    return records, shards


def test_every_document_has_its_line_in_its_shard_in_order(tagged) -> None:
    records, shards = tagged
    per_shard = RECORDS // SHARDS
    for shard, lines in enumerate(shards):
        expected = records[shard * per_shard : (shard + 1) * per_shard]
        assert [line["id"] for line in lines] == [record["id"] for record in expected]
        assert all(line["source"] == "test" for line in lines)


def test_document_scores_match_score_jsonl(tagged, tiny_model_dir, tmp_path) -> None:
    records, shards = tagged
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    result = CliRunner().invoke(app, ["score", "--model", str(tiny_model_dir), "--jsonl", str(path), "-q"])
    assert result.exit_code == 1  # the empty texts
    scored = [json.loads(line) for line in result.stdout.splitlines()]
    lines = [line for shard in shards for line in shard]
    assert len(scored) == len(lines) == RECORDS

    labels = {"spun": 0, "clean": 0, "unjudged": 0, None: 0}
    for line, expected in zip(lines, scored, strict=True):
        assert line["id"] == expected["id"]
        attributes = line["attributes"]
        text = expected["text"]
        labels[expected["spin_label"]] += 1
        if expected["spin_score"] is not None:
            [[start, end, score]] = attributes[PREFIX + "doc"]
            assert (start, end) == (0, len(text))
            # Scored alone here and in chunks by score --jsonl, a float32 score moves by rounding (a few 1e-6),
            # which can tip its fourth decimal.
            assert score == pytest.approx(expected["spin_score"], abs=1e-4 + 1e-5)
            judged = [
                [p["start"], p["end"], p["score"]]
                for p in expected["paragraphs"]
                if not {"too_short", "not_english"} & {flag["reason"] for flag in p["flags"]}
            ]
            paragraphs = attributes[PREFIX + "paragraph"]
            assert [span[:2] for span in paragraphs] == [span[:2] for span in judged]
            assert [span[2] for span in paragraphs] == pytest.approx([span[2] for span in judged], abs=1e-4 + 1e-5)
        else:
            assert attributes[PREFIX + "doc"] == attributes[PREFIX + "paragraph"] == []
            reason = "error" if expected["spin_label"] is None else f"unjudged_{expected['spin_unjudged']}"
            assert attributes[PREFIX + reason] == [[0, len(text), 1.0]]
    # The mix the records were built for: every kind of line is there.
    assert labels[None] == 6 and labels["unjudged"] >= 30 and labels["spun"] + labels["clean"] >= 200
    assert any(line["attributes"].get(PREFIX + "unjudged_not_english") for line in lines)


def test_the_cascade_tagger_scores_as_the_cascade_detector(tiny_model_dir, monkeypatch) -> None:
    from dolma.core.data_types import InputSpec

    from spindetect.integrations.dolma import SpinCascadeTagger

    monkeypatch.setenv("SPINDETECT_MODEL", str(tiny_model_dir))
    text = _text(4)
    output = SpinCascadeTagger().tag(InputSpec(id="a", text=text))
    [expected] = Detector.load(tiny_model_dir, cascade=True).score([text])
    assert output["doc"] == [(0, len(text), pytest.approx(expected.score, abs=1e-5))]
    assert len(output["paragraph"]) == sum(p.judged for p in expected.paragraphs) == 1 + 4 % 3
