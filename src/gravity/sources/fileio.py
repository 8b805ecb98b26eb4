"""Reading published files without raw decoder, parser or archive errors.

Every function here raises :class:`gravity.errors.FileFormatError` naming the
file (and the line where one applies) instead of a raw ``UnicodeDecodeError``,
``EOFError``, ``zlib``/``zipfile``/``struct`` error, pandas ``ParserError`` or
DuckDB error.

Checks made on every CSV read through :func:`read_csv`:

* **compression** -- a ``.gz`` file is decompressed completely, so a truncated
  or corrupt stream is detected (gzip's CRC-32 and length trailer); a zip
  member is checked against its CRC-32;
* **encoding** -- UTF-8 (a leading byte-order mark is removed). Latin-1 is a
  fallback only where the caller says the publisher uses it (``latin1=True``,
  see :data:`LATIN1_PUBLISHERS`); otherwise the error names the byte offset
  and the line of the first byte that is not UTF-8. UTF-16 files and binary
  content (NUL bytes) are rejected;
* **structure** -- every line must have as many fields as the header
  (counted outside quoted fields, vectorised over the bytes); a last line
  with fewer fields and no line break is reported as a truncated file, and an
  unterminated quoted field as a file cut inside a quote. A complete last
  line without a line break is accepted with a :class:`GravityWarning`: a cut
  inside its last value cannot be told from a file written without a final
  line break.

A file cut exactly after a line break cannot be detected from its content
(CSV carries no row count); compressed files can, and are.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import struct
import warnings
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gravity.errors import FileFormatError, GravityWarning

__all__ = [
    "LATIN1_PUBLISHERS",
    "csv_header",
    "decode",
    "duckdb_error",
    "read_bytes",
    "read_csv",
    "read_excel",
    "read_stata",
]

#: Readers allowed to fall back to latin-1 when a file is not valid UTF-8, and why.
#: Every other reader requires UTF-8 (ASCII included): their publishers write UTF-8.
LATIN1_PUBLISHERS: dict[str, str] = {
    "CEPII GeoDist": (
        "GeoDist (2011) is distributed as Excel 97 and pre-Unicode Stata files (Stata < 14 "
        "has no UTF-8 strings; pandas reads them as latin-1), so its country, city and "
        "language names are in a single-byte Western encoding, and CSV exports of them "
        "commonly keep it"
    ),
}

_BOM_UTF8 = b"\xef\xbb\xbf"
_BOMS_UTF16 = (b"\xff\xfe", b"\xfe\xff")
_MAX_FOOTER_LINES = 10


def extract_member(z: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> Path:
    """Extract one archive member to ``target`` unless a copy of the same size is there,
    through a ``.part`` file renamed at the end (the CRC-32 is checked on reading)."""
    if not target.exists() or target.stat().st_size != info.file_size:
        part = target.with_name(target.name + ".part")
        with z.open(info) as src, open(part, "wb") as dst:
            while block := src.read(1 << 24):
                dst.write(block)
        part.replace(target)
    return target


def read_bytes(path: str | Path, *, member: str | None = None) -> bytes:
    """The content of ``path`` (decompressed when it ends in ``.gz``), or of a zip ``member``.

    Raises :class:`FileFormatError` for a truncated or corrupt gzip stream or
    zip archive; ``FileNotFoundError`` when the file does not exist.
    """
    p = Path(path)
    if member is not None:
        try:
            with zipfile.ZipFile(p) as z:
                return z.read(member)
        except (zipfile.BadZipFile, EOFError, zlib.error) as e:
            raise FileFormatError(f"corrupt or truncated zip archive ({e})", file=f"{p.name}:{member}") from None
    if p.suffix.lower() == ".gz":
        try:
            with gzip.open(p, "rb") as f:
                return f.read()
        except EOFError:
            raise FileFormatError(
                "truncated gzip stream: the file ends before the end-of-stream marker "
                "(incomplete download or copy)", file=p.name,
            ) from None
        except (gzip.BadGzipFile, zlib.error) as e:
            raise FileFormatError(f"corrupt gzip stream ({e})", file=p.name) from None
    return p.read_bytes()


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode(data: bytes, *, file: str, latin1: bool = False) -> tuple[str, str]:
    """Decode ``data`` as UTF-8 (BOM removed) or, if allowed, latin-1: ``(text, encoding)``."""
    if data[:2] in _BOMS_UTF16:
        raise FileFormatError("the file is UTF-16 encoded; save it as UTF-8", file=file, line=1)
    enc = "utf-8"
    if data.startswith(_BOM_UTF8):
        data, enc = data[len(_BOM_UTF8):], "utf-8-sig"
    nul = data.find(b"\x00")
    if nul >= 0:
        raise FileFormatError(
            f"binary content (a NUL byte at offset {nul}): not a text file, or a corrupt one",
            file=file, line=_line_of(data, nul),
        )
    try:
        return data.decode("utf-8"), enc
    except UnicodeDecodeError as e:
        if latin1:
            return data.decode("latin-1"), "latin-1"
        raise FileFormatError(
            f"byte 0x{data[e.start]:02x} at offset {e.start} is not UTF-8 ({e.reason}); "
            "the file is in another encoding (e.g. latin-1 / cp1252): save it as UTF-8",
            file=file, line=_line_of(data, e.start),
        ) from None


def _split_line(text: str) -> list[str]:
    return next(csv.reader([text]), [])


def _check_structure(data: bytes, *, file: str, footer: re.Pattern[str] | None) -> int:
    """Check that every line has the header's number of fields; return the number of footer lines.

    Works on the bytes with vectorised searches: separators and line breaks
    inside quoted fields are not counted.
    """
    a = np.frombuffer(data, dtype=np.uint8)
    if a.size == 0:
        raise FileFormatError("empty file", file=file)
    quotes = np.flatnonzero(a == ord('"'))
    if quotes.size % 2:
        start = int(quotes[-1])
        raise FileFormatError(
            "a quoted field opened here is never closed: the file is truncated or malformed",
            file=file, line=_line_of(data, start),
        )
    breaks = np.flatnonzero(a == ord("\n"))
    commas = np.flatnonzero(a == ord(","))
    ends = breaks[np.searchsorted(quotes, breaks) % 2 == 0]
    commas = commas[np.searchsorted(quotes, commas) % 2 == 0]
    final_break = bool(a[-1] == ord("\n"))
    if not final_break:
        ends = np.append(ends, a.size)
    starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
    fields = np.searchsorted(commas, ends) - np.searchsorted(commas, starts) + 1
    length = ends - starts
    first_byte = a[np.minimum(starts, a.size - 1)]
    blank = (length == 0) | ((length == 1) & (first_byte == ord("\r")))
    content = np.flatnonzero(~blank)
    if content.size == 0:
        raise FileFormatError("empty file", file=file)
    n_header = int(fields[content[0]])
    bad = np.flatnonzero(~blank & (fields != n_header))
    n_footer = 0
    if footer is not None and bad.size:
        # a publisher's footer of notes: trailing lines with fewer fields matching ``footer``
        tail = content[::-1][: min(_MAX_FOOTER_LINES, content.size)]
        for k in tail:  # a handful of trailing lines, not the observations
            text = data[starts[k]:ends[k]].decode("utf-8", "replace").strip()
            if fields[k] < n_header and footer.match(text):
                n_footer += 1
            else:
                break
        if n_footer:
            bad = bad[~np.isin(bad, tail[:n_footer])]
    lines = np.searchsorted(breaks, starts) + 1  # 1-based line of each record
    data_row = np.cumsum(~blank) - 2  # 0-based data row (header excluded), as pandas counts
    if bad.size:
        k = int(bad[0])
        n = int(fields[k])
        if k == starts.size - 1 and not final_break and n < n_header:
            msg = (f"truncated file: the last line has {n} of the header's {n_header} fields "
                   "and no line break (incomplete download or copy)")
        else:
            msg = (f"{bad.size} line(s) do not have the header's {n_header} fields "
                   f"(line {int(lines[k])} has {n})")
        raise FileFormatError(msg, file=file, line=int(lines[k]), rows=data_row[bad].tolist())
    if not final_break and n_footer == 0:
        warnings.warn(
            f"file '{file}': the last line ({int(lines[-1])}) has no line break; published files "
            "end with one, so check that the file is complete (a cut inside its last value "
            "cannot be detected)", GravityWarning, stacklevel=3,
        )
    return n_footer


def read_csv(
    path: str | Path,
    *,
    member: str | None = None,
    latin1: bool = False,
    footer: re.Pattern[str] | None = None,
    as_text: bool = True,
    name: str | None = None,
    **kwargs: Any,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a comma-separated file with the checks of this module.

    Parameters
    ----------
    path : the file (``.gz`` decompressed) or a zip archive with ``member``.
    latin1 : allow the latin-1 fallback (only for :data:`LATIN1_PUBLISHERS`).
    footer : pattern of a publisher's trailing note lines (fewer fields) to drop.
    as_text : every cell as a string (``""`` for empty cells), parsed by the
        caller with :func:`gravity.sources.validate.numeric`; otherwise pandas
        infers the types.
    name : file name used in errors (default: the file's name).

    Returns
    -------
    (DataFrame, dict)
        Column names stripped of spaces; the dict holds ``encoding`` and ``lines``.
    """
    p = Path(path)
    label = name or (f"{p.name}:{member}" if member else p.name)
    data = read_bytes(p, member=member)
    text, enc = decode(data, file=label, latin1=latin1)
    body = data[len(_BOM_UTF8):] if enc == "utf-8-sig" else data
    n_footer = _check_structure(body, file=label, footer=footer)
    opts: dict[str, Any] = {"dtype": str, "keep_default_na": False} if as_text else {}
    opts.update(kwargs)
    try:
        df = pd.read_csv(io.StringIO(text), **opts)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as e:
        m = re.search(r"line (\d+)", str(e))
        raise FileFormatError(f"cannot be parsed as CSV ({e})", file=label,
                              line=int(m.group(1)) if m else None) from None
    if n_footer:
        df = df.iloc[: len(df) - n_footer]
    df.columns = [str(c).strip() for c in df.columns]
    return df, {"encoding": enc, "lines": body.count(b"\n") + (0 if body.endswith(b"\n") else 1)}


def csv_header(path: str | Path) -> list[str]:
    """The field names of a CSV file's first line (``.gz`` read as a stream)."""
    p = Path(path)
    try:
        if p.suffix.lower() == ".gz":
            with gzip.open(p, "rb") as f:
                first = f.readline()
        else:
            with open(p, "rb") as f:
                first = f.readline()
    except EOFError:
        raise FileFormatError("truncated gzip stream", file=p.name, line=1) from None
    except (gzip.BadGzipFile, zlib.error) as e:
        raise FileFormatError(f"corrupt gzip stream ({e})", file=p.name, line=1) from None
    text, _ = decode(first, file=p.name)
    return [h.strip() for h in _split_line(text.rstrip("\r\n"))]


def check_last_line(path: str | Path, n_fields: int) -> None:
    """Raise :class:`FileFormatError` if a plain CSV file's last line is cut (fewer fields, no line break).

    Reads only the end of the file (for files streamed by DuckDB).
    """
    p = Path(path)
    if p.suffix.lower() == ".gz":
        return  # the decompressor checks the stream's integrity
    size = p.stat().st_size
    with open(p, "rb") as f:
        f.seek(max(0, size - (1 << 16)))
        tail = f.read()
    if not tail or tail.endswith(b"\n"):
        return
    last = tail.rsplit(b"\n", 1)[-1]
    if last.count(b'"') % 2:
        raise FileFormatError("truncated file: the last line ends inside a quoted field",
                              file=p.name, line=_count_lines(p))
    fields = len(_split_line(last.decode("utf-8", "replace")))
    if fields < n_fields:
        raise FileFormatError(
            f"truncated file: the last line has {fields} of the header's {n_fields} fields and "
            "no line break (incomplete download or copy)", file=p.name, line=_count_lines(p),
        )
    warnings.warn(f"file '{p.name}': the last line has no line break; check that the file is "
                  "complete (a cut inside its last value cannot be detected)", GravityWarning,
                  stacklevel=3)


def _count_lines(p: Path) -> int:
    n = 0
    with open(p, "rb") as f:
        while block := f.read(1 << 24):
            n += block.count(b"\n")
    return n + 1


def duckdb_error(exc: Exception, files: Sequence[Path]) -> FileFormatError:
    """A :class:`FileFormatError` for a DuckDB read error, naming the file and line it reports."""
    msg = str(exc)
    line_m = re.search(r"CSV Error on Line: (\d+)", msg)
    names = [f.name for f in files]
    file = ", ".join(names)
    for f in files:
        if str(f) in msg:
            file = f.name
            break
    keep = [ln.strip() for ln in msg.splitlines()
            if ln.strip() and not ln.startswith(("Possible", "*", "  ", "LINE"))][:4]
    text = " ".join(keep)
    if "GZIP" in msg.upper():
        text = "truncated or corrupt gzip stream (" + text + ")"
    elif "unicode" in msg.lower():
        text = "not UTF-8 encoded (" + text + "); save it as UTF-8"
    return FileFormatError(text, file=file, line=int(line_m.group(1)) if line_m else None)


def read_stata(path: str | Path) -> pd.DataFrame:
    """``pandas.read_stata`` with a :class:`FileFormatError` for a truncated or corrupt file."""
    p = Path(path)
    try:
        return pd.read_stata(p, convert_categoricals=False)
    except (ValueError, struct.error, EOFError, UnicodeDecodeError, IndexError, KeyError) as e:
        raise FileFormatError(f"not a readable Stata file: truncated or corrupt ({e})",
                              file=p.name) from None


def read_excel(path: str | Path, sheet: str) -> pd.DataFrame:
    """``pandas.read_excel`` of one sheet with a :class:`FileFormatError` for a corrupt file."""
    p = Path(path)
    try:
        return pd.read_excel(p, sheet_name=sheet)
    except (zipfile.BadZipFile, EOFError, zlib.error, ValueError, KeyError, OSError) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise FileFormatError(f"not a readable Excel file or no sheet {sheet!r} ({e})",
                              file=p.name) from None
