"""Record inputs read in order, knowing exactly how far they have been read: JSON Lines (plain, or compressed
with gzip, bzip2, xz or Zstandard, recognised by their first bytes) and Parquet (recognised by its own).

`JsonlInputs` expands its arguments (files, directories of shards, globs, remote paths: see
`spindetect.input_sources`), checks every file before anything heavy is loaded, reads the files one after
another and yields each record with the position after it: which file, how far into it (bytes of a JSON Lines
file, decompressed; rows of a Parquet file), and a SHA-256 of everything read so far (the bytes of JSON Lines,
each row's JSON line for Parquet). A checkpoint stores that position, the files read and their sizes.
Resuming reads the files again up to the position and compares all three, so an input that changed under its
name, or a directory or glob that now names other files, is refused instead of resumed into duplicated and
skipped records.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from typing import BinaryIO, Protocol

from spindetect.compression import open_decompressed
from spindetect.input_sources import STDIN, InputSource, expand_inputs
from spindetect.inputs import InputError, JsonlRecord, parse_jsonl_line
from spindetect.parquet_inputs import PARQUET_MAGIC, ParquetReader

_EMPTY_DIGEST = hashlib.sha256().hexdigest()


class InputChanged(InputError):
    """An input that is not what an interrupted run read."""


@dataclass(frozen=True)
class ReadPosition:
    """Just after a whole record: `offset` bytes (JSON Lines, decompressed) or rows (Parquet) and `line_number`
    lines or rows into input `input_index`, with `digest` the SHA-256 of all read before it, inputs in order."""

    input_index: int = 0
    offset: int = 0
    line_number: int = 0
    digest: str = _EMPTY_DIGEST

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> ReadPosition:
        return cls(int(data["input_index"]), int(data["offset"]), int(data["line_number"]), str(data["digest"]))


class RecordReader(Protocol):
    """One open input file, read from where it stands."""

    def skip(self, wanted: int | None, digest) -> int:
        """Reads up to `wanted` units (bytes or rows; None: to the end) into `digest`; the units read."""
        ...

    def records(self, offset: int, line_number: int, digest) -> Iterator[tuple[JsonlRecord, int, int]]:
        """Each record left, with the offset and line number after it."""
        ...

    def share_read(self) -> float | None:
        """How much of the file has been read, from 0 to 1."""
        ...


class JsonlInputs:
    """The records of the files `arguments` name, in order ("-" is standard input), each with the
    `ReadPosition` after it. Parquet files among them are read as rows (`spindetect.parquet_inputs`)."""

    def __init__(self, arguments: list[str], text_field: str) -> None:
        self.sources: list[InputSource] = expand_inputs(arguments)
        self.paths = [source.path for source in self.sources]
        self.text_field = text_field
        self.sizes = [source.size for source in self.sources]
        self._digest = hashlib.sha256()
        self._start = ReadPosition()
        self._resumed: tuple[RecordReader, ExitStack] | None = None  # the input a resume stopped in, open
        self._current: tuple[int, RecordReader] | None = None  # the file being read, for share_read

    def resume_at(self, position: ReadPosition, sizes: list[int | None], files: list[str] | None = None) -> None:
        """Start after `position`, once the inputs are shown to be the ones read up to it (`files` and `sizes`:
        the files then, and their sizes; a checkpoint older than directory inputs has no `files`). Reads the
        inputs up to the position now; InputChanged if anything differs."""
        if files is not None and files != self.paths:
            added = [path for path in self.paths if path not in files]
            gone = [path for path in files if path not in self.paths]
            difference = "; ".join(
                part for part in (_listed("now also", added), _listed("no longer", gone)) if part
            ) or "the same files in another order"
            raise InputChanged(f"the inputs name other files than the interrupted run read ({difference}); start over")
        if len(sizes) != len(self.paths) or position.input_index >= len(self.paths):
            raise InputChanged(f"the interrupted run read {len(sizes)} input(s), this one names {len(self.paths)}")
        for path, then, now in zip(self.paths, sizes, self.sizes, strict=True):
            if then != now:
                raise InputChanged(f"{path} changed since the interrupted run ({then:,} bytes then, {now:,} now); start over")
        digest = hashlib.sha256()
        for index in range(position.input_index):
            with ExitStack() as stack:
                self._open(index, stack).skip(None, digest)
        stack = ExitStack()
        reader = self._open(position.input_index, stack)
        read = reader.skip(position.offset, digest)
        if read != position.offset or digest.hexdigest() != position.digest:
            stack.close()
            unit = "rows" if isinstance(reader, ParquetReader) else "bytes"
            raise InputChanged(
                f"{self.sources[position.input_index].display_name}: its first {position.offset:,} {unit} differ "
                "from what the interrupted run read; start over instead of resuming"
            )
        self._resumed = (reader, stack)
        self._digest = digest
        self._start = position

    def _open(self, index: int, stack: ExitStack) -> RecordReader:
        """A reader of input `index`, by what its first bytes hold: Parquet, or JSON Lines compressed or not."""
        source = self.sources[index]
        name = source.display_name
        raw = source.open(stack)
        if source.path == STDIN:
            stream = open_decompressed(raw)
            if stream.peek(len(PARQUET_MAGIC)).startswith(PARQUET_MAGIC):  # type: ignore[attr-defined]
                raise InputError("<stdin>: holds Parquet, which is read from a file only; give its path")
            reader: RecordReader = _JsonlReader(None, stream, name, self.text_field, None)
        else:
            try:
                head = raw.read(len(PARQUET_MAGIC))
                raw.seek(0)
            except OSError as error:
                raise InputError(f"{name}: cannot read: {error.strerror or error}") from None
            if head == PARQUET_MAGIC:
                reader = ParquetReader(raw, name, self.text_field)
            else:
                stream = stack.enter_context(open_decompressed(raw))  # type: ignore[arg-type]
                reader = _JsonlReader(raw, stream, name, self.text_field, source.size)
        self._current = (index, reader)
        return reader

    def share_read(self) -> float | None:
        """About how much of the input has been read, from 0 to 1, counted in bytes as stored (compressed or
        not); None when standard input is one of the inputs, or a remote file's size is unknown."""
        if None in self.sizes or self._current is None:
            return None
        index, reader = self._current
        here = reader.share_read()
        if here is None:
            return None
        total = sum(self.sizes)  # type: ignore[arg-type]
        return (sum(self.sizes[:index]) + here * self.sizes[index]) / total if total else 1.0  # type: ignore[arg-type, operator]

    def __iter__(self) -> Iterator[tuple[JsonlRecord, ReadPosition]]:
        start = self._start
        for index in range(start.input_index, len(self.sources)):
            begin = (start.offset, start.line_number) if index == start.input_index else (0, 0)
            if index == start.input_index and self._resumed is not None:
                reader, stack = self._resumed
                self._resumed = None
            else:
                stack = ExitStack()
                reader = self._open(index, stack)
            with stack:
                for record, offset, line_number in reader.records(*begin, self._digest):
                    yield record, ReadPosition(index, offset, line_number, self._digest.copy().hexdigest())


def _listed(what: str, paths: list[str]) -> str:
    if not paths:
        return ""
    shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3:,} more" if len(paths) > 3 else "")
    return f"{what} {shown}"


class _JsonlReader:
    """The lines of one JSON Lines file (decompressed), each non-blank line a record."""

    def __init__(self, raw: BinaryIO | None, stream: BinaryIO, name: str, text_field: str, size: int | None) -> None:
        self._raw = raw  # the file as stored, whose position tells how much is read
        self._stream = stream
        self._name = name
        self._text_field = text_field
        self._size = size

    def skip(self, wanted: int | None, digest) -> int:
        """Reads whole lines into `digest` until at least `wanted` bytes (None: to the end); the bytes read."""
        read = 0
        while wanted is None or read < wanted:
            line = self._stream.readline()
            if not line:
                break
            digest.update(line)
            read += len(line)
        return read

    def records(self, offset: int, line_number: int, digest) -> Iterator[tuple[JsonlRecord, int, int]]:
        while True:
            try:
                line = self._stream.readline()
            except Exception as error:  # noqa: BLE001  damaged or truncated compressed data, a failing disk
                raise InputError(f"{self._name}: cannot read past line {line_number:,}: {error}") from None
            if not line:
                return
            digest.update(line)
            offset += len(line)
            line_number += 1
            if line.strip():  # blank lines are not records
                yield parse_jsonl_line(line, line_number, self._text_field, self._name), offset, line_number

    def share_read(self) -> float | None:
        if self._raw is None or not self._size:
            return None if self._raw is None else 1.0
        try:
            return (self._raw.tell() if not self._raw.closed else self._size) / self._size
        except (OSError, ValueError):
            return None
