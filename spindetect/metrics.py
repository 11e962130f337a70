"""Evaluation metrics for spun-vs-clean scores."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import average_precision_score, f1_score, precision_score, recall_score, roc_auc_score, roc_curve


# The normal quantile of a two-sided 95% interval.
Z_95 = 1.959963984540054
# The rates at the threshold that `rate_intervals` gives an interval for, with the counts they are shares of.
INTERVAL_RATES = ("precision", "recall", "false_positive_rate")


def wilson_interval(successes: float, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval (95% by default) of the proportion `successes / n`. Unlike the normal
    approximation it stays within [0, 1] and has a width at 0 or n successes, the usual case of a false-positive
    rate on few clean texts: 0 of 6 flagged gives (0, 0.39). (nan, nan) for n = 0."""
    if n <= 0:
        return math.nan, math.nan
    share = successes / n
    spread = z * z / n
    centre = (share + spread / 2) / (1 + spread)
    half_width = z * math.sqrt(share * (1 - share) / n + spread / (4 * n)) / (1 + spread)
    return max(0.0, centre - half_width), min(1.0, centre + half_width)


def rate_intervals(metrics: dict) -> dict[str, list[float]]:
    """95% Wilson intervals of the rates at the threshold in a `binary_metrics` result, keyed `precision_ci`,
    `recall_ci` and `false_positive_rate_ci`; a rate of no texts (no spun, no clean, none flagged) gets none.
    The counts are recovered from the rates, rounded to 4 places: exact below 10,000 texts."""
    n_spun = metrics["n_spun"]
    n_clean = metrics["n"] - n_spun
    caught = round(metrics["recall"] * n_spun)
    flagged_clean = round(metrics["false_positive_rate"] * n_clean) if n_clean else 0
    counts = {"precision": (caught, caught + flagged_clean), "recall": (caught, n_spun), "false_positive_rate": (flagged_clean, n_clean)}
    return {
        f"{rate}_ci": [round(bound, 4) for bound in wilson_interval(*counts[rate])]
        for rate in INTERVAL_RATES
        if counts[rate][1] > 0
    }


def auc_standard_error(auc: float, n_spun: int, n_clean: int) -> float:
    """Hanley and McNeil's (1982) standard error of a ROC-AUC from `n_spun` positives and `n_clean` negatives.
    It treats texts as independent; twins made from one source are not, so read it as a lower bound."""
    q1 = auc / (2 - auc)
    q2 = 2 * auc**2 / (1 + auc)
    variance = (auc * (1 - auc) + (n_spun - 1) * (q1 - auc**2) + (n_clean - 1) * (q2 - auc**2)) / (n_spun * n_clean)
    return math.sqrt(max(variance, 0.0))


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


def verdict_shares(labels: np.ndarray, verdicts: Sequence[str]) -> dict[str, dict]:
    """What a detector said of whole records, by true label ("clean", "spun"): how many, the share labelled
    spun (the flagged share of the clean ones, the recall of the spun ones) with its 95% Wilson interval, and
    the share left unjudged (too short or not English to judge)."""
    verdicts = np.asarray(verdicts, dtype=object)
    shares = {}
    for label, name in ((0, "clean"), (1, "spun")):
        of_label = verdicts[np.asarray(labels) == label]
        if not len(of_label):
            continue
        spun = int((of_label == "spun").sum())
        shares[name] = {
            "n": len(of_label),
            "labelled_spun": round(spun / len(of_label), 4),
            "labelled_spun_ci": [round(bound, 4) for bound in wilson_interval(spun, len(of_label))],
            "unjudged": round(float((of_label == "unjudged").mean()), 4),
        }
    return shares
