"""The end of every benchmark script: print its lines and, with ``--out``, append them to
a markdown file under the command that made them."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def report(lines: list[str], out: str | None, uptime: bool = True) -> str:
    """Print ``lines`` (with the machine's load at the end when ``uptime``) and append
    them, as a fenced block under the script's command line, to ``out`` if given."""
    if uptime:
        lines = [*lines, f"uptime after: {os.popen('uptime').read().strip()}"]
    text = "\n".join(lines)
    print(text)
    if out:
        command = f"python benchmarks/{Path(sys.argv[0]).name} {' '.join(sys.argv[1:])}"
        with open(out, "a") as fh:
            fh.write(f"\n`{command.strip()}`\n\n```\n{text}\n```\n")
    return text
