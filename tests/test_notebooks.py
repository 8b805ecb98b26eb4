"""The example notebooks: sources in sync with the stored notebooks, and executed.

``notebooks/NN_*.py`` (jupytext "percent" scripts) are the single source; each
``NN_*.ipynb`` is generated from its ``.py`` and stored executed
(``notebooks/build.py``). :func:`test_notebook_in_sync` checks that every pair holds the
same cells (type and source; outputs, execution counts, cell ids and metadata other than
``gravity`` are ignored) and that no ``.py`` or ``.ipynb`` lacks its partner.

The execution tests run every notebook top to bottom (nbclient), as CI does. The kernel
runs the interpreter running the tests (a kernelspec written to a temporary
``JUPYTER_PATH``), so a fresh ``pip install -e '.[dev]'`` suffices: no manual
``ipykernel install``. Working directory: ``notebooks/``. Each cell has its own timeout;
together the notebooks must stay under five minutes.

A notebook that needs files under ``../shared`` declares them in its metadata
(``"gravity": {"requires_shared": [...]}``) and is skipped, with the missing path in the
reason, when they are absent; notebooks with a fallback (simulated data) always run, list
the files they use when present under ``"optional_shared"`` and skip those sections
with a message when they are absent.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NBDIR = REPO / "notebooks"
NOTEBOOKS = sorted(NBDIR.glob("[0-9][0-9]_*.ipynb"))
SOURCES = sorted(NBDIR.glob("[0-9][0-9]_*.py"))
SHARED = REPO.parent / "shared"
TIMEOUT_PER_CELL = 240
TOTAL_BUDGET = 300.0
_elapsed: dict[str, float] = {}


def _cells(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source) for c in nb.cells]


def _missing_shared(nb: nbformat.NotebookNode) -> list[str]:
    required = nb.metadata.get("gravity", {}).get("requires_shared", [])
    return [r for r in required if not (SHARED / r).exists()]


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory) -> str:
    tmp = tmp_path_factory.mktemp("jupyter")
    spec = tmp / "kernels" / "gravity-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python (gravity tests)", "language": "python"}))
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(tmp) + (os.pathsep + old if old else "")
    yield "gravity-test"
    if old is None:
        os.environ.pop("JUPYTER_PATH", None)
    else:
        os.environ["JUPYTER_PATH"] = old


def test_notebooks_exist():
    names = [p.name for p in NOTEBOOKS]
    assert "01_yotov2016_replication.ipynb" in names
    assert "02_diversification.ipynb" in names
    assert "03_bri_extensive_margin.ipynb" in names
    assert "04_finance_pecking_order.ipynb" in names
    assert "05_ge_counterfactuals.ipynb" in names
    assert not (NBDIR / "build_notebooks.py").exists(), "the .py sources replace it"
    # notebooks with a simulated fallback declare the shared files they use when present
    for p in NOTEBOOKS:
        meta = nbformat.read(p, as_version=4).metadata.get("gravity", {})
        assert isinstance(meta.get("requires_shared", []), list)
        assert isinstance(meta.get("optional_shared", []), list)
    # the Yotov replication has no fallback: it declares its data (and never downloads)
    nb1 = nbformat.read(NBDIR / "01_yotov2016_replication.ipynb", as_version=4)
    assert nb1.metadata["gravity"]["requires_shared"] == [
        "data/yotov2016/agtpa_applications.csv.gz"]


def test_every_notebook_has_a_source():
    """Each ``.py`` has its ``.ipynb`` and the reverse."""
    pys, ipynbs = {p.stem for p in SOURCES}, {p.stem for p in NOTEBOOKS}
    assert SOURCES, "no notebooks/NN_*.py sources"
    assert not pys - ipynbs, f"sources without a notebook (run notebooks/build.py): {pys - ipynbs}"
    assert not ipynbs - pys, f"notebooks without a .py source: {ipynbs - pys}"


@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_notebook_in_sync(source: Path):
    """The stored ``.ipynb`` holds exactly the cells (and ``gravity`` metadata) of its ``.py``."""
    jupytext = pytest.importorskip("jupytext")
    ipynb = source.with_suffix(".ipynb")
    if not ipynb.exists():
        pytest.fail(f"{ipynb.name} missing: run notebooks/build.py {source.stem[:2]}")
    text = jupytext.read(source)
    stored = nbformat.read(ipynb, as_version=4)
    assert text.metadata.get("jupytext", {}).get("text_representation", {}).get(
        "format_name") == "percent", f"{source.name} is not a jupytext percent script"
    hint = f"{ipynb.name} is out of sync with {source.name}: run notebooks/build.py {source.stem[:2]}"
    a, b = _cells(text), _cells(stored)
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            lines = [f"{u!r} (.py) vs {v!r} (.ipynb)" for u, v in zip(
                [x[0], *x[1].splitlines()], [y[0], *y[1].splitlines()], strict=False) if u != v]
            pytest.fail(f"{hint}; first difference in cell {i}: "
                        f"{lines[0] if lines else 'a line added or removed'}")
    assert len(a) == len(b), f"{hint} ({len(a)} cells in the .py, {len(b)} in the .ipynb)"
    assert text.metadata.get("gravity") == stored.metadata.get("gravity"), hint


def test_helpers_importable(monkeypatch):
    """``notebooks/nbhelpers.py`` imports on its own and finds nothing in a place without shared/."""
    monkeypatch.syspath_prepend(str(NBDIR))
    import nbhelpers

    monkeypatch.chdir(Path("/"))
    assert nbhelpers.find_shared("no", "such", "file.csv") is None
    with pytest.raises(FileNotFoundError, match=r"\.\./shared/no/such/file\.csv"):
        nbhelpers.require_shared("no", "such", "file.csv")


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, kernel_name: str):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    missing = _missing_shared(nb)
    if missing:
        pytest.skip(f"{path.name} needs ../shared/{missing[0]} (not present): "
                    "see shared/data/README.md")
    stored = [c for c in nb.cells if c.cell_type == "code"]
    assert stored and all(c.get("outputs") is not None for c in stored)
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=TIMEOUT_PER_CELL, kernel_name=kernel_name,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    _elapsed[path.name] = time.perf_counter() - t0
    assert sum(_elapsed.values()) < TOTAL_BUDGET, _elapsed
    # the stored copy is an executed notebook: every code cell has run, none errored
    for c in nbformat.read(path, as_version=4).cells:
        if c.cell_type == "code":
            assert c.get("execution_count") is not None, c.source[:80]
            assert not [o for o in c.outputs if o.output_type == "error"], c.source[:80]
    # the re-executed notebook produced no error output and displayed its tables/figures
    kinds = {k for c in nb.cells if c.cell_type == "code" for o in c.outputs
             for k in o.get("data", {})}
    assert "image/png" in kinds
    assert "text/html" in kinds
