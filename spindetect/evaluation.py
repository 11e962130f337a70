"""Evaluating a model on labeled texts, and calibrating its threshold to a false-positive budget.

Both score whole documents (each labeled text), as `spindetect score` and `filter` do, so the numbers and the
threshold are about the decisions a user's pipeline will make.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from spindetect.labeled import LabeledData
from spindetect.metrics import binary_metrics, rate_intervals, wilson_interval
from spindetect.model import TrainedModel, allowed_false_positives, threshold_for_fpr

if TYPE_CHECKING:
    from spindetect.detector import Detector

# Calibration warns when fewer clean texts than this are flagged at its threshold: a rate read from a handful
# of events is rough. With 10 of 1,000 flagged (a 1% budget) the 95% Wilson interval runs from 0.54% to 1.83%;
# with 1 of 100, from 0.18% to 5.45%.
MIN_FLAGGED_CLEAN = 10

REPORT_COLUMNS = (
    "n", "n_spun", "roc_auc", "pr_auc", "f1", "precision", "recall", "false_positive_rate", "tpr_at_1pct_fpr", "tpr_at_5pct_fpr",
)


def score_labeled(
    detector: Detector, data: LabeledData, progress: Callable[[int, int], None] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Document scores (NaN where a text could not be scored or is unjudged: only short lines, or not English)
    and which texts were scored."""
    results = detector.score(data.texts, progress=progress)
    scores = np.array([np.nan if result.score is None else result.score for result in results])
    return scores, ~np.isnan(scores)


def evaluation_report(data: LabeledData, scores: np.ndarray, scored: np.ndarray, threshold: float) -> dict:
    """Metrics overall and per group (when the data has groups), at `threshold`, with 95% Wilson intervals of
    the precision, recall and false-positive rate (`<rate>_ci`)."""
    labels = data.labels[scored]
    kept_scores = scores[scored]
    report: dict = {
        "threshold": round(threshold, 6),
        "texts": len(data.texts),
        "not_scored": int((~scored).sum()),
        "rows_without_text": data.skipped,
        "overall": _with_intervals(binary_metrics(labels, kept_scores, threshold)),
    }
    if data.groups is not None:
        groups = np.array(data.groups)[scored]
        report["by_group"] = {
            group: _with_intervals(binary_metrics(labels[groups == group], kept_scores[groups == group], threshold))
            for group in sorted(set(groups.tolist()))
        }
    return report


def _with_intervals(metrics: dict) -> dict:
    return metrics | rate_intervals(metrics)


def markdown_report(report: dict, title: str) -> str:
    """The report as a Markdown table, one row overall and one per group."""
    rows = [("overall", report["overall"]), *report.get("by_group", {}).items()]
    lines = [
        f"# {title}",
        "",
        f"Threshold {report['threshold']:.4f}; {report['texts']} texts, {report['not_scored']} not scored or unjudged, "
        f"{report['rows_without_text']} rows without text. In brackets: 95% Wilson intervals.",
        "",
        "| group | " + " | ".join(REPORT_COLUMNS) + " |",
        "|---" * (len(REPORT_COLUMNS) + 1) + "|",
    ]
    for name, metrics in rows:
        cells = [_cell(metrics.get(column), metrics.get(f"{column}_ci")) for column in REPORT_COLUMNS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(value: object, interval: list[float] | None = None) -> str:
    if value is None:
        return "–"
    if interval is not None:
        return f"{value:.4f} [{interval[0]:.3f}, {interval[1]:.3f}]"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def calibrated(
    model: TrainedModel, clean_scores: np.ndarray, max_fpr: float, source: str, spun_scores: np.ndarray | None = None
) -> TrainedModel:
    """`model` with the threshold that flags at most `max_fpr` of `clean_scores` (the user's clean documents),
    which also become the scores `--max-fpr` reads from. Cascade-mode clean scores are dropped: they came
    from other data and would disagree with the new threshold. `spun_scores`, the user's spun documents,
    record the recall left at the new threshold.

    Refuses (ValueError) a budget above 0 that the clean texts are too few to measure: under 1/max_fpr of them,
    not one may be flagged, and the threshold would lie above them all as for a budget of 0."""
    clean_texts = int(clean_scores.size)
    check_budget(clean_texts, max_fpr)
    threshold = threshold_for_fpr(clean_scores, max_fpr)
    previous = model.metrics.get("calibration")
    calibration = {
        "source": source,
        "max_fpr": max_fpr,
        "clean_texts": clean_texts,
        "threshold": threshold,
        "previous_threshold": model.threshold,
        "trained_threshold": model.threshold if previous is None else trained_threshold(previous),
        "false_positive_rate": float(np.mean(clean_scores >= threshold)),
    }
    if spun_scores is not None and spun_scores.size:
        calibration |= {"spun_texts": int(spun_scores.size), "recall": float(np.mean(spun_scores >= threshold))}
    return replace(
        model,
        threshold=threshold,
        clean_scores=clean_scores,
        cascade_clean_scores=None,
        metrics={**model.metrics, "calibration": calibration},
    )


def check_budget(clean_texts: int, max_fpr: float) -> None:
    """Raises ValueError when `clean_texts` cannot measure a false-positive budget of `max_fpr`: there are none,
    or, for a budget above 0, too few (under 1/max_fpr) for a single one of them to be flagged."""
    if clean_texts == 0:
        raise ValueError("no clean texts to calibrate on (labels 0/clean)")
    if max_fpr > 0 and allowed_false_positives(clean_texts, max_fpr) == 0:
        raise ValueError(
            f"{clean_texts} clean texts cannot measure a {max_fpr:.2%} false-positive budget: it needs at least "
            f"{clean_texts_needed(max_fpr, 1)}, so that one of them may be flagged; give more clean texts, or a budget "
            f"of 0 to put the threshold above all {clean_texts}"
        )


def clean_texts_needed(max_fpr: float, flagged: int) -> int:
    """The fewest clean texts of which a threshold for `max_fpr` lets `flagged` through."""
    return math.ceil((flagged - 1e-9) / max_fpr)


def trained_threshold(calibration: dict) -> float:
    """The threshold training chose, which the model's test metrics were measured at, before any calibration
    (for a calibration that did not record it, the threshold it replaced)."""
    return calibration.get("trained_threshold", calibration["previous_threshold"])


def calibration_lines(calibration: dict) -> list[str]:
    """What a calibration did, with 95% Wilson intervals: the threshold's move and the share of the clean texts
    it flags, and the recall it leaves on the spun texts when there were any."""
    clean_texts, fpr = calibration["clean_texts"], calibration["false_positive_rate"]
    lines = [
        f"threshold {calibration['previous_threshold']:.4f} -> {calibration['threshold']:.4f}: flags {fpr:.2%} of "
        f"{clean_texts} clean texts ({_percent_interval(fpr, clean_texts)}; budget {calibration['max_fpr']:.2%})"
    ]
    if "spun_texts" in calibration:
        spun_texts, recall = calibration["spun_texts"], calibration["recall"]
        lines.append(f"recall on the {spun_texts} spun texts: {recall:.2%} ({_percent_interval(recall, spun_texts)})")
    return lines


def _percent_interval(share: float, n: int) -> str:
    low, high = wilson_interval(round(share * n), n)
    return f"95% CI [{low:.2%}, {high:.2%}]"


def calibration_warning(calibration: dict) -> str | None:
    """Why a calibration's false-positive rate is rough, when fewer than MIN_FLAGGED_CLEAN clean texts are
    flagged at its threshold; None otherwise."""
    clean_texts, budget = calibration["clean_texts"], calibration["max_fpr"]
    flagged = round(calibration["false_positive_rate"] * clean_texts)
    if flagged >= MIN_FLAGGED_CLEAN:
        return None
    upper = wilson_interval(flagged, clean_texts)[1]
    remedy = (
        f"{clean_texts_needed(budget, MIN_FLAGGED_CLEAN)} clean texts would let {MIN_FLAGGED_CLEAN} be flagged within "
        f"a {budget:.2%} budget"
        if budget > 0
        else "a budget of 0 can only be bounded, more tightly with more clean texts"
    )
    return (
        f"{flagged} of {clean_texts} clean texts are flagged at the new threshold, fewer than the {MIN_FLAGGED_CLEAN} "
        f"a false-positive rate can be read from: on new clean text it may be as high as {upper:.2%} (95% Wilson "
        f"upper bound); {remedy}"
    )
