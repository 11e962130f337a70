"""Compressed files, read and written transparently: gzip, bzip2, xz and Zstandard.

Input is recognised by its first bytes, not its name, so `feed.jsonl` that is really gzip still reads (a
name can lie; magic numbers do not). Output is compressed when its name ends in `.gz`, `.bz2`, `.xz` or
`.zst`. Every format here allows several compressed members in one file, read back as one stream; an output
ends a member at each checkpoint, so a resumed run can cut the file back to a member boundary and go on.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from pathlib import Path
from typing import BinaryIO, Protocol

_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
}
_SUFFIXES = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bzip2", ".xz": "xz", ".zst": "zstd", ".zstd": "zstd"}


def sniff_compression(head: bytes) -> str | None:
    """The compression format whose magic number `head` starts with, or None for plain data."""
    for magic, name in _MAGIC.items():
        if head.startswith(magic):
            return name
    return None


def open_decompressed(raw: BinaryIO) -> BinaryIO:
    """A stream of `raw`'s decompressed bytes (`raw` itself when it is not compressed)."""
    buffered = raw if hasattr(raw, "peek") else io.BufferedReader(raw)  # type: ignore[arg-type]
    kind = sniff_compression(buffered.peek(8)[:8])
    if kind == "gzip":
        return gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[return-value]
    if kind == "bzip2":
        return bz2.BZ2File(buffered, mode="rb")  # type: ignore[return-value]
    if kind == "xz":
        return lzma.LZMAFile(buffered, mode="rb")  # type: ignore[return-value]
    if kind == "zstd":
        import zstandard

        reader = zstandard.ZstdDecompressor().stream_reader(buffered, read_across_frames=True, closefd=False)
        return io.BufferedReader(reader)  # type: ignore[arg-type]
    return buffered


class Compressor(Protocol):
    def compress(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes:
        """The rest of the current member; the compressor cannot be used after it."""
        ...


def compression_for(path: Path) -> str | None:
    """The format an output named `path` is written in (None: plain)."""
    return _SUFFIXES.get(path.suffix.lower())


def new_compressor(kind: str) -> Compressor:
    """A compressor for one member of a `kind` file."""
    if kind == "gzip":
        return zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: a gzip header and trailer
    if kind == "bzip2":
        return bz2.BZ2Compressor(9)
    if kind == "xz":
        return lzma.LZMACompressor(format=lzma.FORMAT_XZ)
    if kind == "zstd":
        import zstandard

        return zstandard.ZstdCompressor(level=3).compressobj()
    raise ValueError(f"unknown compression {kind!r}")

