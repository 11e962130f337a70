from pathlib import Path

import pytest

from spindetect.features.resources import NGramReference
from spindetect.features.tortured import (
    UNCERTAIN_STRENGTH,
    LexiconFormatError,
    TorturedPhraseLexicon,
    split_lexicon,
)

DATA_ROWS = 4729

# Made-up garblings of generic scientific terms.
LEXICON = TorturedPhraseLexicon.from_pairs(
    [
        ("gentle tally", "soft count"),
        ("haze calculation", "cloud computation"),
        ("quiet pattern", "silent mode (?)"),
        ("wobbly sieve", "adaptive filter"),
        ("wobbly sieve bank", "adaptive filter bank"),
        ("sieve bank blueprint", "filter bank design"),
        ("sample-heap", "data set"),
        ("Fourier’s tally", "Fourier's count"),
        ("mended box", "Kalman box"),
        ("shiny tally", "bright patch"),
        ("twisty", "curly"),
        ("twisty loop", "curly loop"),
        ("loop chain shackle", "loop chain link"),
    ]
)


def found(text: str, lexicon: TorturedPhraseLexicon = LEXICON) -> list[tuple[str, str | None]]:
    return [(span.text, span.suggestion) for span in lexicon.find(text)]


def test_matching_ignores_case_and_keeps_the_texts_case() -> None:
    text = "We compute a Gentle TALLY of events."
    (span,) = LEXICON.find(text)
    assert span.text == "Gentle TALLY"
    assert text[span.start : span.end] == span.text
    assert span.suggestion == "soft count"
    assert span.reason == "tortured_phrase"
    assert span.strength == 1.0


def test_suggestion_keeps_the_lexicons_capitals() -> None:
    assert found("a MENDED BOX") == [("MENDED BOX", "Kalman box")]


def test_only_whole_words_match() -> None:
    assert found("ungentle tally") == []
    assert found("gentle tallying") == []
    assert found("the gentle tallyho") == []
    assert found("gentle tally.") == [("gentle tally", "soft count")]


def test_any_whitespace_run_between_words_matches() -> None:
    text = "a haze \t calculation and a gentle\ntally and a gentle\n\n  tally"
    assert found(text) == [
        ("haze \t calculation", "cloud computation"),
        ("gentle\ntally", "soft count"),
        ("gentle\n\n  tally", "soft count"),
    ]


def test_punctuation_between_words_breaks_a_match() -> None:
    assert found("gentle, tally") == []
    assert found("gentle. Tally") == []


def test_hyphen_and_space_match_each_other() -> None:
    assert found("the gentle-tally rule") == [("gentle-tally", "soft count")]
    assert found("a sample heap") == [("sample heap", "data set")]
    assert found("a sample-heap") == [("sample-heap", "data set")]
    assert found("a sampleheap") == []


def test_plural_of_the_last_word_matches_with_a_plural_suggestion() -> None:
    assert found("two gentle tallies") == []  # only the simple "-s" / "-es" plurals
    assert found("several gentle tallys") == [("gentle tallys", "soft counts")]
    assert found("two mended boxes") == [("mended boxes", "Kalman boxes")]
    assert found("the wobbly sieves") == [("wobbly sieves", "adaptive filters")]
    assert found("many shiny tallies") == []


def test_plural_suggestion_already_ending_in_s_is_left_alone() -> None:
    lexicon = TorturedPhraseLexicon.from_pairs([("loud process", "noisy process"), ("rough gauge", "metrics")])
    assert found("rough gauges", lexicon) == [("rough gauges", "metrics")]
    # The simple rule cannot tell "process" from a plural, so it leaves it alone too.
    assert found("loud processes", lexicon) == [("loud processes", "noisy process")]


def test_plural_suggestion_skips_trailing_notes_and_spells_y_as_ies() -> None:
    lexicon = TorturedPhraseLexicon.from_pairs([("dim power", "low energy"), ("fast net", "rapid network (RN)")])
    assert found("dim powers", lexicon) == [("dim powers", "low energies")]
    assert found("fast nets", lexicon) == [("fast nets", "rapid networks (RN)")]


def test_plural_only_applies_to_the_last_word() -> None:
    assert found("wobblys sieve") == []


def test_curly_apostrophes_match_straight_ones() -> None:
    assert found("Fourier's tally") == [("Fourier's tally", "Fourier's count")]
    assert found("Fourier’s tally") == [("Fourier’s tally", "Fourier's count")]


def test_overlapping_matches_keep_the_longest() -> None:
    assert found("a wobbly sieve bank") == [("wobbly sieve bank", "adaptive filter bank")]
    # "sieve bank blueprint" is longer than "wobbly sieve bank", though it starts later.
    assert found("a wobbly sieve bank blueprint") == [("sieve bank blueprint", "filter bank design")]
    # "twisty loop" overlaps the longer match and is dropped ("twisty" alone is one word: never looked for).
    assert found("a twisty loop chain shackle") == [("loop chain shackle", "loop chain link")]


def test_one_word_entries_and_parts_of_the_expected_term_are_kept_but_not_looked_for() -> None:
    lexicon = TorturedPhraseLexicon.from_pairs([("twisty", "curly"), ("sieve bank", "adaptive sieve bank")])
    assert len(lexicon) == 2
    assert lexicon.find("a twisty road and an adaptive sieve bank") == []


def test_phrases_of_ordinary_english_are_kept_but_not_looked_for(reference: NGramReference) -> None:
    pairs = (("search engine", "machine learning"), ("wobbly sieve", "adaptive filter"))
    assert reference.knows_sequence(("search", "engine")) and not reference.knows_sequence(("wobbly", "sieve"))
    assert not reference.knows_sequence(("search",))  # one word is no sequence
    lexicon = TorturedPhraseLexicon(pairs, common_english=reference.knows_sequence)
    assert len(lexicon) == 2
    assert found("a search engine and a wobbly sieve", lexicon) == [("wobbly sieve", "adaptive filter")]
    assert found("a search engine", TorturedPhraseLexicon(pairs)) == [("search engine", "machine learning")]


def test_matches_come_in_text_order_without_overlap() -> None:
    text = "Haze calculation, then a wobbly sieve, then a GENTLE tally."
    spans = LEXICON.find(text)
    assert [span.text for span in spans] == ["Haze calculation", "wobbly sieve", "GENTLE tally"]
    for span in spans:
        assert text[span.start : span.end] == span.text
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:]))


def test_offsets_are_exact_after_characters_that_change_when_lowercased() -> None:
    text = "İİ gentle tally"
    (span,) = LEXICON.find(text)
    assert text[span.start : span.end] == "gentle tally"


def test_uncertain_suggestions_are_weaker_and_lose_their_mark() -> None:
    (span,) = LEXICON.find("in quiet pattern")
    assert span.strength == UNCERTAIN_STRENGTH < 1.0
    assert span.suggestion == "silent mode"


def test_text_without_listed_phrases_gives_nothing() -> None:
    assert LEXICON.find("") == []
    assert LEXICON.find("A tally of gentle haze.") == []


def test_lexicon_keeps_its_pairs() -> None:
    assert len(LEXICON) == 13
    assert LEXICON.pairs[0] == ("gentle tally", "soft count")


def test_packaged_lexicon_loads_every_row() -> None:
    lexicon = TorturedPhraseLexicon.load()
    assert len(lexicon) == DATA_ROWS
    assert len(lexicon.pairs) == DATA_ROWS
    tortured, expected = lexicon.pairs[0]
    assert lexicon.find(f"We report the {tortured} here.")


def test_loading_a_file_path(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.tsv"
    path.write_text("tortured\texpected\ngentle tally\tsoft count\n", encoding="utf-8")
    assert TorturedPhraseLexicon.load(path).pairs == (("gentle tally", "soft count"),)


def test_malformed_line_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.tsv"
    path.write_text("tortured\texpected\ngentle tally\tsoft count\nhaze calculation cloud computation\n")
    with pytest.raises(LexiconFormatError, match=r"lexicon\.tsv, line 3: expected 2 tab-separated fields") as error:
        TorturedPhraseLexicon.load(path)
    assert error.value.line == 3


def test_missing_header_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.tsv"
    path.write_text("gentle tally\tsoft count\n")
    with pytest.raises(LexiconFormatError, match=r"lexicon\.tsv, line 1: expected the header"):
        TorturedPhraseLexicon.load(path)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere.tsv"):
        TorturedPhraseLexicon.load(tmp_path / "nowhere.tsv")


def _grouped_lexicon() -> TorturedPhraseLexicon:
    pairs = [(f"odd alpha{n} term", f"standard alpha{n} term") for n in range(40)]
    # Variants: the same expected phrase, a plural, and a tortured phrase inside a longer one.
    pairs += [
        ("strange alpha1 term", "standard alpha1 term"),
        ("odd alpha2 terms", "standard alpha2 terms"),
        ("big odd alpha3 term", "large standard alpha3 term"),
    ]
    return TorturedPhraseLexicon.from_pairs(pairs)


def test_split_is_deterministic_and_disjoint() -> None:
    lexicon = _grouped_lexicon()
    detection, held_out = split_lexicon(lexicon, held_out_fraction=0.25, seed=7)
    again = split_lexicon(lexicon, held_out_fraction=0.25, seed=7)
    assert (detection.pairs, held_out.pairs) == (again[0].pairs, again[1].pairs)
    assert not set(detection.pairs) & set(held_out.pairs)
    assert sorted(detection.pairs + held_out.pairs) == sorted(lexicon.pairs)
    assert 0.2 <= len(held_out) / len(lexicon) <= 0.35
    other_seed = split_lexicon(lexicon, held_out_fraction=0.25, seed=8)[1]
    assert other_seed.pairs != held_out.pairs


def test_split_keeps_variants_together() -> None:
    lexicon = _grouped_lexicon()
    for seed in range(10):
        detection, held_out = split_lexicon(lexicon, held_out_fraction=0.5, seed=seed)
        for variants in (
            {("odd alpha1 term", "standard alpha1 term"), ("strange alpha1 term", "standard alpha1 term")},
            {("odd alpha2 term", "standard alpha2 term"), ("odd alpha2 terms", "standard alpha2 terms")},
            {("odd alpha3 term", "standard alpha3 term"), ("big odd alpha3 term", "large standard alpha3 term")},
        ):
            assert variants <= set(detection.pairs) or variants <= set(held_out.pairs)
        # Nothing held out is caught by the detection part.
        for tortured, _ in held_out.pairs:
            assert detection.find(tortured) == []


def test_packaged_split_holds_out_about_the_asked_share() -> None:
    detection, held_out = split_lexicon(TorturedPhraseLexicon.load(), held_out_fraction=0.2, seed=13)
    assert len(detection) + len(held_out) == DATA_ROWS
    assert abs(len(held_out) / DATA_ROWS - 0.2) < 0.02


def test_split_rejects_a_fraction_outside_zero_to_one() -> None:
    with pytest.raises(ValueError, match="held_out_fraction"):
        split_lexicon(LEXICON, held_out_fraction=1.5, seed=0)
