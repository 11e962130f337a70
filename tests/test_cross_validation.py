"""The cross-validated measure of tortured phrases nobody has listed (`unlisted_tortured_metrics`)."""

from __future__ import annotations

import numpy as np

from spindetect.config import SpindetectConfig
from spindetect.cross_validation import unlisted_tortured_metrics

PHRASES = 20
DOCUMENTS_PER_PHRASE = 4


def _phrase_memorising_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[frozenset[str]]]:
    """Each phrase is garbled in four documents, each with three clean paragraphs besides; twenty documents
    have clean paragraphs only. Column 0 is the lexicon's count, left at 0 here so that the classifier learns
    from column 1: a value each phrase always gives its tortured paragraphs, while clean paragraphs lie
    between those values. A classifier can find a tortured paragraph only by having seen its phrase in
    another document."""
    rng = np.random.default_rng(3)
    rows, labels, styles, groups, phrases = [], [], [], [], []
    garbled = [*range(PHRASES)] * DOCUMENTS_PER_PHRASE + [None] * 20
    for document, phrase in enumerate(garbled):
        for _ in range(3):
            rows.append([0.0, int(rng.integers(PHRASES)) + rng.uniform(-0.2, 0.2)])
            labels.append(0), styles.append("clean"), groups.append(f"doc{document}"), phrases.append(frozenset())
        if phrase is not None:
            rows.append([0.0, phrase + 0.5])
            labels.append(1), styles.append("tortured"), groups.append(f"doc{document}")
            phrases.append(frozenset({f"tortured form {phrase}", f"expected phrase {phrase}"}))
    return np.array(rows), np.array(labels), np.array(styles), np.array(groups), phrases


def _config() -> SpindetectConfig:
    return SpindetectConfig(classifier={"kind": "hist_gradient_boosting", "params": {"min_samples_leaf": 2}})


def test_unlisted_tortured_metrics_keep_a_scored_fold_s_phrases_out_of_its_fitting() -> None:
    features, labels, styles, groups, phrases = _phrase_memorising_data()
    metrics = unlisted_tortured_metrics(_config(), features, labels, styles, groups, phrases, 0, 0.5, 5)
    tortured = styles == "tortured"
    same_documents = (styles == "clean") & np.isin(groups, groups[tortured])
    assert metrics["n_spun"] == tortured.sum() == DOCUMENTS_PER_PHRASE * PHRASES
    # Against the clean paragraphs of their own documents, not those of the clean-only documents.
    assert metrics["n"] == (tortured | same_documents).sum() == 4 * DOCUMENTS_PER_PHRASE * PHRASES
    assert 0 < metrics["roc_auc_se"] < 0.1
    # Without the phrases, the fitting folds hold other documents garbling each phrase, and the same rows
    # are found by the phrase's value although the count is hidden: the leak the measure closes.
    leaky = unlisted_tortured_metrics(_config(), features, labels, styles, groups, [frozenset()] * len(labels), 0, 0.5, 5)
    assert leaky["roc_auc"] > 0.9
    assert metrics["roc_auc"] < 0.6


def test_unlisted_tortured_metrics_are_none_without_tortured_paragraphs() -> None:
    features, labels, styles, groups, phrases = _phrase_memorising_data()
    clean = styles == "clean"
    metrics = unlisted_tortured_metrics(_config(), features[clean], labels[clean], styles[clean], groups[clean], [], 0, 0.5, 5)
    assert metrics is None


def test_unlisted_tortured_metrics_hide_the_lexicon_count_from_the_scored_rows() -> None:
    features, labels, styles, groups, phrases = _phrase_memorising_data()
    features[:, 0] = labels  # the lexicon finds every tortured paragraph; column 1 is no help once phrases are kept out
    listed = unlisted_tortured_metrics(_config(), features, labels, styles, groups, phrases, 1, 0.5, 5)
    unlisted = unlisted_tortured_metrics(_config(), features, labels, styles, groups, phrases, 0, 0.5, 5)
    assert listed["roc_auc"] == 1.0 and unlisted["roc_auc"] < 0.6
