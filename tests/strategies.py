"""Hypothesis strategies and oracle helpers for the property-based differential suite
(:mod:`test_properties`).

A drawn :class:`PanelSpec` holds only primitives (kind, seed, sizes, switches); the
panel itself is built from it deterministically by :func:`make_panel` with NumPy, so
that a failing example printed by hypothesis is a complete reproducer::

    from strategies import PanelSpec, make_panel
    panel = make_panel(PanelSpec(kind="poisson", seed=..., ...))

The oracles (statsmodels on explicit dummies, pyfixest) are fitted on the rows that
gravity kept (``fit.in_sample``), with a fresh RangeIndex.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.linalg
from hypothesis import strategies as st
from scipy.special import expit

KINDS = ("poisson", "binary", "gaussian")
INDEX_KINDS = ("range", "shuffled", "string", "duplicated")
VECTOR_KINDS = ("column", "array", "series", "series_shuffled")


@dataclass(frozen=True)
class PanelSpec:
    """Everything needed to rebuild one random panel (see :func:`make_panel`)."""

    kind: str  # "poisson" (counts, many zeros), "binary" (0/1) or "gaussian"
    seed: int
    n: int
    levels: tuple[int, ...]  # levels drawn for each fixed effect (1 to 3 of them)
    string_codes: tuple[bool, ...]  # per fixed effect: string codes, else integers
    n_regressors: int  # 1 or 2
    collinear: str  # "none", "absorbed" (last regressor constant within fe1),
    # "duplicate" (x2 = 2 x1 - 1), "separating" (last regressor >= 0, positive on about
    # a tenth of the rows, where the outcome is then set to zero: separated rows)
    weights: str | None  # None or how they are passed: "column", "array", "series",
    # "series_shuffled" (a Series with the data's labels in another order, when unique)
    offset: str | None  # idem (GLMs only)
    index: str  # "range", "shuffled" (integers), "string", "duplicated" labels
    shuffle: bool  # rows shuffled (else sorted by the fixed effects, as a panel)
    target: float  # share of zeros (poisson) or of ones (binary)


@dataclass
class Panel:
    spec: PanelSpec
    data: pd.DataFrame
    regressors: list[str]
    fixed_effects: list[str]
    w: np.ndarray | None  # weights by row (None: unweighted)
    off: np.ndarray | None  # offset by row
    weights_arg: Any = field(default=None, repr=False)  # what gravity is given
    offset_arg: Any = field(default=None, repr=False)

    @property
    def formula(self) -> str:
        return f"y ~ {' + '.join(self.regressors)} | {' + '.join(self.fixed_effects)}"

    def __repr__(self) -> str:  # hypothesis prints this: the spec rebuilds the panel
        return f"make_panel({self.spec!r})"

    def relabelled(self, perm: np.ndarray, index: pd.Index) -> Panel:
        """The same panel with rows taken in the order ``perm`` and a new index (the
        weights/offset arguments passed the same way, realigned)."""
        data = self.data.iloc[perm].copy()
        data.index = index
        w = None if self.w is None else self.w[perm]
        off = None if self.off is None else self.off[perm]
        return Panel(self.spec, data, self.regressors, self.fixed_effects, w, off,
                     _vector_arg(self.spec.weights, "w", w, data),
                     _vector_arg(self.spec.offset, "off", off, data))

    def kept(self, mask: np.ndarray) -> pd.DataFrame:
        """The rows gravity used, with a fresh RangeIndex and the weights/offset as
        columns ``w``/``off`` (for the oracles)."""
        rows = np.flatnonzero(mask)
        d = self.data.iloc[rows].reset_index(drop=True)
        if self.w is not None:
            d["w"] = self.w[rows]
        if self.off is not None:
            d["off"] = self.off[rows]
        return d


def _vector_arg(how: str | None, name: str, values: np.ndarray | None,
                data: pd.DataFrame) -> Any:
    if how is None or values is None:
        return None
    if how == "column":
        return name
    if how == "array":
        return values.copy()
    series = pd.Series(values, index=data.index, name=name)
    if how == "series_shuffled" and data.index.is_unique:
        # same labels in another order: gravity must align it on the index
        return series.iloc[np.random.default_rng(len(data)).permutation(len(data))]
    return series


def _index(kind: str, n: int, rng: np.random.Generator) -> pd.Index:
    if kind == "range":
        return pd.RangeIndex(n)
    if kind == "shuffled":
        return pd.Index(rng.permutation(n) * 3 + 7, dtype="int64")
    if kind == "string":
        return pd.Index([f"r{i}" for i in rng.permutation(n)], dtype=object)
    labels = rng.integers(0, max(2, n // 3), n)
    labels[1] = labels[0]  # at least one duplicated label
    return pd.Index(labels, dtype="int64")


def _fe_labels(G: int, string: bool) -> np.ndarray:
    # labels whose sort order differs from the order of first appearance / code
    if string:
        return np.array([f"{chr(ord('z') - k)}{k}" for k in range(G)], dtype=object)
    return np.array([17 - 5 * k for k in range(G)], dtype=np.int64)


def _calibrate(eta: np.ndarray, share: float, fun) -> float:
    """Intercept c such that mean(fun(c + eta)) == share (fun increasing)."""
    lo, hi = -30.0, 30.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if np.mean(fun(mid + eta)) < share else (lo, mid)
    return 0.5 * (lo + hi)


def make_panel(spec: PanelSpec) -> Panel:
    """Build the panel described by ``spec`` (deterministic)."""
    rng = np.random.default_rng(spec.seed)
    n = spec.n
    codes = [rng.integers(0, G, n) for G in spec.levels]
    order = np.lexsort(codes[::-1])  # sorted as a panel: by fe1, then fe2, ...
    codes = [c[order] for c in codes]
    effects = [rng.normal(0.0, 0.5, G) for G in spec.levels]
    x = [rng.normal(size=n)]
    if spec.n_regressors == 2:
        x.append(0.5 * x[0] + rng.normal(size=n))
    if spec.collinear == "absorbed":
        x[-1] = rng.normal(size=spec.levels[0])[codes[0]] * 1.7 + 0.3
    elif spec.collinear == "duplicate" and spec.n_regressors == 2:
        x[1] = 2.0 * x[0] - 1.0
    elif spec.collinear == "separating":
        raw = rng.normal(size=n)
        x[-1] = np.maximum(raw - np.quantile(raw, 0.9), 0.0)
    eta = sum(e[c] for e, c in zip(effects, codes, strict=True))
    eta = eta + 0.4 * x[0] + (-0.3 * x[1] if len(x) == 2 else 0.0)
    off = rng.normal(0.0, 0.3, n) if spec.offset is not None else None
    if off is not None:
        eta = eta + off
    w = rng.uniform(0.5, 2.0, n) if spec.weights is not None else None
    if spec.kind == "poisson":
        c = _calibrate(eta, 1.0 - spec.target, lambda e: 1.0 - np.exp(-np.exp(e)))
        y = rng.poisson(np.exp(c + eta)).astype(float)
    elif spec.kind == "binary":
        c = _calibrate(eta, spec.target, expit)
        y = (rng.uniform(size=n) < expit(c + eta)).astype(float)
    else:
        y = 1.0 + eta + rng.normal(size=n)
    if spec.collinear == "separating":
        y[x[-1] > 0] = 0.0
    cols: dict[str, Any] = {"y": y}
    names = [f"x{j + 1}" for j in range(len(x))]
    cols.update(zip(names, x, strict=True))
    fes = [f"fe{q + 1}" for q in range(len(codes))]
    for q, (name, c) in enumerate(zip(fes, codes, strict=True)):
        cols[name] = _fe_labels(spec.levels[q], spec.string_codes[q])[c]
    if w is not None:
        cols["w"] = w
    if off is not None:
        cols["off"] = off
    data = pd.DataFrame(cols)
    perm = rng.permutation(n) if spec.shuffle else np.arange(n)
    data = data.iloc[perm].reset_index(drop=True)
    w = None if w is None else w[perm]
    off = None if off is None else off[perm]
    data.index = _index(spec.index, n, rng)
    return Panel(spec, data, names, fes, w, off,
                 _vector_arg(spec.weights, "w", w, data),
                 _vector_arg(spec.offset, "off", off, data))


@st.composite
def panel_specs(draw, kind: str, offsets: bool = False, weights: bool = True,
                collinear: bool = True, min_n: int = 30, max_n: int = 120) -> PanelSpec:
    """Specs of small random panels: ``kind`` outcome, 30..120 rows, 1-3 fixed effects
    with 2..8 levels (integer or string codes), 1-2 normal regressors (sometimes one
    collinear with the others or absorbed, or, for GLMs, one that separates some rows),
    optional weights/offset passed as a column,
    an array or a Series, shuffled rows and an unusual index."""
    q = draw(st.integers(1, 3))
    levels = tuple(draw(st.lists(st.integers(2, 8), min_size=q, max_size=q)))
    string_codes = tuple(draw(st.lists(st.booleans(), min_size=q, max_size=q)))
    n_regressors = draw(st.integers(1, 2))
    modes = ["none"] * 8 + (["absorbed", "duplicate"] if collinear else [])
    if collinear and kind != "gaussian":
        modes.append("separating")
    col = draw(st.sampled_from(modes))
    if col == "duplicate" and n_regressors == 1:
        col = "absorbed"
    target = {"poisson": draw(st.floats(0.3, 0.6)), "binary": draw(st.floats(0.3, 0.7)),
              "gaussian": 0.0}[kind]
    return PanelSpec(
        kind=kind,
        seed=draw(st.integers(0, 2**32 - 1)),
        n=draw(st.integers(min_n, max_n)),
        levels=levels,
        string_codes=string_codes,
        n_regressors=n_regressors,
        collinear=col,
        weights=draw(st.sampled_from((None, *VECTOR_KINDS))) if weights else None,
        offset=draw(st.sampled_from((None, *VECTOR_KINDS))) if offsets else None,
        index=draw(st.sampled_from(INDEX_KINDS)),
        shuffle=draw(st.booleans()),
        target=round(target, 3),
    )


# ----------------------------------------------------------------------- oracles
def independent_columns(M: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Indices (sorted) of a maximal set of linearly independent columns of ``M``,
    chosen by pivoted QR (columns earlier in ``M`` are not preferred: see
    :func:`dummy_design`, which only applies it to the 0/1 fixed-effect block)."""
    if M.shape[1] == 0:
        return np.zeros(0, dtype=int)
    _, r, piv = scipy.linalg.qr(M, mode="economic", pivoting=True)
    d = np.abs(np.diag(r))
    rank = int((d > tol * max(d[0], 1.0)).sum())
    return np.sort(piv[:rank])


def matrix_rank(M: np.ndarray, tol: float = 1e-9) -> int:
    if M.shape[1] == 0:
        return 0
    s = np.linalg.svd(M, compute_uv=False)
    return int((s > tol * s[0]).sum())


def dummy_design(d: pd.DataFrame, fixed_effects: list[str]) -> np.ndarray:
    """Full-rank fixed-effect design on ``d``: intercept and drop-first dummies of every
    fixed effect, less the columns that are linear combinations of the others."""
    parts = [np.ones((len(d), 1))]
    for fe in fixed_effects:
        parts.append(pd.get_dummies(d[fe].astype(str), drop_first=True, dtype=float)
                     .to_numpy())
    M = np.column_stack(parts)
    return M[:, independent_columns(M)]


def fe_levels(d: pd.DataFrame, fixed_effects: list[str]) -> list[int]:
    return [int(d[fe].nunique()) for fe in fixed_effects]


def reference_sample(panel: Panel, binary: bool) -> np.ndarray:
    """The estimation sample of a Poisson (``binary=False``) or binary-choice model,
    computed independently of gravity: the largest set of rows with no singleton
    fixed-effect group and no separated observation, where a row is separated when
    some direction ``z = [X, D] b`` (regressors and every fixed-effect indicator) has
    ``z >= 0`` where ``y = 0``, ``z = 0`` where ``y > 0`` (Poisson; binary: ``z <= 0``
    where ``y = 1``) and ``z != 0`` at that row (Correia, Guimaraes and Zylkin 2019).
    Both removals only grow as rows leave, so the order does not matter; each linear
    programme (HiGHS) maximises the total of ``|z|`` in ``[0, 1]`` and is repeated until
    it finds nothing."""
    d = panel.data
    y = d["y"].to_numpy()
    X = d[panel.regressors].to_numpy()
    codes = [pd.factorize(d[fe])[0] for fe in panel.fixed_effects]
    keep = np.ones(len(d), dtype=bool)
    while True:
        changed = False
        for c in codes:  # singletons
            counts = np.bincount(c[keep], minlength=int(c.max()) + 1)
            single = keep & (counts[c] == 1)
            if single.any():
                keep &= ~single
                changed = True
        rows = np.flatnonzero(keep)
        if rows.size:
            A = np.column_stack([X[rows]] + [np.eye(int(c.max()) + 1)[c[rows]] for c in codes])
            sep = _separated(A, y[rows], binary)
            if sep.any():
                keep[rows[sep]] = False
                changed = True
        if not changed:
            return keep


def _separated(A: np.ndarray, y: np.ndarray, binary: bool, tol: float = 1e-6) -> np.ndarray:
    from scipy.optimize import linprog

    scale = np.sqrt((A * A).sum(axis=0))
    A = A[:, scale > 0] / scale[scale > 0]
    n, p = A.shape
    if binary:
        B = (2.0 * y - 1.0)[:, None] * A  # z_i (2 y_i - 1) in [0, 1]
        res = linprog(-B.sum(axis=0), A_ub=np.vstack([B, -B]),
                      b_ub=np.r_[np.ones(n), np.zeros(n)], bounds=(None, None),
                      method="highs")
        assert res.status == 0, res.message
        return np.abs(B @ res.x) > tol
    zero = y == 0
    if not zero.any():
        return np.zeros(n, dtype=bool)
    Z = A[zero]
    res = linprog(-Z.sum(axis=0), A_ub=np.vstack([Z, -Z]),
                  b_ub=np.r_[np.ones(Z.shape[0]), np.zeros(Z.shape[0])],
                  A_eq=A[~zero] if (~zero).any() else None,
                  b_eq=np.zeros(int((~zero).sum())) if (~zero).any() else None,
                  bounds=(None, None), method="highs")
    assert res.status == 0, res.message
    out = np.zeros(n, dtype=bool)
    out[np.flatnonzero(zero)] = Z @ res.x > tol
    return out
