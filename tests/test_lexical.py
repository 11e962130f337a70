"""The lexical family: synonym-swap test, function-word garble, and how flagged spans are merged."""

from __future__ import annotations

import re

import numpy as np
import pytest

from spindetect.features.garble import find_garble
from spindetect.features.lexical import LEXICAL_FEATURE_NAMES, LexicalScorer, likely_replacement_flags
from spindetect.features.resources import NGramReference
from spindetect.features.spans import SUGGESTION_HINT, FlaggedSpan, merge_flags, strongest_first
from spindetect.features.swap import SwapTestResult, SynonymSwapTest
from spindetect.features.thesaurus import MobyThesaurus
from spindetect.words import Inflector, inflect, inflected_readings


@pytest.fixture(scope="module")
def swap_test(reference: NGramReference) -> SynonymSwapTest:
    return SynonymSwapTest(reference, MobyThesaurus.load())


def _best(results, text: str, words: str):
    start = text.index(words)
    return max((r for r in results if r.start == start and r.end == start + len(words)), key=lambda r: r.gain)


def test_swap_test_prefers_the_word_a_thesaurus_swap_replaced(swap_test: SynonymSwapTest) -> None:
    # "court" -> "tribunal" is a sense-blind swap: a tribunal is a court, but nobody "will appear in tribunal",
    # and "court" fits the window far better.
    text = "Police said the man was arrested on Tuesday and will appear in tribunal next month."
    result = _best(swap_test.test(text), text, "tribunal")
    assert result.suggestion == "court"
    assert result.gain > 1.0
    assert max(result.candidates, key=lambda candidate: candidate[1]) == (result.suggestion, result.gain)
    clean = text.replace("tribunal", "court")
    clean_result = _best(swap_test.test(clean), clean, "court")
    assert clean_result.gain < result.gain


def test_swap_test_puts_candidates_back_into_the_words_form(swap_test: SynonymSwapTest) -> None:
    # Candidates for an inflected word come from its lemma's reverse entries, re-inflected like the word.
    candidates = swap_test._candidates(("stalled",))
    assert candidates, "a past-tense verb with Moby entries has candidates"
    words = {" ".join(candidate.words) for candidate in candidates}
    assert "stopped" in words  # "stop" lists "stall"; put into the past tense like "stalled"
    assert "stop" not in words and "stall" not in words


def test_swap_test_does_not_suggest_the_spans_own_word_in_the_other_spelling(swap_test: SynonymSwapTest) -> None:
    # "travel" lists "traveled" under a synonym of "travelled"; suggesting it would flag British spelling.
    words = {candidate.text for candidate in swap_test._candidates(("travelled",))}
    assert words, "a past-tense verb with Moby entries has candidates"
    assert "traveled" not in words


def test_the_memoised_inflector_agrees_with_lemminflect_looked_up_afresh() -> None:
    inflector = Inflector()
    for synonym, readings in [
        ("take", (("VERB", "VBD"),)),
        ("accede to", (("VERB", "VBZ"),)),
        ("branch office", (("NOUN", "NNS"),)),
        ("unmoving", (("VERB", "VBD"),)),
        ("quick", (("ADJ", "JJR"), ("VERB", "VBD"))),
    ]:
        for _ in range(2):  # the second call comes from the caches
            assert inflector.inflect(synonym, readings) == inflect(synonym, readings)
    assert inflector.inflect("take", (("VERB", "VBD"),)) == "took"
    assert inflector.readings("took") == inflected_readings("took")
    assert inflected_readings("took")["VERB"] == (("take", "VBD"),)
    assert "VERB" not in inflected_readings("take")  # a lemma is no inflected form of itself


def test_swap_test_skips_names_numbers_and_lone_function_words(swap_test: SynonymSwapTest) -> None:
    text = "Then Brown said that seven of the men left."
    tested = {text[r.start : r.end] for r in swap_test.test(text)}
    assert "Brown" not in tested
    assert "seven" not in tested
    assert "the" not in tested and "of" not in tested


def test_a_phrase_the_swap_test_tries_is_words_read_one_after_another(swap_test: SynonymSwapTest) -> None:
    # "in that" has candidates ("as"); written with a year or a comma between, it is no phrase.
    text = "He won in that year."
    assert "in that" in {text[r.start : r.end] for r in swap_test.test(text)}
    for text in ("He won in 1989 that year.", "He won in, that year.", "He won in (that) year."):
        tested = {text[r.start : r.end] for r in swap_test.test(text)}
        assert {"won", "year"} <= tested and not any(re.search(r"[^A-Za-z\s]", span) for span in tested), tested
    # A hyphen joins the words of a compound: "full-time" is tried as one span.
    text = "A full-time job."
    assert "full-time" in {text[r.start : r.end] for r in swap_test.test(text)}


def test_a_narrowed_swap_test_tries_the_same_spans_with_the_most_frequent_candidates(reference: NGramReference) -> None:
    wide = SynonymSwapTest(reference, MobyThesaurus.load(), max_candidates=60)
    narrow = wide.narrowed(10)
    text = "Police said the man was arrested on Tuesday and will appear in tribunal next month."
    wide_results, narrow_results = wide.test(text), narrow.test(text)
    assert [(r.start, r.end) for r in narrow_results] == [(r.start, r.end) for r in wide_results]
    assert any(len(r.candidates) > 10 for r in wide_results)
    for wide_result, narrow_result in zip(wide_results, narrow_results, strict=True):
        # The candidates come most frequent first, so the narrowed test weighs the wide one's first ten.
        assert narrow_result.candidates == wide_result.candidates[:10]
    with pytest.raises(ValueError, match="narrow"):
        wide.narrowed(61)


def test_swap_flags_carry_offsets_into_the_text_as_given(swap_test: SynonymSwapTest) -> None:
    text = "The minister’s office said the talks stalled in the capital’s tribunal prior month."
    flags = swap_test.flags(text)
    assert flags
    for span in flags:
        assert text[span.start : span.end] == span.text
        assert span.reason in {"synonym_swap", SUGGESTION_HINT}
        assert span.suggestion


def test_determiner_before_a_verb_is_garble(reference: NGramReference) -> None:
    text = "They met in the city, the went officials said."
    spans = find_garble(text, reference)
    assert [(s.text, s.reason) for s in spans] == [("the went", "determiner_before_verb")]
    assert find_garble("They met in the city, where officials said so.", reference) == []


def test_a_determiner_before_a_verb_form_that_is_english_is_not_garble(reference: NGramReference) -> None:
    # A participle before the rest of its noun phrase, a capitalised name or month, a hyphenated compound.
    for text in (
        "Customers sent back the returned goods.",
        "It had an inhibiting effect on growth.",
        "Voters rejected it in the May referendum.",
        "He showed the tell-tale signs of fatigue.",
    ):
        assert find_garble(text, reference) == [], text
    # A verb's plain form stays garble whatever follows it.
    spans = find_garble("The report says the put of the market fell.", reference)
    assert [(s.text, s.reason) for s in spans] == [("the put", "determiner_before_verb")]


def test_repeated_words_are_garble_only_where_english_does_not_repeat_them(reference: NGramReference) -> None:
    spans = find_garble("It helps every and every nation, officials officials say.", reference)
    assert [s.text for s in spans] == ["every and every", "officials officials"]
    # The reference model learned from speech, where "the the" is common: it is not flagged.
    assert find_garble("the the people", reference) == []
    assert find_garble("It grew more and more, side by side with the town.", reference) == []


def test_words_apart_or_inside_numbers_are_not_repeated(reference: NGramReference) -> None:
    assert [s.text for s in find_garble("The rate rate rose in condition or condition two.", reference)] == [
        "rate rate",
        "condition or condition",
    ]
    # A term and its gloss, an enumeration, the letters of ordinal numbers: not a repetition.
    text = "The rate (rate of return) rose in condition (1) or condition (2) in the 19th and 20th centuries."
    assert find_garble(text, reference) == []


def test_lexical_scorer_gives_one_row_per_text_and_flags_with_exact_offsets(reference: NGramReference) -> None:
    scorer = LexicalScorer.load(reference)
    texts = ["The man will appear in tribunal, the went officials said.", "Officials said the talks went well on Monday."]
    features, flags = scorer.score_and_flag(texts)
    assert features.shape == (2, len(LEXICAL_FEATURE_NAMES))
    assert np.isfinite(features).all()
    assert features[0, LEXICAL_FEATURE_NAMES.index("lx_garble_count")] > 0
    assert features[1, LEXICAL_FEATURE_NAMES.index("lx_garble_count")] == 0
    for text, spans in zip(texts, flags, strict=True):
        for span in spans:
            assert text[span.start : span.end] == span.text
    np.testing.assert_array_equal(scorer.score(texts), features)


def test_merge_lends_the_strongest_overlapping_hint_and_drops_hints() -> None:
    flagged = FlaggedSpan(10, 15, "prior", "unexpected_word", 0.6)
    weak_hint = FlaggedSpan(10, 15, "prior", SUGGESTION_HINT, 0.2, "earlier")
    strong_hint = FlaggedSpan(4, 15, "year prior", SUGGESTION_HINT, 0.5, "past")
    lone_hint = FlaggedSpan(30, 34, "vast", SUGGESTION_HINT, 0.9, "huge")
    merged = merge_flags([weak_hint, flagged, strong_hint, lone_hint])
    assert merged == [FlaggedSpan(10, 15, "prior", "unexpected_word", 0.6, "past")]


def test_a_flag_without_a_suggestion_takes_one_from_a_flag_over_the_same_words_only() -> None:
    strong = FlaggedSpan(10, 15, "prior", "replaced_word", 0.95)
    telling = FlaggedSpan(10, 15, "prior", "swap_evidence", 0.7, "past")
    wider = FlaggedSpan(4, 15, "year prior", "synonym_swap", 0.6, "last year")
    other = FlaggedSpan(30, 34, "vast", "replaced_word", 0.9)
    assert merge_flags([strong, telling, wider, other]) == [
        FlaggedSpan(10, 15, "prior", "replaced_word", 0.95, "past"),
        other,
    ]


def test_strongest_of_overlapping_spans_is_kept_in_text_order() -> None:
    a = FlaggedSpan(0, 7, "the ran", "determiner_before_verb", 0.5)
    b = FlaggedSpan(4, 7, "ran", "unexpected_word", 0.9)
    c = FlaggedSpan(20, 24, "vast", "synonym_swap", 0.4, "huge")
    assert strongest_first([c, a, b]) == [b, c]
    assert b.shifted(100) == FlaggedSpan(104, 107, "ran", "unexpected_word", 0.9)
    assert c.to_json() == {"start": 20, "end": 24, "text": "vast", "reason": "synonym_swap", "strength": 0.4, "suggestion": "huge"}


def test_likely_replacements_are_flagged_with_their_probability_as_strength() -> None:
    text = "ran the bureau in a vast sway"
    swaps = [
        SwapTestResult(8, 14, "office", 2.0, -1.0),
        SwapTestResult(20, 24, "huge", 0.5, -1.0),  # a weak candidate: no suggestion
        SwapTestResult(25, 29, "pull", 3.0, -1.0),
    ]
    flags = likely_replacement_flags(text, swaps, np.array([0.75, 0.6, 0.3]))
    assert flags == [
        FlaggedSpan(8, 14, "bureau", "synonym_swap", 0.75, "office"),
        FlaggedSpan(20, 24, "vast", "synonym_swap", 0.6, None),
    ]
