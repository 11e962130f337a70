"""The feature matrix: the enabled feature families side by side, one row per paragraph."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from spindetect.config import SpindetectConfig
from spindetect.device import batch_sizes_for, resolve_device
from spindetect.features.cache import FeatureCache, score_with_cache
from spindetect.features.function_swaps import FunctionWordCandidates
from spindetect.features.language_model import load_language_model
from spindetect.features.lexical import LexicalScorer, scoring_lexicon
from spindetect.features.ngram import NGramScorer
from spindetect.features.perplexity import LanguageModelScorer
from spindetect.features.resources import NGramReference
from spindetect.features.span_odds import SpanOddsWeights
from spindetect.features.spans import FlaggedSpan
from spindetect.features.swap import MAX_CANDIDATES, SynonymSwapTest
from spindetect.features.swap_judge import JUDGED_CANDIDATES
from spindetect.features.thesaurus import MobyThesaurus
from spindetect.features.word_probe import WordProbe

logger = logging.getLogger(__name__)

Progress = Callable[[int], None]


class FeatureFamily(Protocol):
    feature_names: tuple[str, ...]

    @property
    def cache_key(self) -> str: ...

    # What the family's features depend on besides the precision the language model runs in: the version of its
    # code and the fingerprints of the packaged weights it reads. A model records them and refuses to score with
    # others (a refitted weight file would otherwise change its features without a word).
    @property
    def definition(self) -> str: ...

    def score(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray: ...


@runtime_checkable
class FlaggingFamily(FeatureFamily, Protocol):
    """A family that can also say which words its features rest on."""

    def score_and_flag(
        self, texts: Sequence[str], progress: Progress | None = None
    ) -> tuple[np.ndarray, list[list[FlaggedSpan]]]: ...


class FeatureExtractor:
    """Runs each feature family over the same texts and puts their columns side by side."""

    def __init__(self, families: Sequence[FeatureFamily]) -> None:
        if not families:
            raise ValueError("a feature extractor needs at least one feature family")
        self.families = tuple(families)

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(name for family in self.families for name in family.feature_names)

    @property
    def definitions(self) -> tuple[str, ...]:
        return tuple(family.definition for family in self.families)

    def family(self, kind: type) -> FeatureFamily | None:
        return next((family for family in self.families if isinstance(family, kind)), None)

    def score(
        self, texts: Sequence[str], progress: Progress | None = None, cache: FeatureCache | None = None
    ) -> np.ndarray:
        """Feature matrix of shape (len(texts), len(feature_names)).

        `progress(n)` counts texts scored by the slowest family (the last one). With a `cache`, rows already
        computed for the same text and family version are reused.
        """
        blocks = []
        for position, family in enumerate(self.families):
            family_progress = progress if position == len(self.families) - 1 else None
            if cache is None:
                blocks.append(family.score(texts, family_progress))
            else:
                blocks.append(
                    score_with_cache(
                        family.score, family.cache_key, len(family.feature_names), texts, cache, progress=family_progress
                    )
                )
        return np.hstack(blocks)

    def score_and_flag(self, texts: Sequence[str], progress: Progress | None = None) -> tuple[np.ndarray, list[list[FlaggedSpan]]]:
        """The feature matrix and, per text, the spans every flagging family raised (unmerged: see `merge_flags`)."""
        blocks = []
        flags: list[list[FlaggedSpan]] = [[] for _ in texts]
        for position, family in enumerate(self.families):
            family_progress = progress if position == len(self.families) - 1 else None
            if isinstance(family, FlaggingFamily):
                block, family_flags = family.score_and_flag(texts, family_progress)
                for text_flags, more in zip(flags, family_flags, strict=True):
                    text_flags.extend(more)
            else:
                block = family.score(texts, family_progress)
            blocks.append(block)
        return np.hstack(blocks), flags


def build_extractor(
    config: SpindetectConfig,
    reference: NGramReference,
    cache_dir: Path | None = None,
    thesaurus: MobyThesaurus | None = None,
) -> FeatureExtractor:
    """The feature families a config enables: the fast lexical families first, then the language model.

    `thesaurus` is loaded here if not given; pass it when the caller already holds one (training spins with it).
    """
    families: list[FeatureFamily] = []
    if config.features.ngram:
        families.append(NGramScorer(reference))
    thesaurus = thesaurus or MobyThesaurus.load()
    span_odds = SpanOddsWeights.load()
    # The language model's judge weighs more candidates per span than the lexical family (see
    # `swap_judge.JUDGED_CANDIDATES`). With both families, the lexical one runs a narrowed copy of the judge's
    # swap test, so a span's candidates are looked up once.
    with_language_model = config.features.language_model
    width = JUDGED_CANDIDATES if with_language_model else MAX_CANDIDATES
    swap_test = SynonymSwapTest(reference, thesaurus, max_candidates=width)
    if config.features.lexical:
        lexical_swap_test = swap_test.narrowed(MAX_CANDIDATES)
        families.append(LexicalScorer(reference, lexical_swap_test, scoring_lexicon(reference), span_odds.lexical))
    if with_language_model:
        runtime = config.runtime
        device = resolve_device(runtime.device)
        language_model = load_language_model(config.language_model.name, cache_dir, config.language_model.precision, device)
        sizes = batch_sizes_for(device, language_model.model, runtime.batch_tokens, runtime.logits_chunk_rows, runtime.gpu_batch_tokens)
        logger.info("language model on %s: batches of %d tokens, logits %d rows at a time", device, sizes.batch_tokens, sizes.logits_chunk_rows)
        families.append(
            LanguageModelScorer(
                language_model,
                reference.unigram,
                max_tokens=config.language_model.max_tokens,
                batch_tokens=sizes.batch_tokens,
                logits_chunk_rows=sizes.logits_chunk_rows,
                swap_test=swap_test,
                span_odds=span_odds.language_model,
                deletion_test=config.features.deletion_test,
                word_probe=WordProbe.load(config.language_model.name) if config.features.word_probe else None,
                function_swaps=FunctionWordCandidates.from_thesaurus(thesaurus) if config.features.function_word_swaps else None,
            )
        )
    return FeatureExtractor(families)
