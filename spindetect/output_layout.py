"""Where an output goes: one file for every record, or a directory with one file per input shard.

An output named as a directory (one that exists, or a name ending in `/`) mirrors the input: each input file
gets the file of the same relative name below it (`data/en/part-0.jsonl.gz` read from `data/` is written to
`OUT/en/part-0.jsonl.gz`), compressed as its name says, as any output is. A Parquet shard's records are
written as JSON Lines, named `.jsonl` in place of `.parquet`: records here are JSON objects with fields added
per record, which is what JSON Lines holds without a schema to agree on first.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from spindetect.input_sources import InputSource


class LayoutError(ValueError):
    """Outputs that cannot be laid out as asked; the message says why."""


@dataclass(frozen=True)
class OutputTarget:
    """One kind of output (kept, rejected, errors): the file `path`, or with `shard_names` the directory
    `path` holding one file per input shard, under those relative names."""

    path: Path
    shard_names: tuple[str, ...] | None = None

    @property
    def is_directory(self) -> bool:
        return self.shard_names is not None

    def file_for(self, shard: int) -> Path:
        """The file the records of input shard `shard` go to."""
        return self.path if self.shard_names is None else self.path / self.shard_names[shard]

    def files(self) -> list[Path]:
        return [self.path] if self.shard_names is None else [self.path / name for name in self.shard_names]

    def describe(self) -> str:
        """As a checkpoint records it: the absolute path, with a final `/` for a directory."""
        return str(self.path.resolve()) + ("/" if self.is_directory else "")


def mirrored_name(relative: str) -> str:
    """The output name of an input shard: the same, but JSON Lines in place of Parquet."""
    path = PurePosixPath(relative)
    return str(path.with_suffix(".jsonl")) if path.suffix.lower() == ".parquet" else relative


def output_target(name: str, sources: Sequence[InputSource]) -> OutputTarget:
    """The output `name` names, for records read from `sources`; LayoutError if it cannot mirror them."""
    path = Path(name)
    if not (name.endswith(("/", os.sep)) or path.is_dir()):
        return OutputTarget(path)
    names = tuple(mirrored_name(source.relative) for source in sources)
    seen: dict[str, InputSource] = {}
    for shard, source in zip(names, sources, strict=True):
        if shard in seen:
            raise LayoutError(
                f"{seen[shard].display_name} and {source.display_name} would both be written as {path / shard}; "
                "give them from one directory or glob, so that their names below it differ"
            )
        seen[shard] = source
    return OutputTarget(path, names)


def check_apart_from_inputs(targets: Sequence[OutputTarget], sources: Sequence[InputSource]) -> None:
    """LayoutError if an output would overwrite an input file, or lie in a directory read as input (whose
    next run would read it as input)."""
    inputs = {Path(source.path).resolve() for source in sources if source.is_local}
    roots = {Path(source.root).resolve() for source in sources if source.is_local and source.root is not None}
    for target in targets:
        for file in target.files():
            if file.resolve() in inputs:
                raise LayoutError(f"{file} is also an input: writing it would destroy what is being read")
        if target.is_directory:
            place = target.path.resolve()
            for root in roots:
                if place == root or root in place.parents:
                    raise LayoutError(f"{target.path} is inside the input directory {root}: its files would be read as input next time")
