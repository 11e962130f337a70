import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from spindetect.cli import app

BODY = (
    "The city council voted on Tuesday to approve a new budget for the coming year, after months of debate "
    "over the cost of repairing roads and bridges across the county."
)

runner = CliRunner()


@pytest.fixture(scope="module")
def score_args(tiny_model_dir) -> list[str]:
    return ["score", "--model", str(tiny_model_dir)]


def test_text_files_print_a_verdict_and_paragraphs(score_args, tmp_path) -> None:
    article = tmp_path / "article.txt"
    article.write_text("Local News\n\n" + BODY + "\n")
    result = runner.invoke(app, [*score_args, str(article)])
    assert result.exit_code == 0, result.output
    assert str(article) in result.stdout
    assert ("SPUN" in result.stdout) != ("CLEAN" in result.stdout)
    assert "too short" in result.stdout
    assert "The city council voted" in result.stdout


def test_bad_files_are_reported_and_the_rest_still_scored(score_args, tmp_path) -> None:
    good = tmp_path / "good.txt"
    good.write_text(BODY)
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    binary = tmp_path / "image.bin"
    binary.write_bytes(bytes(range(256)) * 10)
    result = runner.invoke(app, [*score_args, str(empty), str(binary), str(tmp_path / "missing.txt"), str(good)])
    assert result.exit_code == 1
    assert "empty text" in result.stderr
    assert "binary" in result.stderr
    assert "no such file" in result.stderr
    assert "3 of 4 inputs could not be scored" in result.stderr
    assert str(good) in result.stdout


def test_invalid_utf8_is_scored_with_a_warning(score_args, tmp_path) -> None:
    broken = tmp_path / "latin1.txt"
    broken.write_bytes(BODY.replace("county", "comté").encode("latin-1"))
    result = runner.invoke(app, [*score_args, str(broken)])
    assert result.exit_code == 0
    assert "not valid UTF-8" in result.stderr


def test_standard_input_is_read_with_a_dash(score_args) -> None:
    result = runner.invoke(app, [*score_args, "-"], input=BODY)
    assert result.exit_code == 0
    assert "<stdin>" in result.stdout


def test_a_5mb_single_line_document_is_scored_in_part(score_args, tmp_path) -> None:
    huge = tmp_path / "huge.txt"
    huge.write_text((BODY + " ") * (5_000_000 // (len(BODY) + 1)))
    result = runner.invoke(app, [*score_args, str(huge)])
    assert result.exit_code == 0
    assert "scored the first" in result.stdout


def test_jsonl_keeps_every_record_in_order_with_errors_in_place(score_args) -> None:
    lines = [
        json.dumps({"id": 1, "text": BODY}),
        "this is not json",
        json.dumps({"id": 3, "body": BODY}),
        json.dumps({"id": 4, "text": 42}),
        "",
        json.dumps({"id": 6, "text": "Die Staatschefs von China und Nordkorea bekräftigen ihre Allianz."}),
        json.dumps(["a", "list"]),
        json.dumps({"id": 8, "text": "   "}),
        json.dumps({"id": 9, "text": BODY + "\n\n" + BODY}),
    ]
    result = runner.invoke(app, [*score_args, "--jsonl", "-"], input="\n".join(lines) + "\n")
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 8  # the blank line is not a record
    assert [r.get("id") for r in records] == [1, None, 3, 4, 6, None, 8, 9]
    scored = [r for r in records if r["spin_score"] is not None]
    assert [r["id"] for r in scored] == [1, 9]
    unjudged = records[4]  # a short German line: no verdict, no error, its paragraph still scored
    assert (unjudged["spin_label"], unjudged["spin_unjudged"], "error" in unjudged) == ("unjudged", "not_english", False)
    assert 0.0 <= unjudged["paragraphs"][0]["score"] <= 1.0
    for record in scored:
        assert 0.0 <= record["spin_score"] <= 1.0
        assert record["spin_label"] in ("spun", "clean")
        assert record["text"]  # input fields are kept
        for paragraph in record["paragraphs"]:
            assert set(paragraph) == {"start", "end", "score", "flags"}
    assert [(p["start"], p["end"]) for p in scored[1]["paragraphs"]] == [(0, len(BODY)), (len(BODY) + 2, 2 * len(BODY) + 2)]
    errors = [r for r in records if r["spin_score"] is None and r["spin_label"] != "unjudged"]
    assert all(r["error"] for r in errors)
    assert errors[0]["error"].startswith("<stdin>:2: invalid JSON")
    assert "'text'" in errors[1]["error"]
    assert "5 could not be scored" in result.stderr and "1 unjudged" in result.stderr


def test_jsonl_text_field_option_and_clean_exit(score_args, tmp_path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps({"n": i, "body": f"{BODY} Item {i}."}) for i in range(70)) + "\n")
    result = runner.invoke(app, [*score_args, "--jsonl", "--text-field", "body", str(path)])
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["n"] for line in result.stdout.splitlines()] == list(range(70))
    assert "scored 70 records" in result.stderr


def test_threshold_option_sets_the_verdict(score_args) -> None:
    def scored(threshold: str) -> dict:
        result = runner.invoke(app, [*score_args, "--jsonl", "--threshold", threshold, "-"], input=json.dumps({"text": BODY}))
        return json.loads(result.stdout)

    assert scored("0")["spin_label"] == "spun"
    strict = scored("1")
    assert strict["spin_label"] == ("spun" if strict["spin_score"] >= 1.0 else "clean")
    out_of_range = runner.invoke(app, [*score_args, "--threshold", "1.5", "-"], input=BODY)
    assert out_of_range.exit_code == 2


def test_unusable_model_and_config_fail_with_a_message(tmp_path) -> None:
    result = runner.invoke(app, ["score", "--model", str(tmp_path), "-"], input=BODY)
    assert result.exit_code == 2
    assert "not a spindetect model directory" in result.stderr
    config = tmp_path / "bad.yaml"
    config.write_text("runtime:\n  batch_tokns: 5\n")
    result = runner.invoke(app, ["score", "--config", str(config), "-"], input=BODY)
    assert result.exit_code == 2
    assert "runtime.batch_tokns" in result.stderr


def test_help_teaches_by_example() -> None:
    result = runner.invoke(app, ["score", "--help"])
    assert result.exit_code == 0
    assert "spindetect score --jsonl" in result.stdout
    assert "--text-field" in result.stdout


def test_console_script_pipes_jsonl(tiny_model_dir) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "spindetect", "score", "--model", str(tiny_model_dir), "--jsonl", "-"],
        input=json.dumps({"text": BODY}) + "\n",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["spin_score"] is not None


def test_every_feature_has_a_plain_language_description() -> None:
    from spindetect.explain import SIGNAL_DESCRIPTIONS
    from spindetect.features.deletion import DELETION_FEATURE_NAMES
    from spindetect.features.function_swaps import FUNCTION_SWAP_FEATURE_NAMES
    from spindetect.features.lexical import LEXICAL_FEATURE_NAMES
    from spindetect.features.ngram import NGRAM_FEATURE_NAMES
    from spindetect.features.perplexity import LM_FEATURE_NAMES
    from spindetect.features.word_probe import WORD_PROBE_FEATURE_NAMES

    every_feature = (
        NGRAM_FEATURE_NAMES
        + LEXICAL_FEATURE_NAMES
        + LM_FEATURE_NAMES
        + DELETION_FEATURE_NAMES
        + WORD_PROBE_FEATURE_NAMES
        + FUNCTION_SWAP_FEATURE_NAMES
    )
    assert set(every_feature) == set(SIGNAL_DESCRIPTIONS)


def test_info_shows_the_shipped_models_metrics_by_rate_and_style() -> None:
    from spindetect.model import TrainedModel, default_model_dir

    result = runner.invoke(app, ["info"])
    assert result.exit_code == 0, result.output
    metrics = TrainedModel.load(default_model_dir()).metrics
    garble = metrics["test_by_style"]["mt_garble"]
    assert f"test style mt_garble       roc_auc {garble['roc_auc']:.4f}" in result.stdout
    assert f"test rate 0.05  roc_auc {metrics['test_by_rate']['0.05']['roc_auc']:.4f}" in result.stdout
    assert f"lexicon count hidden (unlisted phrases), against clean paragraphs of the same documents: roc_auc {metrics['test_tortured_unlisted']['roc_auc']:.4f}" in result.stdout
    assert "round_trip" in result.stdout and "cascade:" in result.stdout
    clean_share = metrics["cascade"]["test_clean_share_to_language_model"]
    assert f", {clean_share:.0%} of the clean ones)" in result.stdout


def test_the_command_line_starts_without_torch_or_scikit_learn() -> None:
    import subprocess
    import sys

    # `spindetect --help` and input checks must not wait seconds for heavy imports.
    code = "import sys, spindetect.cli; print(sorted({'torch', 'sklearn', 'transformers'} & set(sys.modules)))"
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert imported.strip() == "[]"


def test_every_command_takes_the_model_as_an_option_and_flags_show_no_value() -> None:
    from importlib.metadata import version

    assert runner.invoke(app, ["--version"]).stdout.strip() == f"spindetect {version('spindetect')}"
    for command in ("score", "filter", "evaluate", "calibrate", "serve", "info"):
        shown = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"}).stdout
        assert "--model" in shown, command
        flag_rows = [line for line in shown.splitlines() if "--verbose" in line or "--cascade" in line or "--quiet" in line]
        assert not any("<bool>" in line for line in flag_rows), command
    assert "several times faster" not in runner.invoke(app, ["filter", "--help"]).stdout


def test_quiet_prints_results_and_errors_only(score_args) -> None:
    lines = [json.dumps({"text": BODY}), "{broken"]
    loud = runner.invoke(app, [*score_args, "--jsonl", "-"], input="\n".join(lines))
    quiet = runner.invoke(app, [*score_args, "--jsonl", "-", "-q"], input="\n".join(lines))
    assert quiet.stdout == loud.stdout and len(quiet.stdout.splitlines()) == 2
    assert "scored 1 of 2" in loud.stderr and "scored" not in quiet.stderr
    missing = runner.invoke(app, [*score_args, "-q", "/nonexistent/file.txt"])
    assert missing.exit_code == 1 and "no such file" in missing.stderr  # errors are never silenced


def test_train_refuses_to_overwrite_a_model_directory_unless_asked(tmp_path) -> None:
    output = tmp_path / "model"
    output.mkdir()
    (output / "model.json").write_text("{}")
    refused = runner.invoke(app, ["train", "configs/test.yaml", "--output", str(output)])
    assert refused.exit_code == 2 and "--overwrite" in refused.stderr
    assert (output / "model.json").read_text() == "{}"
