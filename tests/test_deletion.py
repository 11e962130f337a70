from dataclasses import replace

import numpy as np
import pytest

from spindetect.config import load_config
from spindetect.features.deletion import (
    DELETED_WORDS,
    DELETION_FEATURE_NAMES,
    DELETION_WEIGHT,
    deletion_continuations,
    deletion_fits,
)
from spindetect.features.extractor import build_extractor
from spindetect.features.ngram import lowest_two
from spindetect.features.perplexity import LM_FEATURE_NAMES, LanguageModelScorer
from spindetect.features.rescoring import Continuation
from spindetect.model import TrainedModel
from spindetect.model_card import model_card

from .conftest import ROOT

# "It was. Prior year ends" as a byte-pair tokenizer splits it: each token carries the space before its word.
TEXT = "It was. Prior year ends"
TOKENS = [11, 12, 13, 14, 15, 16]
OFFSETS = np.array([(0, 2), (2, 6), (6, 7), (7, 13), (13, 18), (18, 23)])
# The scored words (the first one has no fit): "was", "Prior", "year", "ends".
WORD_SPANS = [(3, 6), (8, 13), (14, 18), (19, 23)]
WORD_FITS = np.array([-1.0, -6.0, -3.0, -9.0])


def test_the_worst_fitting_words_are_read_again_without_themselves_to_the_end_of_their_sentence() -> None:
    found = deletion_continuations(TEXT, TOKENS, OFFSETS, WORD_FITS, WORD_SPANS, [7, 23], limit=3)
    # "ends" fits worst but nothing follows it. Without "Prior" (token 3, with the space before it) the model reads
    # " year ends"; without "year", " ends".
    assert found == [Continuation(1, 3, 3, (15, 16)), Continuation(2, 4, 2, (16,))]
    # With room for a fourth word: "was", of which only the full stop is left of its sentence.
    fourth = deletion_continuations(TEXT, TOKENS, OFFSETS, WORD_FITS, WORD_SPANS, [7, 23], limit=4)[-1]
    assert fourth == Continuation(0, 1, 2, (13,))
    # At most `following` tokens after the word.
    capped = deletion_continuations(TEXT, TOKENS, OFFSETS, WORD_FITS, WORD_SPANS, [7, 23], limit=2, following=1)
    assert capped == [Continuation(1, 3, 2, (15,))]


def test_a_word_whose_tokens_do_not_start_at_the_space_before_it_is_not_read_again() -> None:
    text = "It was (Prior) year"
    offsets = np.array([(0, 2), (2, 6), (6, 8), (8, 13), (13, 14), (14, 19)])
    spans = [(3, 6), (8, 13), (15, 19)]
    # "Prior" follows a bracket, which deleting the word would keep; "was" is read again.
    found = deletion_continuations(text, [1, 2, 3, 4, 5, 6], offsets, np.array([-2.0, -8.0, 0.0]), spans, [19], limit=2)
    assert found == [Continuation(0, 1, 5, (3, 4, 5, 6))]


def test_the_deletion_fit_takes_off_half_of_what_the_word_cost_the_tokens_after_it() -> None:
    written = np.array([1.0, 2.0, 3.0, 9.0, 4.0, 1.0])
    found = [Continuation(1, 3, 3, (15, 16)), Continuation(2, 4, 2, (16,))]
    fits = deletion_fits(WORD_FITS, written, found, [np.array([2.0, 1.0]), np.array([3.0])])
    # "year ends" cost 5 bits after "Prior" and 3 without it; "ends" 1 bit after "year" and 3 without it.
    assert DELETION_WEIGHT == 0.5
    np.testing.assert_allclose(fits, [-6.0 - 0.5 * 2.0, -3.0 + 0.5 * 2.0])
    assert deletion_fits(WORD_FITS, written, [], []).size == 0


def test_a_deletion_read_from_the_cache_matches_scoring_the_text_without_the_word(tiny_language_model, reference) -> None:
    text = "The council approved the budget on Tuesday."
    scorer = LanguageModelScorer(tiny_language_model, reference.unigram)
    encoder = tiny_language_model.encoder
    ((ids, offsets),) = encoder.encode_with_offsets([text])
    word = text.index(" approved")
    first = [start for start, _ in offsets].index(word)
    after = [start for start, _ in offsets].index(word + len(" approved"))
    deleted = text[:word] + text[word + len(" approved") :]
    ((deleted_ids, _),) = encoder.encode_with_offsets([deleted])
    assert deleted_ids == [*ids[:first], *ids[after:]]  # the same tokens around the word
    ((_, _, cache),) = list(scorer._batch_statistics(encoder.encode_with_offsets([text])))
    (bits,) = scorer._continuation_surprisal(cache, [(0, Continuation(0, first, len(ids) - first, tuple(ids[after:])))])
    (whole,) = scorer.token_statistics([deleted])
    np.testing.assert_allclose(bits, whole.surprisal[first:], rtol=1e-4, atol=1e-4)


def test_with_the_deletion_test_scoring_reads_the_worst_fitting_words_again_and_appends_their_lowest_fits(
    tiny_language_model, reference
) -> None:
    scorer = LanguageModelScorer(tiny_language_model, reference.unigram, deletion_test=True)
    texts = ["The minister took office after the vote, and the council met again in the spring.", "Qxz 1234."]
    scored = scorer._scored(texts)
    fits = scored[0].deletion_fits
    assert 0 < fits.size <= DELETED_WORDS and np.all(np.isfinite(fits))
    assert scored[1].deletion_fits.size == 0  # no word the unigram model knows
    assert all(text.deletion_fits.size == 0 for text in scorer._scored(texts, rescore=False))
    assert scorer.feature_names == LM_FEATURE_NAMES + DELETION_FEATURE_NAMES
    features = scorer.score(texts)
    assert features.shape == (2, len(LM_FEATURE_NAMES) + len(DELETION_FEATURE_NAMES))
    named = dict(zip(scorer.feature_names, features[0], strict=True))
    assert (named["lm_deletion_fit_min"], named["lm_deletion_fit_second_min"]) == pytest.approx(lowest_two(fits))
    # The other features are those of a scorer without the test, and so is the first pass's cache of them.
    without = LanguageModelScorer(tiny_language_model, reference.unigram)
    np.testing.assert_allclose(features[:, : len(LM_FEATURE_NAMES)], without.score(texts), rtol=1e-5, atol=1e-5)
    assert without.cache_key != scorer.cache_key


def test_without_the_deletion_test_no_word_is_read_again_without_itself(tiny_language_model, reference) -> None:
    scorer = LanguageModelScorer(tiny_language_model, reference.unigram)
    text = "The minister took office after the vote, and the council met again in the spring."
    assert scorer.feature_names == LM_FEATURE_NAMES and not set(DELETION_FEATURE_NAMES) & set(LM_FEATURE_NAMES)
    assert scorer._scored([text])[0].deletion_fits.size == 0
    assert scorer.score([text]).shape == (1, len(LM_FEATURE_NAMES))


def test_a_config_with_the_deletion_test_builds_a_language_model_family_with_it_and_the_card_names_it(
    reference, tiny_model_dir
) -> None:
    config = load_config(ROOT / "configs" / "test.yaml")
    with_test = config.model_copy(update={"features": config.features.model_copy(update={"deletion_test": True})})
    scorer = build_extractor(with_test, reference).family(LanguageModelScorer)
    assert scorer.deletion_test and scorer.feature_names[-len(DELETION_FEATURE_NAMES) :] == DELETION_FEATURE_NAMES
    assert not build_extractor(config, reference).family(LanguageModelScorer).deletion_test
    model = TrainedModel.load(tiny_model_dir)
    assert "deletion test" not in model_card(model)
    assert "deletion test" in model_card(replace(model, config=with_test))


def test_the_cascade_fast_model_of_a_deletion_test_config_is_a_valid_config() -> None:
    from spindetect.config import SpindetectConfig
    from spindetect.train import fast_model_config

    config = load_config(ROOT / "configs" / "default.yaml")
    with_test = config.model_copy(update={"features": config.features.model_copy(update={"deletion_test": True})})
    fast = fast_model_config(with_test)
    # model_copy does not validate: the fast config is checked only when the model is saved or loaded.
    reloaded = SpindetectConfig.model_validate(fast.model_dump())
    assert not reloaded.features.language_model and not reloaded.features.deletion_test
