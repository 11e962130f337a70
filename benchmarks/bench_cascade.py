"""Benchmark: cascade mode against full mode on the same labeled paragraphs, in one process.

    python benchmarks/bench_cascade.py DATASET [--split test] [--limit 400] [--model DIR]

DATASET is the `dataset/` directory a `spindetect train` run writes beside its model (the training data as
a `datasets` DatasetDict, one dataset per split). Both modes score the paragraphs of the split with the same loaded detector, each
twice in alternation (full, cascade, full, cascade) so that both see warm caches; the second timing of each
counts. Reports paragraphs/s of each and their ratio, the share of paragraphs the cascade sent to the
language model, and each mode's ROC-AUC with the difference.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from spindetect.detector import Detector
from spindetect.labeled import read_labeled


def read_split(path: Path, split: str, limit: int | None) -> tuple[list[str], np.ndarray]:
    labeled = read_labeled(path / split)
    texts, labels = labeled.texts, labeled.labels
    if limit is not None:
        # An even spread over the split, which lists each kind of text together.
        keep = np.linspace(0, len(texts) - 1, min(limit, len(texts))).round().astype(int)
        texts, labels = [texts[i] for i in keep], labels[keep]
    return texts, labels


def timed_scores(detector: Detector, texts: list[str]) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    results = detector.score(texts)
    return time.perf_counter() - started, np.array([result.score for result in results])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=400, help="paragraphs to score (default 400; 0 for all)")
    parser.add_argument("--model", type=Path, help="model directory (default: the shipped model)")
    args = parser.parse_args()
    texts, labels = read_split(args.dataset, args.split, args.limit or None)
    detector = Detector.load(args.model)
    band = detector.model.cascade_band
    if band is None:
        raise SystemExit("this model has no cascade: train it with cascade.enabled")

    timings, scores = {}, {}
    for mode in ("full", "cascade", "full", "cascade"):
        detector.use_cascade(mode == "cascade")
        timings[mode], scores[mode] = timed_scores(detector, texts)

    fast_columns = [detector.model.feature_names.index(name) for name in detector.model.fast.feature_names]
    fast_features = detector.extractor.score(texts)[:, fast_columns]
    share = float(band.uncertain(detector.model.fast.predict_proba(fast_features)).mean())
    print(f"{len(texts)} {args.split} paragraphs ({int(labels.sum())} spun); band [{band.low:.3f}, {band.high:.3f}]")
    for mode in ("full", "cascade"):
        auc = roc_auc_score(labels, scores[mode])
        print(f"{mode:<8} {len(texts) / timings[mode]:8.1f} paragraphs/s  ROC-AUC {auc:.4f}")
    print(f"cascade sent {share:.0%} of paragraphs to the language model")
    print(f"throughput ratio cascade/full: {timings['full'] / timings['cascade']:.2f}")
    print(f"ROC-AUC difference full - cascade: {roc_auc_score(labels, scores['full']) - roc_auc_score(labels, scores['cascade']):+.4f}")


if __name__ == "__main__":
    main()
