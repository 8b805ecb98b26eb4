"""Reading a split group without pandas' generic reconstruction
(gravity.distributed.dataset._plain_frame). Reference: pyarrow's own ``to_pandas`` of
the same table, frame for frame (values to the bit, dtypes, index type, name and
values, column labels); tables that are not plain (missing values, text, categorical,
nullable or datetime columns, text or multi-level indexes, non-text column labels)
must be left to ``to_pandas`` (``None``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pa = pytest.importorskip("pyarrow")

from gravity.distributed.dataset import _plain_frame  # noqa: E402

RNG = np.random.default_rng(0)
BASE = pd.DataFrame({"a": np.arange(5, dtype=np.int16), "b": RNG.normal(size=5),
                     "c": [True, False, True, True, False],
                     "u": np.arange(5, dtype=np.uint32)}, index=pd.Index([5, 7, 9, 11, 13]))

PLAIN = {
    "int64 labels": BASE,
    "range": BASE.reset_index(drop=True),
    "named index": BASE.rename_axis("lab"),
    "float32": BASE.assign(f=np.ones(5, np.float32)),
    "no rows": BASE.iloc[:0],
    "negative zero and inf": BASE.assign(b=[-0.0, np.inf, -np.inf, 1e308, 5e-324]),
}
OTHER = {
    "missing float": BASE.assign(b=[1.0, np.nan, 2, 3, 4]),
    "text": BASE.assign(s=list("abcde")),
    "categorical": BASE.assign(k=pd.Categorical(list("abaab"))),
    "nullable Int64": BASE.assign(n=pd.array([1, None, 3, 4, 5], dtype="Int64")),
    "nullable boolean": BASE.assign(o=pd.array([True, None, False, True, True],
                                               dtype="boolean")),
    "text index": BASE.set_index(BASE.index.astype(str)),
    "two-level index": BASE.set_index(["a", "u"]),
    "integer column labels": BASE.set_axis([1, 2, 3, 4], axis=1),
    "datetime": BASE.assign(t=pd.date_range("2020", periods=5)),
    "float16": BASE.assign(h=np.ones(5, np.float16)),
    "uint64 index": BASE.set_index(BASE.index.astype(np.uint64)),
    "float index": BASE.set_index(BASE.index.astype(float)),
    "named column index": BASE.rename_axis("vars", axis=1),
}


@pytest.mark.parametrize("preserve", [True, None])
@pytest.mark.parametrize("name", list(PLAIN))
def test_plain_tables_equal_to_pandas(name, preserve):
    table = pa.Table.from_pandas(PLAIN[name], preserve_index=preserve)
    fast, ref = _plain_frame(table), table.to_pandas()
    assert fast is not None
    pd.testing.assert_frame_equal(fast, ref, check_exact=True, check_index_type=True,
                                  check_column_type=True)
    assert type(fast.index) is type(ref.index) and fast.index.name == ref.index.name
    for c in fast.columns:  # bit for bit (-0.0, inf, subnormals)
        assert fast[c].to_numpy().tobytes() == ref[c].to_numpy().tobytes()


@pytest.mark.parametrize("preserve", [True, None])
@pytest.mark.parametrize("name", list(OTHER))
def test_other_tables_are_left_to_pandas(name, preserve):
    assert _plain_frame(pa.Table.from_pandas(OTHER[name], preserve_index=preserve)) is None


def test_no_pandas_metadata():
    assert _plain_frame(pa.table({"a": [1, 2]})) is None


@pytest.mark.parametrize("model, formula, options", [
    ("ols", "ln_dist ~ rta | exporter + importer", {"vcov": "hetero"}),
    ("logit", "b ~ ln_dist + rta | exporter", {}),
    ("ppml", "y ~ ln_dist + rta | exporter + importer",
     {"weights": "w", "vcov": {"CRV1": "exporter"}}),
])
def test_every_model_fits_the_plain_frames(tmp_path, model, formula, options):
    """Groups read through the plain path (read-only Arrow-backed arrays among them)
    give the same collection, bit for bit, as the groups taken from memory."""
    from conftest import simulated_panel

    import gravity
    from gravity.distributed import open_split_dataset, read_group, write_split_dataset

    df = simulated_panel(10, 10, 6, seed=5)
    df["product"] = (df["year"] % 3).astype(np.int64)
    df["b"] = (df["y"] > df["y"].median()).astype(float)
    df["w"] = 1.0 + (df["importer"] % 3)
    write_split_dataset(df, "product", tmp_path / "ds")
    group = open_split_dataset(tmp_path / "ds", "product")[0]
    import pyarrow.parquet as pq

    from gravity.distributed.dataset import _read_file
    from gravity.distributed.tasks import needed_columns
    from gravity.multiformula import expand_formula

    columns = needed_columns(expand_formula(formula), options, "product")
    table = _read_file(pq.ParquetFile(next(Path(group.path).glob("*.parquet"))), columns,
                       "product")  # the models' columns only, as a task reads them
    assert _plain_frame(table) is not None  # the path under test is taken
    assert read_group(group, "product").index.equals(df.index[df["product"] == 0])
    a = gravity.estimate_many(formula, df, model=model, split="product", **options)
    b = gravity.estimate_many(formula, dataset=str(tmp_path / "ds"), model=model,
                              split="product", **options)
    assert len(a) == len(b) == 3 and not a.failed and not b.failed
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.params.to_numpy(), y.params.to_numpy())
        assert np.array_equal(x.bse.to_numpy(), y.bse.to_numpy())
        assert x.resid.index.equals(y.resid.index)


@pytest.mark.parametrize("compression", [None, "snappy", "zstd"])
def test_written_compression_reads_back_the_same_frame(tmp_path, compression):
    """write_split_dataset stores its groups uncompressed unless told otherwise (the
    cheapest to decode, benchmarks/results/split_dask.md); any compression reads back
    the same frame, bit for bit."""
    import pyarrow.parquet as pq

    from gravity.distributed import read_group, write_split_dataset

    df = BASE.assign(g=[1, 2, 1, 2, 2], x=RNG.normal(size=5))
    kw = {} if compression is None else {"compression": compression}
    groups = write_split_dataset(df, "g", tmp_path / "ds", **kw)
    for g in groups:
        meta = pq.ParquetFile(Path(g.path) / "part-0.parquet").metadata
        codecs = {meta.row_group(0).column(j).compression
                  for j in range(meta.num_columns)}
        assert codecs == {(compression or "uncompressed").upper()}
        pd.testing.assert_frame_equal(read_group(g, "g"), df[df["g"] == g.value],
                                      check_exact=True)
