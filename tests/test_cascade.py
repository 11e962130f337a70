"""The cascade: band choice, the trained fast classifier, and cascade scoring."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from spindetect.cascade import CascadeBand, choose_band
from spindetect.detector import Detector
from spindetect.config import SpindetectConfig
from spindetect.model import ModelError, TrainedModel, build_classifier, out_of_fold_scores

PARAGRAPHS = [
    "The city council voted on Tuesday to approve a new budget for the coming year, after months of debate "
    "over the cost of repairing roads and bridges across the county.",
    "Scientists at the university said the new telescope would let them study the atmospheres of distant "
    "planets in far greater detail than any instrument built before it.",
    "The company reported higher profits for the third quarter as demand for its products grew in Europe and "
    "Asia, and it raised its forecast for the rest of the year.",
]


def test_the_band_is_the_narrowest_within_the_auc_budget() -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 500)
    full = np.clip(labels * 0.6 + rng.normal(0.2, 0.15, labels.size), 0, 1)
    fast = np.clip(full + rng.normal(0, 0.1, labels.size), 0, 1)  # the same signal, noisier
    band = choose_band(labels, fast, full, threshold=0.5, max_auc_loss=0.005)
    assert band.low <= 0.5 <= band.high
    cascade = band.combine(fast, full)
    assert roc_auc_score(labels, full) - roc_auc_score(labels, cascade) <= 0.005
    share = band.uncertain(fast).mean()
    assert 0 < share < 0.6  # the clear cases are left to the fast scores
    generous = choose_band(labels, fast, full, threshold=0.5, max_auc_loss=0.05)
    assert generous.uncertain(fast).mean() <= share
    assert choose_band(labels, fast, full, threshold=0.5, max_auc_loss=0.0).uncertain(fast).mean() >= share


def test_band_combine_takes_full_scores_only_inside() -> None:
    band = CascadeBand(0.3, 0.6)
    fast = np.array([0.1, 0.3, 0.5, 0.6, 0.9])
    full = np.array([0.9, 0.8, 0.7, 0.2, 0.1])
    assert band.combine(fast, full).tolist() == [0.1, 0.8, 0.7, 0.2, 0.9]
    assert CascadeBand.from_json(band.to_json()) == band


def test_training_with_a_cascade_saves_a_fast_classifier_without_lm_features(tiny_model_dir) -> None:
    model = TrainedModel.load(tiny_model_dir)
    assert model.fast is not None and model.cascade_band is not None
    assert model.fast.feature_names == tuple(name for name in model.feature_names if not name.startswith("lm_"))
    assert not model.fast.config.features.language_model
    cascade = model.metrics["cascade"]
    assert model.cascade_band.low <= model.threshold <= model.cascade_band.high
    assert 0.0 <= cascade["test_share_to_language_model"] <= 1.0
    assert 0.0 <= cascade["test_clean_share_to_language_model"] <= 1.0
    assert {"test", "test_fast_only", "test_by_rate", "band"} <= set(cascade)


def test_the_band_is_chosen_on_out_of_fold_training_scores_beside_the_validation_split(tiny_model_dir) -> None:
    model = TrainedModel.load(tiny_model_dir)
    folds = model.config.cascade.band_folds
    assert folds >= 2
    assert model.metrics["cascade"]["band_chosen_on"] == f"valid split and {folds}-fold out-of-fold scores of the train split"


def test_out_of_fold_scores_never_come_from_a_classifier_that_saw_the_rows_source() -> None:
    # Each source document has its own feature value and label, so a classifier that saw a document scores
    # it right, and one that did not can only guess from the others.
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(40), 5)
    labels = np.repeat(rng.integers(0, 2, 40), 5)
    features = np.repeat(rng.normal(size=(40, 3)), 5, axis=0)
    config = SpindetectConfig()
    in_sample = build_classifier(config).fit(features, labels).predict_proba(features)[:, 1]
    assert roc_auc_score(labels, in_sample) > 0.99
    assert roc_auc_score(labels, out_of_fold_scores(config, features, labels, groups, folds=5)) < 0.8
    with pytest.raises(ValueError, match="single class"):
        out_of_fold_scores(config, features, (groups == 0).astype(int), groups, folds=5)  # one spun document


def test_cascade_scores_are_fast_scores_outside_the_band_and_full_scores_inside(tiny_model_dir) -> None:
    full = Detector.load(tiny_model_dir)
    cascade = Detector.load(tiny_model_dir, cascade=True)
    model = full.model
    fast_scores = model.fast.predict_proba(full.extractor.score(PARAGRAPHS)[:, [model.feature_names.index(n) for n in model.fast.feature_names]])
    full_scores = [r.paragraphs[0].score for r in full.score(PARAGRAPHS)]
    cascade_scores = [r.paragraphs[0].score for r in cascade.score(PARAGRAPHS)]
    expected = model.cascade_band.combine(fast_scores, np.array(full_scores))
    assert cascade_scores == pytest.approx(expected.tolist(), abs=1e-9)


def test_every_paragraph_goes_through_the_language_model_with_a_full_band(tiny_model_dir) -> None:
    detector = Detector.load(tiny_model_dir)
    full_scores = [r.score for r in detector.score(PARAGRAPHS)]
    detector.model.cascade_band = CascadeBand(0.0, 1.0)
    detector.use_cascade()
    assert [r.score for r in detector.score(PARAGRAPHS)] == pytest.approx(full_scores, abs=1e-9)


def test_a_model_without_a_cascade_says_so(tiny_model_dir, tmp_path) -> None:
    model = TrainedModel.load(tiny_model_dir)
    model.fast = model.cascade_band = None
    model.save(tmp_path)
    with pytest.raises(ModelError, match="no cascade"):
        Detector.load(tmp_path, cascade=True)


def test_a_pickled_detector_keeps_its_mode(tiny_model_dir) -> None:
    import pickle

    assert pickle.loads(pickle.dumps(Detector.load(tiny_model_dir, cascade=True))).cascade
    assert not pickle.loads(pickle.dumps(Detector.load(tiny_model_dir))).cascade
