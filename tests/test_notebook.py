"""notebooks/walkthrough.ipynb runs top to bottom, on the tiny config and the tiny trained model.

The notebook is executed the way papermill would: a cell of test parameters goes right after the cell tagged
`parameters`, so the notebook scores with the tiny model instead of loading the real language model, trains
with configs/test.yaml, and keeps its cache and its output in temporary directories.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from tests.conftest import BROWN_SAMPLE, ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = ROOT / "notebooks" / "walkthrough.ipynb"
CELL_TIMEOUT_S = 300
CALIBRATED_THRESHOLD = re.compile(r"calibrated threshold: (\d\.\d+)")


def _with_test_parameters(notebook, parameters: dict[str, object]):
    """The notebook with a cell setting `parameters` right after its `parameters` cell (papermill's way)."""
    tagged = [index for index, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, "the notebook needs exactly one cell tagged 'parameters'"
    source = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
    injected = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    notebook.cells.insert(tagged[0] + 1, injected)
    return notebook


def _text_outputs(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif "text/plain" in output.get("data", {}):
            parts.append(output.data["text/plain"])
    return "".join(parts)


def test_the_notebook_is_committed_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells
    assert all(not cell.outputs and cell.execution_count is None for cell in code_cells)


def test_the_walkthrough_runs_on_the_tiny_config(tiny_model_dir: Path, tmp_path: Path) -> None:
    work_dir = tmp_path / "work"
    notebook = _with_test_parameters(
        nbformat.read(NOTEBOOK, as_version=4),
        {
            "REPOSITORY": str(ROOT),
            "MODEL": str(tiny_model_dir),
            "CONFIG": str(ROOT / "configs" / "test.yaml"),
            "BROWN_DIR": str(BROWN_SAMPLE),
            "DOCUMENTS_PER_BROWN_FILE": 4,  # 24 texts to train on, 14 and 12 held out: enough to split, quick to score
            "WORK_DIR": str(work_dir),
            "CACHE_DIR": str(tmp_path / "cache"),
            "MAX_FPR": 0.2,  # 6 clean calibration texts measure a budget of 1/6 at the finest
        },
    )
    # The `python3` kernel should run in this environment (jupyter_client starts the kernelspec's bare `python`
    # as sys.executable). A last cell, which cannot change what the notebook does, checks: the prefix, not the
    # executable, names the environment, as a venv's python is a link to the system's.
    notebook.cells.append(nbformat.v4.new_code_cell("import sys\nprint(sys.prefix)"))
    client = nbclient.NotebookClient(
        notebook, kernel_name="python3", timeout=CELL_TIMEOUT_S, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell raised

    assert _text_outputs(notebook.cells[-1]).strip() == sys.prefix

    outputs = "\n".join(_text_outputs(cell) for cell in notebook.cells if cell.cell_type == "code")
    assert "spun_article.txt" in outputs and "the model's threshold" in outputs

    for split in ("train", "evaluation", "calibration"):
        rows = [json.loads(line) for line in (work_dir / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]
        assert {row["label"] for row in rows} == {"clean", "spun"}

    own_model_dir = work_dir / "models" / "own"
    assert (own_model_dir / "model.json").is_file()
    assert list((own_model_dir / "plots").glob("*.png"))
    report = json.loads((work_dir / "evaluation-report" / "report.json").read_text(encoding="utf-8"))
    assert report["overall"]["n"] > 0 and "example_article" in report["by_group"]

    printed = CALIBRATED_THRESHOLD.search(outputs)
    assert printed, "the calibration cell prints the calibrated threshold"
    calibrated = json.loads((work_dir / "models" / "own-calibrated" / "model.json").read_text(encoding="utf-8"))
    assert float(printed.group(1)) == pytest.approx(calibrated["threshold"], abs=1e-4)
    assert calibrated["metrics"]["calibration"]["false_positive_rate"] <= 0.2
    assert "95% Wilson upper bound" in outputs  # the calibration's warning: 6 clean texts are few

    shown_images = [output for cell in notebook.cells for output in cell.get("outputs", []) if "image/png" in output.get("data", {})]
    written_plots = list((work_dir / "evaluation-report").glob("*.png")) + list((own_model_dir / "plots").glob("*.png"))
    assert len(shown_images) >= len(written_plots) + 2, "its own two matplotlib figures and every plot written are shown"
    assert (tmp_path / "cache" / "features.sqlite").is_file(), "the notebook's cache went to the test's cache directory"
