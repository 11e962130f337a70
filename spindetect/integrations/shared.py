"""One detector per worker process and settings, shared by the framework blocks that run there.

datatrove hands each task its own copy of the pipeline and dolma builds a new tagger for every shard a worker
opens; a detector held by the block would load the language model and the thesaurus again (seconds, and
hundreds of MB) for each task or shard. The cache lives as long as the worker process, which is the point.
"""

from __future__ import annotations

import functools
from pathlib import Path

from spindetect.config import RuntimeConfig
from spindetect.detector import Detector


@functools.cache
def process_detector(model_dir: Path | None, runtime: RuntimeConfig | None, cascade: bool) -> Detector:
    """The detector for these settings in this process, loaded on first use."""
    return Detector.load(model_dir, runtime, cascade=cascade)
