"""Regenerate the example notebooks from their jupytext sources and execute them.

The ``NN_*.py`` files (jupytext "percent" format) are the source; each ``.ipynb`` is
generated from its ``.py`` and stored executed, with outputs. Usage, from the repository
root with the project's virtual environment::

    .venv/bin/python notebooks/build.py            # every notebook
    .venv/bin/python notebooks/build.py 01 03      # those whose name contains "01" or "03"
    .venv/bin/python notebooks/build.py --check    # only report .py/.ipynb pairs out of sync

Execution is the one ``tests/test_notebooks.py`` repeats: nbclient, working directory
``notebooks/``, a kernel running *this* interpreter (a kernelspec written to a temporary
``JUPYTER_PATH``, so no ``ipykernel install`` is needed). A notebook whose
``requires_shared`` files are absent under ``../shared`` is not rebuilt (its stored copy is
kept and a message says which file is missing). Cell ids are derived from the cell
contents, so rebuilding an unchanged notebook changes only its outputs.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"
KERNEL = "gravity-build"
TIMEOUT_PER_CELL = 240


def sources() -> list[Path]:
    """The jupytext sources: ``notebooks/NN_*.py``."""
    return sorted(p for p in HERE.glob("[0-9][0-9]_*.py"))


def cells(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """``(cell_type, source)`` of every cell: what must agree between a .py and its .ipynb."""
    return [(c.cell_type, c.source) for c in nb.cells]


def missing_shared(nb: nbformat.NotebookNode) -> list[str]:
    """The ``requires_shared`` files of ``nb`` (paths under ``shared/``) that are absent."""
    required = nb.metadata.get("gravity", {}).get("requires_shared", [])
    return [r for r in required if not (SHARED / r).exists()]


def from_source(py: Path) -> nbformat.NotebookNode:
    """The notebook of a jupytext source, with content-derived cell ids."""
    nb = jupytext.read(py)
    seen: dict[str, int] = {}
    for c in nb.cells:
        h = hashlib.sha1(f"{c.cell_type}\n{c.source}".encode()).hexdigest()[:8]
        seen[h] = seen.get(h, 0) + 1
        c["id"] = h if seen[h] == 1 else f"{h}-{seen[h]}"
    return nb


def install_kernel(kernel_dir: str) -> str:
    """A kernelspec running ``sys.executable`` under ``kernel_dir`` (put on
    ``JUPYTER_PATH``); returns its name."""
    spec = Path(kernel_dir) / "kernels" / KERNEL
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python (gravity)", "language": "python"}))
    os.environ["JUPYTER_PATH"] = kernel_dir + os.pathsep + os.environ.get("JUPYTER_PATH", "")
    return KERNEL


def execute(nb: nbformat.NotebookNode, kernel_name: str) -> None:
    """Run ``nb`` in place (cwd ``notebooks/``), keeping its generic ``kernelspec``."""
    kernelspec = dict(nb.metadata["kernelspec"])
    NotebookClient(nb, timeout=TIMEOUT_PER_CELL, kernel_name=kernel_name, record_timing=False,
                   resources={"metadata": {"path": str(HERE)}}).execute()
    nb.metadata["kernelspec"] = kernelspec   # the generic python3 kernel, not ours


def check() -> list[str]:
    """Pairs out of sync: a .py without .ipynb (or the reverse), or different cells."""
    problems = []
    pys = {p.stem for p in sources()}
    ipynbs = {p.stem for p in HERE.glob("[0-9][0-9]_*.ipynb")}
    problems += [f"{s}.py has no .ipynb" for s in sorted(pys - ipynbs)]
    problems += [f"{s}.ipynb has no .py" for s in sorted(ipynbs - pys)]
    for s in sorted(pys & ipynbs):
        if cells(jupytext.read(HERE / f"{s}.py")) != cells(
                nbformat.read(HERE / f"{s}.ipynb", as_version=4)):
            problems.append(f"{s}.ipynb differs from {s}.py: run notebooks/build.py {s[:2]}")
    return problems


def build(names: list[str] | None = None) -> dict[str, float]:
    """Regenerate and execute the notebooks (those matching ``names``); seconds each."""
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as kernel_dir:
        kernel = install_kernel(kernel_dir)
        for py in sources():
            if names and not any(n in py.name for n in names):
                continue
            nb = from_source(py)
            missing = missing_shared(nb)
            if missing:
                print(f"{py.stem}: not rebuilt, needs ../shared/{missing[0]} (not present)")
                continue
            t0 = time.perf_counter()
            execute(nb, kernel)
            times[py.stem] = time.perf_counter() - t0
            jupytext.write(nb, py.with_suffix(".ipynb"))   # as `jupytext --to ipynb` would
            print(f"{py.stem}.ipynb: generated and executed in {times[py.stem]:.1f} s")
    return times


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--check" in args:
        out = check()
        print("\n".join(out) or "all notebooks in sync with their .py sources")
        sys.exit(1 if out else 0)
    build(args or None)
