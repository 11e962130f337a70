"""JSON Lines inputs read in order, compressed or not, knowing exactly how far they have been read.

`JsonlInputs` checks every path before anything heavy is loaded, reads the inputs one after another (gzip,
bzip2, xz and Zstandard recognised by their first bytes) and yields each record with the position after it:
which input, how many of its bytes and lines, and a SHA-256 of every byte read so far. A checkpoint stores
that position and each file's size. Resuming reads the inputs again up to the position and compares both,
so an input that changed under its name is refused instead of resumed into duplicated and skipped records.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from spindetect.compression import open_decompressed
from spindetect.inputs import InputError, JsonlRecord, parse_jsonl_line

STDIN = "-"
_EMPTY_DIGEST = hashlib.sha256().hexdigest()


class InputChanged(InputError):
    """An input that is not what an interrupted run read."""


@dataclass(frozen=True)
class ReadPosition:
    """Just after a whole line: `offset` bytes and `line_number` lines into input `input_index` (decompressed),
    with `digest` the SHA-256 of all bytes read before it, inputs in order."""

    input_index: int = 0
    offset: int = 0
    line_number: int = 0
    digest: str = _EMPTY_DIGEST

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> ReadPosition:
        return cls(int(data["input_index"]), int(data["offset"]), int(data["line_number"]), str(data["digest"]))


def _display_name(path: str) -> str:
    return "<stdin>" if path == STDIN else path


def _checked_size(path: str) -> int | None:
    """The file's size in bytes (None for standard input); InputError when it cannot be read."""
    if path == STDIN:
        return None
    file = Path(path)
    if file.is_dir():
        raise InputError(f"{path}: is a directory; give the files inside it")
    try:
        with file.open("rb"):
            pass
        return file.stat().st_size
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror or error}") from None


class JsonlInputs:
    """The records of `paths` in order ("-" is standard input), each with the `ReadPosition` after it."""

    def __init__(self, paths: list[str], text_field: str) -> None:
        if not paths:
            raise InputError("no input given")
        self.paths = list(paths)
        self.text_field = text_field
        self.sizes = [_checked_size(path) for path in self.paths]
        self._digest = hashlib.sha256()
        self._start = ReadPosition()
        self._resumed: tuple[BinaryIO, ExitStack] | None = None  # the input a resume stopped in, open
        self._raw: tuple[int, BinaryIO] | None = None  # the file being read (its index), before decompression

    def resume_at(self, position: ReadPosition, sizes: list[int | None]) -> None:
        """Start after `position`, once the inputs are shown to be the ones read up to it (`sizes`: the files'
        sizes then). Reads the inputs up to the position now; InputChanged if anything differs."""
        if len(sizes) != len(self.paths) or position.input_index >= len(self.paths):
            raise InputChanged(f"the interrupted run read {len(sizes)} input(s), this one names {len(self.paths)}")
        for path, then, now in zip(self.paths, sizes, self.sizes, strict=True):
            if then != now:
                raise InputChanged(f"{path} changed since the interrupted run ({then:,} bytes then, {now:,} now); start over")
        digest = hashlib.sha256()
        for index in range(position.input_index):
            with ExitStack() as stack:
                _read_lines(self._open(index, stack), None, digest)
        stack = ExitStack()
        stream = self._open(position.input_index, stack)
        read = _read_lines(stream, position.offset, digest)
        if read != position.offset or digest.hexdigest() != position.digest:
            stack.close()
            raise InputChanged(
                f"{_display_name(self.paths[position.input_index])}: its first {position.offset:,} bytes differ from "
                "what the interrupted run read; start over instead of resuming"
            )
        self._resumed = (stream, stack)
        self._digest = digest
        self._start = position

    def _open(self, index: int, stack: ExitStack) -> BinaryIO:
        path = self.paths[index]
        if path == STDIN:
            return open_decompressed(sys.stdin.buffer)
        try:
            raw = stack.enter_context(open(path, "rb"))  # noqa: SIM115  (closed by the stack)
        except OSError as error:
            raise InputError(f"{path}: cannot open: {error.strerror or error}") from None
        self._raw = (index, raw)
        return stack.enter_context(open_decompressed(raw))  # type: ignore[arg-type]

    def share_read(self) -> float | None:
        """About how much of the input has been read, from 0 to 1, counted in bytes as stored (compressed or
        not); None when standard input is one of the inputs."""
        if None in self.sizes or self._raw is None:
            return None
        index, raw = self._raw
        total = sum(self.sizes)  # type: ignore[arg-type]
        try:
            here = raw.tell() if not raw.closed else self.sizes[index]
        except (OSError, ValueError):
            return None
        return (sum(self.sizes[:index]) + here) / total if total else 1.0

    def __iter__(self) -> Iterator[tuple[JsonlRecord, ReadPosition]]:
        start = self._start
        for index in range(start.input_index, len(self.paths)):
            name = _display_name(self.paths[index])
            offset, line_number = (start.offset, start.line_number) if index == start.input_index else (0, 0)
            if index == start.input_index and self._resumed is not None:
                stream, stack = self._resumed
                self._resumed = None
            else:
                stack = ExitStack()
                stream = self._open(index, stack)
            with stack:
                while True:
                    try:
                        line = stream.readline()
                    except Exception as error:  # damaged or truncated compressed data, a failing disk
                        raise InputError(f"{name}: cannot read past line {line_number:,}: {error}") from None
                    if not line:
                        break
                    self._digest.update(line)
                    offset += len(line)
                    line_number += 1
                    if line.strip():  # blank lines are not records
                        position = ReadPosition(index, offset, line_number, self._digest.copy().hexdigest())
                        yield parse_jsonl_line(line, line_number, self.text_field, name), position


def _read_lines(stream: BinaryIO, wanted: int | None, digest) -> int:
    """Reads whole lines into `digest` until at least `wanted` bytes (None: to the end); the bytes read."""
    read = 0
    while wanted is None or read < wanted:
        line = stream.readline()
        if not line:
            break
        digest.update(line)
        read += len(line)
    return read
