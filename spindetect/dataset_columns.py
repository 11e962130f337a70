"""Spin scores as columns of a Hugging Face `datasets` dataset, through a batched `Dataset.map`.

    from spindetect.detector import Detector
    from spindetect.dataset_columns import add_spin_columns

    scored = add_spin_columns(dataset, Detector.load(), text_field="text", num_proc=4)
    clean = scored.filter(lambda batch: [label == "clean" for label in batch["spin_label"]], batched=True)

`add_spin_columns` calls `map` with the two things it needs to be right: the types of the new columns (else
`datasets` takes a column's type from the first batch, and `spin_error`, all null in a first batch without
errors, could not hold the first error later) and the rows' indices (so an error names its row in the dataset).
To call `map` yourself, pass `SpinColumns(detector)` with `batched=True, with_indices=True,
features=spin_features(dataset.features)`.

`SpinColumns` pickles small (the detector travels as where to load it from), so with `num_proc=N` each worker
loads the model once, and its fingerprint is stable across runs, so `datasets` can reuse its cache. This module
imports `datasets` only to build `spin_features`.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from spindetect.filtering import FilterSettings, filter_records
from spindetect.inputs import check_record

if TYPE_CHECKING:
    import datasets

    from spindetect.detector import Detector

# The process that imported this module: scoring in any other one means it was forked from it.
_IMPORTED_IN = os.getpid()


class SpinColumns:
    """A function for a batched `Dataset.map`: adds `spin_score` (float, null if not scored), `spin_label`
    ("spun", "clean" or null) and `spin_error` (why a row was not scored, else null) for the text in
    `text_field`, as `Detector.filter` decides.

    Given the rows' indices (`map(..., with_indices=True)`) an error names its row in the dataset
    ("row 4711: field 'text' is empty"); without them it cannot, and says "this row".
    """

    def __init__(self, detector: Detector, text_field: str = "text", threshold: float | None = None) -> None:
        self.detector = detector
        self.text_field = text_field
        self.threshold = threshold

    def __call__(self, batch: Mapping[str, Sequence], indices: Sequence[int] | None = None) -> dict[str, list]:
        require_column(list(batch), self.text_field)
        _one_thread_if_forked(os.getpid())
        texts = batch[self.text_field]
        where = "this row" if indices is None else "row {}"
        numbers = range(len(texts)) if indices is None else indices
        # Every text goes in under `text_field`, so no record lacks the field.
        records = (
            check_record({self.text_field: text}, number, self.text_field, where.format(number))
            for number, text in zip(numbers, texts, strict=True)
        )
        settings = FilterSettings(
            self.text_field, self.threshold, max_chars=self.detector.runtime.max_document_chars, where=where
        )
        decisions = list(filter_records(self.detector, records, settings))
        return {
            "spin_score": [None if d.score is None else round(d.score, 4) for d in decisions],
            "spin_label": [d.label for d in decisions],
            "spin_error": [d.error for d in decisions],
        }


def spin_features(features: datasets.Features) -> datasets.Features:
    """A dataset's `features` with the types of the spin columns added, for `Dataset.map(features=...)`."""
    from datasets import Features, Value

    return Features(
        {**features, "spin_score": Value("float64"), "spin_label": Value("string"), "spin_error": Value("string")}
    )


def add_spin_columns(
    dataset: datasets.Dataset,
    detector: Detector,
    text_field: str = "text",
    threshold: float | None = None,
    batch_size: int = 64,
    num_proc: int | None = None,
    **map_options: Any,
) -> datasets.Dataset:
    """`dataset` with `spin_score`, `spin_label` and `spin_error` added to every row, in order (see `SpinColumns`).

    `num_proc=N` scores in N processes, each loading the model once and scoring on one thread. Other keyword
    arguments go to `Dataset.map` (`desc`, `cache_file_name`, `keep_in_memory`, ...).
    """
    require_column(dataset.column_names, text_field)
    removed = map_options.get("remove_columns") or []
    removed = [removed] if isinstance(removed, str) else removed
    kept = {name: feature for name, feature in dataset.features.items() if name not in removed}
    return dataset.map(
        SpinColumns(detector, text_field, threshold),
        batched=True,
        batch_size=batch_size,
        with_indices=True,
        num_proc=num_proc,
        features=spin_features(kept),
        **map_options,
    )


def require_column(columns: Collection[str], text_field: str) -> None:
    if text_field not in columns:
        raise KeyError(f"the dataset has no column {text_field!r}; columns: {', '.join(columns)}")


@functools.cache  # once per process: the pid is the key
def _one_thread_if_forked(pid: int) -> None:
    """In a process forked from the one that imported this module (`map(num_proc=N)` forks its workers), keep
    torch and scikit-learn to one thread.

    Their thread pools are GNU OpenMP's, and a child forked after its parent ran parallel work there waits
    forever for the parent's threads, which fork did not copy. One thread per worker is the fair share anyway.
    """
    if pid == _IMPORTED_IN:
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    torch = sys.modules.get("torch")
    if torch is not None:
        # torch keeps its own count and gives it to OpenMP on a thread's first parallel work: set it as well.
        torch.set_num_threads(1)
