"""training/fit_word_probe.py: word labels from a spin's diff, and flag levels from clean words."""

from __future__ import annotations

import numpy as np
import pytest

from .conftest import load_training_script


@pytest.fixture(scope="module")
def fit_word_probe():
    return load_training_script("fit_word_probe")


def test_the_words_a_spin_changed_are_its_words_the_diff_does_not_match(fit_word_probe) -> None:
    clean = "The minister took office after the vote."
    spun = "The minister took enlighten of enterprise after the vote."
    changed = fit_word_probe.changed_words(clean, spun)
    assert sorted(spun[start:end] for start, end in changed) == ["enlighten", "enterprise", "of"]
    assert fit_word_probe.changed_words(clean, clean) == set()


def test_flag_levels_are_the_logits_a_share_of_clean_words_reach_and_the_record_says_what_they_flag(fit_word_probe) -> None:
    clean = np.arange(1000, dtype=float)  # 0 .. 999: 1% reach 989.01, 0.1% reach 998.001
    spun = np.array([995.0, 999.5, 10.0, 20.0])  # two replaced words, two unchanged ones
    logits = np.concatenate([clean, spun])
    replaced = np.r_[np.zeros(1000, bool), [True, True, False, False]]
    spun_text = np.r_[np.zeros(1000, bool), np.ones(4, bool)]
    levels, record = fit_word_probe.calibrated_flag_levels(logits, replaced, spun_text)
    assert levels.flag == pytest.approx(np.quantile(clean, 0.99))
    assert levels.strong == pytest.approx(np.quantile(clean, 0.999))
    assert record["reaching_flag_logit"] == {"clean_words": 0.01, "unchanged_words_of_spins": 0.0, "replaced_words": 1.0}
    assert record["reaching_strong_logit"]["replaced_words"] == 0.5
    assert record["flag_levels_from"].startswith("validation split: 1000 words of clean paragraphs, 2 replaced")
