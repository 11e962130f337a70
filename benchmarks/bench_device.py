"""Benchmark: language-model scoring on each device, side by side with a naive per-paragraph loop there.

    python benchmarks/bench_device.py [--paragraphs 300] [--devices cpu cuda] [--precision float32]

The paragraphs are the English sides of the machine-translation samples packaged with spindetect
(`spindetect/data/mt_*.jsonl`), consecutive sentences of one source document joined four at a time, so the
benchmark runs the same on any machine with spindetect installed. On each device, in one process:
- "spindetect": `LanguageModelScorer.score`, built by `build_extractor` as for a detector with
  `runtime.device` set to that device: length-sorted batches of the device's token budget (the configured one
  on the CPU, sized from free memory on a GPU), chunked logits, full token statistics, the swap evidence and
  its second pass;
- "naive loop": one forward pass per paragraph on the same device, then each token's surprisal read from
  its logits and copied back to the host: what a plain perplexity script does, and less work than spindetect
  does (no statistics beyond surprisal, no second pass).
Each side runs once untimed (allocations, the swap test's candidate caches), then `--repeats` times alternated
with the other side; the best time counts. Reports paragraphs/s of each and their ratio per device, and the
batch sizes used. Devices default to the CPU and, when torch sees one, the first CUDA GPU.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from importlib.resources import files

import torch

from spindetect.config import (
    FeaturesConfig,
    LanguageModelConfig,
    RuntimeConfig,
    SpindetectConfig,
)
from spindetect.features.extractor import build_extractor
from spindetect.features.language_model import CausalLanguageModel
from spindetect.features.perplexity import LanguageModelScorer
from spindetect.features.resources import NGramReference

SENTENCES_PER_PARAGRAPH = 4


def packaged_paragraphs(limit: int) -> list[str]:
    """Paragraphs of `SENTENCES_PER_PARAGRAPH` consecutive English sentences of one source document, taken in
    turn from each packaged sample so that every language pair contributes."""
    per_sample = []
    for sample in sorted(files("spindetect.data").iterdir(), key=lambda path: path.name):
        if not (sample.name.startswith("mt_") and sample.name.endswith(".jsonl")):
            continue
        by_document: dict[str, list[str]] = defaultdict(list)
        for line in sample.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            by_document[row["doc"]].append(row.get("post_edit") or row["text"])
        per_sample.append(
            [" ".join(sentences[i : i + SENTENCES_PER_PARAGRAPH]) for sentences in by_document.values() for i in range(0, len(sentences), SENTENCES_PER_PARAGRAPH)]
        )
    interleaved = [paragraph for group in zip(*per_sample, strict=False) for paragraph in group]
    if len(interleaved) < limit:
        raise SystemExit(f"the packaged samples give {len(interleaved)} paragraphs; ask for at most that many")
    return interleaved[:limit]


def naive_loop(language_model: CausalLanguageModel, paragraphs: list[str], device: torch.device) -> None:
    encoder = language_model.encoder
    with torch.inference_mode():
        for ids in encoder.encode(paragraphs):
            input_ids = torch.tensor([[encoder.bos_id, *ids]], device=device)
            log_probs = torch.log_softmax(language_model.model(input_ids).logits[0, :-1].float(), dim=-1)
            log_probs.gather(1, input_ids[0, 1:, None]).cpu()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paragraphs", type=int, default=300)
    parser.add_argument("--devices", nargs="+", help="default: cpu, and cuda when torch sees a GPU")
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--precision", choices=["float32", "bfloat16"], default="float32")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    devices = args.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])

    paragraphs = packaged_paragraphs(args.paragraphs)
    reference = NGramReference.load()
    print(f"{len(paragraphs)} paragraphs; model {args.model} in {args.precision}; torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    if "cuda" not in " ".join(devices):
        print("no CUDA GPU seen by torch here: CPU side only")
    for spec in devices:
        config = SpindetectConfig(
            language_model=LanguageModelConfig(name=args.model, precision=args.precision),
            features=FeaturesConfig(ngram=False, lexical=False),
            runtime=RuntimeConfig(device=spec),
        )
        scorer = build_extractor(config, reference).family(LanguageModelScorer)
        bench_device(scorer, paragraphs, args.repeats)


def bench_device(scorer: LanguageModelScorer, paragraphs: list[str], repeats: int) -> None:
    language_model = scorer.language_model
    device = language_model.device
    tokens = sum(len(ids) + 1 for ids in language_model.encoder.encode(paragraphs))
    sides = {"spindetect": lambda: scorer.score(paragraphs), "naive loop": lambda: naive_loop(language_model, paragraphs, device)}
    for run in sides.values():
        run()  # untimed: allocations, caches
    timings = dict.fromkeys(sides, float("inf"))
    for _ in range(repeats):  # alternated, so that machine noise hits both sides alike
        for side, run in sides.items():
            synchronize(device)
            started = time.perf_counter()
            run()
            synchronize(device)
            timings[side] = min(timings[side], time.perf_counter() - started)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"\n{device} ({name}): batch_tokens {scorer.batch_tokens}, logits_chunk_rows {scorer.logits_chunk_rows}")
    for side, seconds in timings.items():
        print(f"  {side:<11} {len(paragraphs) / seconds:8.1f} paragraphs/s  {tokens / seconds:9.0f} tokens/s  ({seconds:.2f} s, best of {repeats})")
    print(f"  ratio spindetect/naive loop throughput: {timings['naive loop'] / timings['spindetect']:.2f}")


def synchronize(device: torch.device) -> None:
    """Waits for the GPU's queued work, so that a timing covers it; nothing on the CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


if __name__ == "__main__":
    main()
