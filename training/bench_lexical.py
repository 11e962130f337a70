"""Benchmark: the lexical feature family against the language-model family, on the same paragraphs.

    python training/bench_lexical.py FILE [FILE ...] [--repeats 3]

Both families score the paragraphs of FILE (from `segment`) in one process:
- "lexical": `LexicalScorer.score` (synonym-swap test, tortured phrases, function-word garble), first on a
  fresh scorer ("cold": every span's candidates are looked up and re-inflected for the first time) and then
  again ("warm": candidates come from the scorer's cache, as they mostly do over a large corpus);
- "language model": `LanguageModelScorer.score` with the default runtime settings, in `--precision`
  (bfloat16 by default, as `configs/default.yaml`), with the swap evidence of its own, wider swap test.
Reports paragraphs/s for each, the ratios, the one-off load times and the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from spindetect.config import RuntimeConfig
from spindetect.features.language_model import load_language_model
from spindetect.features.lexical import LexicalScorer, scoring_lexicon
from spindetect.features.perplexity import LanguageModelScorer
from spindetect.features.resources import NGramReference
from spindetect.features.swap import MAX_CANDIDATES, SynonymSwapTest
from spindetect.features.swap_judge import JUDGED_CANDIDATES
from spindetect.features.thesaurus import MobyThesaurus
from spindetect.segment import segment


def seconds_for(score, paragraphs: list[str]) -> float:
    started = time.perf_counter()
    score(paragraphs)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--precision", choices=["float32", "bfloat16"], default="bfloat16")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    paragraphs = [p.text for file in args.files for p in segment(file.read_text(encoding="utf-8"))]
    reference = NGramReference.load()

    started = time.perf_counter()
    # As `build_extractor` sets up both families: the language model's judge weighs more candidates per span,
    # and the lexical family runs a narrowed copy of its swap test, sharing the candidate cache.
    judged_swap_test = SynonymSwapTest(reference, MobyThesaurus.load(), max_candidates=JUDGED_CANDIDATES)
    lexical = LexicalScorer(reference, judged_swap_test.narrowed(MAX_CANDIDATES), scoring_lexicon(reference))
    lexical.swap_test.thesaurus.reverse("")  # the reverse index is built on first use: count it as loading
    lexical_load = time.perf_counter() - started
    cold = seconds_for(lexical.score, paragraphs)

    started = time.perf_counter()
    runtime = RuntimeConfig()
    language_model = LanguageModelScorer(
        load_language_model(args.model, precision=args.precision),
        reference.unigram,
        batch_tokens=runtime.batch_tokens,
        logits_chunk_rows=runtime.logits_chunk_rows,
        swap_test=judged_swap_test,
    )
    model_load = time.perf_counter() - started
    language_model.score(paragraphs[:2])  # warm-up: first calls allocate

    warm = model = float("inf")
    for _ in range(args.repeats):  # alternate the two sides so machine noise hits both alike
        warm = min(warm, seconds_for(lexical.score, paragraphs))
        model = min(model, seconds_for(language_model.score, paragraphs))

    n = len(paragraphs)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{n} paragraphs; loading: lexical resources {lexical_load:.1f} s, language model {model_load:.1f} s")
    print(f"lexical, cold     {n / cold:8.1f} paragraphs/s  ({cold:.2f} s, one pass)")
    print(f"lexical, warm     {n / warm:8.1f} paragraphs/s  ({warm:.2f} s, best of {args.repeats})")
    print(f"language model    {n / model:8.1f} paragraphs/s  ({model:.2f} s, best of {args.repeats})")
    print(f"ratio lexical/LM throughput: cold {model / cold:.1f}x, warm {model / warm:.1f}x")
    print(f"peak RSS {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
