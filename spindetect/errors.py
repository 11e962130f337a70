"""The errors a user can act on, in a module that imports nothing heavy.

The command line catches these around every load; defining them here lets it do so without importing torch
or scikit-learn first (which would make `spindetect --help` take seconds).
"""

from __future__ import annotations

from pathlib import Path


class ModelError(RuntimeError):
    """A model directory that cannot be used, with the reason."""


class LanguageModelUnavailable(RuntimeError):
    """The configured language model's package is not installed or its weights cannot be read."""


class ResourceUnavailable(RuntimeError):
    """A packaged lexical resource is missing; the message says which package to install."""


class DeviceUnavailable(RuntimeError):
    """A `runtime.device` this machine cannot run the language model on (no such GPU, or torch without CUDA)."""


def default_model_dir() -> Path:
    """The model shipped inside the package."""
    return Path(__file__).parent / "models" / "default"
