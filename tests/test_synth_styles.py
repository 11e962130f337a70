"""The extra kinds of training text: phrase spinning, tortured phrases, machine translation, round trips,
and the stored dataset with its card."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from spindetect.config import DataConfig
from spindetect.cross_validation import corpus_of
from spindetect.features.thesaurus import MobyThesaurus
from spindetect.features.tortured import TorturedPhraseLexicon
from spindetect.labeled import LabeledDataError, read_labeled
from spindetect.metrics import metrics_by_style
from spindetect.synth.brown import SourceParagraph
from spindetect.synth.dataset import (
    RATE_SWEEP_SPLIT,
    SHORT_LINES_SPLIT,
    CorpusLocations,
    Example,
    build_synthetic_dataset,
    load_sources,
    tortured_twins,
)
from spindetect.synth.phrases import PhraseSpinner, listed_function_phrases
from spindetect.synth.storage import CARD_FILE, save_dataset
from spindetect.synth.tortured import TorturedPhraseInserter
from spindetect.synth.translation import (
    GARBLED,
    TRANSLATION_SETS,
    RoundTripTranslator,
    garbled_round_trip,
    read_translations,
    translated_paragraphs,
)

from .conftest import BROWN_SAMPLE, tiny_training_config
from .test_synth import undo_spans, write_thesaurus


@pytest.fixture
def phrase_thesaurus(tmp_path: Path) -> MobyThesaurus:
    return write_thesaurus(
        tmp_path,
        [
            "according to,consistent with,in accordance with",
            "accordance,agreement,harmony",
            "account for,bring home to,explain",
            "be in,attend,inhabit",
            "consistent,compatible,uniform",
            "each,each and every,every",
            "however,even so,nevertheless",
            "office,branch office,bureau,agency",
            "own,have,possess",
            "report,account,statement",
            "since,as,because of",
            "throughout,all through,during",
        ],
    )


# --------------------------------------------------------------------------- phrase spinner


def test_phrase_spinner_rewrites_phrases_and_function_words_not_content_words(phrase_thesaurus) -> None:
    text = "According to the report, each office accounted for half; however, it was late."
    spun = PhraseSpinner(phrase_thesaurus, 1.0).spin(text, random.Random(1))

    assert [original for _, _, original in spun.spans] == ["According to", "each", "accounted for", "however"]
    assert "office" in spun.text  # a content word: the thesaurus spinner's job
    for start, end, _ in spun.spans:
        assert spun.text[start:end].lower() in {
            "consistent with", "in accordance with", "each and every", "every",
            "brought home to", "explained", "even so", "nevertheless",
        }
    assert spun.text[0].isupper()  # the capital of the phrase it replaced


def test_phrase_spinner_keeps_punctuated_words_apart_and_rate_zero_changes_nothing(phrase_thesaurus) -> None:
    # "according. To" is not the phrase: a sentence ends between the two words.
    text = "They spoke according. To each his own."
    assert PhraseSpinner(phrase_thesaurus, 0.0).spin(text, random.Random(1)).text == text
    spun = PhraseSpinner(phrase_thesaurus, 1.0).spin(text, random.Random(1))
    assert [original for _, _, original in spun.spans] == ["each", "own"]


def test_phrase_spins_at_two_rates_are_nested(phrase_thesaurus) -> None:
    text = " ".join(["According to them, each office accounted for it; however, each was late."] * 5)
    low = PhraseSpinner(phrase_thesaurus, 0.3).spin(text, random.Random(7))
    high = PhraseSpinner(phrase_thesaurus, 0.8).spin(text, random.Random(7))
    assert 0 < low.replaced < high.replaced
    # The same candidates, in order, are swapped at the lower rate and at the higher one.
    low_originals = [original for _, _, original in low.spans]
    high_originals = [original for _, _, original in high.spans]
    assert set(low_originals) <= set(high_originals)


def test_connectives_listed_under_function_words_become_the_words_listing_them(phrase_thesaurus) -> None:
    # "during" and "because of" have no entry of their own; "throughout" and "since" list them.
    text = "During the war they left because of the rain. He is in the office."
    spun = PhraseSpinner(phrase_thesaurus, 1.0).spin(text, random.Random(1))
    assert spun.text == "Throughout the war they left since the rain. He is in the office."
    # "is in" is the headword "be in", but a phrase of auxiliaries and prepositions is grammar, not a connective.
    assert [original for _, _, original in spun.spans] == ["During", "because of"]


def test_real_moby_lists_connectives_under_function_words() -> None:
    moby = MobyThesaurus.load()
    listed = listed_function_phrases(moby)
    assert "throughout" in listed["during"] and "each" in listed["every"]
    assert "because of" in listed and "as well as" in listed
    assert all(phrase not in moby for phrase in listed)  # phrases with entries are spun from their entries


def test_content_words_become_multiword_synonyms(phrase_thesaurus) -> None:
    text = "The offices wrote a report."
    spun = PhraseSpinner(phrase_thesaurus, 1.0, content_words=1.0).spin(text, random.Random(3))
    # "office" has a multiword synonym (re-inflected), "report" none: left to the thesaurus spinner.
    assert spun.text == "The branch offices wrote a report."
    assert PhraseSpinner(phrase_thesaurus, 1.0).spin(text, random.Random(3)).text == text


def test_chained_spin_changes_a_replaced_phrase_again(phrase_thesaurus) -> None:
    text = "According to the report, it was late."
    first_level = {"Consistent with", "In accordance with"}
    for seed in range(8):
        once = PhraseSpinner(phrase_thesaurus, 1.0).spin(text, random.Random(seed))
        twice = PhraseSpinner(phrase_thesaurus, 1.0, chain=1.0, chain_depth=1).spin(text, random.Random(seed))
        ((start, end, _),) = once.spans
        ((chained_start, chained_end, original),) = twice.spans
        assert once.text[start:end] in first_level and original == "According to"
        # The same first choice, then a word of it spun again: "in accordance with" -> "in harmony with".
        expected = {
            "Consistent with": {"Compatible with", "Uniform with"},
            "In accordance with": {"In agreement with", "In harmony with"},
        }[once.text[start:end]]
        assert twice.text[chained_start:chained_end] in expected


def test_first_synonym_policy_takes_the_first_listed_synonym(phrase_thesaurus) -> None:
    text = "According to them, each kept his own office; however, during the war they left."
    for seed in range(4):
        spun = PhraseSpinner(phrase_thesaurus, 1.0, first_synonym_share=1.0).spin(text, random.Random(seed))
        assert spun.text == "Consistent with them, each and every kept his have office; even so, throughout the war they left."
    randomly = {PhraseSpinner(phrase_thesaurus, 1.0).spin(text, random.Random(seed)).text for seed in range(8)}
    assert len(randomly) > 1


def test_sentence_rates_leave_some_sentences_untouched_and_spin_others_heavily(phrase_thesaurus) -> None:
    sentence = "However, each office, according to each report, was late since then."  # 5 candidates
    text = " ".join([sentence] * 12)

    def touched_per_sentence(spun) -> list[int]:
        counts = [0] * 12
        for start, _, _ in spun.spans:
            counts[spun.text.count(".", 0, start)] += 1  # no synonym here holds a period
        return counts

    varied_untouched = uniform_untouched = varied_heavy = uniform_heavy = 0
    for seed in range(10):
        varied = PhraseSpinner(phrase_thesaurus, 0.3, untouched_sentences=0.3, sentence_spread=1.0).spin(text, random.Random(seed))
        uniform = PhraseSpinner(phrase_thesaurus, 0.3).spin(text, random.Random(seed))
        varied_untouched += touched_per_sentence(varied).count(0)
        uniform_untouched += touched_per_sentence(uniform).count(0)
        varied_heavy += sum(count >= 4 for count in touched_per_sentence(varied))
        uniform_heavy += sum(count >= 4 for count in touched_per_sentence(uniform))
        # Nested still: what a low rate replaces, a higher one replaces too.
        higher = PhraseSpinner(phrase_thesaurus, 0.6, untouched_sentences=0.3, sentence_spread=1.0).spin(text, random.Random(seed))
        assert {o for _, _, o in varied.spans} <= {o for _, _, o in higher.spans} and varied.replaced <= higher.replaced
    assert varied_untouched > 1.5 * uniform_untouched and varied_heavy > 1.5 * uniform_heavy


def test_recorded_spans_point_at_the_replacements_in_the_spun_text(phrase_thesaurus) -> None:
    text = "According to the report, each office was late. During the war, his own offices left because of it."
    spinner = PhraseSpinner(phrase_thesaurus, 1.0, content_words=1.0, chain=0.7, untouched_sentences=0.2, sentence_spread=0.5)
    for seed in range(6):
        spun = spinner.spin(text, random.Random(seed))
        assert spun.replaced > 0 and undo_spans(spun) == text
        previous_end = 0
        for start, end, original in spun.spans:
            assert start >= previous_end and spun.text[start:end] != original
            assert spun.text[start:end].strip() == spun.text[start:end]  # exactly the replacement, no spaces
            previous_end = end
        assert spinner.spin(text, random.Random(seed)) == spun  # deterministic from the seed


def test_the_phrase_spin_config_reaches_the_spinners(phrase_thesaurus) -> None:
    from spindetect.synth.dataset import phrase_spinners

    data = DataConfig(phrase_spin={"enabled": True, "rates": [0.5, 1.0], "chain": 0.9, "first_synonym_share": 0.4})
    spinners = phrase_spinners(data, phrase_thesaurus)
    assert list(spinners) == [0.5, 1.0]
    assert spinners[1.0].chain == 0.9 and spinners[1.0].first_synonym_share == 0.4 and spinners[1.0].rate == 1.0
    with pytest.raises(ValueError, match="untouched_sentences"):
        DataConfig(phrase_spin={"untouched_sentences": 1.0})


# --------------------------------------------------------------------------- tortured phrases


def test_tortured_inserter_replaces_listed_terms_with_a_listed_form() -> None:
    lexicon = TorturedPhraseLexicon.from_pairs(
        [
            ("information mining", "data mining"),
            ("counterfeit consciousness", "artificial intelligence"),
            ("by means of", "by"),  # a single-word term: not used
            ("created nations developed countries", "developed countries"),  # still holds its term: not used
        ]
    )
    inserter = TorturedPhraseInserter(lexicon)
    assert len(inserter) == 2
    result = inserter.insert("Data mining and artificial intelligence by developed countries.", random.Random(1))
    assert result.text == "Information mining and counterfeit consciousness by developed countries."
    assert [original for _, _, original in result.spans] == ["Data mining", "artificial intelligence"]
    assert inserter.insert("Nothing listed here.", random.Random(1)).replaced == 0


def test_tortured_twins_draw_the_test_split_from_the_held_out_part_only() -> None:
    training = TorturedPhraseInserter(TorturedPhraseLexicon.from_pairs([("information mining", "data mining")]))
    held_out = TorturedPhraseInserter(TorturedPhraseLexicon.from_pairs([("profound learning", "deep learning")]))
    text = "They used data mining and deep learning on the records."
    paragraphs = [SourceParagraph(text, "doc/a", 0, "g"), SourceParagraph(text, "doc/b", 0, "g")]
    splits = {"doc/a": "train", "doc/b": "test"}

    examples = tortured_twins(paragraphs, splits, (training, held_out), sampled={("doc/a", 0)}, seed=1)

    by_split = {(e.split, e.label): e.text for e in examples}
    assert "information mining" in by_split["train", 1] and "deep learning" in by_split["train", 1]
    assert "profound learning" in by_split["test", 1] and "data mining" in by_split["test", 1]
    # doc/b was not in the corpus sample, so its clean original comes along; doc/a's is already there.
    assert ("test", 0) in by_split and ("train", 0) not in by_split


def test_tortured_paragraphs_are_chosen_by_the_part_of_the_list_their_split_draws_from_all_of_the_tests() -> None:
    from spindetect.synth.dataset import _with_garblable_terms

    training = TorturedPhraseInserter(TorturedPhraseLexicon.from_pairs([("information mining", "data mining")]))
    held_out = TorturedPhraseInserter(TorturedPhraseLexicon.from_pairs([("profound learning", "deep learning")]))
    paragraphs = [
        SourceParagraph("They used data mining on the records.", "doc/a", 0, "g"),  # train, a training term: chosen
        SourceParagraph("They used data mining on the records.", "doc/b", 0, "g"),  # test, no held-out term: passed over
        SourceParagraph("They used deep learning on the records.", "doc/b", 1, "g"),  # test, a held-out term: chosen
        SourceParagraph("They used deep learning on the records.", "doc/a", 1, "g"),  # train, no training term
    ]
    splits = {"doc/a": "train", "doc/b": "test"}

    chosen = _with_garblable_terms(paragraphs, splits, (training, held_out), limit=10, per_term=8, seed=1)

    assert sorted((p.source_id, p.paragraph_index) for p in chosen) == [("doc/a", 0), ("doc/b", 1)]
    # The limit is on the other splits' paragraphs: the test split keeps every one it has.
    limited = _with_garblable_terms(paragraphs, splits, (training, held_out), limit=0, per_term=8, seed=1)
    assert [(p.source_id, p.paragraph_index) for p in limited] == [("doc/b", 1)]


def test_no_term_fills_the_tortured_paragraphs_beyond_its_cap_in_any_split() -> None:
    from spindetect.synth.dataset import _with_garblable_terms

    pairs = [("joined together states", "united states"), ("information mining", "data mining")]
    training = TorturedPhraseInserter(TorturedPhraseLexicon.from_pairs(pairs))
    held_out = TorturedPhraseInserter(TorturedPhraseLexicon.from_pairs([("profound learning", "deep learning")]))
    common = [SourceParagraph(f"The United States sent envoy {n}.", "doc/a", n, "g") for n in range(6)]
    both = SourceParagraph("The United States used data mining.", "doc/a", 6, "g")
    rare = SourceParagraph("They used data mining on the records.", "doc/a", 7, "g")
    tested = [SourceParagraph(f"They used deep learning on run {n}.", "doc/b", n, "g") for n in range(4)]
    splits = {"doc/a": "train", "doc/b": "test"}

    paragraphs = [*common, both, rare, *tested]
    chosen = _with_garblable_terms(paragraphs, splits, (training, held_out), limit=10, per_term=2, seed=1)

    terms = [term for p in chosen for term in (training if splits[p.source_id] == "train" else held_out).terms_in(p.text)]
    assert terms.count("united states") == 2 and terms.count("deep learning") == 2
    # The rare term's own paragraph is kept whatever the draw; the one that also holds the common term only
    # while that term is under its cap.
    assert rare in chosen and terms.count("data mining") in (1, 2)


# --------------------------------------------------------------------------- machine translation


def test_translated_paragraphs_pair_garbled_translations_with_their_post_edits() -> None:
    rows = read_translations("mlqe-si-en")
    paragraphs = translated_paragraphs(rows, TRANSLATION_SETS["mlqe-si-en"], sentences_per_paragraph=3, seed=5, max_paragraphs=4)
    garbled = [p for p in paragraphs if p.quality == GARBLED]
    assert len(garbled) == 4 and len(paragraphs) == 8
    post_edit_of = {row["text"].strip(): row["post_edit"].strip() for row in rows}
    for paragraph in garbled:
        sentences = [row["text"].strip() for row in rows if row["text"].strip() in paragraph.machine]
        assert len(sentences) >= 2
        assert all(post_edit_of[sentence] in paragraph.post_edit for sentence in sentences)
    assert all(p.source_id.startswith("mlqe-si-en:group:") for p in paragraphs)


def test_round_trip_rewrites_fluently_and_caches_on_disk(tmp_path: Path) -> None:
    cache = tmp_path / "round_trip.jsonl"
    text = "The children were playing happily in the garden while their parents talked."
    translator = RoundTripTranslator(cache)
    (rewritten,) = translator.round_trip([text])
    translator.close()
    # Reworded ("playing happy"), and without the package post-processing's "no" -> "não" -> "not".
    assert rewritten != text and "in the garden" in rewritten
    assert len(cache.read_text().splitlines()) == 1

    again = RoundTripTranslator(cache)
    again._translate = lambda *_: pytest.fail("a cached text was translated again")
    assert again.round_trip([text]) == [rewritten]


def test_a_round_trip_that_doubles_a_word_is_garble_not_a_fluent_rewrite() -> None:
    source = "She needed a fast horse and a good knight, as Smith and Smith (1922) wrote."
    assert garbled_round_trip(source, "She required a fast and fast horse and a good knight, as Smith and Smith (1922) wrote.")
    assert garbled_round_trip(source, "She needed a fast horse and a good good knight, as Smith and Smith (1922) wrote.")
    # Reworded without doubling, or keeping a doubling the source had: a fluent rewrite.
    assert not garbled_round_trip(source, "She required a quick horse and a good knight, as Smith and Smith (1922) wrote.")
    assert not garbled_round_trip("It had had no effect.", "It had had no effect at all.")


# --------------------------------------------------------------------------- the whole data set and its storage


@pytest.fixture(scope="module")
def styled_examples(tmp_path_factory) -> list[Example]:
    config = tiny_training_config()
    cache = tmp_path_factory.mktemp("cache")
    corpus = load_sources(config.data, config.seed, CorpusLocations(brown_dir=BROWN_SAMPLE, cache_dir=cache))
    return build_synthetic_dataset(config.data, config.seed, corpus, MobyThesaurus.load(), cache_dir=cache)


def test_the_test_config_builds_every_style_with_splits_by_source(styled_examples) -> None:
    styles = {e.style for e in styled_examples}
    assert styles == {
        "clean", "thesaurus_spin", "wordnet_spin", "phrase_spin", "tortured", "mt_garble", "mt_post_edit", "mt_clean",
        "mt_major_error", "mt_no_error", "round_trip", "short_line", "short_line_spin",
    }
    # One single-word spin twin per paragraph, from Moby or WordNet: the classes stay as balanced as with Moby alone.
    twins = [e for e in styled_examples if e.style in ("thesaurus_spin", "wordnet_spin") and e.split in ("train", "valid", "test")]
    assert len({(e.source_id, e.text) for e in twins}) == len(twins) <= sum(e.style == "clean" for e in styled_examples)
    splits_of_source: dict[str, set[str]] = {}
    for example in styled_examples:
        splits_of_source.setdefault(example.source_id, set()).add(example.split)
    # The rate sweep and the short lines come from test documents only.
    extra = {RATE_SWEEP_SPLIT, SHORT_LINES_SPLIT}
    assert all(len(splits - extra) == 1 for splits in splits_of_source.values())
    assert all(splits - extra == {"test"} for splits in splits_of_source.values() if splits & extra)
    assert {corpus_of(e.source_id) for e in styled_examples if e.split == SHORT_LINES_SPLIT} == {"wmt_english"}
    assert {e.split for e in styled_examples if e.style == "thesaurus_spin"} == {"train", "valid", "test", RATE_SWEEP_SPLIT}
    assert all(e.label == 1 for e in styled_examples if e.style in ("phrase_spin", "tortured", "mt_garble", "mt_major_error"))
    assert all(e.label == 0 for e in styled_examples if e.style in ("mt_post_edit", "mt_clean", "mt_no_error", "round_trip"))
    assert {corpus_of(e.source_id) for e in styled_examples if e.style.startswith("mt_")} == {"mlqe-si-en", "mqm-zh-en"}


def test_extra_styles_are_off_by_default() -> None:
    data = DataConfig()
    assert not (data.phrase_spin.enabled or data.tortured.enabled or data.machine_translation.enabled or data.round_trip.enabled)


def test_saved_dataset_loads_back_and_its_card_counts_it(styled_examples, tmp_path: Path) -> None:
    from datasets import load_from_disk

    config = tiny_training_config()
    directory = save_dataset(styled_examples, tmp_path / "dataset", config)

    saved = load_from_disk(str(directory))
    assert sum(len(saved[split]) for split in saved) == len(styled_examples)
    assert saved["test"].to_list() == [vars(e) for e in styled_examples if e.split == "test"]
    card = (directory / CARD_FILE).read_text()
    n_mt_test = sum(1 for e in styled_examples if e.style == "mt_garble" and e.split == "test")
    assert any(line.startswith("| mt_garble |") and line.split("|")[4].strip() == str(n_mt_test) for line in card.splitlines())
    assert "CC0" in card and "CC BY 4.0" in card and "MIT" in card and "Apache-2.0" in card and "WordNet licence" in card

    labeled = read_labeled(directory / "test")
    assert labeled.labels.tolist() == [e.label for e in styled_examples if e.split == "test"]
    with pytest.raises(LabeledDataError, match="name one"):
        read_labeled(directory)


def test_metrics_by_style_measure_garble_against_its_post_edits() -> None:
    labels = np.array([1, 0, 1, 0, 0])
    scores = np.array([0.9, 0.2, 0.4, 0.5, 0.95])
    styles = np.array(["mt_garble", "mt_post_edit", "thesaurus_spin", "clean", "round_trip"])
    by_style = metrics_by_style(labels, scores, styles, 0.6, {"mt_garble": "mt_post_edit"})
    assert by_style["mt_garble"]["roc_auc"] == 1.0 and by_style["mt_garble"]["n"] == 2
    assert by_style["thesaurus_spin"]["roc_auc"] == 0.0
    assert by_style["round_trip"]["false_positive_rate"] == 1.0 and by_style["round_trip"]["n"] == 1


def test_a_paragraphs_spun_twin_does_not_depend_on_the_other_paragraphs(phrase_thesaurus) -> None:
    from spindetect.synth.dataset import spun_twins

    text = "According to the report, each office accounted for half; however, each was late."
    first = SourceParagraph(text, "doc/a", 0, "g")
    second = SourceParagraph(text, "doc/b", 3, "g")
    spinners = {rate: PhraseSpinner(phrase_thesaurus, rate) for rate in (0.3, 0.6, 1.0)}
    splits = {"doc/a": "train", "doc/b": "train"}
    alone = spun_twins([second], splits, spinners, "phrase_spin", seed=4)
    with_another = spun_twins([first, second], splits, spinners, "phrase_spin", seed=4)
    assert alone and with_another[-1] == alone[0]


def test_rate_sweep_spins_each_test_paragraph_once_at_every_rate_nested(phrase_thesaurus) -> None:
    from spindetect.synth.dataset import rate_sweep, spun_twins

    text = " ".join(["According to the report, each office accounted for half; however, each was late."] * 4)
    paragraphs = [SourceParagraph(text, f"doc/{n}", n, "g") for n in range(6)]
    splits = {p.source_id: "test" if p.paragraph_index < 4 else "train" for p in paragraphs}
    rates = (0.3, 0.6, 1.0)
    spinners = {rate: PhraseSpinner(phrase_thesaurus, rate) for rate in rates}
    twins = spun_twins(paragraphs, splits, spinners, "phrase_spin", seed=4)
    sweep = rate_sweep(paragraphs, splits, spinners, "phrase_spin", seed=4)

    assert {e.split for e in sweep} == {RATE_SWEEP_SPLIT} and {e.source_id for e in sweep} == {f"doc/{n}" for n in range(4)}
    for n in range(4):
        spins = sorted((e for e in twins + sweep if e.source_id == f"doc/{n}"), key=lambda e: e.rate)
        assert [e.rate for e in spins] == list(rates)  # the test twin's rate once, the others from the sweep
        assert [e.replaced for e in spins] == sorted(e.replaced for e in spins)  # nested: more replaced as the rate grows
        assert sum(e.split == "test" for e in spins) == 1


def test_rate_sweep_spins_test_paragraphs_without_a_twin_at_every_rate(phrase_thesaurus) -> None:
    from spindetect.synth.dataset import rate_sweep, spun_twins

    text = " ".join(["According to the report, each office accounted for half; however, each was late."] * 4)
    paragraphs = [SourceParagraph(text, f"doc/{n}", n, "g") for n in range(4)]
    splits = {p.source_id: "test" for p in paragraphs}
    rates = (0.3, 0.6, 1.0)
    spinners = {rate: PhraseSpinner(phrase_thesaurus, rate) for rate in rates}
    chosen = paragraphs[:2]  # the share that gets a phrase-spun twin
    twins = spun_twins(chosen, splits, spinners, "phrase_spin", seed=4)
    sweep = rate_sweep(paragraphs, splits, spinners, "phrase_spin", seed=4, twinned=set(chosen))

    for paragraph in paragraphs:
        spins = [e for e in twins + sweep if e.source_id == paragraph.source_id]
        assert sorted(e.rate for e in spins) == list(rates)  # every rate once, twinned or not
        assert sum(e.split == "test" for e in spins) == (1 if paragraph in chosen else 0)
