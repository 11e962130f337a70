"""Where spindetect keeps files it derives at run time (converted model weights, downloaded corpora)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def default_cache_dir() -> Path:
    """`$SPINDETECT_CACHE`, else `$XDG_CACHE_HOME/spindetect`, else `~/.cache/spindetect`."""
    explicit = os.environ.get("SPINDETECT_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "spindetect"


def build_directory_atomically(target: Path, build: Callable[[Path], None]) -> Path:
    """Build a directory next to `target` and rename it into place, so readers never see a half-built one.

    If another process finished the same directory first, its result is kept and ours discarded.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        build(staging)
        try:
            os.rename(staging, target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target
