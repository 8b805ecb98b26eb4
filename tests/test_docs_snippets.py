"""Every ```python block of README.md and docs/*.md runs as written.

Convention: each block is self-contained and runs alone, in a fresh namespace, with
the repository root as the working directory (where a reader copies it from). A block
preceded by ``<!-- needs: PATH -->`` (PATH relative to ``../shared``, several separated
by spaces) reads real data there and is skipped when a file is absent. A block preceded
by ``<!-- no-run: REASON -->`` is not executed (for a block that only shows an API on
files the reader must supply); the test still compiles it, so a syntax error fails.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from conftest import REPO, SHARED

_FENCE = re.compile(
    r"(?P<marks>(?:<!--[^\n]*-->\s*\n)*)```python[^\n]*\n(?P<code>.*?)\n```", re.DOTALL)
_MARK = re.compile(r"<!--\s*(?P<kind>needs|no-run):\s*(?P<value>.*?)\s*-->")


def _documents() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def extract_blocks(text: str) -> list[tuple[str, dict[str, str]]]:
    """The python blocks of a Markdown text, each with its marks (``needs``, ``no-run``)."""
    out = []
    for m in _FENCE.finditer(text):
        marks = {k["kind"]: k["value"] for k in _MARK.finditer(m["marks"])}
        out.append((m["code"], marks))
    return out


def _cases() -> list:
    cases = []
    for doc in _documents():
        if not doc.exists():
            continue
        for i, (code, marks) in enumerate(extract_blocks(doc.read_text(encoding="utf-8"))):
            line = doc.read_text(encoding="utf-8").count("\n", 0, doc.read_text(
                encoding="utf-8").find(code))
            cases.append(pytest.param(doc, code, marks,
                                      id=f"{doc.relative_to(REPO)}:{line + 1}#{i}"))
    return cases


def test_extractor_finds_marked_blocks():
    text = ("x\n<!-- needs: data/a.csv -->\n```python\nprint(1)\n```\n\n```bash\nls\n```\n"
            "```python\nprint(2)\n```\n")
    blocks = extract_blocks(text)
    assert [b[0] for b in blocks] == ["print(1)", "print(2)"]
    assert blocks[0][1] == {"needs": "data/a.csv"} and blocks[1][1] == {}


def test_every_document_has_runnable_blocks():
    cases = _cases()
    docs = {c.values[0].name for c in cases}
    assert "README.md" in docs
    assert len(cases) >= 10


@pytest.mark.parametrize(("doc", "code", "marks"), _cases())
def test_block_runs_as_written(doc: Path, code: str, marks: dict[str, str], monkeypatch):
    compiled = compile(code, f"{doc.name}[block]", "exec")
    if "no-run" in marks:
        pytest.skip(f"no-run: {marks['no-run']}")
    for need in marks.get("needs", "").split():
        if not (SHARED / need).exists():
            pytest.skip(f"needs ../shared/{need}")
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("GRAVITY_PROGRESS", "0")
    monkeypatch.setitem(os.environ, "NUMBA_NUM_THREADS", os.environ.get("NUMBA_NUM_THREADS", "1"))
    (REPO / "out").mkdir(exist_ok=True)
    namespace: dict = {"__name__": "__main__"}
    exec(compiled, namespace)  # noqa: S102 - the documentation's own code
