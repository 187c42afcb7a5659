"""The planners' notebook is stored without outputs and runs top to bottom.

It is executed with nbclient on the ``python3`` kernel that ipykernel ships inside the venv
(``.venv/share/jupyter/kernels/python3``; jupyter_client runs it with this interpreter).
Nothing is installed and nothing is written outside the venv and a temporary folder:
``JUPYTER_PATH`` puts the venv's kernels first, and Jupyter's runtime files and IPython's
profile go to the temporary folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "planner_walkthrough.ipynb"


def test_notebook_is_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "the notebook has no code cell"
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.slow
def test_notebook_runs(tmp_path, monkeypatch):
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("JUPYTER_PATH", str(Path(sys.prefix) / "share" / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("PARCOURS_NOTEBOOK_OUT", str(tmp_path / "out"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=600,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    text = "\n".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "Seuil : 30 km" in text
    assert "Scénario (le registre n'est pas modifié)" in text
    assert "Sites suggérés" in text
    out = tmp_path / "out"
    assert (out / "rapport-carnet.html").stat().st_size > 10_000
    assert (out / "carte-carnet.html").stat().st_size > 1_000_000
