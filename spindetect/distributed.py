"""Scoring a Ray Data dataset across a cluster: `map_batches` over a pool of actors, each loading the model once.

    import ray
    from spindetect.distributed import score_dataset

    ray.init()                                   # or ray.init(address="auto") on a cluster
    records = ray.data.read_json("s3://bucket/crawl/")
    scored = score_dataset(records, workers=8)
    scored.filter(lambda row: row["spin_label"] == "clean").write_json("s3://bucket/clean/")

Every row comes out with `spin_score` (NaN when not scored), `spin_label` ("spun", "clean", or None) and
`spin_error` (why a row was not scored, else None), computed exactly as `Detector.filter` does on one
machine. Ray Data does not keep row order unless `DataContext.get_current().execution_options.preserve_order`
is set; rows are never dropped or duplicated either way.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from spindetect.config import RuntimeConfig
from spindetect.dataset_columns import SpinColumns

if TYPE_CHECKING:
    import ray.data


class SpinScoringActor:
    """A Ray Data callable class: built once per actor (loading the detector), then called per batch."""

    def __init__(
        self,
        model_dir: Path | str | None = None,
        text_field: str = "text",
        threshold: float | None = None,
        runtime: RuntimeConfig | None = None,
    ) -> None:
        from spindetect.detector import Detector

        self.columns = SpinColumns(Detector.load(model_dir, runtime), text_field, threshold)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        added = self.columns({self.columns.text_field: list(batch[self.columns.text_field])})
        return {
            **batch,
            "spin_score": np.array([np.nan if score is None else score for score in added["spin_score"]], dtype=np.float64),
            "spin_label": np.array(added["spin_label"], dtype=object),
            "spin_error": np.array(added["spin_error"], dtype=object),
        }


def score_dataset(
    dataset: ray.data.Dataset,
    model_dir: Path | str | None = None,
    text_field: str = "text",
    threshold: float | None = None,
    workers: int = 2,
    batch_size: int = 64,
    runtime: RuntimeConfig | None = None,
) -> ray.data.Dataset:
    """`dataset` with the spin columns added, scored by up to `workers` actors (one CPU each).

    The pool starts with one actor and grows to `workers` as CPUs are free: a fixed pool of `workers`
    waits, with no error, until the cluster has that many CPUs, so `workers=8` on a 2-CPU laptop hung.
    """
    import ray.data

    if text_field not in dataset.columns():
        raise KeyError(f"the dataset has no column {text_field!r}; columns: {', '.join(dataset.columns())}")
    return dataset.map_batches(
        SpinScoringActor,
        fn_constructor_kwargs={"model_dir": model_dir, "text_field": text_field, "threshold": threshold, "runtime": runtime},
        compute=ray.data.ActorPoolStrategy(min_size=1, max_size=workers),
        batch_size=batch_size,
        batch_format="numpy",
        num_cpus=1,
    )
