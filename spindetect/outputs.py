"""Output files that appear whole or not at all, with a checkpoint to resume an interrupted run.

Each output is written as `NAME.partial` and renamed into place when the run completes, so a crash or Ctrl-C
never leaves a half file under the real name. `checkpoint()` flushes the files to disk and records,
atomically, how many input records are fully written, where the input stood after them, and how long each
file was at that moment. An interrupted run leaves its partial files and the checkpoint; resuming cuts each
file back to the checkpoint (dropping lines written after it) and continues the input from the recorded
position, so no record is written twice or skipped.

An output whose name ends in `.gz`, `.bz2`, `.xz` or `.zst` is compressed, one member per checkpoint: the
size recorded is always a member boundary, and the members read back as one stream.

An output directory (`OutputTarget` with shard names) holds one file per input shard. Only the current shard's
file is open; `select_shard` closes it whole and opens the next (files of shards without records are written
empty, so every shard has its file). The checkpoint records which shard is current: the files of earlier
shards are complete, later ones not begun. All of them take their names together when the run completes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO

from spindetect.compression import Compressor, compression_for, new_compressor
from spindetect.output_layout import OutputTarget

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
    """Named outputs (`{"kept": Path or OutputTarget, ...}`) written atomically, resumable from their checkpoint.

    The checkpoint sits beside the first output. `settings` describes the run (inputs, options); a
    checkpoint left by a run with other settings is refused rather than continued. On resume, `check_input`
    gets the checkpoint's input position before any file is touched, to refuse inputs that changed (a
    directory that now holds other shards would otherwise meet other output files first).
    """

    def __init__(
        self,
        paths: Mapping[str, Path | OutputTarget],
        settings: dict,
        resume: bool,
        check_input: Callable[[dict | None], None] | None = None,
    ) -> None:
        if not paths:
            raise ValueError("no output files to write")
        self.targets = {name: path if isinstance(path, OutputTarget) else OutputTarget(path) for name, path in paths.items()}
        self.paths = {name: target.path for name, target in self.targets.items()}
        self.settings = settings
        self.checkpoint_file = checkpoint_path(next(iter(self.paths.values())))
        self.records_done = 0
        self.counts: dict[str, int] = {}
        # Where the input stood after the last record written, as the caller gave it (None: at the start).
        self.position: dict | None = None
        self.shard = 0  # the input shard whose files are open, for outputs that are directories
        self._handles: dict[str, BinaryIO] = {}
        self._compressions: dict[str, str | None] = {}
        self._compressors: dict[str, Compressor] = {}
        if resume:
            self._open_resumed(check_input)
        else:
            self._open_fresh()

    def _open(self, name: str, mode: str) -> None:
        path = self.targets[name].file_for(self.shard)
        try:
            if self.targets[name].is_directory:
                path.parent.mkdir(parents=True, exist_ok=True)
            self._handles[name] = open(partial_path(path), mode)  # noqa: SIM115  (closed in finish/close)
        except OSError as error:
            self.close()
            if mode == "r+b":
                raise OutputError(f"cannot resume: {partial_path(path)}: {error.strerror or error}") from None
            raise OutputError(f"{path}: cannot write: {error.strerror or error}") from None
        self._compressions[name] = compression_for(path)

    def _open_fresh(self) -> None:
        if self.checkpoint_file.exists():
            raise OutputError(
                f"an interrupted run left {self.checkpoint_file}: add --resume to continue it, "
                "or delete it (and its .partial files) to start over"
            )
        for name in self.targets:
            self._open(name, "wb")
        # From the start, so a run interrupted before its first chunk can also be resumed.
        self.checkpoint(0, {}, None)

    def _open_resumed(self, check_input: Callable[[dict | None], None] | None) -> None:
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
        if check_input is not None:
            check_input(state.get("position"))
        self.shard = int(state.get("shard", 0))
        for name, target in self.targets.items():
            done = target.files()[: self.shard] if target.is_directory else []
            missing = [file for file in done if not partial_path(file).exists()]
            if missing:
                raise OutputError(f"cannot resume: {partial_path(missing[0])} is missing; delete {self.checkpoint_file} to start over")
            self._open(name, "r+b")
            size = state["sizes"][name]
            self._handles[name].truncate(size)
            self._handles[name].seek(size)
        self.records_done = state["records_done"]
        self.counts = dict(state["counts"])
        self.position = state.get("position")

    def select_shard(self, shard: int) -> None:
        """Records from here on come from input shard `shard` (at or after the current one): directory outputs
        close the current shard's files whole and go on in that shard's, writing any shard between empty."""
        directories = [name for name, target in self.targets.items() if target.is_directory]
        while self.shard < shard:
            for name in directories:
                self._close_file(name)
            self.shard += 1
            for name in directories:
                self._open(name, "wb")

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
        sizes = {}
        for name, handle in self._handles.items():
            self._end_member(name)
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
            "shard": self.shard,
            "sizes": sizes,
        }
        _write_atomically(self.checkpoint_file, json.dumps(state, indent=2) + "\n")

    def _end_member(self, name: str) -> None:
        compressor = self._compressors.pop(name, None)
        if compressor is not None:
            self._handles[name].write(compressor.flush())

    def _close_file(self, name: str) -> None:
        """Ends the current file of output `name`, whole, on disk."""
        self._end_member(name)
        handle = self._handles.pop(name)
        kind = self._compressions[name]
        if kind is not None and handle.tell() == 0:
            handle.write(new_compressor(kind).flush())  # an empty member: `zcat` refuses a 0-byte .gz
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()

    def finish(self) -> None:
        """Move every file into place and drop the checkpoint: the run is complete."""
        shards = max((len(target.files()) for target in self.targets.values() if target.is_directory), default=1)
        self.select_shard(shards - 1)  # the shards after the last record's get their (empty) files
        for name in list(self._handles):
            self._close_file(name)
        for target in self.targets.values():
            for file in target.files():
                os.replace(partial_path(file), file)
        self.checkpoint_file.unlink(missing_ok=True)

    def close(self) -> None:
        """Close the files of an interrupted run, leaving them and the checkpoint for --resume."""
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()
