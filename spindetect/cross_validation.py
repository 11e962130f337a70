"""Metrics by style and by source, cross-validated by source document, with their uncertainty.

A test split holds about 15% of the source documents, so a style with a few dozen test paragraphs (the
machine translations, the round trips) has a ROC-AUC known to +-0.05 or worse, and one good or bad document
moves it. Here the model's classifier is refitted `folds` times on the pooled train, valid and test splits,
each fold holding out whole source documents, so every paragraph gets a score from a classifier that never
saw its document; the metrics rest on all of them, each ROC-AUC with its standard error and each rate at the
threshold with its 95% Wilson interval.

Tortured phrases are left to the test split's own measure (`test_tortured_unlisted`): pooled, a phrase of the
held-out part of the list appears in the training folds too, and the classifier would learn it.
"""

from __future__ import annotations

import re

import numpy as np

from spindetect.config import SpindetectConfig
from spindetect.metrics import auc_standard_error, binary_metrics, metrics_by_rate, metrics_by_style, wilson_interval
from spindetect.model import out_of_fold_scores

# Styles whose spun texts borrow phrases from a list with a held-out part (see the module docstring).
_TEST_ONLY_STYLES = ("tortured",)


def corpus_of(source_id: str) -> str:
    """The corpus a source document belongs to: its id up to the first "/" or ":" ("brown/ca01", "mlqe-et-en:group:3")."""
    return re.split(r"[/:]", source_id, maxsplit=1)[0]


def _with_uncertainty(metrics: dict) -> dict:
    """`binary_metrics` with the ROC-AUC's standard error and the flagged share's Wilson interval added."""
    result = dict(metrics)
    n_spun, n_clean = metrics["n_spun"], metrics["n"] - metrics["n_spun"]
    if "roc_auc" in metrics:
        result["roc_auc_se"] = round(auc_standard_error(metrics["roc_auc"], n_spun, n_clean), 4)
    if n_clean:
        flagged = round(metrics["false_positive_rate"] * n_clean)
        result["false_positive_rate_ci"] = [round(bound, 4) for bound in wilson_interval(flagged, n_clean)]
    return result


def cross_validated_metrics(
    config: SpindetectConfig,
    features: np.ndarray,
    labels: np.ndarray,
    styles: np.ndarray,
    rates: np.ndarray,
    groups: np.ndarray,
    threshold: float,
    clean_counterpart: dict[str, str],
    folds: int,
) -> dict:
    """Out-of-fold metrics over the given rows, grouped by source document `groups` (see `metrics_of_scores`)."""
    scores = out_of_fold_scores(config, features, labels, groups, folds)
    return {"folds": folds, **metrics_of_scores(scores, labels, styles, rates, groups, threshold, clean_counterpart)}


def metrics_of_scores(
    scores: np.ndarray,
    labels: np.ndarray,
    styles: np.ndarray,
    rates: np.ndarray,
    groups: np.ndarray,
    threshold: float,
    clean_counterpart: dict[str, str],
) -> dict:
    """Metrics of out-of-fold `scores`: overall, by style (each spun style against the clean texts it was made
    from), by corpus (see `corpus_of`) and by thesaurus spin rate, with their uncertainty. The threshold is
    the model's, chosen on its own validation split."""
    kept = ~np.isin(styles, _TEST_ONLY_STYLES)
    scores, labels, styles, rates, groups = scores[kept], labels[kept], styles[kept], rates[kept], groups[kept]
    corpora = np.array([corpus_of(group) for group in groups])
    by_corpus = {}
    for corpus in sorted(set(corpora.tolist())):
        of_corpus = corpora == corpus
        by_corpus[corpus] = _with_uncertainty(binary_metrics(labels[of_corpus], scores[of_corpus], threshold))
    thesaurus = np.isin(styles, ["clean", "thesaurus_spin"])
    return {
        "left_out_styles": list(_TEST_ONLY_STYLES),
        "overall": _with_uncertainty(binary_metrics(labels, scores, threshold)),
        "by_style": {
            style: _with_uncertainty(metrics)
            for style, metrics in metrics_by_style(labels, scores, styles, threshold, clean_counterpart).items()
        },
        "by_corpus": by_corpus,
        "by_rate": {
            rate: _with_uncertainty(metrics)
            for rate, metrics in metrics_by_rate(labels[thesaurus], scores[thesaurus], rates[thesaurus], threshold).items()
        },
    }
