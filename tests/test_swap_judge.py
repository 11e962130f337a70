import math
from pathlib import Path

import numpy as np
import pytest

from spindetect.config import load_config
from spindetect.features.extractor import build_extractor
from spindetect.features.lexical import LexicalScorer
from spindetect.features.perplexity import LanguageModelScorer
from spindetect.features.spans import SUGGESTION_HINT, FlaggedSpan, shown_flags
from spindetect.features.swap import MAX_CANDIDATES, SwapTestResult
from spindetect.features.swap_judge import (
    JUDGED_CANDIDATES,
    TRIGRAM_WEIGHT,
    CandidateProbes,
    CandidateTokens,
    candidate_probes,
    combined_suggestions,
    evidence_flags,
    lm_candidate_gains,
    span_bits,
)

# "It was. Prior year" as a byte-pair tokenizer splits it: each token carries the space before its word.
TEXT = "It was. Prior year"
OFFSETS = np.array([(0, 2), (2, 6), (6, 7), (7, 13), (13, 18)])
TOKEN_IDS = {" Past": 101, " year": 102, " Earlier": 103, " was": 104}


def test_probes_put_each_one_token_candidate_in_place_of_the_spans_first_token() -> None:
    swaps = [
        SwapTestResult(8, 13, "past", 1.0, -1.0, (("past", 1.0), ("earlier", 0.2), ("in the past", 0.5), ("former", 0.1))),
        SwapTestResult(0, 2, "this", 0.0, 0.0, (("this", 0.0),)),  # the first token: predicted from nothing
        SwapTestResult(3, 6, "is", 0.0, 0.0, (("was", 0.3),)),
    ]
    probes = candidate_probes(TEXT, OFFSETS, swaps, CandidateTokens(TOKEN_IDS.get).one_token)
    # Capitalised like the span; "in the past" and "former" are not one token.
    # (span, candidate position, token, token id): "past" and "earlier" for the first span, "was" for the third.
    assert list(zip(probes.swaps, probes.candidates, probes.tokens, probes.token_ids)) == [(0, 0, 3, 101), (0, 1, 3, 103), (2, 0, 1, 104)]
    assert candidate_probes(TEXT, np.zeros((0, 2), dtype=int), swaps, CandidateTokens(TOKEN_IDS.get).one_token).tokens.size == 0


def test_span_bits_sum_the_tokens_from_the_spans_first_to_its_last() -> None:
    surprisal = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert span_bits(surprisal, OFFSETS, 8, 18) == 4.0 + 5.0
    assert span_bits(surprisal, OFFSETS, 3, 6) == 2.0


def test_the_combined_gain_adds_the_language_models_gain_to_the_weighted_trigram_gain() -> None:
    swaps = [
        SwapTestResult(8, 13, "earlier", 1.0, -1.0, (("past", 0.2), ("earlier", 1.0))),
        SwapTestResult(14, 18, "day", 0.5, 0.0, (("day", 0.5),)),
    ]
    probes = CandidateProbes(np.array([0, 0]), np.array([0, 1]), np.array([3, 3]), np.array([101, 103]))
    surprisal = np.array([1.0, 2.0, 3.0, 10.0, 5.0])  # " Prior" costs 10 bits
    # The model finds " Past" 8 bits likelier than " Prior" and " Earlier" 2 bits less likely.
    written_bits = np.array([span_bits(surprisal, OFFSETS, swap.start, swap.end) for swap in swaps])
    best = combined_suggestions(swaps, probes, np.array([2.0, 12.0]), written_bits)
    assert best[0][0] == "past"
    assert best[0][1] == pytest.approx(TRIGRAM_WEIGHT * 0.2 + 8.0 / math.log2(10.0))
    assert best[1] is None  # no candidate the model could judge
    no_probes = CandidateProbes(*(np.zeros(0, dtype=np.int64) for _ in range(4)))
    assert combined_suggestions(swaps, no_probes, np.zeros(0), written_bits) == [None, None]

    # The language model's own gain: its likeliest candidate against the span as written, trigram aside.
    gains = lm_candidate_gains(probes, np.array([2.0, 12.0]), written_bits)
    assert gains[0] == pytest.approx(8.0 / math.log2(10.0)) and np.isnan(gains[1])
    assert np.isnan(lm_candidate_gains(no_probes, np.zeros(0), written_bits)).all()


def test_likely_replacements_are_flagged_and_weaker_spans_lend_their_suggestion() -> None:
    text = "ran the bureau in a vast sway, went abode"
    swaps = [
        SwapTestResult(8, 14, "desk", 0.5, -2.0),
        SwapTestResult(20, 24, "huge", 0.2, -1.0),
        SwapTestResult(25, 29, "pull", 0.5, -1.0),
        SwapTestResult(36, 41, "home", 1.0, -1.0),
    ]
    replaced = np.array([0.65, 0.2, 0.1, 0.2])  # the probability of each span that it was replaced
    evidence = np.array([2.0, 2.0, 7.0, 3.0])
    flags = evidence_flags(text, swaps, replaced, [("office", 2.5), ("huge", 1.5), None, ("home", 6.0)], evidence)
    assert flags == [
        FlaggedSpan(8, 14, "bureau", "swap_evidence", 0.65, "office"),  # likely replaced
        FlaggedSpan(20, 24, "vast", SUGGESTION_HINT, 0.3, "huge"),
        # Strong evidence; the trigram's candidate is too weak to name.
        FlaggedSpan(25, 29, "sway", "swap_evidence", 0.7, None),
        # Unlikely by the span model, but both references prefer the same candidate by far.
        FlaggedSpan(36, 41, "abode", "swap_evidence", 0.75, "home"),
    ]
    assert all(type(flag.strength) is float for flag in flags)  # plain floats, whatever the inputs' types


def test_probes_measure_what_the_model_would_have_said_of_another_token(tiny_language_model, reference) -> None:
    texts = ["The council approved the budget on Tuesday.", "Officials said the work would begin in spring."]
    encoded = tiny_language_model.encoder.encode_with_offsets(texts)
    # Probing a token with its own id gives its surprisal; with another id, that id's.
    probes = [(np.array([1, 5, 5]), np.array([encoded[0][0][1], encoded[0][0][5], 70])), (np.array([3]), np.array([encoded[1][0][3]]))]
    chunked = LanguageModelScorer(tiny_language_model, reference.unigram, batch_tokens=40, logits_chunk_rows=3)
    whole = LanguageModelScorer(tiny_language_model, reference.unigram, batch_tokens=10_000, logits_chunk_rows=10_000)
    first, second = chunked._statistics(encoded, None, probes)
    np.testing.assert_allclose(first.probe_surprisal[:2], first.surprisal[[1, 5]], rtol=1e-5)
    np.testing.assert_allclose(second.probe_surprisal, second.surprisal[[3]], rtol=1e-5)
    assert first.probe_surprisal[2] != pytest.approx(first.probe_surprisal[1])
    for a, b in zip(whole._statistics(encoded, None, probes), (first, second), strict=True):
        np.testing.assert_allclose(a.probe_surprisal, b.probe_surprisal, rtol=1e-4, atol=1e-4)


def test_paragraphs_judged_clean_show_only_conclusive_flags_and_lexicon_matches() -> None:
    weak = FlaggedSpan(0, 4, "vast", "unexpected_word", 0.5)
    conclusive = FlaggedSpan(10, 16, "bureau", "swap_evidence", 0.95, "office")
    listed = FlaggedSpan(30, 54, "counterfeit consciousness", "tortured_phrase", 0.7, "artificial intelligence")
    assert shown_flags([weak, conclusive, listed], judged_spun=True) == [weak, conclusive, listed]
    assert shown_flags([weak, conclusive, listed], judged_spun=False) == [conclusive, listed]


def test_the_judge_weighs_more_candidates_than_the_lexical_family_and_shares_their_lookup(reference) -> None:
    configs = Path(__file__).resolve().parents[1] / "configs"
    both = build_extractor(load_config(configs / "test.yaml"), reference)
    lexical, judge = both.family(LexicalScorer), both.family(LanguageModelScorer)
    assert (lexical.swap_test.max_candidates, judge.swap_test.max_candidates) == (MAX_CANDIDATES, JUDGED_CANDIDATES)
    assert lexical.swap_test._candidates is judge.swap_test._candidates
    alone = build_extractor(load_config(configs / "fast.yaml"), reference).family(LexicalScorer)
    assert alone.swap_test.max_candidates == MAX_CANDIDATES
