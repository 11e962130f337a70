"""Cross-validated metrics by spin rate, style and corpus: the same classifier, judged on every source document once.

    python training/cv_by_rate.py MODEL_DIR [--folds 5] [--json PATH]

A model's test split holds about 15% of its source documents, so each spin rate's ROC-AUC rests on a few
hundred paragraphs and is known to about +-0.01: too little to tell 0.965 from 0.97. This pools the train,
valid and test splits of the dataset `spindetect train` wrote to `MODEL_DIR/dataset` (not the rate sweep,
whose extra twins exist for test documents only), refits the model's classifier (`build_classifier` with the
model's own config) on all folds but one, grouped by source document, and scores the left-out fold. Every
paragraph then has a score from a classifier that never saw its document, and the metrics rest on all of them.

Features come from the on-disk feature cache when the model was trained on this machine (`spindetect train`
fills it); otherwise they are computed, which takes as long as training's feature extraction.

Prints Markdown tables on stdout: the thesaurus-spun paragraphs of each rate against all clean corpus
paragraphs, overall and per corpus (the part of the source id before "/"), each ROC-AUC with its standard
error (Hanley and McNeil 1982, which treats paragraphs as independent; twins share their source, so read it
as a lower bound). Then the same out-of-fold scores by style (each spun style against the clean texts it was
made from; a clean style's flagged share at the model's threshold, with its 95% Wilson interval) and by corpus,
as `spindetect train` reports them in the model card (`spindetect.cross_validation`). `--json PATH` also writes
the numbers.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from datasets import load_from_disk
from sklearn.metrics import roc_auc_score

from spindetect.cache import default_cache_dir
from spindetect.cross_validation import corpus_of, metrics_of_scores
from spindetect.model_card import cross_validated_section
from spindetect.features.cache import FeatureCache
from spindetect.features.extractor import build_extractor
from spindetect.features.resources import NGramReference
from spindetect.metrics import auc_standard_error, metrics_by_rate
from spindetect.model import TrainedModel, out_of_fold_scores
from spindetect.synth.dataset import CLEAN_COUNTERPART
from spindetect.train import DATASET_DIR, LABELED_COUNTERPART

POOLED_SPLITS = ("train", "valid", "test")
SPUN_STYLE = "thesaurus_spin"
CLEAN_STYLE = "clean"


def by_rate(
    scores: np.ndarray, labels: np.ndarray, styles: np.ndarray, rates: np.ndarray, chosen: np.ndarray
) -> dict[str, dict]:
    """Among the `chosen` rows: each rate's thesaurus-spun paragraphs against the clean corpus paragraphs, as
    `spindetect train` compares them (`metrics_by_rate`), with the ROC-AUC's standard error."""
    compared = chosen & np.isin(styles, [CLEAN_STYLE, SPUN_STYLE])
    # Out-of-fold scores have no threshold of their own; only the threshold-free ROC-AUC is kept.
    by_rate_metrics = metrics_by_rate(labels[compared], scores[compared], rates[compared], threshold=0.5)
    results = {}
    for rate, metrics in by_rate_metrics.items():
        if "roc_auc" not in metrics:  # no clean paragraph to compare with
            continue
        spun, clean = metrics["n_spun"], metrics["n"] - metrics["n_spun"]
        standard_error = auc_standard_error(metrics["roc_auc"], spun, clean)
        results[rate] = {"roc_auc": metrics["roc_auc"], "standard_error": round(standard_error, 4), "spun": spun, "clean": clean}
    return results


def markdown(title: str, results: dict[str, dict]) -> str:
    lines = [f"### {title}", "", "| rate | spun | clean | ROC-AUC |", "|---|---|---|---|"]
    for rate, result in results.items():
        lines.append(f"| {rate} | {result['spun']} | {result['clean']} | {result['roc_auc']:.3f} ± {result['standard_error']:.3f} |")
    return "\n".join(lines) + "\n"


def cross_validate(model_dir: Path, folds: int = 5, cache_dir: Path | None = None) -> dict:
    """Out-of-fold metrics of the model's classifier on its own dataset: ROC-AUC over all pooled paragraphs,
    by rate, and by corpus and rate (a corpus without thesaurus-spun twins has an empty table)."""
    model = TrainedModel.load(model_dir)
    dataset = load_from_disk(str(model_dir / DATASET_DIR))
    rows = [row for split in POOLED_SPLITS if split in dataset for row in dataset[split].to_list()]
    labels = np.array([row["label"] for row in rows])
    styles = np.array([row["style"] for row in rows])
    rates = np.array([row["rate"] for row in rows], dtype=float)
    groups = np.array([row["source_id"] for row in rows])
    corpora = np.array([corpus_of(source_id) for source_id in groups])

    cache_dir = cache_dir or default_cache_dir()
    extractor = build_extractor(model.config, NGramReference.load(), cache_dir)
    if extractor.feature_names != model.feature_names:
        raise ValueError(f"this code's features differ from the model's: retrain {model_dir} first")
    with FeatureCache(cache_dir / "features.sqlite") as cache:
        features = extractor.score([row["text"] for row in rows], cache=cache)
    scores = out_of_fold_scores(model.config, features, labels, groups, folds)
    everything = np.ones(len(rows), dtype=bool)
    return {
        "folds": folds,
        "n": len(rows),
        "roc_auc": round(float(roc_auc_score(labels, scores)), 4),
        "by_style_and_corpus": metrics_of_scores(
            scores, labels, styles, rates, groups, model.threshold, CLEAN_COUNTERPART | LABELED_COUNTERPART
        ),
        "by_rate": by_rate(scores, labels, styles, rates, everything),
        "by_corpus_and_rate": {
            corpus: by_rate(scores, labels, styles, rates, corpora == corpus) for corpus in sorted(set(corpora))
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path, help="a directory `spindetect train` wrote (with dataset/)")
    parser.add_argument("--folds", type=int, default=5, help="folds, grouped by source document (default 5)")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    if args.folds < 2:
        parser.error("--folds must be at least 2")
    if not (args.model_dir / DATASET_DIR).is_dir():
        parser.error(f"{args.model_dir / DATASET_DIR} does not exist: pass a directory that `spindetect train` wrote")
    results = cross_validate(args.model_dir, args.folds)
    print(
        f"{args.folds}-fold cross-validation by source document over {results['n']} paragraphs "
        f"({', '.join(POOLED_SPLITS)}): ROC-AUC {results['roc_auc']:.3f}\n"
    )
    print(markdown("All corpora", results["by_rate"]))
    for corpus, table in results["by_corpus_and_rate"].items():
        if table:  # a corpus without thesaurus-spun twins (the translations) has no rates
            print(markdown(corpus, table))
    print("\n".join(cross_validated_section({"folds": results["folds"], **results["by_style_and_corpus"]})))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
