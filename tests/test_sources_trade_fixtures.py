"""DOTS, Comtrade, WITS and WDI-bulk readers on fixtures written here in the published layouts."""

from __future__ import annotations

import numpy as np
import pytest

from gravity.errors import (
    CoverageError,
    DuplicateKeyError,
    NegativeValueError,
    UnitsError,
    UnknownCountryError,
)

DOTS_HEAD = ('"Country Name","Country Code","Indicator Name","Indicator Code",'
             '"Counterpart Country Name","Counterpart Country Code","Attribute","2017","2017Q1","2018","2018M1"\n')


def dots_file(tmp_path, rows):
    p = tmp_path / "DOT_11-26-2024.csv"
    p.write_text(DOTS_HEAD + "".join(rows), encoding="utf-8")
    return p


EXP = '"{0}","{1}","Goods, Value of Exports, Free on board (FOB), US Dollars","TXG_FOB_USD","{2}","{3}","Value","{4}","1","{5}","2"\n'
IMP = '"{0}","{1}","Goods, Value of Imports, Cost, Insurance, Freight (CIF), US Dollars","TMG_CIF_USD","{2}","{3}","Value","{4}","1","{5}","2"\n'


@pytest.fixture
def dots(tmp_path):
    return dots_file(tmp_path, [
        EXP.format("China, P.R.: Mainland", "924", "United States", "111", "429,800.5", "478,423.2"),
        EXP.format("China, P.R.: Mainland", "924", "Korea, Rep. of", "542", "102,704.1", ""),
        EXP.format("China, P.R.: Mainland", "924", "World", "001", "2,263,000", "2,486,000"),
        EXP.format("United States", "111", "China, P.R.: Mainland", "924", "129,894.6", "120,148.1"),
        IMP.format("United States", "111", "China, P.R.: Mainland", "924", "505,470.0", "539,243.0"),
        '"United States","111","Goods, Value of Exports, Free on board (FOB), US Dollars","TXG_FOB_USD",'
        '"China, P.R.: Mainland","924","Status","","","",""\n',
    ])


def test_dots_exports_units_names_and_coverage(dots):
    from gravity.sources.dots import read_dots

    df = read_dots(dots)
    t = df.set_index(["exporter", "importer", "year"])["trade"]
    assert t[("CHN", "USA", 2018)] == pytest.approx(478_423.2e6)  # millions -> USD, separators removed
    assert t[("USA", "CHN", 2017)] == pytest.approx(129_894.6e6)
    assert ("CHN", "KOR", 2018) not in t.index  # blank cell: no row (the builder decides zero/missing)
    assert len(df) == 5  # World dropped; monthly/quarterly columns ignored
    cov = df.attrs["gravity_coverage"]
    assert cov["side"] == "exporter" and sorted(zip(cov["iso3"], cov["year"], strict=True)) == [
        ("CHN", 2017), ("CHN", 2018), ("USA", 2017), ("USA", 2018)]
    assert df.attrs["gravity_provenance"]["countries"]["partner"]["aggregates"] == {"World": 1}


def test_dots_mirror_imports(dots):
    from gravity.sources.dots import read_dots

    df = read_dots(dots, flow="imports")
    assert df[["exporter", "importer", "year"]].values.tolist() == [["CHN", "USA", 2017], ["CHN", "USA", 2018]]
    assert df["trade"].tolist() == pytest.approx([505_470.0e6, 539_243.0e6])
    assert df.attrs["gravity_coverage"]["side"] == "importer"


def test_dots_zero_vs_missing_in_panel(dots):
    from gravity.panel.builder import build_panel
    from gravity.sources.dots import read_dots

    panel, _ = build_panel(read_dots(dots), countries=["CHN", "USA", "KOR"], bri=None)
    t = panel.set_index(["exporter", "importer", "year"])["trade"]
    assert t[("CHN", "KOR", 2018)] == 0.0  # China reports in 2018, no value for Korea: zero
    assert np.isnan(t[("KOR", "CHN", 2018)])  # Korea is not a reporter in the file: missing
    assert t[("USA", "KOR", 2017)] == 0.0


def test_dots_errors(tmp_path):
    from gravity.sources.dots import read_dots

    p = dots_file(tmp_path, [EXP.format("Narnia", "999", "United States", "111", "1", "2")])
    with pytest.raises(UnknownCountryError) as err:
        read_dots(p)
    assert "Narnia" in str(err.value) and err.value.rows == [0]
    p2 = dots_file(tmp_path, [EXP.format("France", "132", "United States", "111", "-5", "2")])
    with pytest.raises(NegativeValueError):
        read_dots(p2)
    with pytest.raises(CoverageError):
        read_dots(p2, years=[2016])
    with pytest.raises(UnitsError):
        read_dots(p2, units="EUR")


COMTRADE_HEAD = ("typeCode,freqCode,refPeriodId,refYear,refMonth,period,reporterCode,reporterISO,reporterDesc,"
                 "flowCode,flowDesc,partnerCode,partnerISO,partnerDesc,partner2Code,partner2ISO,partner2Desc,"
                 "classificationCode,cmdCode,cmdDesc,customsCode,mosCode,motCode,qtyUnitCode,qty,netWgt,"
                 "cifvalue,fobvalue,primaryValue,isReported,isAggregate\n")


def ct_row(rep, rep_iso, flow, par, par_iso, value, cmd="TOTAL", year=2018, mot=0, customs="C00"):
    return (f"C,A,{year}0101,{year},52,{year},{rep},{rep_iso},x,{flow},x,{par},{par_iso},x,0,W00,World,"
            f"H5,{cmd},x,{customs},0,{mot},-1,0,0,,{value},{value},True,True\n")


def test_comtrade_exports_and_mirror(tmp_path):
    from gravity.sources.comtrade import read_comtrade

    p = tmp_path / "comtrade_2018.csv"
    p.write_text(COMTRADE_HEAD + "".join([
        ct_row(156, "CHN", "X", 842, "USA", 478423235000.0),
        ct_row(156, "CHN", "X", 490, "S19", 48649000000.5),
        ct_row(156, "CHN", "X", 0, "W00", 2486695000000.0),  # World
        ct_row(156, "CHN", "X", 842, "USA", 1.0, cmd="85"),  # a chapter, not TOTAL
        ct_row(156, "CHN", "X", 842, "USA", 2.0, mot=2100),  # a transport-mode breakdown
        ct_row(842, "USA", "M", 156, "CHN", 539675591000.0),
        ct_row(842, "USA", "X", 156, "CHN", 120148000000.0),
    ]))
    x = read_comtrade(p, flow="X")
    t = x.set_index(["exporter", "importer"])["trade"]
    assert t[("CHN", "USA")] == 478423235000.0 and t[("CHN", "TWN")] == 48649000000.5
    assert t[("USA", "CHN")] == 120148000000.0 and len(x) == 3
    m = read_comtrade(p, flow="M")
    assert m[["exporter", "importer", "trade"]].values.tolist() == [["CHN", "USA", 539675591000.0]]
    assert m.attrs["gravity_coverage"] == {"side": "importer", "iso3": ["USA"], "year": [2018], "partners": None}


def test_comtrade_legacy_layout_and_duplicates(tmp_path):
    from gravity.sources.comtrade import read_comtrade

    head = ("Classification,Year,Period,Period Desc.,Aggregate Level,Is Leaf Code,Trade Flow Code,Trade Flow,"
            "Reporter Code,Reporter,Reporter ISO,Partner Code,Partner,Partner ISO,Commodity Code,Commodity,"
            "Qty Unit Code,Qty Unit,Qty,Netweight (kg),Trade Value (US$),Flag\n")
    row = "H4,{y},{y},{y},0,0,2,Export,251,France,FRA,{p},x,x,TOTAL,All,1,x,,,{v},0\n"
    p = tmp_path / "legacy.csv"
    p.write_text(head + row.format(y=2015, p=699, v=5.5e9) + row.format(y=2015, p=757, v=1e9))
    df = read_comtrade(p)
    assert df[["exporter", "importer"]].values.tolist() == [["FRA", "CHE"], ["FRA", "IND"]]
    assert df["trade"].sum() == pytest.approx(6.5e9)
    p.write_text(head + row.format(y=2015, p=699, v=1) + row.format(y=2015, p=699, v=2))
    with pytest.raises(DuplicateKeyError) as err:
        read_comtrade(p)
    assert err.value.rows == [0, 1]


WITS_HEAD = ("Selected Nomen,Native Nomen,Reporter,Reporter Name,Product,Product Name,Partner,Partner Name,"
             "Tariff Year,Trade Year,Trade Source,DutyType,Simple Average,Weighted Average,Standard Deviation,"
             "Minimum Rate,Maximum Rate,Nbr of Total Lines,Imports Value in 1000 USD\n")


def wits_row(rep, par, duty, simple, weighted, year=2018, product="Total"):
    return (f"HS,H5,{rep},x,{product},All Products,{par},x,{year},{year},WTO,{duty},{simple},{weighted},"
            f"1,0,30,5000,100\n")


def test_wits_tariffs_and_panel_merge(tmp_path):
    from gravity.panel.builder import build_panel
    from gravity.sources.wits import read_wits_tariffs

    p = tmp_path / "wits_tariffs.csv"
    p.write_text(WITS_HEAD + "".join([
        wits_row("156", "842", "AHS", 14.42, 9.81),  # China's rate on US goods (2018 retaliation)
        wits_row("156", "000", "MFN", 9.84, 5.06),  # China's MFN rate towards World
        wits_row("842", "156", "AHS", 3.44, 8.91),
        wits_row("842", "156", "MFN", 3.44, 2.96),
        wits_row("156", "842", "AHS", 5.0, 5.0, product="01"),  # product-level row: left out
    ]))
    t = read_wits_tariffs(p)
    got = t.set_index(["importer", "exporter"])
    assert got.loc[("CHN", "USA"), "tariff_ahs_simple"] == 14.42
    assert got.loc[("USA", "CHN"), "tariff_mfn_weighted"] == 2.96
    assert got.loc[("CHN", "WLD"), "tariff_mfn_simple"] == 9.84
    flows = __import__("pandas").DataFrame({"exporter": ["USA", "CHN", "FRA"], "importer": ["CHN", "USA", "CHN"],
                                            "year": [2018] * 3, "trade": [1.0, 2.0, 3.0]})
    panel, _ = build_panel(flows, tariffs=t, tariff_column="tariff_mfn_simple", bri=None)
    tar = panel.set_index(["exporter", "importer"])["tariff"]
    # bilateral MFN row for CHN->USA; France faces China's MFN rate towards World
    assert tar[("CHN", "USA")] == 3.44 and tar[("FRA", "CHN")] == 9.84
    assert np.isnan(tar[("CHN", "FRA")])


def test_wits_rates_as_fractions_rejected(tmp_path):
    from gravity.sources.wits import read_wits_tariffs

    p = tmp_path / "w.csv"
    p.write_text(WITS_HEAD + "".join(wits_row("156", str(c), "AHS", 0.05, 0.04) for c in (842, 251, 392, 276)))
    with pytest.raises(UnitsError):
        read_wits_tariffs(p)


def test_wdi_bulk_layout_with_aggregates(tmp_path):
    from gravity.sources.wdi import read_wdi

    p = tmp_path / "WDICSV.csv"
    head = "Country Name,Country Code,Indicator Name,Indicator Code,2017,2018\n"
    rows = [
        "China,CHN,GDP (current US$),NY.GDP.MKTP.CD,12310409370894.2,13894817549374.2\n",
        "China,CHN,\"Population, total\",SP.POP.TOTL,1396215000,1402760000\n",
        "China,CHN,Domestic credit to private sector (% of GDP),FS.AST.PRVT.GD.ZS,157.5,\n",
        "World,WLD,GDP (current US$),NY.GDP.MKTP.CD,81e12,86e12\n",
        "Euro area,EMU,GDP (current US$),NY.GDP.MKTP.CD,13e12,14e12\n",
        "Kosovo,XKX,GDP (current US$),NY.GDP.MKTP.CD,7.2e9,7.9e9\n",
    ]
    p.write_text(head + "".join(rows))
    w = read_wdi(p)
    assert sorted(w["iso3"].unique()) == ["CHN", "XKX"]
    chn = w.set_index(["iso3", "year"]).loc[("CHN", 2018)]
    assert chn["gdp"] == pytest.approx(13894817549374.2) and chn["pop"] == 1402760000
    assert np.isnan(chn["credit"])
    rep = w.attrs["gravity_provenance"]["countries"]
    assert set(rep["aggregates"]) == {"WLD", "EMU"} and rep["unmatched"] == {}
    with pytest.raises(CoverageError):
        read_wdi(p, years=[2019])
