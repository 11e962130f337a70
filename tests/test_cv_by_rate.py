"""training/cv_by_rate.py: cross-validated metrics by rate on a trained model's own dataset."""

from __future__ import annotations

import pytest

from .conftest import load_training_script


@pytest.fixture(scope="module")
def cv_by_rate():
    return load_training_script("cv_by_rate")


def test_standard_error_matches_hanley_and_mcneil(cv_by_rate) -> None:
    # By hand for an area of 0.9 from 50 spun and 50 clean: Q1 = 0.9/1.1, Q2 = 1.62/1.9, and
    # (0.09 + 49 (Q1 - 0.81) + 49 (Q2 - 0.81)) / 2500 = 0.0010319, whose root is 0.0321.
    assert cv_by_rate.auc_standard_error(0.9, 50, 50) == pytest.approx(0.0321, abs=1e-4)
    # Ten times the cases, about a third of the error; a perfect ranking has none.
    assert cv_by_rate.auc_standard_error(0.9, 500, 500) == pytest.approx(0.0101, abs=1e-4)
    assert cv_by_rate.auc_standard_error(1.0, 50, 50) == 0.0


def test_every_clean_corpus_paragraph_is_scored_once_at_every_rate(cv_by_rate, tiny_model_dir, tmp_path) -> None:
    from datasets import load_from_disk

    results = cv_by_rate.cross_validate(tiny_model_dir, folds=3, cache_dir=tmp_path)
    dataset = load_from_disk(str(tiny_model_dir / "dataset"))
    rows = [row for split in ("train", "valid", "test") for row in dataset[split]]
    clean = sum(row["style"] == "clean" for row in rows)
    assert results["n"] == len(rows)
    assert set(results["by_rate"]) == {"0.2", "0.4"}  # configs/test.yaml's rates
    for rate, result in results["by_rate"].items():
        spun = sum(row["style"] == "thesaurus_spin" and f"{row['rate']:g}" == rate for row in rows)
        assert (result["clean"], result["spun"]) == (clean, spun)
        assert 0.0 <= result["roc_auc"] <= 1.0 and result["standard_error"] > 0
    assert set(results["by_corpus_and_rate"]) >= {"brown"}
