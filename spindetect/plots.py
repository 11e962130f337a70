"""PNG plots of a model's scores on labeled data: ROC and precision-recall curves, score histograms by label,
and recall by spin rate. Written by `spindetect train` (test split) and `spindetect evaluate --report`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
# Figures made directly (not through pyplot) draw to files only: no window, no display needed, and no
# change to the backend of a caller's pyplot (a notebook's inline plots keep working).
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve, roc_curve

FIGURE_SIZE = (5.0, 4.0)


def write_plots(
    directory: Path,
    labels: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    by_rate: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> list[Path]:
    """Write the plots that the data allows into `directory`; return their paths. `by_rate` holds the labels,
    scores and spin rates of the texts to plot recall by rate on (rate 0: clean, or spun without a rate)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = [_histogram(directory / "score_histogram.png", labels, scores, threshold)]
    if 0 < labels.sum() < labels.size:
        written += [_roc(directory / "roc.png", labels, scores), _precision_recall(directory / "pr.png", labels, scores)]
    if by_rate is not None and ((by_rate[0] == 1) & (by_rate[2] > 0)).any():
        written.append(_recall_by_rate(directory / "recall_by_rate.png", *by_rate, threshold))
    return written


def _save(figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return path


def _roc(path: Path, labels: np.ndarray, scores: np.ndarray) -> Path:
    fpr, tpr, _ = roc_curve(labels, scores)
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.subplots()
    axes.plot(fpr, tpr)
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey")
    axes.set(xlabel="false-positive rate (clean flagged)", ylabel="true-positive rate (spun caught)", title="ROC")
    return _save(figure, path)


def _precision_recall(path: Path, labels: np.ndarray, scores: np.ndarray) -> Path:
    precision, recall, _ = precision_recall_curve(labels, scores)
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.subplots()
    axes.plot(recall, precision)
    axes.set(xlabel="recall", ylabel="precision", title="Precision-recall", ylim=(0, 1.02))
    return _save(figure, path)


def _histogram(path: Path, labels: np.ndarray, scores: np.ndarray, threshold: float) -> Path:
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.subplots()
    bins = np.linspace(0, 1, 41)
    for label, name in ((0, "clean"), (1, "spun")):
        if (labels == label).any():
            axes.hist(scores[labels == label], bins=bins, alpha=0.6, label=name)
    axes.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.2f}")
    axes.set(xlabel="score", ylabel="texts", title="Scores by label")
    axes.legend()
    return _save(figure, path)


def _recall_by_rate(path: Path, labels: np.ndarray, scores: np.ndarray, rates: np.ndarray, threshold: float) -> Path:
    spun_rates = sorted(set(rates[(labels == 1) & (rates > 0)].tolist()))
    recalls = [float(np.mean(scores[(labels == 1) & (rates == rate)] >= threshold)) for rate in spun_rates]
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.subplots()
    positions = np.arange(len(spun_rates))
    axes.bar(positions, recalls)
    axes.set_xticks(positions, [f"{rate:g}" for rate in spun_rates])
    axes.set(xlabel="share of content words replaced", ylabel="recall at the threshold", title="Recall by spin rate", ylim=(0, 1))
    return _save(figure, path)
