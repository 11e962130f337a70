"""Confidence intervals of the rates spindetect reports."""

import math

import numpy as np
import pytest

from spindetect.metrics import binary_metrics, rate_intervals, wilson_interval


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # Newcombe (1998), "Two-sided confidence intervals for the single proportion", Stat Med 17:857, method 3.
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_published_values(successes, n, low, high) -> None:
    assert wilson_interval(successes, n) == pytest.approx((low, high), abs=5e-5)


def test_wilson_interval_is_wide_on_few_texts_and_undefined_on_none() -> None:
    assert wilson_interval(0, 6)[1] > 0.39  # 0 of 6 clean texts flagged: the rate may still be 39%
    assert wilson_interval(6, 6) == pytest.approx((1 - wilson_interval(0, 6)[1], 1.0))
    assert all(math.isnan(bound) for bound in wilson_interval(0, 0))


def test_rate_intervals_recover_the_counts_of_binary_metrics() -> None:
    labels = np.array([1] * 8 + [0] * 16)
    scores = np.array([0.9] * 6 + [0.1] * 2 + [0.8] * 3 + [0.2] * 13)  # 6 of 8 spun caught, 3 of 16 clean flagged
    intervals = rate_intervals(binary_metrics(labels, scores, 0.5))
    assert intervals["recall_ci"] == pytest.approx(wilson_interval(6, 8), abs=1e-4)
    assert intervals["false_positive_rate_ci"] == pytest.approx(wilson_interval(3, 16), abs=1e-4)
    assert intervals["precision_ci"] == pytest.approx(wilson_interval(6, 9), abs=1e-4)
    only_spun = rate_intervals(binary_metrics(labels[:8], scores[:8], 0.5))
    assert set(only_spun) == {"recall_ci", "precision_ci"}  # no clean texts: no false-positive rate to bound


def test_verdict_shares_count_what_the_detector_said_by_true_label() -> None:
    from spindetect.metrics import verdict_shares

    labels = np.array([0, 0, 0, 0, 1, 1])
    verdicts = ["unjudged", "unjudged", "clean", "spun", "unjudged", "spun"]

    shares = verdict_shares(labels, verdicts)

    assert shares["clean"]["n"] == 4 and shares["clean"]["labelled_spun"] == 0.25 and shares["clean"]["unjudged"] == 0.5
    low, high = shares["clean"]["labelled_spun_ci"]
    assert low < 0.25 < high
    assert shares["spun"] == {"n": 2, "labelled_spun": 0.5, "labelled_spun_ci": shares["spun"]["labelled_spun_ci"], "unjudged": 0.5}
    assert verdict_shares(np.array([0]), ["clean"]).keys() == {"clean"}
