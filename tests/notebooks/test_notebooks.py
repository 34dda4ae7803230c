"""The analyst notebooks in notebooks/: stored without outputs, importing only cxlens for the analysis,
and running top to bottom on the bundled example archive (``CXLENS_NOTEBOOK_DATA=examples``)."""

from __future__ import annotations

import ast
import json
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
EXPECTED = ("01_top_topics.ipynb", "02_at_risk_accounts.ipynb", "03_kpi_deep_dive.ipynb")
# the analysis comes from cxlens; these only display it or find files
ALLOWED_IMPORTS = {"cxlens", "pandas", "numpy", "matplotlib", "os", "pathlib", "tempfile", "dataclasses", "warnings"}
CELL_TIMEOUT_S = 300


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def test_notebooks_all_present():
    assert [p.name for p in NOTEBOOKS] == list(EXPECTED)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_stored_without_outputs(path):
    for i, cell in enumerate(_cells(path)):
        if cell["cell_type"] != "code":
            continue
        assert cell.get("outputs") == [], f"{path.name}: code cell {i} has stored outputs; strip them"
        assert cell.get("execution_count") is None, f"{path.name}: code cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_import_only_cxlens_for_analysis(path):
    imported = set()
    for cell in _cells(path):
        if cell["cell_type"] == "code":
            for node in ast.walk(ast.parse(_source(cell))):
                if isinstance(node, ast.Import):
                    imported |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module:
                    imported.add(node.module.split(".")[0])
    assert "cxlens" in imported
    assert imported <= ALLOWED_IMPORTS, f"{path.name} imports {sorted(imported - ALLOWED_IMPORTS)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_use_only_the_public_api(path):
    """``import cxlens`` / ``from cxlens import X`` and ``cxlens.X``, with X in ``cxlens.__all__``; no submodules."""
    import cxlens

    bad = []
    for i, cell in enumerate(_cells(path)):
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse(_source(cell))):
            if isinstance(node, ast.Import):
                bad += [f"cell {i}: import {a.name}" for a in node.names
                        if a.name.startswith("cxlens.") or (a.name == "cxlens" and a.asname)]
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "cxlens":
                if node.module != "cxlens":
                    bad.append(f"cell {i}: from {node.module} import ...")
                bad += [f"cell {i}: from cxlens import {a.name}" for a in node.names if a.name not in cxlens.__all__]
            elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "cxlens"
                  and node.attr not in cxlens.__all__):
                bad.append(f"cell {i}: cxlens.{node.attr}")
    assert not bad, f"{path.name} reaches past cxlens' public API: {bad}"


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory):
    """A kernel spec that runs *this* interpreter, in a private folder put first on JUPYTER_PATH."""
    pytest.importorskip("nbclient", reason="pip install -e '.[dev]' to run the notebooks")
    kernelspec = pytest.importorskip("ipykernel.kernelspec", reason="pip install -e '.[dev]' to run the notebooks")
    prefix = tmp_path_factory.mktemp("jupyter")
    name = "cxlens-notebook-test"
    kernelspec.install(kernel_name=name, prefix=str(prefix), display_name=f"Python ({sys.executable})")
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(prefix / "share" / "jupyter"), old]))
    yield name
    if old is None:
        os.environ.pop("JUPYTER_PATH", None)
    else:
        os.environ["JUPYTER_PATH"] = old


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_run_top_to_bottom(path, kernel_name, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("CXLENS_NOTEBOOK_DATA", "examples")  # deterministic, and CI may lack ../shared/data
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name=kernel_name, allow_errors=False,
                            resources={"metadata": {"path": str(REPO)}})
    client.execute()  # raises CellExecutionError with the cell and traceback on failure
    ran = [c for c in nb.cells if c.cell_type == "code"]
    assert ran and all(c.execution_count is not None for c in ran)
    errors = [o for c in ran for o in c.outputs if o.get("output_type") == "error"]
    assert not errors
