"""Metrics by style and by source, cross-validated by source document, with their uncertainty.

A test split holds about 15% of the source documents, so a style with a few dozen test paragraphs (the
machine translations, the round trips) has a ROC-AUC known to +-0.05 or worse, and one good or bad document
moves it. Here the model's classifier is refitted `folds` times on the pooled train, valid and test splits,
each fold holding out whole source documents, so every paragraph gets a score from a classifier that never
saw its document; the metrics rest on all of them, each ROC-AUC with its standard error and each rate at the
threshold with its 95% Wilson interval.

Tortured phrases are left out of those metrics: pooled, a phrase of the held-out part of the list appears in the
training folds too, and the classifier would learn it. They get their own measure, `unlisted_tortured_metrics`:
each fold is fitted without the tortured paragraphs that garble a phrase the scored fold's paragraphs garble,
and scored with the lexicon's count hidden, so every tortured paragraph is judged as a phrase nobody has listed
or shown the classifier. It rests on every tortured paragraph, not the test split's few dozen.
"""

from __future__ import annotations

import re

import numpy as np
from sklearn.model_selection import GroupKFold

from spindetect.config import SpindetectConfig
from spindetect.metrics import auc_standard_error, binary_metrics, metrics_by_rate, metrics_by_style, wilson_interval
from spindetect.model import UnlistedCopies, as_unlisted, fit_fold, out_of_fold_scores

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
    unlisted_copies: UnlistedCopies | None = None,
) -> dict:
    """Out-of-fold metrics over the given rows, grouped by source document `groups` (see `metrics_of_scores`);
    each fold fitted as the model is, with its `unlisted_copies`."""
    scores = out_of_fold_scores(config, features, labels, groups, folds, unlisted_copies)
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


def unlisted_tortured_metrics(
    config: SpindetectConfig,
    features: np.ndarray,
    labels: np.ndarray,
    styles: np.ndarray,
    groups: np.ndarray,
    phrases: list[frozenset[str]],
    lexicon_column: int,
    threshold: float,
    folds: int,
    unlisted_copies: UnlistedCopies | None = None,
) -> dict | None:
    """Tortured paragraphs against the clean paragraphs of their documents, as tortured phrases nobody has listed.

    Cross-validated by source document `groups`, like `cross_validated_metrics`, with two differences: each
    fold is fitted without the tortured paragraphs sharing a phrase (`phrases`: a row's tortured forms and
    expected phrases, empty for other rows) with the scored fold's tortured paragraphs, and the scored rows
    have the lexicon's count (column `lexicon_column`) set to 0. Without the first, a phrase garbled in two
    documents is learned from one and found in the other: on the default model's data, a classifier fitted
    without the count measured 0.87 that way and 0.75 with its phrases kept out. Each fold is fitted as the
    model is, with the `unlisted_copies` of its own rows. None when there are no tortured paragraphs.
    """
    tortured = styles == "tortured"
    if not tortured.any():
        return None
    chosen = tortured | ((styles == "clean") & np.isin(groups, groups[tortured]))
    scores = np.full(len(labels), np.nan)
    for fit_rows, scored_rows in GroupKFold(n_splits=folds).split(features, labels, groups):
        scored_rows = scored_rows[chosen[scored_rows]]
        if not len(scored_rows):
            continue
        scored_phrases = frozenset().union(*(phrases[row] for row in scored_rows))
        fit_rows = np.array([row for row in fit_rows if not phrases[row] & scored_phrases], dtype=int)
        classifier = fit_fold(config, features, labels, fit_rows, folds, unlisted_copies)
        scores[scored_rows] = classifier.predict_proba(as_unlisted(features[scored_rows], lexicon_column))[:, 1]
    return _with_uncertainty(binary_metrics(labels[chosen], scores[chosen], threshold))
