"""The synthetic training set: clean paragraphs and their spun twins, split by source document."""

from __future__ import annotations

import logging
import hashlib
import random
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Protocol
from dataclasses import dataclass, field
from pathlib import Path

from spindetect.config import DataConfig
from spindetect.cross_validation import corpus_of
from spindetect.features.thesaurus import MobyThesaurus
from spindetect.features.tortured import TorturedPhraseLexicon, split_lexicon
from spindetect.synth.brown import SourceParagraph, load_brown_paragraphs, locate_brown
from spindetect.synth.phrases import PhraseSpinner
from spindetect.synth.python_docs import load_python_docs_paragraphs, locate_python_docs
from spindetect.synth.spinner import SpinResult, Thesaurus, ThesaurusSpinner
from spindetect.synth.tortured import TorturedPhraseInserter
from spindetect.synth.translation import (
    GARBLED,
    POST_EDIT_STYLE,
    TRANSLATION_SETS,
    RoundTripTranslator,
    TranslatedParagraph,
    garbled_round_trip,
    read_translations,
    translated_paragraphs,
)
from spindetect.synth.wikipedia import load_wikipedia_paragraphs, load_wikipedia_short_lines, locate_wikipedia_dump
from spindetect.synth.wmt_english import load_wmt_english_paragraphs, load_wmt_english_short_lines
from spindetect.synth.wordnet import WordNetThesaurus

logger = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test")
# Twins of the test split's corpus paragraphs at every spin rate their test twin was not drawn at: kept out of
# the test split (whose mix of styles they would swamp) and used only for the metrics by rate.
RATE_SWEEP_SPLIT = "test_rate_sweep"
# Titles, headings, headlines and captions of the test split's documents and spun twins of them: scored as
# whole records by the detector (which leaves most of them unjudged), never trained on.
SHORT_LINES_SPLIT = "test_short_lines"
# What each synthetic style is, by label; `Example.style` is one of these (or a labeled file's style).
STYLES = {
    "clean": "clean paragraph from a corpus",
    "thesaurus_spin": "content words swapped for thesaurus synonyms of any sense",
    "phrase_spin": "multiword phrases, connectives and function words swapped for thesaurus synonyms, some chained",
    "wordnet_spin": "content words swapped for WordNet synonyms of any sense: a second spinner's dictionary",
    "tortured": "established terms replaced by known tortured phrases",
    "mt_garble": "garbled machine translation (MLQE-PE, human score below 30)",
    "mt_post_edit": "human post-edit of the garbled machine translations",
    "mt_clean": "good machine translation (MLQE-PE, human score 80 or more)",
    "mt_major_error": "machine translation with a major error marked by professional translators (WMT MQM, zh-en news)",
    "mt_no_error": "machine translation in which professional translators found no error (WMT MQM, the same documents)",
    "round_trip": "clean paragraph translated to Portuguese and back: fluent rewrite",
    "short_line": "title, heading, headline or caption of a corpus document (split test_short_lines)",
    "short_line_spin": "a short line with its content words swapped for thesaurus synonyms (split test_short_lines)",
}
# Styles that only a share of the paragraphs get a twin of, measured on the rate sweep's spins of every test
# paragraph at every rate (the metrics' `test_<style>_swept`).
SWEPT_STYLES = ("phrase_spin", "wordnet_spin")
# The clean texts each spun style is measured against: the same content where there is one.
CLEAN_COUNTERPART = {"mt_garble": POST_EDIT_STYLE, "mt_major_error": "mt_no_error"}


@dataclass(frozen=True)
class Example:
    text: str
    label: int  # 1 = spun or garbled, 0 = clean
    split: str
    source_id: str
    style: str  # "clean" or what made it: one of STYLES
    rate: float  # the spinner's replacement rate; 0 for clean text and styles without a rate
    replaced: int  # words actually replaced


def assign_splits(source_ids: Iterable[str], valid_fraction: float, test_fraction: float, seed: int) -> dict[str, str]:
    """Map each source document to one split, so no document's paragraphs leak across splits.

    Documents are ranked by a hash of the seed and their own id: test takes the first share, valid the next.
    A document's rank then never depends on which others there are, so adding or dropping a few documents
    moves only those near a boundary to another split, not the whole shuffle."""
    unique = sorted(set(source_ids), key=lambda source_id: hashlib.sha256(f"{seed}\t{source_id}".encode("utf-8")).hexdigest())
    n_test = max(1, round(len(unique) * test_fraction))
    n_valid = max(1, round(len(unique) * valid_fraction))
    if n_test + n_valid >= len(unique):
        raise ValueError(f"{len(unique)} source documents are too few to split into train, valid and test")
    splits = {}
    for position, source_id in enumerate(unique):
        splits[source_id] = "test" if position < n_test else "valid" if position < n_test + n_valid else "train"
    return splits


def split_by_corpus(source_ids: Iterable[str], valid_fraction: float, test_fraction: float, seed: int) -> dict[str, str]:
    """`assign_splits` for each corpus's documents on its own (the corpus of "wiki/Paris" is "wiki", see
    `corpus_of`): every split holds its share of each, and adding a corpus moves no other corpus's documents."""
    by_corpus: dict[str, list[str]] = {}
    for source_id in source_ids:
        by_corpus.setdefault(corpus_of(source_id), []).append(source_id)
    splits: dict[str, str] = {}
    for ids in by_corpus.values():
        splits |= assign_splits(ids, valid_fraction, test_fraction, seed)
    return splits


def paragraph_draw(seed: int, purpose: str, paragraph: SourceParagraph) -> random.Random:
    """A random generator of this paragraph's own for one purpose, seeded from the seed and the paragraph's
    identity alone. What is done to one paragraph then never depends on which others are in the data, so
    adding a corpus or a rate leaves every other paragraph's spun twin as it was, and its features cached."""
    key = f"{seed}\t{purpose}\t{paragraph.source_id}\t{paragraph.paragraph_index}"
    return random.Random(hashlib.sha256(key.encode("utf-8")).hexdigest())


class Spinner(Protocol):
    def spin(self, text: str, rng: random.Random) -> SpinResult: ...


def spun_twins(
    sources: Sequence[SourceParagraph], splits: dict[str, str], spinners: dict[float, Spinner], style: str, seed: int
) -> list[Example]:
    """A spun twin of each paragraph, at a rate drawn from `spinners` (so each rate is about equally common);
    a paragraph the spinner left unchanged gets none."""
    rates = list(spinners)
    examples = []
    for source in sources:
        rng = paragraph_draw(seed, style, source)
        rate = _drawn_rate(rng, rates)
        spun = spinners[rate].spin(source.text, rng)
        if spun.replaced:
            examples.append(Example(spun.text, 1, splits[source.source_id], source.source_id, style, rate, spun.replaced))
    if len(examples) < len(sources):
        logger.info("%s: %d paragraphs had nothing replaced and gave no twin", style, len(sources) - len(examples))
    return examples


def rate_sweep(
    sources: Sequence[SourceParagraph],
    splits: dict[str, str],
    spinners: dict[float, Spinner],
    style: str,
    seed: int,
    twinned: Collection[SourceParagraph] | None = None,
) -> list[Example]:
    """Twins of each test paragraph at every rate but the one `spun_twins` drew for it, in the split
    RATE_SWEEP_SPLIT: with the test twins, every test paragraph spun at every rate (where anything was
    replaced), so each rate's metrics rest on all test paragraphs rather than the share drawn at that rate.
    Each spin starts from the generator state of the test twin's, so a paragraph's spins at two rates are
    nested (the higher rate replaces the lower one's words and more), as they are for one seed.

    `twinned`: the paragraphs `spun_twins` was given, where only a share of them get a twin of this style
    (phrase spins; WordNet spins, and the Moby spins of the other paragraphs); the others are spun at every rate
    here. None: all of them."""
    rates = list(spinners)
    examples = []
    for source in sources:
        if splits[source.source_id] != "test":
            continue
        rng = paragraph_draw(seed, style, source)
        drawn = _drawn_rate(rng, rates) if twinned is None or source in twinned else None
        state = rng.getstate()
        for rate in rates:
            if rate == drawn:
                continue
            rng.setstate(state)
            spun = spinners[rate].spin(source.text, rng)
            if spun.replaced:
                examples.append(Example(spun.text, 1, RATE_SWEEP_SPLIT, source.source_id, style, rate, spun.replaced))
    return examples


def _twins_and_sweep(
    sources: Sequence[SourceParagraph],
    twinned: Sequence[SourceParagraph],
    splits: dict[str, str],
    spinners: dict[float, Spinner],
    style: str,
    seed: int,
    sweep: bool,
) -> list[Example]:
    """Twins of `style` for the `twinned` paragraphs of `sources`, and with `sweep` the rate sweep's spins of
    every test paragraph at every rate its twin was not drawn at (`spun_twins`, `rate_sweep`)."""
    examples = spun_twins(twinned, splits, spinners, style, seed)
    if sweep:
        examples += rate_sweep(sources, splits, spinners, style, seed, twinned=set(twinned))
    return examples


def thesaurus_spinners(
    data: DataConfig, thesaurus: Thesaurus, word_log_frequency: Callable[[str], float | None] | None = None
) -> dict[float, ThesaurusSpinner]:
    """A ThesaurusSpinner drawing from `thesaurus` for each of `data.spin_rates`."""
    return {
        rate: ThesaurusSpinner(thesaurus, rate, word_log_frequency=word_log_frequency, common_synonyms=data.common_synonyms)
        for rate in data.spin_rates
    }


def _drawn_rate(rng: random.Random, rates: Sequence[float]) -> float:
    return rates[rng.randrange(len(rates))]


@dataclass(frozen=True)
class CorpusLocations:
    """Where to find the corpora; anything left None is found (or installed) in the usual places."""

    brown_dir: Path | None = None
    wikipedia_dump: Path | None = None
    python_docs: Path | None = None
    cache_dir: Path | None = None


@dataclass(frozen=True)
class CorpusParagraphs:
    """Clean paragraphs of the configured corpora: the seeded sample every generator starts from, and the
    rest, searched only for the terms tortured phrases garble (they are rare in general prose)."""

    sample: list[SourceParagraph]
    rest: list[SourceParagraph]
    # Titles, headings, headlines and captions of the corpora that have them (`data.short_lines`).
    short_lines: list[SourceParagraph] = field(default_factory=list)


def load_sources(data: DataConfig, seed: int, locations: CorpusLocations) -> CorpusParagraphs:
    """Clean paragraphs from each configured corpus: a seeded random sample of `max_paragraphs` each."""
    sample: list[SourceParagraph] = []
    rest: list[SourceParagraph] = []
    short_lines: list[SourceParagraph] = []
    for position, corpus in enumerate(data.corpora):
        if corpus.name == "brown":
            root = locate_brown(locations.brown_dir, locations.cache_dir)
            paragraphs = load_brown_paragraphs(root, corpus.categories, data.min_words, data.max_words)
        elif corpus.name == "python_docs":
            docs = locate_python_docs(locations.python_docs)
            paragraphs = load_python_docs_paragraphs(docs, data.min_words, data.max_words)
        elif corpus.name == "wmt_english":
            paragraphs = load_wmt_english_paragraphs(data.min_words, data.max_words)
            if data.short_lines.enabled:
                short_lines += load_wmt_english_short_lines(data.min_words)
        else:
            dump = locate_wikipedia_dump(locations.wikipedia_dump, locations.cache_dir)
            paragraphs = load_wikipedia_paragraphs(dump, data.min_words, data.max_words)
            if data.short_lines.enabled:
                short_lines += load_wikipedia_short_lines(dump)
        if not paragraphs:
            raise ValueError(f"corpus {corpus.name} gave no paragraphs of {data.min_words}-{data.max_words} words")
        random.Random(seed + position).shuffle(paragraphs)
        sample.extend(paragraphs[: corpus.max_paragraphs])
        rest.extend(paragraphs[corpus.max_paragraphs :])
        logger.info("%s: %d paragraphs (of %d)", corpus.name, min(len(paragraphs), corpus.max_paragraphs), len(paragraphs))
    return CorpusParagraphs(sample, rest, short_lines)


def build_synthetic_dataset(
    data: DataConfig,
    seed: int,
    corpus: CorpusParagraphs,
    thesaurus: MobyThesaurus,
    word_log_frequency: Callable[[str], float | None] | None = None,
    cache_dir: Path | None = None,
) -> list[Example]:
    """Clean paragraphs and their spun twins, and each enabled extra style, split by source document."""
    sources = list(corpus.sample)
    random.Random(seed).shuffle(sources)
    # The whole list, with the phrases of ordinary English the scorers do not look for (`TorturedPhraseLexicon.load`):
    # a paragraph that uses one is still a garbled paper's, only without a listed phrase to give it away.
    lexicon_parts = split_lexicon(TorturedPhraseLexicon.load(), data.tortured.held_out_fraction, seed)
    inserters = tuple(TorturedPhraseInserter(part) for part in lexicon_parts)
    mt = data.machine_translation
    translated = {
        name: translated_paragraphs(
            read_translations(name), TRANSLATION_SETS[name], mt.sentences_per_paragraph, seed, mt.max_paragraphs
        )
        for name in (mt.pairs if mt.enabled else [])
    }
    # Each corpus, and each translation sample, is split on its own, so every split holds its share of each
    # and adding a corpus moves no other corpus's documents to another split. Every document of a corpus gets
    # a split, sampled or not, so the tortured paragraphs can be chosen knowing theirs.
    source_ids = [s.source_id for s in sources + corpus.rest]
    source_ids += [p.source_id for paragraphs in translated.values() for p in paragraphs]
    splits = split_by_corpus(source_ids, data.valid_fraction, data.test_fraction, seed)
    tortured_sources = (
        _with_garblable_terms(
            sources + corpus.rest, splits, inserters, data.tortured.max_paragraphs, data.tortured.max_per_term, seed
        )
        if data.tortured.enabled
        else []
    )

    examples = [Example(s.text, 0, splits[s.source_id], s.source_id, "clean", 0.0, 0) for s in sources]
    # Each paragraph has one thesaurus-spun twin, from Moby or, for a share of them, from WordNet (the balance of
    # clean and spun texts stays as it was without the second dictionary). The rate sweep spins every test
    # paragraph at every rate of each style, not only those with a twin of it: the test split's phrase spins, for
    # one, are otherwise too few (83 of the default model's) for a steady measure.
    from_wordnet = (
        [s for s in sources if paragraph_draw(seed, "wordnet_spin_share", s).random() < data.wordnet_spin.share]
        if data.wordnet_spin.enabled
        else []
    )
    wordnet_twinned = set(from_wordnet)
    from_moby = [s for s in sources if s not in wordnet_twinned]
    moby_spinners = thesaurus_spinners(data, thesaurus, word_log_frequency)
    examples += _twins_and_sweep(sources, from_moby, splits, moby_spinners, "thesaurus_spin", seed, data.rate_sweep)
    if from_wordnet:
        wordnet_spinners = thesaurus_spinners(data, WordNetThesaurus.load(data.wordnet_spin.directory), word_log_frequency)
        examples += _twins_and_sweep(sources, from_wordnet, splits, wordnet_spinners, "wordnet_spin", seed, data.rate_sweep)
    if data.phrase_spin.enabled:
        chosen = [s for s in sources if paragraph_draw(seed, "phrase_spin_share", s).random() < data.phrase_spin.share]
        spinners = phrase_spinners(data, thesaurus, word_log_frequency)
        examples += _twins_and_sweep(sources, chosen, splits, spinners, "phrase_spin", seed, data.rate_sweep)
    if tortured_sources:
        sampled = {(s.source_id, s.paragraph_index) for s in sources}
        examples += tortured_twins(tortured_sources, splits, inserters, sampled, seed)
    examples += translation_examples([p for paragraphs in translated.values() for p in paragraphs], splits)
    if data.round_trip.enabled:
        by_draw = sorted(sources, key=lambda s: paragraph_draw(seed, "round_trip", s).random())
        chosen = by_draw[: data.round_trip.max_paragraphs]
        examples += round_trips(chosen, splits, cache_dir)
    if data.short_lines.enabled:
        spinner = ThesaurusSpinner(
            thesaurus, data.short_lines.spin_rate, word_log_frequency=word_log_frequency, common_synonyms=data.common_synonyms
        )
        examples += short_line_examples(corpus.short_lines, splits, spinner, seed)
    return examples


def short_line_examples(
    lines: Sequence[SourceParagraph], splits: dict[str, str], spinner: Spinner, seed: int
) -> list[Example]:
    """The short lines of the test split's documents, each with a spun twin where the spinner replaced
    something, in SHORT_LINES_SPLIT."""
    examples = []
    for line in lines:
        if splits.get(line.source_id) != "test":
            continue
        examples.append(Example(line.text, 0, SHORT_LINES_SPLIT, line.source_id, "short_line", 0.0, 0))
        spun = spinner.spin(line.text, paragraph_draw(seed, "short_line", line))
        if spun.replaced:
            examples.append(Example(spun.text, 1, SHORT_LINES_SPLIT, line.source_id, "short_line_spin", 0.0, spun.replaced))
    return examples


def phrase_spinners(
    data: DataConfig, thesaurus: MobyThesaurus, word_log_frequency: Callable[[str], float | None] | None = None
) -> dict[float, PhraseSpinner]:
    """A PhraseSpinner for each of `data.phrase_spin.rates`, with the spinner habits the config asks for."""
    config = data.phrase_spin
    return {
        rate: PhraseSpinner(
            thesaurus,
            rate,
            word_log_frequency,
            data.common_synonyms,
            content_words=config.content_words,
            chain=config.chain,
            chain_depth=config.chain_depth,
            first_synonym_share=config.first_synonym_share,
            untouched_sentences=config.untouched_sentences,
            sentence_spread=config.sentence_spread,
        )
        for rate in config.rates
    }


def _with_garblable_terms(
    paragraphs: Sequence[SourceParagraph],
    splits: dict[str, str],
    inserters: tuple[TorturedPhraseInserter, TorturedPhraseInserter],
    limit: int,
    per_term: int,
    seed: int,
) -> list[SourceParagraph]:
    """Paragraphs holding a term of the part of the list their split draws from (see `tortured_twins`): up to
    `limit` of the train and valid splits (a seeded random choice) and every one of the test split, but at
    most `per_term` garbling any one term. Few paragraphs hold a term of the held-out part (47 test paragraphs
    of the default corpora), and the measure of unlisted tortured phrases needs all of them. Without the cap one
    common term fills the choice: "United States" was garbled in 231 of the default model's 400."""
    training_part, held_out_part = inserters
    in_test = [p for p in paragraphs if splits[p.source_id] == "test" and held_out_part.finds(p.text)]
    # Ranked by each paragraph's own draw, so more paragraphs to choose from leave the choice mostly as it was.
    others = [p for p in paragraphs if splits[p.source_id] != "test" and training_part.finds(p.text)]
    others.sort(key=lambda p: paragraph_draw(seed, "tortured_choice", p).random())
    return _at_most_per_term(others, training_part, per_term)[:limit] + _at_most_per_term(in_test, held_out_part, per_term)


def _at_most_per_term(
    paragraphs: Sequence[SourceParagraph], inserter: TorturedPhraseInserter, per_term: int
) -> list[SourceParagraph]:
    """`paragraphs` in order, each kept only if every term of `inserter` it holds is in fewer than `per_term`
    of the paragraphs kept before it."""
    kept, counts = [], Counter[str]()
    for paragraph in paragraphs:
        terms = inserter.terms_in(paragraph.text)
        if all(counts[term] < per_term for term in terms):
            kept.append(paragraph)
            counts.update(terms)
    return kept


def tortured_twins(
    paragraphs: Sequence[SourceParagraph],
    splits: dict[str, str],
    inserters: tuple[TorturedPhraseInserter, TorturedPhraseInserter],
    sampled: set[tuple[str, int]],
    seed: int,
) -> list[Example]:
    """A tortured twin of each paragraph, from the training part of the list for train and valid and the
    held-out part for test; a paragraph outside the corpus sample brings its clean original along."""
    training_part, held_out_part = inserters
    examples = []
    for paragraph in paragraphs:
        split = splits[paragraph.source_id]
        inserter = held_out_part if split == "test" else training_part
        tortured = inserter.insert(paragraph.text, paragraph_draw(seed, "tortured", paragraph))
        if not tortured.replaced:
            continue  # its terms are all in the other part of the list
        examples.append(Example(tortured.text, 1, split, paragraph.source_id, "tortured", 0.0, tortured.replaced))
        if (paragraph.source_id, paragraph.paragraph_index) not in sampled:
            examples.append(Example(paragraph.text, 0, split, paragraph.source_id, "clean", 0.0, 0))
    return examples


def translation_examples(paragraphs: Sequence[TranslatedParagraph], splits: dict[str, str]) -> list[Example]:
    """Garbled translations (spun) with their post-edits where there are some (clean), and good translations
    (clean)."""
    examples = []
    for paragraph in paragraphs:
        split = splits[paragraph.source_id]
        label = 1 if paragraph.quality == GARBLED else 0
        examples.append(Example(paragraph.machine, label, split, paragraph.source_id, paragraph.style, 0.0, 0))
        if paragraph.post_edit is not None:
            examples.append(Example(paragraph.post_edit, 0, split, paragraph.source_id, POST_EDIT_STYLE, 0.0, 0))
    return examples


def round_trips(sources: Sequence[SourceParagraph], splits: dict[str, str], cache_dir: Path | None) -> list[Example]:
    """Each paragraph translated to Portuguese and back, as a clean example; unchanged ones are dropped, and so
    are those the translator garbled (`garbled_round_trip`): labelled clean, they would teach that garble is."""
    translator = RoundTripTranslator(cache_dir / "round_trip.jsonl" if cache_dir else None)
    try:
        logger.info("translating %d paragraphs to Portuguese and back", len(sources))
        rewritten = translator.round_trip([source.text for source in sources])
    finally:
        translator.close()
    changed = [(source, text) for source, text in zip(sources, rewritten) if text.strip() and text != source.text]
    fluent = [(source, text) for source, text in changed if not garbled_round_trip(source.text, text)]
    if len(fluent) < len(changed):
        logger.info("round_trip: %d rewrites doubled a word their source did not; left out", len(changed) - len(fluent))
    return [Example(text, 0, splits[source.source_id], source.source_id, "round_trip", 0.0, 0) for source, text in fluent]
