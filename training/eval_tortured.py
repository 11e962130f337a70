"""Evaluate: do span finders catch tortured phrases that the lexicon does not list?

    python training/eval_tortured.py [--limit N] [--json PATH]

The packaged tortured-phrase list is split with `split_lexicon(held_out_fraction=0.2, seed=13)`. Each
held-out pair is put into a few neutral carrier sentences of scientific prose, once as the tortured phrase
and once as the expected phrase, and each finder runs on every sentence. Per finder:

- recall: share of tortured sentences where a returned span overlaps the tortured phrase;
- false-positive rate: share of expected-phrase sentences where a returned span overlaps the phrase;
- suggestion accuracy: share of caught tortured phrases where some overlapping span's suggestion shares a
  content word (not a function word) with the expected phrase.

Finders: (a) the detection part of the lexicon, a sanity line (the split keeps variants of listed phrases
out of the held-out part, so it should catch none); (b) the synonym-swap test,
`spindetect.features.swap.SynonymSwapTest`, if that module is installed. Prints a Markdown table on stdout;
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

from spindetect.features.spans import FlaggedSpan
from spindetect.features.tortured import TorturedPhraseLexicon, clean_suggestion, split_lexicon
from spindetect.words import STOPWORDS

HELD_OUT_FRACTION = 0.2
SEED = 13

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

Finder = Callable[[str], list[FlaggedSpan]]
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
    sentences = caught = false_positives = good_suggestions = 0
    began = time.perf_counter()
    for tortured, expected in pairs:
        phrase = carrier_phrase(expected)
        wanted = content_words(phrase)
        for template in TEMPLATES:
            sentences += 1
            text, start, end = embed(template, tortured)
            hits = overlapping(find(text), start, end)
            if hits:
                caught += 1
                if any(span.suggestion and content_words(span.suggestion) & wanted for span in hits):
                    good_suggestions += 1
            text, start, end = embed(template, phrase)
            if overlapping(find(text), start, end):
                false_positives += 1
    elapsed = time.perf_counter() - began
    return FinderScores(
        finder=name,
        sentences=sentences,
        caught=caught,
        recall=caught / sentences if sentences else 0.0,
        false_positive_rate=false_positives / sentences if sentences else 0.0,
        suggestion_accuracy=good_suggestions / caught if caught else 0.0,
        ms_per_sentence=1000 * elapsed / (2 * sentences) if sentences else 0.0,
    )


def load_swap_test() -> Finder | None:
    """The synonym-swap test's `find`, or None (saying so) where the module is not there yet."""
    try:
        from spindetect.features.swap import SynonymSwapTest
    except ModuleNotFoundError as error:
        if error.name != "spindetect.features.swap":
            raise  # the module is there but broken: say so rather than quietly leave it out
        print("synonym-swap test not available (no spindetect.features.swap yet): reporting the lexicon only\n")
        return None
    return SynonymSwapTest.load().find


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
    args = parser.parse_args()

    lexicon = TorturedPhraseLexicon.load()
    detection, held_out = split_lexicon(lexicon, held_out_fraction=HELD_OUT_FRACTION, seed=SEED)
    pairs = held_out.pairs[: args.limit] if args.limit is not None else held_out.pairs

    finders: list[tuple[str, Finder]] = [("lexicon (detection part)", detection.find)]
    swap_find = load_swap_test()
    if swap_find is not None:
        finders.append(("synonym-swap test", swap_find))
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
