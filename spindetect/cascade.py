"""The cascade: a fast classifier decides the clear cases, the language model only the uncertain ones.

Paragraphs whose fast score lies inside the band `[low, high]` are scored again with all features by the
full classifier; the others keep their fast score. The band always contains the full model's threshold: below
the band a paragraph is judged clean by the fast classifier alone, above it spun.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score

# Candidate band edges: these quantiles of the validation fast scores below and above the threshold.
_EDGE_QUANTILES = np.linspace(0.0, 1.0, 41)


@dataclass(frozen=True)
class CascadeBand:
    low: float
    high: float

    def uncertain(self, fast_scores: np.ndarray) -> np.ndarray:
        """Which paragraphs need the full model."""
        return (fast_scores >= self.low) & (fast_scores <= self.high)

    def combine(self, fast_scores: np.ndarray, full_scores: np.ndarray) -> np.ndarray:
        """Cascade scores given every paragraph's full score (for choosing and evaluating the band)."""
        return np.where(self.uncertain(fast_scores), full_scores, fast_scores)

    def to_json(self) -> dict[str, float]:
        return {"low": self.low, "high": self.high}

    @classmethod
    def from_json(cls, data: dict[str, float]) -> CascadeBand:
        return cls(float(data["low"]), float(data["high"]))


def choose_band(
    labels: np.ndarray, fast_scores: np.ndarray, full_scores: np.ndarray, threshold: float, max_auc_loss: float
) -> CascadeBand:
    """The band sending the fewest paragraphs to the full model while losing at most `max_auc_loss` of ROC-AUC
    (on the data given: the validation split). The whole range [0, 1] always qualifies."""
    full_auc = roc_auc_score(labels, full_scores)
    below = fast_scores[fast_scores < threshold]
    above = fast_scores[fast_scores > threshold]
    lows = np.unique(np.concatenate([[0.0], np.quantile(below, _EDGE_QUANTILES) if below.size else []]))
    highs = np.unique(np.concatenate([[1.0], np.quantile(above, _EDGE_QUANTILES) if above.size else []]))
    best, best_share = CascadeBand(0.0, 1.0), 1.0
    for low in lows:
        for high in highs:
            band = CascadeBand(float(min(low, threshold)), float(max(high, threshold)))
            share = float(band.uncertain(fast_scores).mean())
            if share >= best_share:
                continue
            if full_auc - roc_auc_score(labels, band.combine(fast_scores, full_scores)) <= max_auc_loss:
                best, best_share = band, share
    return best
