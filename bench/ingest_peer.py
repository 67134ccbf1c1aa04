"""The ingest peer: pandas.read_excel(engine="openpyxl") and the same parsing, done the pandas way.

Same steps as our reader for the standard template layout: headers → fields, numbers written
as text (`12,500`, `1.2亿`), dates in the accepted forms, 是/否, region names → GB/T 2260
codes, industry names → GB/T 4754 divisions, free-text stages mapped, required cells and
negative investment checked with row numbers. Vectorised: lookups are computed once per
distinct value and mapped, as a competent pandas author would write them.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

from pipelines.ingest.parse import parse_stage
from pipelines.vocab import schema
from pipelines.vocab.reference import find_city, find_county, find_division

BY_ZH = {f.zh: f for f in schema.REPORT_FIELDS}


def _money(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    t = s.astype("string").str.strip().str.replace(",", "", regex=False).str.replace("，", "", regex=False)
    factor = pd.Series(1.0, index=s.index)
    yi = t.str.endswith("亿元") | t.str.endswith("亿")
    factor[yi.fillna(False)] = 10_000.0
    t = t.str.replace(r"(亿元|亿|万元|万)$", "", regex=True)
    v = pd.to_numeric(t, errors="coerce") * factor
    bad = t.notna() & (t != "") & v.isna()
    return v, bad


def _dates(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    t = s.astype("string").str.strip()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y年%m月", "%Y.%m.%d", "%Y.%m"):
        todo = out.isna() & t.notna()
        if not todo.any():
            break
        out[todo] = pd.to_datetime(t[todo], format=fmt, errors="coerce")
    serial = out.isna() & t.str.fullmatch(r"\d{5}(\.\d+)?").fillna(False)
    if serial.any():
        out[serial] = pd.Timestamp("1899-12-30") + pd.to_timedelta(t[serial].astype(float), unit="D")
    bad = t.notna() & (t != "") & out.isna()
    return out, bad


def _lookup(s: pd.Series, fn: Any) -> pd.Series:
    uniq = s.dropna().unique()
    return s.map({u: fn(u) for u in uniq})


def read_and_validate(raw: bytes) -> tuple[pd.DataFrame, list[tuple[int, str, str]]]:
    """The staged frame and every error (row, column, reason)."""
    df = pd.read_excel(io.BytesIO(raw), engine="openpyxl", dtype=str)
    df = df.rename(columns={zh: f.name for zh, f in BY_ZH.items() if zh in df.columns})
    df = df[df["project_name"].notna() | df["city_name"].notna()]
    df = df[~df["project_name"].fillna("").str.strip().isin(["合计", "小计", "总计"])]
    rows = df.index.to_numpy() + 2
    errors: list[tuple[int, str, str]] = []

    def flag(mask: pd.Series, col: str, why: str) -> None:
        for r in rows[mask.to_numpy()]:
            errors.append((int(r), col, why))

    for f in schema.REPORT_FIELDS:
        if f.name not in df.columns:
            continue
        if f.kind == "money":
            v, bad = _money(df[f.name])
            flag(bad, f.zh, "无法识别为数字")
            flag(v < 0, f.zh, "投资额不能为负数")
            df[f.name] = v
        elif f.kind == "date":
            v, bad = _dates(df[f.name])
            flag(bad, f.zh, "无法识别为日期")
            df[f.name] = v
        elif f.kind == "bool":
            t = df[f.name].str.strip()
            df[f.name] = t.map({"是": True, "否": False, "Y": True, "N": False, "√": True, "×": False})
            flag(t.notna() & df[f.name].isna(), f.zh, "无法识别为是/否")
    city = _lookup(df["city_name"], find_city)
    df["city_code"] = city.map(lambda r: r.code if r is not None else None)
    flag(df["city_code"].isna(), "地市", "地市无法识别")
    pairs = df["county_name"].fillna("") + "|" + df["city_code"].fillna("")
    county = _lookup(pairs, lambda p: find_county(p.split("|")[0], p.split("|")[1] or None) if p[0] != "|" else None)
    df["county_code"] = county.map(lambda r: r.code if r is not None else None)
    div = _lookup(df["industry_name"], find_division)
    df["industry_code"] = div.map(lambda d: d.code if d is not None else None)
    stages = _lookup(df["stage"], lambda v: parse_stage(v))
    df["stage"] = stages.map(lambda t: t[0] if isinstance(t, tuple) else None)
    flag(stages.map(lambda t: isinstance(t, tuple) and t[2] is not None).astype(bool), "建设状态", "无法识别")
    flag(~df["tier"].isin(schema.TIERS) & df["tier"].notna(), "层级", "层级不在允许的取值内")
    flag(df["project_name"].fillna("").str.strip() == "", "项目名称", "项目名称为空")
    df["source_row"] = rows.astype(np.int64)
    return df, errors
