"""Adversarial files for every reader of gravity.sources (and the Yotov loader).

Each file is written here in the publisher's layout, then damaged one way at a
time: cut in the middle of a line or of its gzip stream, columns reordered or
added, bytes that are not UTF-8, a UTF-8 byte-order mark, infinite or textual
numbers, repeated keys, unknown country codes, years that are not integers.
Every case must give either the clean file's answer or a typed error from
:mod:`gravity.errors` whose message names the file (and the line, column or
rows where they apply) -- never a raw decoder, parser or archive error.
"""

from __future__ import annotations

import gzip
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gravity.datasets.yotov import load_yotov2016
from gravity.errors import (
    DuplicateKeyError,
    FileFormatError,
    GravityWarning,
    InputError,
    UnknownCountryError,
)
from gravity.sources.baci import read_baci, read_baci_country_codes
from gravity.sources.bri import load_bri, read_bri_list_a, read_bri_list_b
from gravity.sources.cepii_gravity import read_cepii_gravity
from gravity.sources.china_mirror import read_china_mirror
from gravity.sources.comtrade import read_comtrade
from gravity.sources.dots import read_dots
from gravity.sources.geodist import read_geodist, read_geodist_geo
from gravity.sources.imf_fd import read_imf_fd
from gravity.sources.pwt import read_pwt
from gravity.sources.wdi import read_wdi
from gravity.sources.wits import read_wits_tariffs

BACI_CODES = ("country_code,country_name,country_iso2,country_iso3\n156,China,CN,CHN\n"
              "251,France,FR,FRA\n842,USA,US,USA\n")


def _baci_codes(folder: Path) -> None:
    (folder / "country_codes_V202401b.csv").write_text(BACI_CODES, encoding="utf-8")


@dataclass(frozen=True)
class Spec:
    """A reader and a clean file in its publisher's layout."""

    id: str
    filename: str
    header: list[str]
    rows: list[list[str]]
    read: Callable[[Path], pd.DataFrame]
    numeric: str | None = None  # a column of numbers
    year: str | None = None  # a column of integer years (or codes)
    code: str | None = None  # a country column ...
    unknown: str | None = None  # ... and a value that is no country
    quoted: frozenset[str] = frozenset()  # columns the publisher quotes
    quote_all: bool = False
    latin1: bool = False  # the publisher writes latin-1 (fallback allowed)
    dedup: bool = False  # repeated keys are collapsed by design (same answer)
    companion: Callable[[Path], None] | None = None  # files read alongside
    keeps_all_columns: bool = False  # returns every column of the file


def _cell(value: str, quote: bool) -> str:
    if quote or any(ch in value for ch in ',"\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def render(spec: Spec, header: list[str] | None = None, rows: list[list[str]] | None = None) -> str:
    header = spec.header if header is None else header
    rows = spec.rows if rows is None else rows
    lines = [",".join(_cell(h, spec.quote_all) for h in header)]
    for r in rows:
        lines.append(",".join(_cell(v, spec.quote_all or h in spec.quoted) for h, v in zip(header, r, strict=True)))
    return "\n".join(lines) + "\n"


def write(spec: Spec, folder: Path, content: str | bytes | None = None, suffix: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if spec.companion is not None:
        spec.companion(folder)
    p = folder / (spec.filename + suffix)
    data = render(spec) if content is None else content
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return p


def replaced(spec: Spec, column: str, value: str, row: int = 0) -> list[list[str]]:
    j = spec.header.index(column)
    rows = [list(r) for r in spec.rows]
    rows[row][j] = value
    return rows


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_like=True)


def assert_names_file(err: pytest.ExceptionInfo, name: str) -> None:
    assert name in str(err.value), str(err.value)
    assert err.value.file is not None and name in err.value.file


# ---------------------------------------------------------------------------------- the readers

DOTS_HEAD = ["Country Name", "Country Code", "Indicator Name", "Indicator Code", "Counterpart Country Name",
             "Counterpart Country Code", "Attribute", "2017", "2017Q1", "2018", "2018M1"]
DOTS_X = "Goods, Value of Exports, Free on board (FOB), US Dollars"
COMTRADE_HEAD = ("typeCode,freqCode,refPeriodId,refYear,refMonth,period,reporterCode,reporterISO,reporterDesc,"
                 "flowCode,flowDesc,partnerCode,partnerISO,partnerDesc,partner2Code,partner2ISO,partner2Desc,"
                 "classificationCode,cmdCode,cmdDesc,customsCode,mosCode,motCode,qtyUnitCode,qty,netWgt,"
                 "cifvalue,fobvalue,primaryValue,isReported,isAggregate").split(",")


def ct(rep: str, rep_iso: str, par: str, par_iso: str, value: str) -> list[str]:
    return ["C", "A", "20180101", "2018", "52", "2018", rep, rep_iso, "x", "X", "Export", par, par_iso, "x",
            "0", "W00", "World", "H5", "TOTAL", "All", "C00", "0", "0", "-1", "0", "0", "", value, value,
            "True", "False"]


WITS_HEAD = ("Selected Nomen,Native Nomen,Reporter,Reporter Name,Product,Product Name,Partner,Partner Name,"
             "Tariff Year,Trade Year,Trade Source,DutyType,Simple Average,Weighted Average,Standard Deviation,"
             "Minimum Rate,Maximum Rate,Nbr of Total Lines,Imports Value in 1000 USD").split(",")


def wits(rep: str, par: str, duty: str, simple: str, weighted: str) -> list[str]:
    return ["HS", "H5", rep, "x", "Total", "All Products", par, "x", "2018", "2018", "WTO", duty, simple,
            weighted, "1", "0", "30", "5000", "100"]


FD = ["FD", "FI", "FM", "FID", "FIA", "FIE", "FMD", "FMA", "FME"]

SPECS = [
    Spec("baci", "BACI_HS17_Y2018_V202401b.csv", ["t", "i", "j", "k", "v", "q"], [
        ["2018", "156", "842", "080211", "     100.500", "       2.000"],
        ["2018", "156", "842", "851712", "     900.250", "       1.500"],
        ["2018", "156", "251", "851712", "      40.000", "          NA"],
        ["2018", "842", "156", "120190", "    3000.000", "      10.000"],
        ["2018", "251", "842", "220421", "       1.000", "       0.200"],
    ], lambda p: read_baci(p, progress=False), numeric="v", year="t", code="i", unknown="999",
        quoted=frozenset({"k"}), companion=_baci_codes),
    Spec("baci_country_codes", "country_codes_V202401b.csv",
         ["country_code", "country_name", "country_iso2", "country_iso3"],
         [["156", "China", "CN", "CHN"], ["251", "France", "FR", "FRA"], ["490", "Other Asia, nes", "", "S19"],
          ["842", "USA", "US", "USA"]], read_baci_country_codes, year="country_code"),
    Spec("cepii_gravity", "Gravity_V202211.csv",
         ["year", "country_id_o", "country_id_d", "iso3_o", "iso3_d", "country_exists_o", "country_exists_d",
          "dist", "distw_harmonic", "contig", "comlang_off", "col_dep_ever", "fta_wto", "gdp_o", "gdp_d",
          "pop_o", "pop_d", "tradeflow_baci", "tradeflow_imf_o"],
         [["2018", o, d, o, d, "1", "1", dist, dist, "0", "0", "0", "0", go, gd, po, pd_, tb, ti]
          for o, d, dist, go, gd, po, pd_, tb, ti in [
              ("CHN", "USA", "11883", "13894817", "20533058", "1402760", "326838", "539243000", "480688672"),
              ("USA", "CHN", "11883", "20533058", "13894817", "326838", "1402760", "120148000", "120148000"),
              ("CHN", "FRA", "8231", "13894817", "2787864", "1402760", "66987", "33216000", ""),
              ("FRA", "CHN", "8231", "2787864", "13894817", "66987", "1402760", "25416000", "25416000"),
              ("USA", "FRA", "6171", "20533058", "2787864", "326838", "66987", "36334000", "36334000"),
              ("FRA", "USA", "6171", "2787864", "20533058", "66987", "326838", "41582000", "41582000"),
          ]], read_cepii_gravity, numeric="tradeflow_baci", year="year", code="iso3_o", unknown="C1N"),
    Spec("geodist", "dist_cepii.csv",
         ["iso_o", "iso_d", "contig", "comlang_off", "comlang_ethno", "colony", "comcol", "curcol", "col45",
          "smctry", "dist", "distcap", "distw", "distwces"],
         [[o, d, "0", "0", "0", "0", "0", "0", "0", "0", dist, dist, w, w] for o, d, dist, w in [
             ("CHN", "USA", "11883.03", "11114.15"), ("USA", "CHN", "11883.03", "11114.15"),
             ("CHN", "ROM", "7325.52", "."), ("ROM", "CHN", "7325.52", "."),
             ("USA", "ROM", "7911.29", "8201.5"), ("ROM", "USA", "7911.29", "8201.5")]],
         read_geodist, numeric="dist", code="iso_o", unknown="XXX", latin1=True),
    Spec("geodist_geo", "geo_cepii.csv",
         ["iso2", "iso3", "cnum", "country", "pays", "area", "dis_int", "landlocked", "continent", "city_en",
          "city_fr", "lat", "lon", "cap", "maincity"],
         [["CN", "CHN", "156", "China", "Chine", "9596960", "1139", "0", "Asia", "Beijing", "Pékin",
           "39.9167", "116.4167", "1", "2"],
          ["CN", "CHN", "156", "China", "Chine", "9596960", "1139", "0", "Asia", "Shanghai", "Shanghai",
           "31.2222", "121.4581", "0", "1"],
          ["US", "USA", "840", "United States", "États-Unis", "9629091", "1227", "0", "America",
           "Washington", "Washington", "38.8951", "-77.0367", "1", "2"],
          ["RO", "ROM", "642", "Romania", "Roumanie", "238391", "164", "0", "Europe", "Bucharest",
           "Bucarest", "44.4333", "26.1", "1", "1"]],
         read_geodist_geo, numeric="lat", code="iso3", unknown="XXX", latin1=True, dedup=True),
    Spec("wdi_databank", "wdi_Data.csv",
         ["Country Name", "Country Code", "Series Name", "Series Code", "2017 [YR2017]", "2018 [YR2018]"],
         [["China", "CHN", "GDP (current US$)", "NY.GDP.MKTP.CD", "12310409370894.2", "13894817549374.2"],
          ["China", "CHN", "Population, total", "SP.POP.TOTL", "1396215000", "1402760000"],
          ["Korea, Rep.", "KOR", "GDP (current US$)", "NY.GDP.MKTP.CD", "1623901496835.79", ".."],
          ["Korea, Rep.", "KOR", "Population, total", "SP.POP.TOTL", "51361911", "51585058"],
          ["World", "WLD", "GDP (current US$)", "NY.GDP.MKTP.CD", "81e12", "86e12"],
          ["World", "WLD", "Population, total", "SP.POP.TOTL", "7.5e9", "7.6e9"]],
         read_wdi, numeric="2018 [YR2018]", code="Country Code", unknown="ZZZ"),
    Spec("imf_fd", "FDI_index.csv", ["ifs", "code", "country", "imf_region", "imf_income", "year", *FD],
         [["314", "ABW", "Aruba", "Western Hemisphere", "EM", "2018", *["0.295"] * 9],
          ["314", "ABW", "Aruba", "Western Hemisphere", "EM", "2017", *["0.291"] * 9],
          ["924", "CHN", "China", "Asia and Pacific", "EM", "2018", *["0.64"] * 9],
          ["1", "All countries", "All countries", "All countries", "All countries", "2018", *["0.33"] * 9]],
         read_imf_fd, numeric="FD", year="year", code="code", unknown="XXX"),
    Spec("pwt", "pwt91.csv",
         ["country", "isocode", "year", "rgdpe", "rgdpo", "pop", "emp", "cgdpe", "cgdpo", "rgdpna", "xr",
          "csh_x", "csh_m"],
         [["China", "CHN", "2016", "19000000", "19200000", "1403.5", "790", "19100000", "19300000",
           "18700000", "6.64", "0.19", "-0.17"],
          ["China", "CHN", "2017", "20000000", "20100000", "1409.5", "791", "20200000", "20300000",
           "19900000", "6.76", "0.19", "-0.18"],
          ["Aruba", "ABW", "2017", "", "", "", "", "", "", "", "", "", ""]],
         read_pwt, numeric="pop", year="year", code="isocode", unknown="XXX"),
    Spec("dots", "DOT_11-26-2024.csv", DOTS_HEAD, [
        ["China, P.R.: Mainland", "924", DOTS_X, "TXG_FOB_USD", "United States", "111", "Value",
         "429,800.5", "1", "478,423.2", "2"],
        ["China, P.R.: Mainland", "924", DOTS_X, "TXG_FOB_USD", "Korea, Rep. of", "542", "Value",
         "102,704.1", "1", "", "2"],
        ["United States", "111", DOTS_X, "TXG_FOB_USD", "China, P.R.: Mainland", "924", "Value",
         "129,894.6", "1", "120,148.1", "2"],
    ], read_dots, numeric="2018", code="Counterpart Country Name", unknown="Narnia", quote_all=True),
    Spec("comtrade", "comtrade_2018.csv", COMTRADE_HEAD, [
        ct("156", "CHN", "842", "USA", "478423235000.0"),
        ct("156", "CHN", "490", "S19", "48649000000.5"),
        ct("842", "USA", "156", "CHN", "120148000000.0"),
    ], read_comtrade, numeric="primaryValue", year="refYear", code="partnerCode", unknown="999"),
    Spec("wits", "wits_tariffs.csv", WITS_HEAD, [
        wits("156", "842", "AHS", "14.42", "9.81"), wits("156", "000", "MFN", "9.84", "5.06"),
        wits("842", "156", "AHS", "3.44", "8.91"), wits("842", "156", "MFN", "3.44", "2.96"),
    ], read_wits_tariffs, numeric="Simple Average", year="Tariff Year", code="Partner", unknown="999"),
    Spec("china_mirror", "china_exports_by_partner_mirror.csv",
         ["refYear", "flowCode", "partnerDesc", "partner_rank", "reporterDesc", "cmdCode", "partner_sum",
          "partner_perc", "partner_upper_sum"],
         [["2018", "M", "China", "1", "USA", "TOTAL", "563203119540.0", "0.22", "2500000000000.0"],
          ["2018", "M", "China", "2", "Japan", "TOTAL", "173599000000.0", "0.07", "2500000000000.0"],
          ["2018", "M", "China", "3", "China, Hong Kong SAR", "TOTAL", "8000000000.0", "0.01", "2500000000000.0"],
          ["2018", "M", "China", "4", "China", "TOTAL", "90000000000.0", "0.04", "2500000000000.0"]],
         read_china_mirror, numeric="partner_sum", year="refYear", code="reporterDesc", unknown="Narnia"),
    Spec("bri_list_a", "bri_mou_list_a.csv", ["code", "country", "year_mou", "entry_force", "priority"],
         [["BLR", "Belarus", "2013", "2016-07-08", "Infrastructure Development"],
          ["CHN", "China, P.R. ", "2013", "", ""], ["RUS", "Russian Federation", "", "", ""]],
         read_bri_list_a, year="year_mou", code="code", unknown="XXX"),
    Spec("bri_list_b", "bri_join_list_b.csv", ["国家", "country", "id", "friend", "Y13", "Y14"],
         [["白俄罗斯", "Belarus", "BY", "2", "0", "2"], ["刚果（布）", "Congo", "CD", "6", "0", "0"],
          ["纳米比亚", "Namibia", "", "6", "0", "0"]],
         read_bri_list_b, year="friend", code="id", unknown="QQ"),
    Spec("bri_table", "my_bri.csv", ["iso3", "year", "withdrawal_year"],
         [["PAK", "2015", ""], ["ITA", "2019", "2024"]], load_bri, year="year", code="iso3", unknown="XXX",
         keeps_all_columns=True),
    Spec("yotov2016", "agtpa_applications.csv",
         ["exporter", "importer", "pair_id", "year", "trade", "dist", "cntg", "lang", "clny", "rta"],
         [["ARG", "AUS", "1", "1986", "27.76487390676141", "12044.574133735276", "0", "0", "0", "0"],
          ["ARG", "AUT", "2", "1986", "3.5598425", "11751.146", "0", "0", "0", "0"],
          ["AUS", "ARG", "3", "1986", "41.2", "12044.574133735276", "0", "0", "0", "0"]],
         load_yotov2016, numeric="trade", year="year", keeps_all_columns=True),
]
BY_ID = {s.id: s for s in SPECS}
ids = [s.id for s in SPECS]


def clean(spec: Spec, tmp_path: Path) -> pd.DataFrame:
    return spec.read(write(spec, tmp_path / "clean"))


# ---------------------------------------------------------------------------- same answer

@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_clean_fixture_reads(spec, tmp_path):
    """The clean fixtures are valid (otherwise every comparison below is void)."""
    df = clean(spec, tmp_path)
    assert len(df) > 0


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_reordered_columns_give_the_same_answer(spec, tmp_path):
    order = list(reversed(range(len(spec.header))))
    header = [spec.header[k] for k in order]
    rows = [[r[k] for k in order] for r in spec.rows]
    got = spec.read(write(spec, tmp_path / "reordered", render(spec, header, rows)))
    same(got, clean(spec, tmp_path))


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_extra_columns_are_ignored(spec, tmp_path):
    header = [spec.header[0], "note, extra", *spec.header[1:], "zz_extra"]
    rows = [[r[0], 'a "quoted", text', *r[1:], "text"] for r in spec.rows]
    got = spec.read(write(spec, tmp_path / "extra", render(spec, header, rows)))
    if spec.keeps_all_columns:
        got = got.drop(columns=["note, extra", "zz_extra"])
    same(got, clean(spec, tmp_path))


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_utf8_byte_order_mark_is_accepted(spec, tmp_path):
    got = spec.read(write(spec, tmp_path / "bom", b"\xef\xbb\xbf" + render(spec).encode("utf-8")))
    same(got, clean(spec, tmp_path))


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_complete_gzip_gives_the_same_answer(spec, tmp_path):
    got = spec.read(write(spec, tmp_path / "gz", gzip.compress(render(spec).encode("utf-8")), suffix=".gz"))
    same(got, clean(spec, tmp_path))


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_crlf_line_ends_give_the_same_answer(spec, tmp_path):
    got = spec.read(write(spec, tmp_path / "crlf", render(spec).replace("\n", "\r\n")))
    same(got, clean(spec, tmp_path))


# ---------------------------------------------------------------------------- truncation

@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_csv_cut_in_the_middle_of_the_last_line(spec, tmp_path):
    text = render(spec)
    last_start = text.rstrip("\n").rfind("\n") + 1
    cut = text.index(",", last_start) + 2  # one character into the second field
    p = write(spec, tmp_path, text[:cut])
    with pytest.raises(FileFormatError) as err:
        spec.read(p)
    assert_names_file(err, p.name)
    assert err.value.line == len(spec.rows) + 1  # the last line (header is line 1)
    assert "truncated" in str(err.value)


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_gzip_cut_in_the_middle(spec, tmp_path):
    data = gzip.compress(render(spec).encode("utf-8"))
    p = write(spec, tmp_path, data[: len(data) // 2], suffix=".gz")
    with pytest.raises(FileFormatError) as err:
        spec.read(p)
    assert_names_file(err, p.name)
    assert "gzip" in str(err.value)


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_gzip_without_its_trailer(spec, tmp_path):
    """The last 8 bytes hold the CRC-32 and length: without them the stream is incomplete."""
    data = gzip.compress(render(spec).encode("utf-8"))
    p = write(spec, tmp_path, data[:-8], suffix=".gz")
    with pytest.raises(FileFormatError) as err:
        spec.read(p)
    assert_names_file(err, p.name)


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_line_with_a_surplus_field(spec, tmp_path):
    text = render(spec).split("\n")
    text[2] += ",surplus"  # the second data row (line 3)
    p = write(spec, tmp_path, "\n".join(text))
    with pytest.raises(FileFormatError) as err:
        spec.read(p)
    assert_names_file(err, p.name)
    assert err.value.line == 3


@pytest.mark.parametrize("spec_id", ["baci", "dots", "wdi_databank"])
def test_last_value_cut_without_line_break_is_flagged(spec_id, tmp_path):
    """Complete field count but no final line break: a cut inside the last value cannot be
    told from a file without a final newline, so it is flagged with a warning."""
    spec = BY_ID[spec_id]
    p = write(spec, tmp_path, render(spec).rstrip("\n"))
    with pytest.warns(GravityWarning, match="line break"):
        got = spec.read(p)
    same(got, clean(spec, tmp_path))


def test_empty_and_binary_files(tmp_path):
    p = tmp_path / "wits_tariffs.csv"
    p.write_bytes(b"")
    with pytest.raises(FileFormatError, match="empty"):
        read_wits_tariffs(p)
    p.write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(FileFormatError, match="NUL") as err:
        read_wits_tariffs(p)
    assert_names_file(err, p.name)


# ---------------------------------------------------------------------------- encodings

@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_latin1_bytes_in_a_utf8_file(spec, tmp_path):
    header = [*spec.header, "note"]
    rows = [[*r, "Cote d'Ivoire"] for r in spec.rows]
    data = render(spec, header, rows).encode("utf-8").replace(b"Cote", b"C\xf4te", 1)  # 0xf4: latin-1 o-circumflex
    p = write(spec, tmp_path, data)
    if spec.latin1:  # documented fallback for this publisher: same answer
        got = spec.read(p)
        same(got, clean(spec, tmp_path))
        assert got.attrs["gravity_provenance"]["encoding"] == "latin-1"
        return
    with pytest.raises(FileFormatError) as err:
        spec.read(p)
    assert_names_file(err, p.name)
    assert err.value.line == 2 and "UTF-8" in str(err.value)


def test_utf16_file_is_rejected(tmp_path):
    spec = BY_ID["imf_fd"]
    p = write(spec, tmp_path, render(spec).encode("utf-16"))
    with pytest.raises(FileFormatError, match="UTF-16") as err:
        spec.read(p)
    assert_names_file(err, p.name)


# ---------------------------------------------------------------------------- values

NUMERIC = [s for s in SPECS if s.numeric]


@pytest.mark.parametrize("spec", NUMERIC, ids=[s.id for s in NUMERIC])
@pytest.mark.parametrize("value", ["inf", "-inf", "1e400", "12abc"])
def test_number_that_is_infinite_or_text(spec, value, tmp_path):
    p = write(spec, tmp_path, render(spec, rows=replaced(spec, spec.numeric, value)))
    with pytest.raises(FileFormatError) as err:
        spec.read(p)
    assert_names_file(err, p.name)
    assert err.value.column == spec.numeric


def test_decimal_comma_is_not_a_thousands_separator(tmp_path):
    """DOTS writes thousands separators ("478,423.2"); "478,42" is not such a number."""
    spec = BY_ID["dots"]
    p = write(spec, tmp_path, render(spec, rows=replaced(spec, "2018", "478,42")))
    with pytest.raises(FileFormatError) as err:
        read_dots(p)
    assert err.value.column == "2018" and err.value.rows == [0]
    assert_names_file(err, p.name)


@pytest.mark.parametrize("spec", NUMERIC, ids=[s.id for s in NUMERIC])
def test_nan_token_is_a_missing_value(spec, tmp_path):
    """'NaN' is a missing number: the reader answers (no error, no infinite value)."""
    df = spec.read(write(spec, tmp_path, render(spec, rows=replaced(spec, spec.numeric, "NaN"))))
    num = df.select_dtypes("number").to_numpy(dtype=float)
    assert not np.isinf(num).any()


YEARS = [s for s in SPECS if s.year]


@pytest.mark.parametrize("spec", YEARS, ids=[s.id for s in YEARS])
@pytest.mark.parametrize("value", ["2018.5", "abc", "1e3"])
def test_year_that_is_not_an_integer(spec, value, tmp_path):
    p = write(spec, tmp_path, render(spec, rows=replaced(spec, spec.year, value)))
    with pytest.raises(FileFormatError) as err:
        spec.read(p)
    assert_names_file(err, p.name)
    assert err.value.column == spec.year and err.value.rows == [0]


@pytest.mark.parametrize("reader", [
    lambda p, y: read_baci(write(BY_ID["baci"], p), years=y, progress=False),
    lambda p, y: read_cepii_gravity(write(BY_ID["cepii_gravity"], p), years=y),
    lambda p, y: read_wdi(write(BY_ID["wdi_databank"], p), years=y),
    lambda p, y: read_dots(write(BY_ID["dots"], p), years=y),
    lambda p, y: read_comtrade(write(BY_ID["comtrade"], p), years=y),
], ids=["baci", "cepii_gravity", "wdi", "dots", "comtrade"])
def test_requested_years_must_be_integers(reader, tmp_path):
    """``years=[2018.5]`` would select 2018 (or nothing) without a word."""
    with pytest.raises(InputError) as err:
        reader(tmp_path, [2018.5])
    assert err.value.column == "years"
    assert len(reader(tmp_path / "ok", [2018])) > 0


# ---------------------------------------------------------------------------- keys and codes

@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_repeated_key(spec, tmp_path):
    rows = [*spec.rows, list(spec.rows[0])]
    p = write(spec, tmp_path, render(spec, rows=rows))
    if spec.dedup:  # one row per country by design (GeoDist's capital city)
        same(spec.read(p), clean(spec, tmp_path))
        return
    with pytest.raises(DuplicateKeyError) as err:
        spec.read(p)
    assert_names_file(err, p.name)


CODES = [s for s in SPECS if s.code]


@pytest.mark.parametrize("spec", CODES, ids=[s.id for s in CODES])
def test_unknown_country_code(spec, tmp_path):
    p = write(spec, tmp_path, render(spec, rows=replaced(spec, spec.code, spec.unknown)))
    with pytest.raises(UnknownCountryError) as err:
        spec.read(p)
    assert_names_file(err, p.name)
    assert spec.unknown in str(err.value)


def test_cepii_well_formed_unknown_code_is_listed(tmp_path):
    """CEPII keeps its (historical) ISO3-like codes; those outside the package's table are listed."""
    spec = BY_ID["cepii_gravity"]
    rows = replaced(spec, "iso3_o", "XXX")
    df = read_cepii_gravity(write(spec, tmp_path, render(spec, rows=rows)))
    assert df.attrs["gravity_provenance"]["countries"]["unmatched"] == {"XXX": 1}


# ---------------------------------------------------------------------------- answers

def test_baci_reads_columns_by_name_not_position(tmp_path):
    """The issue's case: a header ``t,j,i,...`` swapped exporter and importer."""
    spec = BY_ID["baci"]
    header = ["t", "j", "i", "k", "v", "q"]
    rows = [[r[0], r[2], r[1], *r[3:]] for r in spec.rows]
    df = read_baci(write(spec, tmp_path, render(spec, header, rows)), progress=False)
    t = df.set_index(["exporter", "importer"])["trade"]
    assert t[("CHN", "USA")] == pytest.approx(1_000_750.0) and t[("USA", "CHN")] == pytest.approx(3_000_000.0)


def test_baci_missing_value_makes_the_pair_missing(tmp_path):
    spec = BY_ID["baci"]
    df = read_baci(write(spec, tmp_path, render(spec, rows=replaced(spec, "v", "NA", row=1))), progress=False)
    t = df.set_index(["exporter", "importer"])["trade"]
    assert np.isnan(t[("CHN", "USA")])  # one of its two lines unknown: the total is unknown
    assert t[("USA", "CHN")] == pytest.approx(3_000_000.0)
    assert df.attrs["gravity_provenance"]["pairs_trade_missing"] == 1


def test_wdi_databank_footer_is_not_a_truncation(tmp_path):
    spec = BY_ID["wdi_databank"]
    text = render(spec) + "\n\nData from database: World Development Indicators\nLast Updated: 06/28/2024\n"
    same(read_wdi(write(spec, tmp_path, text)), clean(spec, tmp_path))


def test_geodist_latin1_names_are_decoded(tmp_path):
    spec = BY_ID["geodist_geo"]
    p = write(spec, tmp_path, render(spec).encode("latin-1"))
    got = read_geodist_geo(p)
    assert got.set_index("iso3").loc["ROU", "country"] == "Romania"
    assert got.attrs["gravity_provenance"]["encoding"] == "latin-1"
    same(got, clean(spec, tmp_path))


# ---------------------------------------------------------------------------- binary containers

@pytest.mark.parametrize("name, frame, read", [
    ("Gravity_V202211.dta", pd.DataFrame({"year": [2018] * 40, "iso3_o": ["CHN"] * 40, "iso3_d": ["USA"] * 40,
                                          "dist": np.arange(40.0), "contig": [0] * 40,
                                          "comlang_off": [0] * 40}), read_cepii_gravity),
    ("dist_cepii.dta", pd.DataFrame({"iso_o": ["CHN"] * 40, "iso_d": ["USA"] * 40, "dist": np.arange(40.0),
                                     "contig": [0] * 40, "comlang_off": [0] * 40, "colony": [0] * 40}),
     read_geodist),
    ("pwt91.dta", pd.DataFrame({"countrycode": ["CHN"] * 40, "year": np.arange(1950, 1990),
                                "pop": np.arange(40.0)}), read_pwt),
], ids=["cepii_gravity", "geodist", "pwt"])
@pytest.mark.parametrize("keep", [0.5, 0.95])
def test_truncated_stata_file(name, frame, read, keep, tmp_path):
    p = tmp_path / name
    frame.to_stata(p, write_index=False)
    data = p.read_bytes()
    p.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(FileFormatError) as err:
        read(p)
    assert_names_file(err, p.name)


def test_truncated_zip_archives(tmp_path, monkeypatch):
    """The release zips of BACI, WDI and CEPII Gravity: a cut archive is a typed error."""
    monkeypatch.setenv("GRAVITY_DATA_DIR", str(tmp_path / "cache"))
    cases = [
        ("BACI_HS17_V202401b.zip", "BACI_HS17_Y2018_V202401b.csv", BY_ID["baci"],
         lambda p: read_baci(p, progress=False)),
        ("WDI_CSV.zip", "WDICSV.csv", BY_ID["wdi_databank"], read_wdi),
        ("Gravity_csv_V202211.zip", "Gravity_V202211.csv", BY_ID["cepii_gravity"], read_cepii_gravity),
    ]
    for zname, member, spec, read in cases:
        p = tmp_path / zname
        with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr(member, render(spec) * 50)
        data = p.read_bytes()
        p.write_bytes(data[: len(data) // 2])
        with pytest.raises(FileFormatError) as err:
            read(p)
        assert_names_file(err, zname)


def test_zip_member_with_a_bad_checksum(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAVITY_DATA_DIR", str(tmp_path / "cache"))
    spec = BY_ID["wdi_databank"]
    p = tmp_path / "WDI_CSV.zip"
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("WDICSV.csv", render(spec))
    data = bytearray(p.read_bytes())
    k = data.index(b"NY.GDP.MKTP.CD")
    data[k] = ord("X")  # one byte changed inside the stored member
    p.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match="CRC") as err:
        read_wdi(p)
    assert_names_file(err, p.name)
