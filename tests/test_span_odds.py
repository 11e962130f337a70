"""The span models: how likely each tested span is to be a spinner's replacement."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spindetect.features.perplexity import LM_FEATURE_NAMES, LanguageModelScorer
from spindetect.features.resources import NGramReference
from spindetect.features.span_odds import (
    LANGUAGE_MODEL_SPAN_INPUTS,
    LEXICAL_SPAN_INPUTS,
    SpanOdds,
    SpanOddsWeights,
    lexical_span_inputs,
    two_most_likely,
)
from spindetect.features.swap import SynonymSwapTest
from spindetect.features.thesaurus import MobyThesaurus

# "part" -> "piece": a sense-blind swap of the kind the training spinner makes (an everyday synonym).
SPUN = "The mayor said the city would build a new school in the northern piece of town."


@pytest.fixture(scope="module")
def swap_test(reference: NGramReference) -> SynonymSwapTest:
    return SynonymSwapTest(reference, MobyThesaurus.load())


def test_probability_is_logistic_on_standardised_inputs() -> None:
    odds = SpanOdds(("a", "b"), np.array([1.0, 0.0]), np.array([2.0, 1.0]), np.array([1.0, -1.0]), 0.5)
    # ((3 - 1) / 2) * 1 + ((1 - 0) / 1) * -1 + 0.5 = 0.5
    assert odds.probability(np.array([[3.0, 1.0]]))[0] == pytest.approx(1 / (1 + math.exp(-0.5)))
    assert odds.probability(np.zeros((0, 2))).shape == (0,)
    assert SpanOdds.unfitted(("a", "b")).probability(np.array([[5.0, -3.0]]))[0] == 0.5


def test_weights_round_trip_through_json_and_refuse_other_inputs() -> None:
    odds = SpanOdds(("a", "b"), np.array([1.0, 0.0]), np.array([2.0, 1.0]), np.array([1.0, -1.0]), 0.5)
    again = SpanOdds.from_json(odds.to_json() | {"held_out_roc_auc": 0.9}, ("a", "b"))
    assert again.fingerprint == odds.fingerprint
    np.testing.assert_array_equal(again.coefficients, odds.coefficients)
    changed = SpanOdds.from_json(odds.to_json() | {"intercept": 0.6}, ("a", "b"))
    assert changed.fingerprint != odds.fingerprint  # so features cached under the old weights are recomputed
    with pytest.raises(ValueError, match="fit_span_odds"):
        SpanOdds.from_json(odds.to_json(), ("a", "c"))
    with pytest.raises(ValueError, match="one value per input"):
        SpanOdds.from_json(odds.to_json() | {"mean": [1.0]}, ("a", "b"))


def test_the_packaged_weights_fit_the_inputs_the_code_computes() -> None:
    weights = SpanOddsWeights.load()
    assert weights.lexical.inputs == LEXICAL_SPAN_INPUTS
    assert weights.language_model.inputs == LANGUAGE_MODEL_SPAN_INPUTS
    assert LANGUAGE_MODEL_SPAN_INPUTS[: len(LEXICAL_SPAN_INPUTS)] == LEXICAL_SPAN_INPUTS


def test_lexical_span_inputs_describe_each_tested_span(swap_test: SynonymSwapTest, reference: NGramReference) -> None:
    swaps = swap_test.test(SPUN)
    inputs = lexical_span_inputs(SPUN, swaps, reference.unigram)
    assert inputs.shape == (len(swaps), len(LEXICAL_SPAN_INPUTS))
    piece = next(i for i, swap in enumerate(swaps) if SPUN[swap.start : swap.end] == "piece")
    column = dict(zip(LEXICAL_SPAN_INPUTS, inputs[piece], strict=True))
    assert column["trigram_gain"] == swaps[piece].gain and column["window_fit"] == swaps[piece].fit
    assert column["words"] == 1 and column["log10_frequency"] == reference.unigram("piece")
    assert column["log_candidates"] == pytest.approx(math.log1p(len(swaps[piece].candidates)))
    assert lexical_span_inputs(SPUN, [], reference.unigram).shape == (0, len(LEXICAL_SPAN_INPUTS))


def test_the_lexical_span_model_finds_the_swapped_word(swap_test: SynonymSwapTest, reference: NGramReference) -> None:
    odds = SpanOddsWeights.load().lexical

    def probability_of(text: str, word: str) -> tuple[float, float]:
        swaps = swap_test.test(text)
        probabilities = odds.probability(lexical_span_inputs(text, swaps, reference.unigram))
        at_word = next(p for p, swap in zip(probabilities, swaps, strict=True) if text[swap.start : swap.end] == word)
        return float(at_word), float(probabilities.max())

    spun_word, spun_max = probability_of(SPUN, "piece")
    assert spun_word == spun_max  # the likeliest replacement of the sentence
    clean_word, _ = probability_of(SPUN.replace("piece", "part"), "part")
    assert clean_word < spun_word / 2


def test_two_most_likely_reads_no_span_as_no_evidence() -> None:
    assert two_most_likely(np.array([0.2, 0.7, 0.4])) == (0.7, 0.4)
    assert two_most_likely(np.array([0.3])) == (0.3, 0.0)
    assert two_most_likely(np.zeros(0)) == (0.0, 0.0)


def test_language_model_span_inputs_line_up_with_the_swap_test(tiny_language_model, reference, swap_test) -> None:
    texts = [SPUN, "Officials said the talks went well on Monday and would go on in spring.", "Hi."]
    scorer = LanguageModelScorer(tiny_language_model, reference.unigram, swap_test=swap_test)
    inputs = scorer.span_inputs(texts)
    features = scorer.score(texts)
    for text, text_inputs, row in zip(texts, inputs, features, strict=True):
        assert text_inputs.shape == (len(swap_test.test(text)), len(LANGUAGE_MODEL_SPAN_INPUTS))
        column = {name: text_inputs[:, i] for i, name in enumerate(LANGUAGE_MODEL_SPAN_INPUTS)}
        assert set(np.unique(column["lm_judged"])) <= {0.0, 1.0}
        assert np.all(column["lm_candidate_gain"][column["lm_judged"] == 0] == 0.0)
        assert np.all(column["combined_gain"][column["lm_judged"] == 0] == 0.0)
        assert np.all(column["span_bits"] >= 0.0)
        expected = two_most_likely(scorer.span_odds.probability(text_inputs))
        named = dict(zip(LM_FEATURE_NAMES, row, strict=True))
        assert (named["lm_span_replaced_max"], named["lm_span_replaced_second"]) == pytest.approx(expected)
    # (The tiny model's tokens are bytes: no candidate is one token, so none is judged; the real model's are.)
    assert inputs[0].shape[0] > 0 and inputs[0][:, LANGUAGE_MODEL_SPAN_INPUTS.index("span_bits")].min() > 0.0
    assert inputs[2].shape == (0, len(LANGUAGE_MODEL_SPAN_INPUTS))
