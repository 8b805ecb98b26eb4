"""CITATION.cff is valid Citation File Format 1.2.0, and the README cites the methods.

Validation uses ``cffconvert`` (dev extra), which ships the official CFF JSON
schemas and validates offline: ``Citation(text).validate()`` runs
``jsonschema.validate`` against ``cffconvert/schemas/1.2.0/schema.json``.
"""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest

cffconvert = pytest.importorskip("cffconvert", reason="cffconvert (dev extra) not installed")

REPO = Path(__file__).resolve().parents[1]
CFF = REPO / "CITATION.cff"


def test_citation_cff_is_valid_cff_1_2():
    text = CFF.read_text(encoding="utf-8")
    citation = cffconvert.Citation(text)
    assert citation.cffversion == "1.2.0"
    citation.validate()  # raises jsonschema.ValidationError when invalid
    obj = citation.cffobj
    assert obj["type"] == "software"
    assert obj["title"].startswith("gravity")
    assert str(obj["version"]) == "0.1.0"


def test_validator_rejects_broken_files():
    """The check above can fail: invalid variants of the real file are rejected."""
    text = CFF.read_text(encoding="utf-8")
    no_title = re.sub(r"(?m)^title:.*\n", "", text)
    bad_date = re.sub(r'(?m)^date-released:.*$', 'date-released: "24 Nov 2026"', text)
    for broken in (no_title, bad_date):
        assert broken != text
        with pytest.raises(jsonschema.ValidationError):
            cffconvert.Citation(broken).validate()
    with pytest.raises(ValueError, match="cff-version"):
        cffconvert.Citation(text.replace("cff-version: 1.2.0", "cff-version: 9.9.9"))


def test_citation_version_matches_package():
    import gravity

    obj = cffconvert.Citation(CFF.read_text(encoding="utf-8")).cffobj
    assert str(obj["version"]) == gravity.__version__


def test_readme_how_to_cite_lists_the_methods():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## How to cite", 1)[1].split("\n## ", 1)[0]
    assert "CITATION.cff" in section
    for author, year in [("Santos Silva", 2006), ("Correia, S., P. Guimarães and T. Zylkin", 2020),
                         ("Yotov", 2016), ("Fernández-Val", 2016),
                         ("Helpman, E., M. Melitz and Y. Rubinstein", 2008), ("Manova", 2013)]:
        assert re.search(re.escape(author) + r"[^*]*\(" + str(year) + r"\)", section), author
