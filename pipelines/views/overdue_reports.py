"""催报: for the period ending at D, the units expected to report that have not.

A unit is a city, or a county when the deployment is a city's (`KAIGONG_LEVEL=city`; default
`province`: the units are the cities). Expected to report: the unit has projects in the 录入率's
base (应报送项目数 > 0, metrics layer); has not reported: none of them has a report dated in the
period (已报送 = 0). Each row carries the unit's 录入率, how many periods in a row it has missed
(this one included, over the report dates of the year), and the contact person and phone of its
last submission (the 项目联系人及电话 field of its latest report that has one) and who loaded it.
"""

from __future__ import annotations

import os
from datetime import date
from typing import Any

import duckdb
import polars as pl

from pipelines import metrics
from pipelines.vocab.query import query_frame
from pipelines.vocab.reference import region_by_code

NO_FILTERS = metrics.Filters()
LEVELS = {"province": "city", "city": "county"}  # deployment level → the units that report

SCHEMA: dict[str, Any] = {
    "unit_code": pl.String, "unit_name": pl.String, "reporting_base": pl.Int64, "reported": pl.Int64,
    "reporting_rate": pl.Float64, "missed_periods": pl.Int64, "last_report_date": pl.Date,
    "contact": pl.String, "last_submitted_by": pl.String,
}
HEADERS = {
    "unit_name": "单位", "reporting_base": "应报送项目数", "reported": "已报送项目数", "reporting_rate": "录入率",
    "missed_periods": "连续未报期数", "last_report_date": "最近报送报告期", "contact": "联系人及电话",
    "last_submitted_by": "最近报送人",
}


def unit_grouping(level: str | None = None) -> str:
    """'city' or 'county': the units of the deployment's level (KAIGONG_LEVEL)."""
    lvl = level or os.environ.get("KAIGONG_LEVEL", "province") or "province"
    if lvl not in LEVELS:
        raise ValueError(f"KAIGONG_LEVEL 应为 province（省级，按地市催报）或 city（市级，按县区催报）：{lvl}")
    return LEVELS[lvl]


def overdue_reports(con: duckdb.DuckDBPyConnection, as_of: date, *, level: str | None = None,
                    filters: metrics.Filters = NO_FILTERS) -> pl.DataFrame:
    """The units that have not reported for the period ending at as_of, most periods missed first."""
    by = unit_grouping(level)
    now = [f for f in metrics.figures(con, as_of, filters=filters, by=by, yoy=False)
           if f.get("group_code") and (f.get("reporting_base") or 0) > 0 and not f.get("reported")]
    if not now:
        return pl.DataFrame(schema=SCHEMA)
    units = [f["group_code"] for f in now]
    history = metrics.trend(con, as_of, filters=filters, by=by)
    missed: dict[str, int] = {}
    for code in units:
        n = 1
        if "group_code" in history.columns:
            earlier = history.filter((pl.col("group_code") == code) & (pl.col("report_date") < as_of)).sort(
                "report_date", descending=True)
            for base, reported in earlier.select("reporting_base", "reported").iter_rows():
                if not base or reported:
                    break
                n += 1
        missed[code] = n
    col = "city_code" if by == "city" else "county_code"  # a schema column, not user text
    last = query_frame(
        con,
        f"""SELECT r.{col} AS unit_code, r.report_date AS last_report_date,
                   first(r.contact ORDER BY (r.contact IS NULL), r.source_row) AS contact,
                   any_value(s.loaded_by) AS last_submitted_by
            FROM reports r JOIN submissions s USING (submission_id)
            WHERE r.report_date <= $d AND list_contains($units, r.{col})
              AND r.report_date = (SELECT max(x.report_date) FROM reports x
                                   WHERE x.{col} = r.{col} AND x.report_date <= $d)
            GROUP BY r.{col}, r.report_date""",  # noqa: S608
        params={"d": as_of, "units": units},
    )
    names = region_by_code()
    rows = [{
        "unit_code": f["group_code"], "unit_name": getattr(names.get(f["group_code"]), "name", f["group"]),
        "reporting_base": f["reporting_base"], "reported": f["reported"] or 0,
        "reporting_rate": f.get("reporting_rate"), "missed_periods": missed[f["group_code"]],
    } for f in now]
    out = pl.DataFrame(rows, schema={k: SCHEMA[k] for k in list(SCHEMA)[:6]})
    out = out.join(last.cast({"unit_code": pl.String}), on="unit_code", how="left") if last.height else \
        out.with_columns(pl.lit(None, pl.Date).alias("last_report_date"), pl.lit(None, pl.String).alias("contact"),
                         pl.lit(None, pl.String).alias("last_submitted_by"))
    return out.select(list(SCHEMA)).cast(pl.Schema(SCHEMA)).sort(["missed_periods", "unit_code"], descending=[True, False])


def shown(frame: pl.DataFrame) -> pl.DataFrame:
    """The 催报 list as pages show it: Chinese headers, 录入率 in per cent."""
    return frame.with_columns((pl.col("reporting_rate") * 100).round(1)).drop("unit_code").rename(
        HEADERS | {"reporting_rate": "录入率（%）"})
