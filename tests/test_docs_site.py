"""The documentation site builds with ``mkdocs build --strict`` (what CI runs) and holds
every page of the navigation, the API reference rendered from the docstrings (estimators,
errors, ``gravity.ge``) and the notebooks rendered with their stored outputs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    pytest.importorskip("mkdocs_jupyter")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                          "-f", str(REPO / "mkdocs.yml"), "-d", str(out)],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
                         check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    return out


def _nav_pages() -> list[str]:
    import yaml

    def walk(node):
        if isinstance(node, str):
            yield node
        elif isinstance(node, list):
            for x in node:
                yield from walk(x)
        elif isinstance(node, dict):
            for v in node.values():
                yield from walk(v)

    config = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    return list(walk(config["nav"]))


def test_every_page_is_built(site):
    pages = _nav_pages()
    assert len(pages) >= 20
    for page in pages:
        stem = page.rsplit(".", 1)[0]
        html = site / ("index.html" if stem == "index" else f"{stem}/index.html")
        assert html.is_file(), page
        assert (REPO / "docs" / page).exists(), page


def test_every_docs_page_is_in_the_nav():
    nav = set(_nav_pages())
    on_disk = {str(p.relative_to(REPO / "docs")) for p in (REPO / "docs").rglob("*")
               if p.suffix in (".md", ".ipynb")}
    assert on_disk == nav, on_disk ^ nav


def test_every_notebook_is_rendered_with_outputs(site):
    notebooks = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert len(notebooks) >= 4
    for nb in notebooks:
        assert (REPO / "docs" / "notebooks" / nb.name).resolve() == nb.resolve()
        html = (site / "notebooks" / nb.stem / "index.html").read_text(encoding="utf-8")
        assert "<img" in html or "data:image/png" in html, nb.name  # stored figures shown


def test_api_reference_is_rendered_from_docstrings(site):
    html = (site / "reference" / "estimation" / "index.html").read_text(encoding="utf-8")
    for name in ("ppml", "feglm", "PoissonResults", "with_vcov"):
        assert name in html
    errors = (site / "reference" / "errors" / "index.html").read_text(encoding="utf-8")
    assert "MissingColumnError" in errors
    ge = (site / "reference" / "ge" / "index.html").read_text(encoding="utf-8")
    for name in ("counterfactual", "Baseline", "GEResult", "ge_intervals",
                 "multisector_counterfactual", "pair_cost_index"):
        assert name in ge
