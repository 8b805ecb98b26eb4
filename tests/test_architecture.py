"""The package's structure: layers (import-linter contract in pyproject), no import of
another package's private module, no absolute path of any machine, small modules,
and ``import gravity`` without the heavy optional modules."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "gravity"
MODULES = sorted(SRC.rglob("*.py"))


def _imports(path: Path) -> list[tuple[str, int]]:
    """Absolute dotted names imported by a module (relative imports resolved)."""
    tree = ast.parse(path.read_text())
    pkg = ".".join(path.relative_to(SRC.parent).with_suffix("").parts[:-1])
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((mod, node.lineno))
            out += [(f"{mod}.{a.name}", node.lineno) for a in node.names]
    return out


def test_no_package_imports_another_packages_private_module():
    bad = []
    for path in MODULES:
        own = path.relative_to(SRC.parent).parts[:2]
        for name, line in _imports(path):
            parts = name.split(".")
            if parts[0] != "gravity" or len(parts) < 3:
                continue
            private = [p for p in parts[2:] if p.startswith("_") and not p.startswith("__")]
            if private and tuple(parts[:2]) != own:
                bad.append(f"{path.relative_to(SRC)}:{line} imports {name}")
    assert not bad, bad


def test_no_absolute_machine_paths_in_the_package():
    pattern = re.compile(r"""['"]/(work|tmp|home|root|Users|mnt|opt)/""")
    hits = [f"{p.relative_to(SRC)}:{i}" for p in MODULES
            for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not hits, hits


def test_modules_are_small():
    big = {str(p.relative_to(SRC)): n for p in MODULES
           if (n := len(p.read_text().splitlines())) > 650}
    assert not big, big


def test_no_warnings_silenced_in_the_package():
    pattern = re.compile(r"""(simplefilter|filterwarnings)\(\s*['"]ignore""")
    hits = [f"{p.relative_to(SRC)}:{i}" for p in MODULES
            for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not hits, hits


def test_layer_contract_holds():
    exe = Path(sys.executable).with_name("lint-imports")
    if not exe.exists():
        pytest.skip("import-linter not installed")
    run = subprocess.run([str(exe)], capture_output=True, text=True,
                         cwd=SRC.parents[1])
    assert run.returncode == 0, run.stdout[-2000:]
    assert "0 broken" in run.stdout


def test_import_gravity_is_light():
    code = ("import sys, gravity; heavy = [m for m in ('matplotlib', 'statsmodels', "
            "'pyfixest') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
