"""The year's list (调度库) page and `kaigong yearlist show`: the list at a date, its movements (纳入 /
调出, who, when, why), and the projects that could be admitted. Written by warehouse/yearlist.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import polars as pl

from pipelines.metrics import View
from pipelines.vocab.query import query_frame
from pipelines.vocab.reference import region_by_code

LIST_HEADERS: dict[str, str] = {
    "project_name": "项目名称", "city_name": "地市", "county_name": "县区", "tier": "层级",
    "total_investment": "总投资（万元）", "admitted_on": "纳入日期", "how": "纳入方式", "reason": "纳入依据",
    "admitted_by": "纳入人", "confirmed_by": "续建确认", "reported": "本年已报送", "status": "状态",
    "removed_on": "调出日期", "removed_by": "调出人", "removed_reason": "调出原因",
}
MOVE_HEADERS: dict[str, str] = {
    "on": "日期", "action": "变动", "project_name": "项目名称", "city_name": "地市", "by": "操作人",
    "why": "依据/原因", "at": "操作时间",
}

_LIST_SQL = """
SELECT y.project_id, coalesce(y.project_name, p.name_norm) AS project_name, y.city_code, y.county_code,
       coalesce(t.tier, p.tier) AS tier, y.total_investment, y.admitted_on, y.how, y.reason, y.admitted_by,
       y.admitted_at, y.confirmed_by, y.removed_on, y.removed_by, y.removed_at, y.removed_reason,
       EXISTS (SELECT 1 FROM reports r WHERE r.project_id = y.project_id AND r.year = $y
               AND r.report_date <= $d) AS reported
FROM year_list y
JOIN projects p ON p.project_id = y.project_id
LEFT JOIN (SELECT project_id, arg_max(tier, year) AS tier FROM project_tiers WHERE year <= $y GROUP BY ALL) t
  ON t.project_id = y.project_id
WHERE y.year = $y AND y.admitted_on <= $d
QUALIFY row_number() OVER (PARTITION BY y.project_id ORDER BY y.admitted_on DESC) = 1
"""


def _names(frame: pl.DataFrame) -> pl.DataFrame:
    regions = region_by_code()

    def name(code: str | None) -> str | None:
        r = regions.get(code or "")
        return r.name if r else code

    return frame.with_columns(
        city_name=pl.col("city_code").map_elements(name, return_dtype=pl.String),
        county_name=pl.col("county_code").map_elements(name, return_dtype=pl.String),
    )


def year_list(con: duckdb.DuckDBPyConnection, year: int, as_of: date, *, cities: tuple[str, ...] = ()) -> pl.DataFrame:
    """Every project admitted to year's list on or before as_of, by its latest admission: status 在库
    (in S at as_of) or 已调出 (on or before as_of); reported: a report of the year on or before as_of.
    cities: only these (none: all)."""
    frame = query_frame(con, _LIST_SQL, {"y": year, "d": as_of})
    if cities:
        frame = frame.filter(pl.col("city_code").is_in(list(cities)))
    frame = _names(frame).with_columns(
        status=pl.when(pl.col("removed_on").is_not_null() & (pl.col("removed_on") <= as_of))
        .then(pl.lit("已调出")).otherwise(pl.lit("在库")),
    )
    return frame.sort("status", "city_code", "county_code", "project_name", nulls_last=True)


def movements(con: duckdb.DuckDBPyConnection, year: int, *, cities: tuple[str, ...] = ()) -> pl.DataFrame:
    """The list's movements of the year, newest first: 纳入 (how, why) and 调出 (why), who and when."""
    frame = query_frame(
        con,
        """SELECT admitted_on AS "on", '纳入（' || how || '）' AS action, project_name, city_code,
                  NULL::VARCHAR AS county_code, admitted_by AS by, reason AS why, admitted_at AS at
           FROM year_list WHERE year = $y
           UNION ALL
           SELECT removed_on, '调出', project_name, city_code, NULL, removed_by, removed_reason, removed_at
           FROM year_list WHERE year = $y AND removed_on IS NOT NULL""",
        {"y": year})
    if cities:
        frame = frame.filter(pl.col("city_code").is_in(list(cities)))
    return _names(frame).sort("on", "at", descending=True, nulls_last=True)


def summary(frame: pl.DataFrame) -> dict[str, Any]:
    """The list's counts, from year_list(): in the list, 调出, listed and not reported this year,
    续建结转 not yet confirmed by its unit."""
    inside = frame.filter(pl.col("status") == "在库")
    return {
        "listed": inside.height,
        "removed": frame.height - inside.height,
        "not_reported": inside.filter(~pl.col("reported")).height,
        "unconfirmed": inside.filter((pl.col("how") == "续建结转") & pl.col("confirmed_by").is_null()).height,
    }


def summary_zh(s: dict[str, Any]) -> str:
    return (f"在库 {s['listed']} 个项目（其中本年尚未报送 {s['not_reported']} 个，续建结转待确认 {s['unconfirmed']} 个），"
            f"已调出 {s['removed']} 个")


def candidates(con: duckdb.DuckDBPyConnection, year: int, as_of: date, *, cities: tuple[str, ...] = ()) -> pl.DataFrame:
    """Projects known to the store and not in the list at as_of (to admit by hand): id, name, city,
    latest report date; newest reports first."""
    frame = query_frame(
        con,
        """SELECT p.project_id, coalesce(r.project_name, p.name_norm) AS project_name, p.city_code,
                  r.county_code, r.report_date AS last_report
           FROM projects p
           LEFT JOIN (SELECT project_id, project_name, county_code, report_date FROM reports WHERE report_date <= $d
                      QUALIFY row_number() OVER (PARTITION BY project_id ORDER BY report_date DESC) = 1) r
             ON r.project_id = p.project_id
           WHERE NOT EXISTS (SELECT 1 FROM year_list y WHERE y.year = $y AND y.project_id = p.project_id
                             AND y.admitted_on <= $d AND (y.removed_on IS NULL OR y.removed_on > $d))""",
        {"y": year, "d": as_of})
    if cities:
        frame = frame.filter(pl.col("city_code").is_in(list(cities)))
    return _names(frame).sort("last_report", "project_name", descending=[True, False], nulls_last=True)


def shown(frame: pl.DataFrame, headers: dict[str, str]) -> pl.DataFrame:
    """The frame with the columns a page shows, under their Chinese headers."""
    cols = [c for c in headers if c in frame.columns]
    out = frame.select(cols)
    if "reported" in out.columns:
        out = out.with_columns(pl.when(pl.col("reported")).then(pl.lit("是")).otherwise(pl.lit("否")).alias("reported"))
    return out.rename({c: headers[c] for c in cols})


@dataclass(frozen=True)
class YearListPage:
    """The 调度库 page's data at the view's date, for its cities."""

    listed: pl.DataFrame  # year_list()
    moves: pl.DataFrame  # movements()
    candidates: pl.DataFrame  # candidates()
    counts: dict[str, Any]  # summary()


def yearlist_page(con: duckdb.DuckDBPyConnection, view: View) -> YearListPage:
    cities = tuple(view.filters.cities)
    listed = year_list(con, view.year, view.as_of, cities=cities)
    return YearListPage(listed, movements(con, view.year, cities=cities),
                        candidates(con, view.year, view.as_of, cities=cities), summary(listed))


NOTE_ZH = ("调度库中的项目自纳入之日起计入本年统计范围（项目数、总投资、应报送项目数），即使此后未报送；"
           "调出的项目自调出之日起不再计入，其纳入、调出记录和历次报送保留。未纳入调度库的项目，"
           "本年有报送即计入（与未建调度库时相同）。")
