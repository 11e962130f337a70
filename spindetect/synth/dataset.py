"""The synthetic training set: clean paragraphs and their spun twins, split by source document."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from spindetect.config import DataConfig
from spindetect.features.thesaurus import MobyThesaurus
from spindetect.synth.brown import SourceParagraph, load_brown_paragraphs, locate_brown
from spindetect.synth.spinner import ThesaurusSpinner
from spindetect.synth.wikipedia import load_wikipedia_paragraphs, locate_wikipedia_dump

logger = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class Example:
    text: str
    label: int  # 1 = spun or garbled, 0 = clean
    split: str
    source_id: str
    style: str  # "clean" or the generator that made it, e.g. "thesaurus_spin"
    rate: float  # the spinner's replacement rate; 0 for clean text
    replaced: int  # words actually replaced


def assign_splits(source_ids: Iterable[str], valid_fraction: float, test_fraction: float, seed: int) -> dict[str, str]:
    """Map each source document to one split, so no document's paragraphs leak across splits."""
    unique = sorted(set(source_ids))
    random.Random(seed).shuffle(unique)
    n_test = max(1, round(len(unique) * test_fraction))
    n_valid = max(1, round(len(unique) * valid_fraction))
    if n_test + n_valid >= len(unique):
        raise ValueError(f"{len(unique)} source documents are too few to split into train, valid and test")
    splits = {}
    for position, source_id in enumerate(unique):
        splits[source_id] = "test" if position < n_test else "valid" if position < n_test + n_valid else "train"
    return splits


def spin_pairs(
    sources: Sequence[SourceParagraph],
    splits: dict[str, str],
    thesaurus: MobyThesaurus,
    rates: Sequence[float],
    seed: int,
    word_log_frequency: Callable[[str], float | None] | None = None,
    common_synonyms: int | None = None,
) -> list[Example]:
    """Each clean paragraph, and a spun twin at a rate taken in turn from `rates` (so each rate is equally common)."""
    rng = random.Random(seed)
    spinners = {
        rate: ThesaurusSpinner(thesaurus, rate, word_log_frequency=word_log_frequency, common_synonyms=common_synonyms)
        for rate in rates
    }
    examples = []
    skipped = 0
    for position, source in enumerate(sources):
        split = splits[source.source_id]
        examples.append(Example(source.text, 0, split, source.source_id, "clean", 0.0, 0))
        rate = rates[position % len(rates)]
        spun = spinners[rate].spin(source.text, rng)
        if spun.replaced == 0:
            skipped += 1  # nothing was changed: this is not a spun example
            continue
        examples.append(Example(spun.text, 1, split, source.source_id, "thesaurus_spin", rate, spun.replaced))
    if skipped:
        logger.info("%d paragraphs had no word replaced and gave no spun twin", skipped)
    return examples


@dataclass(frozen=True)
class CorpusLocations:
    """Where to find the corpora; anything left None is found (or installed) in the usual places."""

    brown_dir: Path | None = None
    wikipedia_dump: Path | None = None
    cache_dir: Path | None = None


def load_sources(data: DataConfig, seed: int, locations: CorpusLocations) -> list[SourceParagraph]:
    """Clean paragraphs from each configured corpus: a seeded random sample of `max_paragraphs` each."""
    sources: list[SourceParagraph] = []
    for position, corpus in enumerate(data.corpora):
        if corpus.name == "brown":
            root = locate_brown(locations.brown_dir, locations.cache_dir)
            paragraphs = load_brown_paragraphs(root, corpus.categories, data.min_words, data.max_words)
        else:
            dump = locate_wikipedia_dump(locations.wikipedia_dump, locations.cache_dir)
            paragraphs = load_wikipedia_paragraphs(dump, data.min_words, data.max_words)
        if not paragraphs:
            raise ValueError(f"corpus {corpus.name} gave no paragraphs of {data.min_words}-{data.max_words} words")
        random.Random(seed + position).shuffle(paragraphs)
        sources.extend(paragraphs[: corpus.max_paragraphs])
        logger.info("%s: %d paragraphs (of %d)", corpus.name, min(len(paragraphs), corpus.max_paragraphs), len(paragraphs))
    return sources


def build_synthetic_dataset(
    data: DataConfig,
    seed: int,
    sources: Sequence[SourceParagraph],
    thesaurus: MobyThesaurus,
    word_log_frequency: Callable[[str], float | None] | None = None,
) -> list[Example]:
    """Clean paragraphs and their spun twins, split by source document."""
    sources = list(sources)
    random.Random(seed).shuffle(sources)
    splits = assign_splits((s.source_id for s in sources), data.valid_fraction, data.test_fraction, seed)
    return spin_pairs(sources, splits, thesaurus, data.spin_rates, seed, word_log_frequency, data.common_synonyms)


def write_examples(examples: Sequence[Example], path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for example in examples:
            handle.write(json.dumps(asdict(example), ensure_ascii=False) + "\n")
