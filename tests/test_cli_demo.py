"""The command-line interface and the demo run end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gravity.cli import main


def test_help_lists_subcommands(capsys):
    try:
        main(["--help"])
    except SystemExit as exc:
        assert exc.code == 0
    out = capsys.readouterr().out
    for cmd in ("demo", "fit", "panel"):
        assert cmd in out


def test_fit_command_matches_api(tmp_path, capsys):
    import gravity as gv

    rng = np.random.default_rng(0)
    d = pd.DataFrame({"y": rng.poisson(3, 200).astype(float), "x": rng.normal(size=200),
                      "g": rng.integers(0, 10, 200)})
    path = tmp_path / "d.csv"
    d.to_csv(path, index=False)
    assert main(["fit", "ppml", "y ~ x | g", str(path), "--vcov", "hetero", "--json"]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    ref = gv.ppml("y ~ x | g", d, vcov="hetero")
    assert abs(out["params"]["x"] - ref.params["x"]) < 1e-12
    assert abs(out["bse"]["x"] - ref.bse["x"]) < 1e-12


def test_demo_writes_report(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "report.md").read_text().startswith("# gravity demo")
    assert "PPML" in capsys.readouterr().out
