"""Every notebook runs top to bottom in a fresh kernel (tiny settings), and none is committed with
outputs."""

import glob
import os

import nbformat
import pytest
from nbclient import NotebookClient
from paths import ROOT

NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))


def test_the_three_notebooks_are_there_without_stale_outputs():
    assert [os.path.basename(p) for p in NOTEBOOKS] == [
        "pipeline_interactive.ipynb",
        "quickstart.ipynb",
        "your_own_images.ipynb",
    ]
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        assert all(
            not cell.get("outputs") and not cell.get("execution_count")
            for cell in notebook.cells
            if cell.cell_type == "code"
        ), path


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch):
    monkeypatch.setenv("MUNIT_NOTEBOOK_TINY", "1")
    monkeypatch.setenv("MUNIT_NOTEBOOK_WORKDIR", str(tmp_path))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend, as in Jupyter
    monkeypatch.setenv("PYTHONPATH", ROOT)
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    shown = [o for o in outputs if o.output_type in ("display_data", "execute_result")]
    figures = [o for o in shown if "image/png" in o.get("data", {})]
    html = [o for o in shown if "text/html" in o.get("data", {})]
    if os.path.basename(path) == "pipeline_interactive.ipynb":
        # the report, inline
        assert any("Example-guided translation" in o["data"]["text/html"] for o in html)
    else:  # the matplotlib figures render: loss curve, styles, references, interpolation / response
        assert (
            len(figures)
            == {"quickstart.ipynb": 4, "your_own_images.ipynb": 1}[os.path.basename(path)]
        )
