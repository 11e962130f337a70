"""Evaluation metrics for spun-vs-clean scores."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, f1_score, precision_score, recall_score, roc_auc_score, roc_curve


def tpr_at_fpr(labels: np.ndarray, scores: np.ndarray, max_fpr: float) -> float:
    """The share of spun texts caught when at most `max_fpr` of clean texts are flagged."""
    fpr, tpr, _ = roc_curve(labels, scores)
    return float(tpr[np.flatnonzero(fpr <= max_fpr)[-1]])


def binary_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float | int]:
    labels = np.asarray(labels)
    scores = np.asarray(scores)
    predicted = scores >= threshold
    metrics: dict[str, float | int] = {"n": int(labels.size), "n_spun": int(labels.sum())}
    if 0 < labels.sum() < labels.size:
        metrics |= {
            "roc_auc": float(roc_auc_score(labels, scores)),
            "pr_auc": float(average_precision_score(labels, scores)),
            "tpr_at_1pct_fpr": tpr_at_fpr(labels, scores, 0.01),
            "tpr_at_5pct_fpr": tpr_at_fpr(labels, scores, 0.05),
        }
    metrics |= {
        "accuracy": float(np.mean(predicted == labels)),
        "precision": float(precision_score(labels, predicted, zero_division=0)),
        "recall": float(recall_score(labels, predicted, zero_division=0)),
        "f1": float(f1_score(labels, predicted, zero_division=0)),
        "false_positive_rate": float(np.mean(predicted[labels == 0])) if (labels == 0).any() else float("nan"),
    }
    return {key: round(value, 4) if isinstance(value, float) else value for key, value in metrics.items()}


def metrics_by_rate(labels: np.ndarray, scores: np.ndarray, rates: np.ndarray, threshold: float) -> dict[str, dict]:
    """Each spin rate's spun texts against all clean texts: light spin is the hard case. Spun texts without a
    rate (0: the user's own labeled texts) are left out."""
    clean = labels == 0
    by_rate = {}
    for rate in sorted(set(rates[(labels == 1) & (rates > 0)].tolist())):
        chosen = clean | ((labels == 1) & (rates == rate))
        by_rate[f"{rate:g}"] = binary_metrics(labels[chosen], scores[chosen], threshold)
    return by_rate


def metrics_by_style(
    labels: np.ndarray, scores: np.ndarray, styles: np.ndarray, threshold: float, clean_counterpart: dict[str, str]
) -> dict[str, dict]:
    """Each spun style against the clean texts it was made from (the style `clean_counterpart` names, else
    "clean"); each clean style on its own, where only the share the threshold flags means anything."""
    by_style = {}
    for style in sorted(set(styles.tolist())):
        of_style = styles == style
        if labels[of_style].all():
            chosen = of_style | (styles == clean_counterpart.get(style, "clean"))
        else:
            chosen = of_style
        by_style[style] = binary_metrics(labels[chosen], scores[chosen], threshold)
    return by_style
