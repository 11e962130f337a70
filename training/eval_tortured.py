"""Evaluate: do span finders catch tortured phrases that the lexicon does not list?

    python training/eval_tortured.py [--limit N] [--json PATH] [--language-model]

The packaged tortured-phrase list is split with `split_lexicon(held_out_fraction=0.2, seed=13)`. Each
held-out pair is put into a few neutral carrier sentences of scientific prose, once as the tortured phrase
and once as the expected phrase, and each finder runs on every sentence. Per finder:

- recall: share of tortured sentences where a returned span overlaps the tortured phrase;
- false-positive rate: share of expected-phrase sentences where a returned span overlaps the phrase;
- suggestion accuracy: share of caught tortured phrases where some overlapping span's suggestion shares a
  content word (not a function word) with the expected phrase.

Finders: (a) the detection part of the lexicon, a sanity line (the split keeps variants of listed phrases
out of the held-out part, so it should catch none); (b) the synonym-swap test,
`spindetect.features.swap.SynonymSwapTest`, as the lexical family runs it; (c) with `--language-model`, the
language model's judge of the swap test (its `swap_evidence` flags, as `configs/default.yaml` sets it up)
and (d) its word probe (`replaced_word` flags), from one scoring of the sentences in batches (the timing of
(d) is that scoring's, counted in (c)), and (e) either of (c) and (d). Prints a Markdown table on stdout;
`--json PATH` also writes the numbers.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from spindetect.config import load_config
from spindetect.features.extractor import build_extractor
from spindetect.features.perplexity import LanguageModelScorer
from spindetect.features.resources import NGramReference
from spindetect.features.spans import FlaggedSpan
from spindetect.features.swap import SynonymSwapTest
from spindetect.features.tortured import (
    TorturedPhraseLexicon,
    clean_suggestion,
    split_lexicon,
)
from spindetect.words import STOPWORDS

HELD_OUT_FRACTION = 0.2
SEED = 13
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "default.yaml"

# One slot each, never at the start of a sentence (so the phrase keeps the lexicon's case), in prose that
# lists no tortured phrase of its own.
TEMPLATES: tuple[str, ...] = (
    "In this work, we apply {phrase} to the problem of image classification and compare it with earlier methods.",
    "The results show that {phrase} improves the accuracy of the model on all three benchmark datasets.",
    "Previous studies have examined {phrase} in detail, but few of them report the cost of the computation.",
    "We describe how {phrase} is measured and why it matters for the design of the experiment.",
    "Section 3 reviews the literature on {phrase} and summarises the main open questions.",
    "As shown in Table 2, the proposed approach based on {phrase} reduces the error rate by twelve percent.",
)

# Flags for each of a list of texts.
Finder = Callable[[list[str]], list[list[FlaggedSpan]]]
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class FinderScores:
    finder: str
    sentences: int
    caught: int
    recall: float
    false_positive_rate: float
    suggestion_accuracy: float
    ms_per_sentence: float


def carrier_phrase(expected: str) -> str:
    """The expected phrase as it would appear in prose: no "(?)" marks, no "(notes)" or quotes."""
    phrase = " ".join(re.sub(r"\([^()]*\)|\\?\"", " ", clean_suggestion(expected)).split())
    return phrase or clean_suggestion(expected)


def content_words(phrase: str) -> set[str]:
    return {word for word in _WORD.findall(phrase.lower()) if word not in STOPWORDS}


def embed(template: str, phrase: str) -> tuple[str, int, int]:
    """The sentence and the phrase's character span in it."""
    start = template.index("{phrase}")
    return template.format(phrase=phrase), start, start + len(phrase)


def overlapping(spans: list[FlaggedSpan], start: int, end: int) -> list[FlaggedSpan]:
    return [span for span in spans if span.start < end and start < span.end]


def evaluate(name: str, find: Finder, pairs: tuple[tuple[str, str], ...]) -> FinderScores:
    tortured_sentences, expected_sentences, wanted = [], [], []
    for tortured, expected in pairs:
        phrase = carrier_phrase(expected)
        for template in TEMPLATES:
            tortured_sentences.append(embed(template, tortured))
            expected_sentences.append(embed(template, phrase))
            wanted.append(content_words(phrase))
    began = time.perf_counter()
    tortured_flags = find([text for text, _, _ in tortured_sentences])
    expected_flags = find([text for text, _, _ in expected_sentences])
    elapsed = time.perf_counter() - began
    sentences, caught, false_positives, good_suggestions = len(tortured_sentences), 0, 0, 0
    for (_, start, end), flags, words in zip(tortured_sentences, tortured_flags, wanted, strict=True):
        hits = overlapping(flags, start, end)
        if hits:
            caught += 1
            if any(span.suggestion and content_words(span.suggestion) & words for span in hits):
                good_suggestions += 1
    for (_, start, end), flags in zip(expected_sentences, expected_flags, strict=True):
        if overlapping(flags, start, end):
            false_positives += 1
    return FinderScores(
        finder=name,
        sentences=sentences,
        caught=caught,
        recall=caught / sentences if sentences else 0.0,
        false_positive_rate=false_positives / sentences if sentences else 0.0,
        suggestion_accuracy=good_suggestions / caught if caught else 0.0,
        ms_per_sentence=1000 * elapsed / (2 * sentences) if sentences else 0.0,
    )


def one_at_a_time(find: Callable[[str], list[FlaggedSpan]]) -> Finder:
    return lambda texts: [find(text) for text in texts]


def language_model_finders() -> list[tuple[str, Finder]]:
    """The language-model family's `swap_evidence` flags (its judge of the swap test) and `replaced_word` flags
    (its word probe), built as the default config builds it; each sentence is scored once for both."""
    config = load_config(DEFAULT_CONFIG)
    scorer = build_extractor(config, NGramReference.load()).family(LanguageModelScorer)
    assert scorer is not None, f"{DEFAULT_CONFIG} enables the language model"
    flags_by_text: dict[str, list[FlaggedSpan]] = {}

    def finder(*reasons: str) -> Finder:
        def find(texts: list[str]) -> list[list[FlaggedSpan]]:
            unscored = [text for text in dict.fromkeys(texts) if text not in flags_by_text]
            flags_by_text.update(zip(unscored, scorer.score_and_flag(unscored)[1], strict=True))
            return [[span for span in flags_by_text[text] if span.reason in reasons] for text in texts]

        return find

    return [
        ("language model's judge (swap_evidence)", finder("swap_evidence")),
        ("language model's word probe (replaced_word)", finder("replaced_word")),
        ("either of the two", finder("swap_evidence", "replaced_word")),
    ]


def markdown_table(scores: list[FinderScores]) -> str:
    lines = [
        "| finder | sentences | recall | false-positive rate | suggestion accuracy | ms/sentence |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in scores:
        lines.append(
            f"| {row.finder} | {row.sentences} | {row.recall:.3f} | {row.false_positive_rate:.3f} "
            f"| {row.suggestion_accuracy:.3f} | {row.ms_per_sentence:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="held-out pairs to use (default: all)")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers to this file")
    parser.add_argument(
        "--language-model", action="store_true", help="also run the language model's judge (minutes, not seconds)"
    )
    args = parser.parse_args()

    lexicon = TorturedPhraseLexicon.load()
    detection, held_out = split_lexicon(lexicon, held_out_fraction=HELD_OUT_FRACTION, seed=SEED)
    pairs = held_out.pairs[: args.limit] if args.limit is not None else held_out.pairs

    finders: list[tuple[str, Finder]] = [
        ("lexicon (detection part)", one_at_a_time(detection.find)),
        ("synonym-swap test", one_at_a_time(SynonymSwapTest.load().find)),
    ]
    if args.language_model:
        finders += language_model_finders()
    scores = [evaluate(name, find, pairs) for name, find in finders]

    print(
        f"{len(pairs)} held-out pairs of {len(held_out)} (lexicon {len(lexicon)}, detection part {len(detection)}), "
        f"{len(TEMPLATES)} carrier sentences each\n"
    )
    print(markdown_table(scores))
    if args.json is not None:
        summary = {
            "held_out_fraction": HELD_OUT_FRACTION,
            "seed": SEED,
            "lexicon_pairs": len(lexicon),
            "detection_pairs": len(detection),
            "held_out_pairs": len(held_out),
            "pairs_evaluated": len(pairs),
            "templates": len(TEMPLATES),
            "finders": [asdict(row) for row in scores],
        }
        args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
