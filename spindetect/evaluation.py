"""Evaluating a model on labeled texts, and calibrating its threshold to a false-positive budget.

Both score whole documents (each labeled text), as `spindetect score` and `filter` do, so the numbers and the
threshold are about the decisions a user's pipeline will make.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from spindetect.labeled import LabeledData
from spindetect.metrics import binary_metrics, rate_intervals
from spindetect.model import TrainedModel, threshold_for_fpr

if TYPE_CHECKING:
    from spindetect.detector import Detector

REPORT_COLUMNS = (
    "n", "n_spun", "roc_auc", "pr_auc", "f1", "precision", "recall", "false_positive_rate", "tpr_at_1pct_fpr", "tpr_at_5pct_fpr",
)


def score_labeled(
    detector: Detector, data: LabeledData, progress: Callable[[int, int], None] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Document scores (NaN where a text could not be scored) and which texts were scored."""
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
        f"Threshold {report['threshold']:.4f}; {report['texts']} texts, {report['not_scored']} not scored, "
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


def calibrated(model: TrainedModel, clean_scores: np.ndarray, max_fpr: float, source: str) -> TrainedModel:
    """`model` with the threshold that flags at most `max_fpr` of `clean_scores` (the user's clean documents),
    which also become the scores `--max-fpr` reads from. Cascade-mode clean scores are dropped: they came
    from other data and would disagree with the new threshold."""
    if clean_scores.size == 0:
        raise ValueError("no clean texts to calibrate on (labels 0/clean)")
    threshold = threshold_for_fpr(clean_scores, max_fpr)
    calibration = {
        "source": source,
        "max_fpr": max_fpr,
        "clean_texts": int(clean_scores.size),
        "threshold": threshold,
        "previous_threshold": model.threshold,
        "false_positive_rate": float(np.mean(clean_scores >= threshold)),
    }
    return replace(
        model,
        threshold=threshold,
        clean_scores=clean_scores,
        cascade_clean_scores=None,
        metrics={**model.metrics, "calibration": calibration},
    )
