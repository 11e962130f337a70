"""Output files that appear whole or not at all, with a checkpoint to resume an interrupted run.

Each output is written as `NAME.partial` and renamed into place when the run completes, so a crash or Ctrl-C
never leaves a half file under the real name. `checkpoint()` flushes the files to disk and records,
atomically, how many input records are fully written, where the input stood after them, and how long each
file was at that moment. An interrupted run leaves its partial files and the checkpoint; resuming cuts each
file back to the checkpoint (dropping lines written after it) and continues the input from the recorded
position, so no record is written twice or skipped.

An output whose name ends in `.gz`, `.bz2`, `.xz` or `.zst` is compressed, one member per checkpoint: the
size recorded is always a member boundary, and the members read back as one stream.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from spindetect.compression import Compressor, compression_for, new_compressor

PARTIAL_SUFFIX = ".partial"
CHECKPOINT_SUFFIX = ".checkpoint.json"


class OutputError(RuntimeError):
    """Outputs that cannot be opened, or a checkpoint that does not belong to this run."""


def json_line(value: object) -> bytes:
    """`value` as one line of UTF-8 JSON. A string holding a lone surrogate (which JSON input may carry as
    an escape, and UTF-8 cannot encode) makes the whole line ASCII with escapes, so the value is written as it
    was read instead of failing the run."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(value, ensure_ascii=True) + "\n").encode("ascii")


def partial_path(path: Path) -> Path:
    return path.with_name(path.name + PARTIAL_SUFFIX)


def checkpoint_path(path: Path) -> Path:
    return path.with_name(path.name + CHECKPOINT_SUFFIX)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class CheckpointedOutputs:
    """Named output files (`{"kept": Path, ...}`) written atomically, resumable from their checkpoint.

    The checkpoint sits beside the first output. `settings` describes the run (inputs, options); a
    checkpoint left by a run with other settings is refused rather than continued.
    """

    def __init__(self, paths: Mapping[str, Path], settings: dict, resume: bool) -> None:
        if not paths:
            raise ValueError("no output files to write")
        self.paths = dict(paths)
        self.settings = settings
        self.checkpoint_file = checkpoint_path(next(iter(self.paths.values())))
        self.records_done = 0
        self.counts: dict[str, int] = {}
        # Where the input stood after the last record written, as the caller gave it (None: at the start).
        self.position: dict | None = None
        self._handles: dict[str, BinaryIO] = {}
        self._compressions = {name: compression_for(path) for name, path in self.paths.items()}
        self._compressors: dict[str, Compressor] = {}
        if resume:
            self._open_resumed()
        else:
            self._open_fresh()

    def _open_fresh(self) -> None:
        if self.checkpoint_file.exists():
            raise OutputError(
                f"an interrupted run left {self.checkpoint_file}: add --resume to continue it, "
                "or delete it (and its .partial files) to start over"
            )
        for name, path in self.paths.items():
            try:
                self._handles[name] = open(partial_path(path), "wb")  # noqa: SIM115  (closed in finish/close)
            except OSError as error:
                self.close()
                raise OutputError(f"{path}: cannot write: {error.strerror or error}") from None
        # From the start, so a run interrupted before its first chunk can also be resumed.
        self.checkpoint(0, {}, None)

    def _open_resumed(self) -> None:
        try:
            state = json.loads(self.checkpoint_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise OutputError(f"nothing to resume: {self.checkpoint_file} does not exist") from None
        except (OSError, json.JSONDecodeError) as error:
            raise OutputError(f"{self.checkpoint_file}: unreadable checkpoint ({error}); delete it to start over") from None
        if state.get("settings") != self.settings:
            changed = sorted(
                key for key in {*self.settings, *state.get("settings", {})}
                if self.settings.get(key) != state.get("settings", {}).get(key)
            )
            raise OutputError(
                f"{self.checkpoint_file} was written by a run with other settings ({', '.join(changed)} differ); "
                "resume with the same command, or delete it to start over"
            )
        for name, path in self.paths.items():
            size = state["sizes"][name]
            try:
                handle = open(partial_path(path), "r+b")  # noqa: SIM115  (closed in finish/close)
            except OSError as error:
                self.close()
                raise OutputError(f"cannot resume: {partial_path(path)}: {error.strerror or error}") from None
            handle.truncate(size)
            handle.seek(size)
            self._handles[name] = handle
        self.records_done = state["records_done"]
        self.counts = dict(state["counts"])
        self.position = state.get("position")

    def write(self, name: str, line: dict) -> None:
        data = json_line(line)
        kind = self._compressions[name]
        if kind is not None:
            compressor = self._compressors.get(name)
            if compressor is None:
                compressor = self._compressors[name] = new_compressor(kind)
            data = compressor.compress(data)
        self._handles[name].write(data)

    def checkpoint(self, records_done: int, counts: Mapping[str, int], position: dict | None) -> None:
        """Everything written so far covers the first `records_done` input records, after which the input
        stood at `position`."""
        self._end_members()
        sizes = {}
        for name, handle in self._handles.items():
            handle.flush()
            os.fsync(handle.fileno())
            sizes[name] = handle.tell()
        self.records_done = records_done
        self.counts = dict(counts)
        self.position = position
        state = {
            "settings": self.settings,
            "records_done": records_done,
            "counts": self.counts,
            "position": position,
            "sizes": sizes,
        }
        _write_atomically(self.checkpoint_file, json.dumps(state, indent=2) + "\n")

    def _end_members(self) -> None:
        for name, compressor in self._compressors.items():
            self._handles[name].write(compressor.flush())
        self._compressors.clear()

    def finish(self) -> None:
        """Move every file into place and drop the checkpoint: the run is complete."""
        self._end_members()
        for name, handle in self._handles.items():
            kind = self._compressions[name]
            if kind is not None and handle.tell() == 0:
                handle.write(new_compressor(kind).flush())  # an empty member: `zcat` refuses a 0-byte .gz
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            os.replace(partial_path(self.paths[name]), self.paths[name])
        self._handles.clear()
        self.checkpoint_file.unlink(missing_ok=True)

    def close(self) -> None:
        """Close the files of an interrupted run, leaving them and the checkpoint for --resume."""
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()
