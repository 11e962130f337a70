"""Spin scores as columns of a Hugging Face `datasets` dataset, through a batched `Dataset.map`.

    from spindetect.detector import Detector
    from spindetect.dataset_columns import SpinColumns

    scored = dataset.map(SpinColumns(Detector.load()), batched=True, batch_size=64)
    clean = scored.filter(lambda batch: [label == "clean" for label in batch["spin_label"]], batched=True)

The function only sees plain dicts of lists, so it does not import `datasets` itself. It pickles small (the
detector travels as where to load it from), so `map(..., num_proc=N)` loads the model once per worker, and
its fingerprint is stable across runs, so `datasets` can reuse its cache.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spindetect.detector import Detector

LABELS = {"keep": "clean", "reject": "spun", "error": None}


class SpinColumns:
    """Adds `spin_score` (float, null if not scored), `spin_label` ("spun", "clean" or null) and
    `spin_error` (why a row was not scored, else null) for the text in `text_field`."""

    def __init__(self, detector: Detector, text_field: str = "text", threshold: float | None = None) -> None:
        self.detector = detector
        self.text_field = text_field
        self.threshold = threshold

    def __call__(self, batch: Mapping[str, Sequence]) -> dict[str, list]:
        if self.text_field not in batch:
            raise KeyError(f"the dataset has no column {self.text_field!r}; columns: {', '.join(batch)}")
        records = ({self.text_field: text} for text in batch[self.text_field])
        decisions = list(self.detector.filter(records, threshold=self.threshold, text_field=self.text_field))
        return {
            "spin_score": [None if d.score is None else round(d.score, 4) for d in decisions],
            "spin_label": [LABELS[d.action] for d in decisions],
            "spin_error": [d.error for d in decisions],
        }
