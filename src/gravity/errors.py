"""Typed errors and warnings raised by :mod:`gravity`.

Every data error names the offending column (and file, where there is one) and
lists the first offending rows, so that the user can fix the input instead of
receiving a silently wrong number.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _format_rows(rows: Sequence | np.ndarray | None, limit: int = 10) -> str:
    if rows is None:
        return ""
    rows = list(rows)
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f" ... ({len(rows)} in total)" if len(rows) > limit else ""
    return f" rows [{shown}{more}]"


class GravityError(Exception):
    """Base class of every error raised by the package."""


class InputError(GravityError, ValueError):
    """Invalid input data. Carries ``column``, ``rows``, ``file`` and ``line`` when known.

    ``line`` is the 1-based line of a text file (the header is line 1).
    """

    def __init__(
        self,
        message: str,
        *,
        column: str | None = None,
        rows: Sequence | np.ndarray | None = None,
        file: str | None = None,
        line: int | None = None,
    ) -> None:
        self.column = column
        self.rows = None if rows is None else list(rows)
        self.file = file
        self.line = line
        where = []
        if file is not None:
            where.append(f"file '{file}'" + (f" line {line}" if line is not None else ""))
        elif line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column '{column}'")
        prefix = (" and ".join(where) + ": ") if where else ""
        super().__init__(prefix + message + _format_rows(self.rows))


class MissingColumnError(InputError, KeyError):
    """A column named in a formula or required by a reader is absent."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.args[0]


class FileFormatError(InputError):
    """A file that does not follow its published format: truncated or corrupt
    (gzip, zip, Stata), not in the expected text encoding, rows with the wrong
    number of fields, or cells that are not numbers / integer years where the
    format has them."""


class MissingValueError(InputError):
    """NaN / missing values where none are allowed."""


class NegativeValueError(InputError):
    """Negative values where the model needs non-negative ones (PPML outcome, flows)."""


class DuplicateKeyError(InputError):
    """Rows share a key that must be unique (e.g. exporter x importer x year)."""


class UnknownCountryError(InputError):
    """Country codes or names that cannot be mapped to ISO3."""


class CoverageError(InputError):
    """Requested years or countries outside what a source covers."""


class UnitsError(InputError):
    """Values inconsistent with the declared units."""


class FormulaError(GravityError, ValueError):
    """A formula that cannot be parsed, or names something that does not exist."""


class EstimationError(GravityError, RuntimeError):
    """The model cannot be estimated on this sample (e.g. no observations left)."""


class ConvergenceError(EstimationError):
    """Iterations failed to converge and the caller asked for an error."""


class GravityWarning(UserWarning):
    """Base class of the package's warnings."""


class ConvergenceWarning(GravityWarning):
    """IRLS or the fixed-effect demeaning stopped before reaching its tolerance."""


class SeparationWarning(GravityWarning):
    """Observations were dropped because they are separated (PPML)."""


class CollinearityWarning(GravityWarning):
    """Regressors were dropped because they are collinear or absorbed by fixed effects."""


class DroppedObservationsWarning(GravityWarning):
    """Observations were dropped (missing values, singletons, all-zero groups)."""


class DataTypeError(InputError, TypeError):
    """An argument of the wrong type (e.g. data that is not a DataFrame)."""


class LeanResultError(GravityError, RuntimeError):
    """A method that needs the estimation sample's rows (residuals, fitted values,
    fixed effects, another variance...) was called on a lean result (``lean=True``,
    fixest's ``lean = TRUE``), which keeps only the coefficients, their variance and
    the fit statistics: refit with ``lean=False`` for it."""
