import numpy as np
import pytest

from spindetect.features.perplexity import LM_FEATURE_NAMES, LanguageModelScorer, paragraph_lm_features
from spindetect.features.rescoring import RESCORED_SPANS, Continuation, context_gains, continuations, rescored_spans
from spindetect.features.swap import SwapTestResult, SynonymSwapTest

# "It was. Prior year ends" as a byte-pair tokenizer splits it: each token carries the space before its word.
TEXT = "It was. Prior year ends"
TOKENS = [11, 12, 13, 14, 15, 16]
OFFSETS = np.array([(0, 2), (2, 6), (6, 7), (7, 13), (13, 18), (18, 23)])
PIECES = {" Past": [101], " Earlier": [102, 103], " is": [104]}


def swap(start: int, end: int) -> SwapTestResult:
    return SwapTestResult(start, end, "", 0.0, 0.0)


def test_the_likeliest_replacements_are_read_again_with_the_candidate_both_references_prefer() -> None:
    probabilities = np.array([0.9, 0.2, 0.95, 0.5, 0.7])
    swaps = [SwapTestResult(0, 1, f"trigram {index}", 0.0, 0.0) for index in range(5)]
    suggestions = [("a", 1.0), ("b", 1.0), None, ("d", 1.0), ("e", 1.0)]
    # The language model could judge no candidate of the likeliest: the trigram test's best stands in.
    assert rescored_spans(probabilities, swaps, suggestions, 3) == [(2, "trigram 2"), (0, "a"), (4, "e")]


def test_a_continuation_puts_the_candidate_in_place_and_keeps_the_tokens_to_the_end_of_the_sentence() -> None:
    swaps = [swap(8, 13), swap(3, 6), swap(9, 13), swap(0, 2)]
    chosen = [(0, "past"), (1, "is"), (2, "earlier"), (3, "this")]
    found = continuations(TEXT, TOKENS, OFFSETS, swaps, chosen, [7, 23], lambda piece: PIECES[piece])
    # "Prior" (capitalised, so "Past") is token 3 with the space before it; " year" and " ends" follow to the end.
    # After "was" only the full stop is left of its sentence. The third span starts inside a token, the fourth at
    # the text's first token (predicted from nothing): neither is read again.
    assert found == [Continuation(0, 3, 3, (101, 15, 16)), Continuation(1, 1, 2, (104, 13))]
    # At most `following` tokens after the span.
    (capped,) = continuations(TEXT, TOKENS, OFFSETS, swaps[:1], chosen[:1], [23], lambda piece: PIECES[piece], following=1)
    assert capped == Continuation(0, 3, 2, (101, 15))


def test_the_context_gain_compares_the_written_tokens_with_the_continuation() -> None:
    written = np.array([1.0, 2.0, 3.0, 9.0, 4.0, 1.0])
    found = [Continuation(0, 3, 3, (101, 15, 16)), Continuation(5, 1, 1, (104,))]
    gains = context_gains(written, found, [np.array([2.0, 1.0, 1.0]), np.array([2.0])])
    assert gains == pytest.approx({0: (14.0 - 4.0) / np.log2(10), 5: 0.0})


def test_continuations_read_from_the_cache_match_scoring_the_whole_variant(tiny_language_model, reference) -> None:
    """The second pass reuses the batch's keys and values: its surprisal must be what scoring the text with the
    candidate in place gives, token for token, whatever the prefix lengths and padding in the batch."""
    texts = ["The council approved the budget on Tuesday.", "Officials said the work would begin in spring."]
    scorer = LanguageModelScorer(tiny_language_model, reference.unigram, batch_tokens=10_000, logits_chunk_rows=7)
    encoder = tiny_language_model.encoder
    encoded = encoder.encode_with_offsets(texts)
    # (text, first character replaced, characters replaced, replacement, characters after it kept)
    variants = [(0, 4, 7, "board", 12), (1, 0, 9, "Staff", 4), (1, 19, 4, "job", 10), (0, 24, 6, "plan", 3)]
    (batch, _, cache), = list(scorer._batch_statistics(encoded))
    requests = []
    for text_index, start, length, replacement, kept in variants:
        ids = encoded[text_index][0]
        continuation = Continuation(0, start, length + kept, (*encoder.encode([replacement])[0], *ids[start + length : start + length + kept]))
        requests.append((batch.index(text_index), continuation))
    read = scorer._continuation_surprisal(cache, requests)
    for (text_index, start, length, replacement, kept), bits in zip(variants, read, strict=True):
        text = texts[text_index]
        variant = text[:start] + replacement + text[start + length :]
        (whole,) = scorer.token_statistics([variant])
        np.testing.assert_allclose(bits, whole.surprisal[start : start + len(replacement) + kept], rtol=1e-4, atol=1e-4)


def test_the_context_gain_features_follow_the_order_of_the_likeliest_replacements(tiny_language_model, reference) -> None:
    (stats,) = LanguageModelScorer(tiny_language_model, reference.unigram).token_statistics(["The council met."])
    named = dict(zip(LM_FEATURE_NAMES, paragraph_lm_features(stats, rescored_gains=(-1.0, 2.5)), strict=True))
    assert [named[f"lm_context_gain_{which}"] for which in ("max", "first", "second", "third")] == [2.5, -1.0, 2.5, 0.0]
    # No span read again: no evidence either way.
    named = dict(zip(LM_FEATURE_NAMES, paragraph_lm_features(stats), strict=True))
    assert [named[f"lm_context_gain_{which}"] for which in ("max", "first", "second", "third")] == [0.0] * 4


def test_scoring_reads_the_likeliest_replacements_again(tiny_language_model, reference) -> None:
    scorer = LanguageModelScorer(tiny_language_model, reference.unigram, swap_test=SynonymSwapTest.load())
    texts = ["The minister took office after the vote, and the council met again in the spring.", "Qxz 1234."]
    scored = scorer._scored(texts)
    gains = scored[0].rescored_gains
    assert len(gains) == RESCORED_SPANS and all(np.isfinite(gains)) and any(gain != 0.0 for gain in gains)
    assert scored[1].rescored_gains == ()  # nothing the swap test tried
    assert [text.rescored_gains for text in scorer._scored(texts, rescore=False)] == [(), ()]
