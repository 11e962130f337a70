"""Synthetic training data: clean source paragraphs and machine-spun versions of them."""

from spindetect.synth.brown import (
    SourceParagraph,
    detokenize,
    load_brown_paragraphs,
    locate_brown,
)
from spindetect.synth.spinner import SpinResult, ThesaurusSpinner

__all__ = [
    "SourceParagraph",
    "SpinResult",
    "ThesaurusSpinner",
    "detokenize",
    "load_brown_paragraphs",
    "locate_brown",
]
