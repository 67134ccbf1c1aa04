"""Downloaded tables never carry a live spreadsheet formula."""

from __future__ import annotations

import io

import polars as pl

from pipelines.outputs.csv_safe import neutralise, to_csv_bytes

EVIL = "=cmd|' /C calc'!A0"


def _frame() -> pl.DataFrame:
    return pl.DataFrame({
        "项目名称": [EVIL, "+1+1", "-2", "@SUM(A1)", "\tx", "\rx", "正常项目", None, "a=b"],
        "总投资": [-5.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        "个数": [-1, 1, 2, 3, 4, 5, 6, 7, 8],
    })


def test_neutralise_prefixes_formula_like_text_only():
    out = neutralise(_frame())
    assert out["项目名称"].to_list() == [
        "'" + EVIL, "'+1+1", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "正常项目", None, "a=b"]
    assert out["总投资"].to_list() == _frame()["总投资"].to_list()  # numbers untouched, negatives too
    assert out.schema == _frame().schema


def test_csv_round_trip():
    raw = to_csv_bytes(_frame())
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pl.read_csv(io.BytesIO(raw[3:]))
    assert back["项目名称"][0] == "'=cmd|' /C calc'!A0"
    assert back["总投资"][0] == -5.0 and back["个数"][0] == -1

