"""Which files an input argument names: a file, a directory of shards, a glob, or any of these remote.

A directory means the shard files below it (`*.jsonl`, `*.ndjson`, `*.parquet`, and `*.jsonl`/`*.json`
compressed as `.gz`, `.bz2`, `.xz` or `.zst`), at any depth; names starting with `.` or `_` are passed over,
as Spark and Hugging Face datasets do (`_SUCCESS`, `.cache/`). A glob (`data/*.jsonl.gz`, `data/**/*.parquet`)
means every file it matches. Both expand sorted by name, so a run and its resume read the same files in the
same order; one that matches nothing is an error rather than an empty run.

A path with a protocol (`s3://`, `hf://`, `memory://`) goes through fsspec and the backend the user installed
for it (s3fs, huggingface_hub); a local path is opened directly, without fsspec in the way.

Each file keeps its name relative to the directory or glob it came from (`relative`), so that outputs can
mirror the input's layout.
"""

from __future__ import annotations

import glob
import os
import sys
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from spindetect.inputs import InputError

STDIN = "-"
_RECORD_SUFFIXES = (".jsonl", ".ndjson")
_COMPRESSED = (".gz", ".bz2", ".xz", ".zst")
SHARD_SUFFIXES = (
    *_RECORD_SUFFIXES,
    ".parquet",
    *(f"{base}{compressed}" for base in (*_RECORD_SUFFIXES, ".json") for compressed in _COMPRESSED),
)
_GLOB_CHARACTERS = frozenset("*?[")
# The backend fsspec needs for a protocol, for the error that says what to install.
_BACKENDS = {"s3": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs", "hf": "huggingface_hub"}


@dataclass(frozen=True)
class InputSource:
    """One file to read: `path` as opened (a local path, a URL with its protocol, or "-" for standard input)."""

    path: str
    relative: str  # its name below the directory or glob that named it; its own name when named alone
    size: int | None  # bytes as stored; None for standard input
    root: str | None = None  # the directory it was found in, when a directory argument named it

    @property
    def is_local(self) -> bool:
        """A file on this machine (not standard input, not a remote path)."""
        return self.path != STDIN and not _is_remote(self.path)

    @property
    def display_name(self) -> str:
        return "<stdin>" if self.path == STDIN else self.path

    def open(self, stack: ExitStack) -> BinaryIO:
        """The file's bytes as stored, closed with `stack`."""
        if self.path == STDIN:
            return sys.stdin.buffer
        try:
            if not _is_remote(self.path):
                return stack.enter_context(open(self.path, "rb"))  # closed by the stack
            import fsspec

            return stack.enter_context(fsspec.open(self.path, "rb"))
        except OSError as error:
            raise InputError(f"{self.path}: cannot open: {error.strerror or error}") from None


def expand_inputs(arguments: Iterable[str]) -> list[InputSource]:
    """The files the arguments name, in order: each argument's own files sorted by name."""
    sources: list[InputSource] = []
    for argument in arguments:
        if argument == STDIN:
            sources.append(InputSource(STDIN, "stdin.jsonl", None))
        elif _is_remote(argument):
            sources.extend(_remote_sources(argument))
        else:
            sources.extend(_local_sources(argument))
    if not sources:
        raise InputError("no input given")
    return sources


def describe_argument(argument: str) -> str:
    """The argument as a checkpoint records it: a local path made absolute, anything else as given."""
    if argument == STDIN or _is_remote(argument):
        return argument
    return str(Path(argument).resolve())


def _is_remote(path: str) -> bool:
    protocol, separator, _ = path.partition("://")
    return bool(separator) and protocol.isascii() and protocol.replace("+", "").replace("-", "").isalnum()


def _has_glob(path: str) -> bool:
    return not _GLOB_CHARACTERS.isdisjoint(path)


def is_shard_name(name: str) -> bool:
    lower = name.lower()
    return lower.endswith(SHARD_SUFFIXES)


def _hidden(relative: str) -> bool:
    return any(part.startswith((".", "_")) for part in PurePosixPath(relative).parts)


def _glob_base(pattern: str) -> str:
    """The directory part of `pattern` before its first wildcard."""
    parts = pattern.split("/")
    for index, part in enumerate(parts):
        if _has_glob(part):
            return "/".join(parts[:index]) or ("/" if pattern.startswith("/") else ".")
    return os.path.dirname(pattern) or "."


def _local_sources(argument: str) -> list[InputSource]:
    path = Path(argument)
    if path.is_dir():
        found = sorted(
            (file.relative_to(path).as_posix(), file)
            for file in path.rglob("*")
            if is_shard_name(file.name) and not _hidden(file.relative_to(path).as_posix()) and file.is_file()
        )
        if not found:
            raise InputError(f"{argument}: a directory with no shard files in it (looked for {', '.join(SHARD_SUFFIXES)})")
        return [InputSource(str(file), relative, _checked_size(str(file)), root=argument) for relative, file in found]
    if _has_glob(argument) and not path.exists():
        base = _glob_base(argument)
        matches = sorted(match for match in glob.glob(argument, recursive=True) if os.path.isfile(match))
        if not matches:
            raise InputError(f"{argument}: no files match")
        return [InputSource(match, Path(os.path.relpath(match, base)).as_posix(), _checked_size(match)) for match in matches]
    return [InputSource(argument, path.name, _checked_size(argument))]


def _checked_size(path: str) -> int:
    """The file's size in bytes; InputError when it cannot be read."""
    try:
        with open(path, "rb"):
            pass
        return os.stat(path).st_size
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror or error}") from None


def _remote_sources(argument: str) -> list[InputSource]:
    filesystem, path = _filesystem(argument)
    try:
        if _has_glob(path):
            base = _glob_base(path)
            found = {name: info for name, info in filesystem.glob(path, detail=True).items() if info.get("type") == "file"}
            if not found:
                raise InputError(f"{argument}: no files match")
        elif filesystem.isdir(path):
            base = path
            found = {
                name: info
                for name, info in filesystem.find(path, detail=True).items()
                if is_shard_name(name) and not _hidden(os.path.relpath(name, base))
            }
            if not found:
                raise InputError(f"{argument}: a directory with no shard files in it (looked for {', '.join(SHARD_SUFFIXES)})")
        else:
            base = os.path.dirname(path)
            found = {path: filesystem.info(path)}
    except FileNotFoundError:
        raise InputError(f"{argument}: no such file") from None
    except OSError as error:
        raise InputError(f"{argument}: cannot read: {error}") from None
    return [
        InputSource(filesystem.unstrip_protocol(name), Path(os.path.relpath(name, base)).as_posix(), info.get("size"))
        for name, info in sorted(found.items(), key=lambda item: os.path.relpath(item[0], base))
    ]


def _filesystem(argument: str):
    """The fsspec filesystem for `argument` and its path there; InputError naming what to install if missing."""
    protocol = argument.partition("://")[0]
    try:
        import fsspec
    except ImportError:
        raise InputError(f"{argument}: reading {protocol}:// paths needs fsspec: pip install fsspec") from None
    try:
        return fsspec.core.url_to_fs(argument)
    except ImportError as error:
        backend = _BACKENDS.get(protocol)
        needs = f"{backend}: pip install {backend}" if backend else "its fsspec backend installed"
        raise InputError(f"{argument}: reading {protocol}:// paths needs {needs} ({error})") from None
    except ValueError as error:
        raise InputError(f"{argument}: {error}") from None
