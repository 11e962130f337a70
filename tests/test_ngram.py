import numpy as np
import pytest

from spindetect.features.ngram import NGRAM_FEATURE_NAMES, NGramScorer, frequent_english_share, word_statistics

CLEAN = (
    "The city council voted on Tuesday to approve a new budget for the coming year, after months of debate "
    "over the cost of repairing roads and bridges across the county."
)
# The same sentence after a sense-blind synonym swap of a few common words.
GARBLED = (
    "The metropolis council voted on Tuesday to approve a original budget for the arrival year, after months "
    "of debate over the charge of repairing roads and bridges across the county."
)


def test_history_is_given_oldest_first(reference) -> None:
    assert reference.prob("states", "the", "united") > reference.prob("states", "united", "the") + 1


def test_seen_and_unseen_ngrams_are_told_apart(reference) -> None:
    assert reference.is_seen("of", "secretary")
    assert reference.is_seen("states", "the", "united")
    assert not reference.is_seen("enlighten", "secretary")
    assert not reference.is_seen("budget", "purple", "the")
    assert reference.is_seen("the") and not reference.is_seen("qqqzx")


def test_unknown_words_are_counted_not_scored(reference) -> None:
    stats = word_statistics("Xylqz met the qqqzx council today.", reference)
    assert stats.n_out_of_vocabulary == 2
    assert "xylqz" not in stats.words
    for (start, end), word in zip(stats.spans, stats.words, strict=True):
        assert "Xylqz met the qqqzx council today."[start:end].lower() == word


def test_swapped_words_fit_their_context_worse(reference) -> None:
    clean, garbled = NGramScorer(reference).score([CLEAN, GARBLED])
    fit = NGRAM_FEATURE_NAMES.index("ng_context_fit_mean")
    pmi = NGRAM_FEATURE_NAMES.index("ng_pmi_mean")
    assert garbled[fit] < clean[fit]
    assert garbled[pmi] < clean[pmi]


def test_curly_apostrophes_meet_the_vocabulary(reference) -> None:
    assert word_statistics("It’s the mayor’s plan.", reference).n_out_of_vocabulary == 0


def test_features_of_text_without_words_are_zero(reference) -> None:
    features = NGramScorer(reference).score(["1234 — 5678", ""])
    assert features.shape == (2, len(NGRAM_FEATURE_NAMES))
    assert not np.isnan(features).any()


@pytest.mark.parametrize(
    ("text", "english"),
    [
        (CLEAN, True),
        (GARBLED, True),
        ("Die Staatschefs von China und Nordkorea bekräftigen ihre Allianz nach den Gesprächen", False),
        ("Los líderes de China y Corea del Norte reafirman su alianza tras las conversaciones", False),
        ("中国和朝鲜领导人重申两国联盟关系", False),
        ("12345 67890", False),
    ],
)
def test_frequent_english_share_tells_english_from_other_languages(reference, text: str, english: bool) -> None:
    assert (frequent_english_share(text, reference) >= 0.4) == english


def test_chain_is_the_sum_of_each_words_probability_given_the_two_before(reference) -> None:
    words = ["the", "secretary", "of", "state", "said"]
    expected = reference.prob("state", "secretary", "of") + reference.prob("said", "of", "state")
    assert reference.chain(["secretary", "of"], words[3:]) == pytest.approx(expected, abs=1e-9)
    # Short histories back off to the bigram and the unigram.
    assert reference.chain([], ["the", "secretary"]) == pytest.approx(
        reference.prob("the") + reference.prob("secretary", "the"), abs=1e-9
    )
    assert reference.chain(["the"], []) == 0.0
