"""Benchmark: `spindetect filter` throughput and peak memory as the input grows.

    python benchmarks/bench_filter.py [--records 1000 4000] [--model DIR] [--workdir DIR]

Builds inputs of short records (one to three sentences each, drawn with a fixed seed from the example
articles, with an id), then runs `spindetect filter FILE --out ... --rejected ... --errors ...` on each size
in its own process, side by side. Reports records/s and the process's peak resident memory for each size,
and the ratio of peak memory between the largest and the smallest input: a streaming filter keeps it near
1.0 however large the input. Every run's counts are checked: read = kept + rejected + errored = records.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.txt"))
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"])")


def example_sentences() -> list[str]:
    sentences = []
    for path in EXAMPLES:
        for paragraph in path.read_text(encoding="utf-8").split("\n\n"):
            sentences.extend(s.strip() for s in _SENTENCE.split(" ".join(paragraph.split())) if len(s.split()) >= 5)
    return sentences


def write_records(path: Path, count: int, sentences: list[str], seed: int = 0) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as handle:
        for number in range(count):
            text = " ".join(rng.sample(sentences, rng.randint(1, 3)))
            handle.write(json.dumps({"id": number, "text": text}, ensure_ascii=False) + "\n")


def run_filter(source: Path, workdir: Path, model: Path | None) -> tuple[float, int, str]:
    """Seconds, peak resident memory in bytes and the summary line of one `spindetect filter` run."""
    command = [sys.executable, "-m", "spindetect", "filter", str(source)]
    for option, name in (("--out", "kept"), ("--rejected", "rejected"), ("--errors", "errors")):
        target = workdir / f"{source.stem}.{name}.jsonl"
        target.unlink(missing_ok=True)
        command += [option, str(target)]
    if model is not None:
        command += ["--model", str(model)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    stderr = process.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"filter failed on {source}:\n{stderr}")
    summary = next(line for line in stderr.splitlines() if line.startswith("read "))
    return seconds, usage.ru_maxrss * 1024, summary  # ru_maxrss is in KiB on Linux


def check_counts(summary: str, records: int) -> None:
    numbers = [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", summary)[:4]]
    read, kept, rejected, errored = numbers
    if not read == kept + rejected + errored == records:
        raise SystemExit(f"records lost or duplicated: {summary!r} for {records} records")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, nargs="+", default=[1000, 4000])
    parser.add_argument("--model", type=Path, help="trained model directory (default: the shipped model)")
    parser.add_argument("--workdir", type=Path, help="where inputs and outputs go (default: a temporary directory)")
    args = parser.parse_args()
    sentences = example_sentences()
    with tempfile.TemporaryDirectory() as temporary:
        workdir = args.workdir or Path(temporary)
        workdir.mkdir(parents=True, exist_ok=True)
        peaks = {}
        print(f"{'records':>9} {'seconds':>9} {'records/s':>10} {'peak RSS MiB':>13}  summary")
        for count in sorted(args.records):
            source = workdir / f"records_{count}.jsonl"
            write_records(source, count, sentences)
            seconds, peak, summary = run_filter(source, workdir, args.model)
            check_counts(summary, count)
            peaks[count] = peak
            print(f"{count:>9,} {seconds:>9.1f} {count / seconds:>10.1f} {peak / 2**20:>13.0f}  {summary}")
        smallest, largest = min(peaks), max(peaks)
        if largest != smallest:
            print(f"peak memory ratio, {largest:,} vs {smallest:,} records: {peaks[largest] / peaks[smallest]:.3f}")


if __name__ == "__main__":
    main()
