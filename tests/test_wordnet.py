"""The WordNet thesaurus of the second spinner (`spindetect.synth.wordnet`), on a made-up database in
WordNet's file format (tests/data/wordnet)."""

import random
from pathlib import Path

import pytest

from spindetect.errors import ResourceUnavailable
from spindetect.synth.spinner import ThesaurusSpinner
from spindetect.synth.wordnet import WORDNET_ENV, WordNetThesaurus, locate_wordnet
from tests.conftest import WORDNET_SAMPLE



def test_synonyms_are_every_senses_lemmas_in_sense_order_without_the_word_itself() -> None:
    wordnet = WordNetThesaurus.load(WORDNET_SAMPLE)
    # "office" is in two synsets: its first sense's lemmas come first, multiword lemmas with spaces.
    assert wordnet.synonyms("office") == ("business office", "function", "role")
    assert wordnet.synonyms("Office") == wordnet.synonyms("office") and "office" in wordnet
    assert wordnet.synonyms("late") == ("belated",)  # the adjective marker "(a)" is not part of the word
    assert wordnet.synonyms("describe") == () and "describe" not in wordnet  # no index line of its own


def test_a_missing_database_names_the_package_and_the_setting() -> None:
    with pytest.raises(ResourceUnavailable, match="apt-get install wordnet-base") as error:
        WordNetThesaurus.load(Path("/nonexistent/wordnet"))
    assert "index.noun" in str(error.value) and "data.wordnet_spin.enabled: false" in str(error.value)


def test_the_environment_variable_names_the_database(monkeypatch) -> None:
    monkeypatch.setenv(WORDNET_ENV, str(WORDNET_SAMPLE))
    assert locate_wordnet() == WORDNET_SAMPLE
    monkeypatch.setenv(WORDNET_ENV, "/nonexistent/wordnet")
    with pytest.raises(ResourceUnavailable, match=r"\$SPINDETECT_WORDNET"):
        locate_wordnet()


def test_the_thesaurus_spinner_spins_with_wordnet() -> None:
    spinner = ThesaurusSpinner(WordNetThesaurus.load(WORDNET_SAMPLE), 1.0)
    spun = spinner.spin("The office was late with the report.", random.Random(3))
    # Every word WordNet has synonyms for is swapped for one of them (inflected as the original).
    assert spun.replaced == spun.candidates == 3
    office, late, report = (original for _, _, original in spun.spans)
    replaced = [spun.text[start:end] for start, end, _ in spun.spans]
    assert (office, late, report) == ("office", "late", "report")
    assert replaced[0] in {"business office", "function", "role"} and replaced[1] == "belated" and replaced[2] == "describe"
