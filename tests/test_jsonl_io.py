"""Reading and writing JSON Lines: compressed inputs and outputs, resuming only the input that was read,
checkpoints on Ctrl-C, and inputs no line of which can stop a run (lone surrogates, deep nesting)."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from spindetect import filtering
from spindetect.cli import app
from spindetect.inputs import parse_jsonl_line
from spindetect.jsonl_inputs import InputChanged, JsonlInputs
from spindetect.outputs import json_line
from spindetect.segment import segment

runner = CliRunner()

TEXTS = [
    "The city council voted on Tuesday to approve a new budget for the coming year, after months of debate "
    "over the cost of repairing roads and bridges across the county.",
    "Scientists at the university said the new telescope would let them study the atmospheres of distant "
    "planets in far greater detail than any instrument built before it.",
]
RECORDS = [{"id": number, "text": f"{TEXTS[number % 2]} Item {number}."} for number in range(10)]
COMPRESSORS = {
    "gz": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "zst": lambda data: zstandard.ZstdCompressor().compress(data),
}


def _jsonl(records: list[dict]) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


def _lines(path) -> list[dict]:
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)  # every member, in order
    return [json.loads(line) for line in data.decode().splitlines()]


def test_compressed_inputs_read_as_the_plain_file_does(tmp_path) -> None:
    for suffix, compress in COMPRESSORS.items():
        path = tmp_path / f"feed.jsonl.{suffix}"
        path.write_bytes(compress(_jsonl(RECORDS)))
        assert [record.fields for record, _ in JsonlInputs([str(path)], "text")] == RECORDS, suffix
    # Recognised by content, not by name.
    misnamed = tmp_path / "feed.jsonl"
    misnamed.write_bytes(gzip.compress(_jsonl(RECORDS)))
    assert [record.fields for record, _ in JsonlInputs([str(misnamed)], "text")] == RECORDS


def test_a_truncated_compressed_input_is_an_error_naming_the_file(tmp_path) -> None:
    path = tmp_path / "feed.jsonl.gz"
    path.write_bytes(gzip.compress(_jsonl(RECORDS * 20))[:-200])
    with pytest.raises(Exception, match="feed.jsonl.gz: cannot read past line"):
        list(JsonlInputs([str(path)], "text"))


def test_missing_inputs_are_reported_before_anything_loads(tmp_path) -> None:
    result = runner.invoke(app, ["filter", str(tmp_path / "absent.jsonl"), "--model", str(tmp_path / "no-model")])
    assert result.exit_code == 2 and "absent.jsonl: no such file" in result.stderr


def _filter_args(tiny_model_dir, source, out_dir, suffix=""):
    return [
        "filter", str(source), "--model", str(tiny_model_dir), "--threshold", "0.5",
        "--out", str(out_dir / f"kept.jsonl{suffix}"), "--rejected", str(out_dir / f"rejected.jsonl{suffix}"),
    ]


def _interrupt_on_scoring_call(monkeypatch, call: int) -> None:
    real_score = filtering.score_isolating_failures
    calls = {"n": 0}

    def interrupted(*arguments, **keywords):
        calls["n"] += 1
        if calls["n"] == call:
            raise KeyboardInterrupt
        return real_score(*arguments, **keywords)

    monkeypatch.setattr(filtering, "score_isolating_failures", interrupted)


def test_compressed_outputs_resume_and_an_input_changed_under_its_name_is_refused(tiny_model_dir, tmp_path, monkeypatch) -> None:
    source = tmp_path / "feed.jsonl.zst"
    source.write_bytes(zstandard.ZstdCompressor().compress(_jsonl(RECORDS)))
    expected = tmp_path / "expected"
    expected.mkdir()
    assert runner.invoke(app, _filter_args(tiny_model_dir, source, expected)).exit_code == 0

    out = tmp_path / "out"
    out.mkdir()
    args = _filter_args(tiny_model_dir, source, out, ".gz")
    monkeypatch.setattr("spindetect.cli.CHECKPOINT_SECONDS", 1e9)  # only the checkpoint Ctrl-C writes
    _interrupt_on_scoring_call(monkeypatch, 3)  # chunks of 1 and 2 records are done by then
    first = runner.invoke(app, args)
    assert first.exit_code == 130, first.output
    checkpoint = json.loads((out / "kept.jsonl.gz.checkpoint.json").read_text())
    assert checkpoint["records_done"] == 3  # saved on Ctrl-C, not only at the start
    monkeypatch.undo()

    # The same size, other records: resuming would repeat some records and skip others.
    original = source.read_bytes()
    changed = zstandard.ZstdCompressor().compress(_jsonl([{**RECORDS[1], "id": 1}, RECORDS[0], *RECORDS[2:]]))
    source.write_bytes(changed)
    if len(changed) == len(original):
        refused = runner.invoke(app, [*args, "--resume"])
        assert refused.exit_code == 2 and "differ" in refused.stderr
    source.write_bytes(original + b"\n")
    refused = runner.invoke(app, [*args, "--resume"])
    assert refused.exit_code == 2 and "changed since the interrupted run" in refused.stderr

    source.write_bytes(original)
    resumed = runner.invoke(app, [*args, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert "resumed after 3" in resumed.stderr
    for name in ("kept", "rejected"):
        assert _lines(out / f"{name}.jsonl.gz") == _lines(expected / f"{name}.jsonl"), name


def test_a_changed_prefix_of_a_plain_input_is_refused_on_resume(tiny_model_dir, tmp_path, monkeypatch) -> None:
    source = tmp_path / "feed.jsonl"
    source.write_bytes(_jsonl(RECORDS))
    args = _filter_args(tiny_model_dir, source, tmp_path)
    monkeypatch.setattr("spindetect.cli.CHECKPOINT_SECONDS", 1e9)
    _interrupt_on_scoring_call(monkeypatch, 3)
    assert runner.invoke(app, args).exit_code == 130
    monkeypatch.undo()
    data = bytearray(source.read_bytes())
    data[data.index(b"Item 0") + 5] = ord("9")  # one byte of the first record, same size
    source.write_bytes(bytes(data))
    refused = runner.invoke(app, [*args, "--resume"])
    assert refused.exit_code == 2 and "differ from what the interrupted run read" in refused.stderr


def test_lone_surrogates_and_deep_nesting_cost_one_line_at_most(tiny_model_dir, tmp_path) -> None:
    deep = "[" * 10_000 + "]" * 10_000
    lines = [
        json.dumps({"id": "\ud800", "text": TEXTS[0] + " \ud800"}),
        '{"id": 2, "text": "x", "nested": ' + deep + "}",
        json.dumps({"id": 3, "text": TEXTS[1]}),
    ]
    source = tmp_path / "odd.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    scored = runner.invoke(app, ["score", "--jsonl", str(source), "--model", str(tiny_model_dir)])
    assert scored.exit_code == 1, scored.output  # one record could not be scored
    records = [json.loads(line) for line in scored.stdout.splitlines()]
    assert [record.get("id") for record in records] == ["\ud800", None, 3]
    assert records[0]["spin_score"] is not None and "nested too deeply" in records[1]["error"]

    out = tmp_path / "kept.jsonl"
    filtered = runner.invoke(app, ["filter", str(source), "--model", str(tiny_model_dir), "--threshold", "1", "--out", str(out), "--errors", str(tmp_path / "bad.jsonl")])
    assert filtered.exit_code == 0, filtered.output
    assert [record["id"] for record in _lines(out)] == ["\ud800", 3]  # kept as read, surrogate included
    assert "read 3: kept 2, rejected 0, errored 1" in filtered.stderr


# Property-based: whatever a line holds, reading it gives a record or a reason, never an exception.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_read_as_a_record_or_an_error(line: bytes) -> None:
    record = parse_jsonl_line(line, 1, "text")
    assert (record.error is None) == (record.text is not None)
    assert record.fields is not None or record.raw is not None or record.error is not None


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_value_is_written_on_one_line_and_read_back_unchanged(value) -> None:
    line = json_line({"value": value})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    line.decode("utf-8")  # always valid UTF-8
    back = json.loads(line)["value"]
    assert json.dumps(back, sort_keys=True) == json.dumps(value, sort_keys=True)  # NaN compares equal as text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=30) | st.sampled_from(["\n", "\n\n", " ", ". ", "\r\n", "Word"]), max_size=40).map("".join))
def test_paragraphs_are_ordered_disjoint_slices_of_the_document(document: str) -> None:
    paragraphs = segment(document, min_words=5, max_paragraph_words=20)
    previous_end = 0
    for paragraph in paragraphs:
        assert previous_end <= paragraph.start < paragraph.end <= len(document)
        assert paragraph.text == document[paragraph.start : paragraph.end] and paragraph.text.strip()
        for start, end in paragraph.sentences:
            assert paragraph.start <= start < end <= paragraph.end
        previous_end = paragraph.end


def test_a_job_log_gets_progress_lines_with_the_rate_and_time_left(tiny_model_dir, tmp_path, monkeypatch) -> None:
    source = tmp_path / "feed.jsonl"
    source.write_bytes(_jsonl(RECORDS))
    monkeypatch.setattr("spindetect.cli.PROGRESS_LOG_SECONDS", 0.0)  # a line at every step
    result = runner.invoke(app, ["filter", str(source), "--model", str(tiny_model_dir), "--threshold", "1"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("filtering records:")]
    assert lines and "10 done" in lines[-1] and "/s" in lines[-1] and "left" in lines[-1]


def test_progress_lines_come_at_most_once_per_interval() -> None:
    from spindetect.progress_log import LogProgress

    now = {"t": 0.0}
    written: list[str] = []
    progress = LogProgress(written.append, interval=30.0, clock=lambda: now["t"])
    task = progress.add_task("scoring texts", total=100)
    for step in range(100):
        now["t"] = step  # one text a second
        progress.update(task, advance=1)
    assert len(written) == 3  # at 30, 60 and 90 s
    assert written[0] == "scoring texts: 31 of 100 done, 1.0/s, 30 s so far, about 67 s left"
