"""Inputs beyond one JSON Lines file: directories of shards, globs, Parquet and fsspec paths, read as the plain
file is, with outputs that mirror the shards and resumes that refuse a changed set of files."""

from __future__ import annotations

import datetime
import decimal
import gzip
import hashlib
import json
import uuid

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from spindetect import filtering
from spindetect.cli import app
from spindetect.detector import Detector
from spindetect.input_sources import expand_inputs
from spindetect.inputs import InputError
from spindetect.jsonl_inputs import InputChanged, JsonlInputs
from spindetect.parquet_inputs import ParquetReader, json_value

runner = CliRunner()

TEXTS = [
    (
        "The city council voted on Tuesday to approve a new budget for the coming year, after months of debate "
        "over the cost of repairing roads and bridges across the county."
    ),
    (
        "Scientists at the university said the new telescope would let them study the atmospheres of distant "
        "planets in far greater detail than any instrument built before it."
    ),
    (
        "The old mill by the river was turned into a library, and on weekends the reading room fills with "
        "families who come for the story hour and stay for the afternoon."
    ),
]
# Every record has the same fields, so a Parquet table holds them exactly (a missing field would become null).
RECORDS = [{"id": number, "text": f"{TEXTS[number % 3]} Item {number}."} for number in range(10)]
RECORDS[4] = {"id": 4, "text": None}  # an error record, wherever it is read from
RECORDS[7] = {"id": 7, "text": "  "}


def _jsonl(records: list[dict]) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


def _read(path) -> list[dict]:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return [json.loads(line) for line in data.decode().splitlines()]


def _write_shards(directory, records: list[dict], per_shard: int, kind: str = "jsonl.gz") -> list[str]:
    """`records` cut into shards of `per_shard`, named so that their sorted order is the records' order."""
    names = []
    for number, start in enumerate(range(0, len(records), per_shard)):
        part = records[start : start + per_shard]
        name = f"part-{number:03d}.{kind}"
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "parquet":
            pq.write_table(pa.Table.from_pylist(part), path)
        else:
            path.write_bytes(gzip.compress(_jsonl(part)))
        names.append(name)
    return names


@pytest.fixture(scope="module")
def threshold(tiny_model_dir) -> float:
    """A threshold between the scores of the records, so both kept and rejected records are there to compare."""
    detector = Detector.load(tiny_model_dir)
    scores = sorted(result.score for result in detector.score([r["text"] for r in RECORDS if (r["text"] or "").strip()]))
    if scores[0] == scores[-1]:
        pytest.skip("the tiny model scores every record alike")
    return (scores[len(scores) // 2 - 1] + scores[len(scores) // 2]) / 2


def _filter(tiny_model_dir, threshold, inputs: list[str], out: str, rejected: str, errors: str, *extra: str):
    return runner.invoke(
        app,
        ["filter", *inputs, "--model", str(tiny_model_dir), "--threshold", str(threshold),
         "--out", out, "--rejected", rejected, "--errors", errors, *extra],
    )


@pytest.fixture(scope="module")
def plain_run(tiny_model_dir, threshold, tmp_path_factory) -> dict[str, list]:
    """The decisions over one plain JSON Lines file: the ids kept, rejected and errored, and the records."""
    directory = tmp_path_factory.mktemp("plain")
    source = directory / "all.jsonl"
    source.write_bytes(_jsonl(RECORDS))
    files = {name: directory / f"{name}.jsonl" for name in ("kept", "rejected", "errors")}
    result = _filter(tiny_model_dir, threshold, [str(source)], *(str(path) for path in files.values()))
    assert result.exit_code == 0, result.output
    runs = {name: _read(path) for name, path in files.items()}
    assert runs["kept"] and runs["rejected"] and len(runs["errors"]) == 2
    return runs


def _ids(records: list[dict]) -> list:
    return [record["record"]["id"] if "record" in record else record["id"] for record in records]


def _shard_outputs(directory, names: list[str]) -> list[dict]:
    return [record for name in names for record in _read(directory / name)]


def test_a_directory_of_gzip_shards_gives_the_decisions_and_records_of_the_plain_file(tiny_model_dir, threshold, plain_run, tmp_path) -> None:
    shards = tmp_path / "shards"
    names = _write_shards(shards, RECORDS, per_shard=3)
    (shards / "_SUCCESS").write_text("")  # a marker file, not a shard
    out = tmp_path / "out"
    result = _filter(tiny_model_dir, threshold, [str(shards)], f"{out}/kept/", f"{out}/rejected/", f"{out}/errors/")
    assert result.exit_code == 0, result.output
    for name in ("kept", "rejected"):
        # One file per input shard, under its name and compressed as it was, in input order.
        assert sorted(path.name for path in (out / name).iterdir()) == names
        assert _shard_outputs(out / name, names) == plain_run[name], name
    errors = _shard_outputs(out / "errors", names)
    assert _ids(errors) == _ids(plain_run["errors"]) == [4, 7]
    assert errors[0]["error"].startswith(f"{shards / names[1]}:2: field 'text' is NoneType")
    assert f"read {len(RECORDS)}: kept {len(plain_run['kept'])}, rejected {len(plain_run['rejected'])}, errored 2" in result.stderr
    assert not list(out.rglob("*.partial")) and not list(tmp_path.glob("*.checkpoint.json"))

    # A glob of the same shards, into one file: the plain file's records again.
    kept = tmp_path / "kept-from-glob.jsonl"
    globbed = _filter(tiny_model_dir, threshold, [f"{shards}/*.jsonl.gz"], str(kept), str(tmp_path / "r.jsonl"), str(tmp_path / "e.jsonl"))
    assert globbed.exit_code == 0, globbed.output
    assert _read(kept) == plain_run["kept"]


def test_a_parquet_file_gives_the_decisions_of_the_plain_file(tiny_model_dir, threshold, plain_run, tmp_path) -> None:
    source = tmp_path / "all.parquet"
    pq.write_table(pa.Table.from_pylist(RECORDS), source, row_group_size=4)  # rows cross row groups
    files = [str(tmp_path / f"{name}.jsonl") for name in ("kept", "rejected", "errors")]
    result = _filter(tiny_model_dir, threshold, [str(source)], *files)
    assert result.exit_code == 0, result.output
    assert _read(tmp_path / "kept.jsonl") == plain_run["kept"]
    assert _read(tmp_path / "rejected.jsonl") == plain_run["rejected"]
    errors = _read(tmp_path / "errors.jsonl")
    assert _ids(errors) == [4, 7] and errors[0]["line"] == 5  # a Parquet record's "line" is its row number
    assert errors[0]["error"] == f"{source} row 5: field 'text' is NoneType, not a string"

    scored = runner.invoke(app, ["score", "--jsonl", str(source), "--model", str(tiny_model_dir), "--threshold", str(threshold)])
    assert scored.exit_code == 1  # two rows cannot be scored
    assert [record["id"] for record in map(json.loads, scored.stdout.splitlines())] == [record["id"] for record in RECORDS]


def test_parquet_shards_in_a_directory_are_written_as_json_lines_shards(tiny_model_dir, threshold, plain_run, tmp_path) -> None:
    shards = tmp_path / "shards"
    names = _write_shards(shards / "train", RECORDS, per_shard=4, kind="parquet")
    out = tmp_path / "out"
    result = _filter(tiny_model_dir, threshold, [str(shards)], f"{out}/kept/", f"{out}/rejected/", str(tmp_path / "errors.jsonl"))
    assert result.exit_code == 0, result.output
    mirrored = [f"train/{name.replace('.parquet', '.jsonl')}" for name in names]
    assert sorted(str(path.relative_to(out / "kept")) for path in (out / "kept").rglob("*") if path.is_file()) == mirrored
    assert _shard_outputs(out / "kept", mirrored) == plain_run["kept"]
    assert _shard_outputs(out / "rejected", mirrored) == plain_run["rejected"]
    assert _ids(_read(tmp_path / "errors.jsonl")) == [4, 7]  # a file beside directories takes every shard's records


def test_fsspec_paths_read_as_local_ones(tiny_model_dir, threshold, plain_run, tmp_path) -> None:
    filesystem = fsspec.filesystem("memory")
    root = f"/spindetect-test-{uuid.uuid4().hex}"
    try:
        for number, start in enumerate(range(0, len(RECORDS), 4)):
            with filesystem.open(f"{root}/shards/part-{number}.jsonl.gz", "wb") as handle:
                handle.write(gzip.compress(_jsonl(RECORDS[start : start + 4])))
        for argument in (f"memory://{root}/shards", f"memory://{root}/shards/*.jsonl.gz"):
            kept = tmp_path / "kept.jsonl"
            result = _filter(tiny_model_dir, threshold, [argument], str(kept), str(tmp_path / "r.jsonl"), str(tmp_path / "e.jsonl"))
            assert result.exit_code == 0, result.output
            assert _read(kept) == plain_run["kept"], argument
        missing = runner.invoke(app, ["filter", f"memory://{root}/absent/*.jsonl", "--model", str(tmp_path / "no-model")])
        assert missing.exit_code == 2 and "no files match" in missing.stderr
    finally:
        filesystem.rm(root, recursive=True)


@pytest.mark.parametrize("kind", ["jsonl.gz", "parquet"])
def test_an_interrupted_run_over_shards_resumes_across_a_shard_boundary(tiny_model_dir, threshold, plain_run, tmp_path, monkeypatch, kind) -> None:
    shards = tmp_path / "shards"
    names = _write_shards(shards, RECORDS, per_shard=2, kind=kind)
    mirrored = [name.replace(".parquet", ".jsonl") for name in names]
    out = tmp_path / "out"
    outputs = [f"{out}/kept/", f"{out}/rejected/", f"{out}/errors/"]

    monkeypatch.setattr("spindetect.cli.CHECKPOINT_SECONDS", 1e9)  # only the checkpoint Ctrl-C writes
    real_score = filtering.score_isolating_failures
    calls = {"n": 0}

    def interrupted(*arguments, **keywords):
        calls["n"] += 1
        if calls["n"] == 3:  # after chunks of 1 and 2 records: the first shard done, one record into the second
            raise KeyboardInterrupt
        return real_score(*arguments, **keywords)

    monkeypatch.setattr(filtering, "score_isolating_failures", interrupted)
    first = _filter(tiny_model_dir, threshold, [str(shards)], *outputs)
    assert first.exit_code == 130, first.output
    monkeypatch.undo()
    checkpoint = json.loads((out / "kept.checkpoint.json").read_text())
    assert checkpoint["records_done"] == 3 and checkpoint["shard"] == 1
    assert checkpoint["position"]["files"] == [str(shards / name) for name in names]
    assert not [path for path in out.rglob("*") if path.is_file() and not path.name.endswith((".partial", ".checkpoint.json"))]

    # Another shard in the directory: the inputs are no longer what the interrupted run read.
    _write_shards(shards / "late", RECORDS[:2], per_shard=2, kind=kind)
    refused = _filter(tiny_model_dir, threshold, [str(shards)], *outputs, "--resume")
    assert refused.exit_code == 2 and "now also" in refused.stderr and "late" in refused.stderr
    for path in (shards / "late").iterdir():
        path.unlink()
    (shards / "late").rmdir()

    resumed = _filter(tiny_model_dir, threshold, [str(shards)], *outputs, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert "resumed after 3" in resumed.stderr
    assert _shard_outputs(out / "kept", mirrored) == plain_run["kept"]
    assert _shard_outputs(out / "rejected", mirrored) == plain_run["rejected"]
    assert _ids(_shard_outputs(out / "errors", mirrored)) == [4, 7]
    assert sorted(path.name for path in (out / "errors").iterdir()) == mirrored  # shards without errors too


def test_a_parquet_file_with_other_rows_before_the_resume_point_is_refused(tmp_path) -> None:
    source = tmp_path / "feed.parquet"
    pq.write_table(pa.Table.from_pylist(RECORDS), source)
    read = JsonlInputs([str(source)], "text")
    position = [after for _, after in read][3]
    pq.write_table(pa.Table.from_pylist([{**RECORDS[0], "id": 99}, *RECORDS[1:]]), source)
    changed = JsonlInputs([str(source)], "text")
    with pytest.raises(InputChanged, match="first 4 rows differ"):
        changed.resume_at(position, changed.sizes, changed.paths)  # the size alone would not tell
    pq.write_table(pa.Table.from_pylist(RECORDS), source)
    again = JsonlInputs([str(source)], "text")
    again.resume_at(position, again.sizes, again.paths)
    assert [record.fields["id"] for record, _ in again] == [record["id"] for record in RECORDS[4:]]


def test_directories_and_globs_expand_sorted_and_refuse_to_be_empty(tmp_path) -> None:
    (tmp_path / "data" / "b").mkdir(parents=True)
    for name in ("data/b/2.jsonl", "data/a.parquet", "data/10.json.gz", "data/notes.txt", "data/.hidden.jsonl", "data/_tmp.jsonl"):
        (tmp_path / name).write_text("")
    assert [source.relative for source in expand_inputs([str(tmp_path / "data")])] == ["10.json.gz", "a.parquet", "b/2.jsonl"]
    # A glob takes every file it matches, marked with _ or not; like the shell's, it passes over hidden ones.
    assert [source.relative for source in expand_inputs([f"{tmp_path}/data/**/*.jsonl"])] == ["_tmp.jsonl", "b/2.jsonl"]
    with pytest.raises(InputError, match=r"\*\.zst: no files match"):
        expand_inputs([f"{tmp_path}/data/*.zst"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no shard files in it"):
        expand_inputs([str(tmp_path / "empty")])


def test_a_missing_fsspec_backend_says_what_to_install() -> None:
    try:
        import s3fs  # noqa: F401
    except ImportError:
        with pytest.raises(InputError, match="needs s3fs: pip install s3fs"):
            expand_inputs(["s3://bucket/shards/"])
    with pytest.raises(InputError, match="Protocol not known"):
        expand_inputs(["nosuchprotocol://bucket/x.jsonl"])


def test_outputs_that_would_overwrite_or_mix_with_inputs_are_refused(tmp_path) -> None:
    names = _write_shards(tmp_path / "shards", RECORDS, per_shard=5)
    no_model = str(tmp_path / "no-model")  # refused before any model loads
    inside = runner.invoke(app, ["filter", str(tmp_path / "shards"), "--out", f"{tmp_path}/shards/clean/", "--model", no_model])
    assert inside.exit_code == 2 and "inside the input directory" in inside.stderr
    over = runner.invoke(app, ["filter", str(tmp_path / "shards" / names[0]), "--out", f"{tmp_path}/shards/", "--model", no_model])
    assert over.exit_code == 2 and "is also an input" in over.stderr
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / names[0]).write_bytes((tmp_path / "shards" / names[0]).read_bytes())
    clash = runner.invoke(
        app, ["filter", str(tmp_path / "shards"), str(tmp_path / "other"), "--out", f"{tmp_path}/out/", "--model", no_model]
    )
    assert clash.exit_code == 2 and "would both be written as" in clash.stderr


def test_parquet_values_json_has_no_type_for_are_written_as_documented() -> None:
    timestamp = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC)
    assert json_value(b"\x00\xff") == "AP8="
    assert json_value(timestamp) == "2024-05-06T07:08:09+00:00"
    assert json_value(datetime.date(2024, 5, 6)) == "2024-05-06"
    assert json_value(datetime.timedelta(milliseconds=1500)) == 1.5
    assert json_value(decimal.Decimal("1.10")) == "1.10"
    assert json_value({"nested": [decimal.Decimal("2.50"), None, {"k": b"a"}]}) == {"nested": ["2.50", None, {"k": "YQ=="}]}
    table = pa.table({
        "text": ["a text"],
        "when": pa.array([timestamp], pa.timestamp("us", tz="UTC")),
        "tags": pa.array([[("a", 1)]], pa.map_(pa.string(), pa.int64())),
    })
    buffer = pa.BufferOutputStream()
    pq.write_table(table, buffer)
    reader = ParquetReader(pa.BufferReader(buffer.getvalue()), "t.parquet", "text")
    ((record, _, _),) = reader.records(0, 0, hashlib.sha256())
    assert record.fields == {"text": "a text", "when": "2024-05-06T07:08:09+00:00", "tags": {"a": 1}}
    assert json.loads(json.dumps(record.fields)) == record.fields
