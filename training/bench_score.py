"""Benchmark: language-model scoring throughput, side by side with a plain per-paragraph forward loop.

    python training/bench_score.py FILE [FILE ...] [--repeats 3]

All sides score the same paragraphs (from segmenting FILE) with the same model in the same process:
- "bare": one `model(input_ids)` call per paragraph in float32, logits only (what common perplexity
  scripts do, without even computing surprisal statistics);
- "forward": the model's forward pass to logits on exactly the token batches spindetect's first pass builds
  (padded, length-sorted), with nothing computed from the logits: the floor for any scorer batching the same
  way;
- "both passes": that, and after each batch the forward pass to logits on the token batch of spindetect's
  second pass (each paragraph's likeliest replacements read again after the batch's keys and values,
  `rescoring`), with the continuations spindetect chose for these paragraphs: all the model work spindetect
  does, and nothing else;
- "spindetect": `LanguageModelScorer.score` as the pipeline builds it: length-sorted batches, chunked logits,
  full token statistics, the swap evidence (its thesaurus candidates cached by an untimed run that records
  the second pass's continuations, as the lexical family has cached them by the time the language model
  runs), the second pass and, unless `--no-word-probe`, the replaced-word probe on the hidden states (as the
  default config).
All but "bare" run the model in `--precision` (bfloat16 by default, as `configs/default.yaml`; float32 on a
CPU without native bfloat16, as scoring does there: the first line says which).
Reports tokens/s (of the paragraphs) for each and three ratios: spindetect against the per-paragraph loop (its
speed-up), against the first pass's forward (how much slower than the floor a scorer with no second pass
would have), and against both passes' forward (the share of time that is the model itself, 1.0 meaning no
overhead); then the time to load the model from the converted cache and the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from transformers import DynamicCache

from spindetect.config import RuntimeConfig
from spindetect.features.language_model import load_language_model
from spindetect.features.perplexity import BatchCache, LanguageModelScorer
from spindetect.features.rescoring import Continuation
from spindetect.features.resources import NGramReference
from spindetect.features.swap import SynonymSwapTest
from spindetect.features.swap_judge import JUDGED_CANDIDATES
from spindetect.features.thesaurus import MobyThesaurus
from spindetect.features.word_probe import WordProbe
from spindetect.segment import segment


def bare_forward(language_model, paragraphs: list[str]) -> None:
    encoder = language_model.encoder
    with torch.inference_mode():
        for ids in encoder.encode(paragraphs):
            language_model.model(torch.tensor([[encoder.bos_id, *ids]]))


class RecordingScorer(LanguageModelScorer):
    """The pipeline's scorer, keeping the requests of each second pass (one list per first-pass batch)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.second_pass_requests: list[list[tuple[int, Continuation]]] = []

    def _continuation_surprisal(self, batch: BatchCache, requests: Sequence[tuple[int, Continuation]]) -> list[np.ndarray]:
        self.second_pass_requests.append(list(requests))
        return super()._continuation_surprisal(batch, requests)


def batched_forward(
    scorer: LanguageModelScorer, paragraphs: list[str], second_pass_requests: list[list[tuple[int, Continuation]]] | None = None
) -> None:
    """The first pass's batches to logits; with `second_pass_requests` (one list per batch), each batch followed
    by its second pass's batch to logits."""
    model = scorer.language_model.model
    decoder, output = model.get_decoder(), model.get_output_embeddings()
    encoder = scorer.language_model.encoder
    encoded = [[encoder.bos_id, *ids][: scorer.max_tokens] for ids in encoder.encode(paragraphs)]
    batches = scorer._length_sorted_batches(encoded)
    with torch.inference_mode():
        for batch, requests in zip(batches, second_pass_requests or [[]] * len(batches), strict=True):
            input_ids, attention_mask = scorer.padded_batch([encoded[i] for i in batch])
            cache = DynamicCache()
            output(decoder(input_ids, attention_mask, None, cache, use_cache=True).last_hidden_state)
            if requests:
                ids, mask, positions, prefixes = scorer.continuation_inputs(BatchCache(input_ids, cache), requests)
                output(decoder(ids, mask, positions, prefixes, use_cache=True).last_hidden_state)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--precision", choices=["float32", "bfloat16"], default="bfloat16")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--word-probe", action=argparse.BooleanOptionalAction, default=True, help="as the default config")
    args = parser.parse_args()

    paragraphs = [p.text for file in args.files for p in segment(file.read_text(encoding="utf-8"))]
    started = time.perf_counter()
    language_model = load_language_model(args.model, precision=args.precision)
    load_seconds = time.perf_counter() - started
    float32_model = load_language_model(args.model)
    runtime = RuntimeConfig()
    reference = NGramReference.load()
    scorer = RecordingScorer(
        language_model,
        reference.unigram,
        batch_tokens=runtime.batch_tokens,
        logits_chunk_rows=runtime.logits_chunk_rows,
        swap_test=SynonymSwapTest(reference, MobyThesaurus.load(), max_candidates=JUDGED_CANDIDATES),
        word_probe=WordProbe.load(args.model) if args.word_probe else None,
    )
    tokens = sum(len(ids) + 1 for ids in language_model.encoder.encode(paragraphs))
    scorer.score(paragraphs[:2])  # warm-up: first calls allocate
    scorer.second_pass_requests.clear()
    scorer.score(paragraphs)
    requests = list(scorer.second_pass_requests)
    continuation_tokens = sum(len(continuation.token_ids) for batch in requests for _, continuation in batch)

    sides = {
        "bare": lambda: bare_forward(float32_model, paragraphs),
        "forward": lambda: batched_forward(scorer, paragraphs),
        "both passes": lambda: batched_forward(scorer, paragraphs, requests),
        "spindetect": lambda: scorer.score(paragraphs),
    }
    timings = dict.fromkeys(sides, float("inf"))
    for _ in range(args.repeats):  # alternate the sides so machine noise hits all alike
        for side, run in sides.items():
            started = time.perf_counter()
            run()
            timings[side] = min(timings[side], time.perf_counter() - started)

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"model {args.model} in {language_model.precision}: loaded from cache in {load_seconds:.2f} s; {len(paragraphs)} "
        f"paragraphs, {tokens} tokens; second pass: {sum(map(len, requests))} continuations, {continuation_tokens} tokens"
    )
    for side, seconds in timings.items():
        print(f"{side:<12} {tokens / seconds:8.0f} tokens/s  ({seconds:.2f} s, best of {args.repeats})")
    print(f"ratio spindetect/bare throughput: {timings['bare'] / timings['spindetect']:.2f}")
    print(f"ratio spindetect/forward throughput: {timings['forward'] / timings['spindetect']:.2f}")
    print(f"ratio spindetect/both passes throughput: {timings['both passes'] / timings['spindetect']:.2f}")
    print(f"torch threads {torch.get_num_threads()}; peak RSS {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
