"""Project lights (红黄绿灯 per project), as shared metrics.md 「Project lights」 defines them.

Part of the metrics layer: pages, the CLI and the briefing take every light from here. Each light
is an SQL expression over the per-project relation of metrics (its flags is_due, has_started, …),
so a light agrees with the figures: 开工灯 with due/started, 入统灯 with 应入统, 进度灯 with the
schedule lights of metrics.light. Calendar months are DuckDB month arithmetic (2020-01-31 + 1
month = 2020-02-29). Only projects not in 储备 are lit; every threshold is in LightRules.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import polars as pl

from pipelines import metrics
from pipelines.metrics import Filters, Thresholds
from pipelines.metrics.dates import Dates, snapshot_dates, stored_periods
from pipelines.metrics.figures import group_name, group_order
from pipelines.metrics.flags import fields_for, flags_sql
from pipelines.metrics.formulas import setting
from pipelines.vocab.query import query_frame


@dataclass(frozen=True)
class LightRules:
    """The lights' thresholds (published city rules by default), like metrics.Thresholds."""

    # Each from the environment when set (KAIGONG_LIGHT_START_RED_MONTHS, …_STATS_YELLOW_MONTHS, …_STATS_RED_MONTHS).
    # due and not started this many calendar months after the planned date: red
    start_red_months: int = field(default_factory=lambda: int(setting("KAIGONG_LIGHT_START_RED_MONTHS", 3)))
    # started, ≥ 500 万元, not 入统 this many months after the start: yellow; … this many: red
    stats_yellow_months: int = field(default_factory=lambda: int(setting("KAIGONG_LIGHT_STATS_YELLOW_MONTHS", 1)))
    stats_red_months: int = field(default_factory=lambda: int(setting("KAIGONG_LIGHT_STATS_RED_MONTHS", 2)))
    progress: Thresholds = field(default_factory=Thresholds)  # 进度灯: the schedule lights' thresholds


NO_FILTERS = Filters()
LIGHTS = ("light_start", "light_progress", "light_stats", "light")
LIGHT_NAMES_ZH = {"light_start": "开工灯", "light_progress": "进度灯", "light_stats": "入统灯", "light": "综合灯"}
LIGHT_ZH = metrics.LIGHT_ZH
COUNT_KEYS = ("lights_red", "lights_yellow", "lights_green")


def formulas_zh(rules: LightRules = LightRules()) -> list[str]:
    """The rules in words, for footnotes (with the thresholds in force)."""
    t = rules.progress
    return [
        f"开工灯：应开（复）工未开工，计划开（复）工时间加{rules.start_red_months}个月 ≤ 截止日为红灯，否则黄灯；"
        "已开（复）工或未到计划时间为绿灯（续建、在建及上年已开工项目未填计划时间的按1月1日计）",
        f"进度灯：项目投资完成率滞后序时进度超过{-t.red_below:g}个百分点为红灯，"
        f"{-t.yellow_below:g}～{-t.red_below:g}个百分点为黄灯，其余绿灯；年度计划为0时不亮",
        f"入统灯：已开工且总投资≥500万元的项目，已入统为绿灯；未入统的，实际开工时间加{rules.stats_red_months}个月 ≤ 截止日为红灯，"
        f"加{rules.stats_yellow_months}个月 ≤ 截止日为黄灯，不足{rules.stats_yellow_months}个月为绿灯",
        "综合灯：三灯中最差者（红 > 黄 > 绿）；储备项目不亮灯",
    ]


_TP = "(dayofyear(report_date)::DOUBLE / dayofyear(make_date(year(report_date), 12, 31)))"
_GAP = f"((coalesce(ytd_completed, 0) / annual_plan - {_TP}) * 100.0)"
# A continuing project (flags' is_continuing, the figures' own) is due from 1 January when it has no planned date.
_PLANNED = "coalesce(planned_start_date, CASE WHEN is_continuing THEN make_date($year, 1, 1) END)"


def _plus_months(day: str, param: str) -> str:
    return f"CAST({day} + to_months(${param}) AS DATE)"


_LIGHT_SQL = f"""
SELECT *,
    CASE WHEN light_start = 'red' OR light_progress = 'red' OR light_stats = 'red' THEN 'red'
         WHEN light_start = 'yellow' OR light_progress = 'yellow' OR light_stats = 'yellow' THEN 'yellow'
         WHEN coalesce(light_start, light_progress, light_stats) IS NOT NULL THEN 'green' END AS light,
    concat_ws('；',
        CASE WHEN light_start <> 'green' THEN printf('计划%s开（复）工，截至%s未开工%s', strftime(planned_eff, '%Y-%m-%d'),
             strftime(report_date, '%Y-%m-%d'), CASE WHEN light_start = 'red' THEN printf('（满%d个月）', $start_red) ELSE '' END) END,
        CASE WHEN light_progress <> 'green' THEN printf('投资完成率%.1f%%，滞后序时进度%.1f个百分点',
             coalesce(ytd_completed, 0) / annual_plan * 100.0, -gap) END,
        CASE WHEN light_stats <> 'green' THEN printf('%s开工，满%d个月未入统', strftime(actual_start_date, '%Y-%m-%d'),
             CASE WHEN light_stats = 'red' THEN $stats_red ELSE $stats_yellow END) END
    ) AS light_reason
FROM (
    SELECT *,
        CASE WHEN coalesce(stage, '') = '储备' THEN NULL
             WHEN NOT is_due OR has_started THEN 'green'
             WHEN {_plus_months('planned_eff', 'start_red')} <= report_date THEN 'red'
             ELSE 'yellow' END AS light_start,
        CASE WHEN coalesce(stage, '') = '储备' OR coalesce(annual_plan, 0) = 0 THEN NULL
             WHEN gap < $red_below THEN 'red'
             WHEN gap <= $yellow_below THEN 'yellow'
             ELSE 'green' END AS light_progress,
        CASE WHEN coalesce(stage, '') = '储备' OR NOT is_stats_due THEN NULL
             WHEN stats_registered IS TRUE THEN 'green'
             WHEN {_plus_months('actual_start_date', 'stats_red')} <= report_date THEN 'red'
             WHEN {_plus_months('actual_start_date', 'stats_yellow')} <= report_date THEN 'yellow'
             ELSE 'green' END AS light_stats
    FROM (
        SELECT *, {_PLANNED} AS planned_eff,
               CASE WHEN coalesce(annual_plan, 0) <> 0 THEN {_GAP} END AS gap
        FROM ({{flags}})
    )
)
"""


@functools.cache
def _light_words() -> frozenset[str]:
    """The names the lights' SQL and its readers (the columns they select, the groupings) may read."""
    text = " ".join((_LIGHT_SQL, *PROJECT_COLUMNS, *(g[0] for g in metrics.GROUPINGS.values())))
    return frozenset(re.findall(r"\w+", text))


def _rule_params(rules: LightRules) -> dict[str, Any]:
    return {"start_red": rules.start_red_months, "stats_yellow": rules.stats_yellow_months,
            "stats_red": rules.stats_red_months, "red_below": rules.progress.red_below,
            "yellow_below": rules.progress.yellow_below}


def _lights_at(con: duckdb.DuckDBPyConnection, dates: list[date], year: int, filters: Filters,
               rules: LightRules, projects: str | None = None) -> tuple[str, dict[str, Any]]:
    """The per-project relation at the dates, with the four lights and the reason (SQL, params);
    projects: the name of a relation of project_id to read only those (None: all)."""
    snaps = snapshot_dates(con, year, stored_periods(con, year))
    at = Dates.of(year, dates, dates, snaps)
    # only the state fields the lights and the flags read (the free text of 200,000 projects at 52 dates is GiBs)
    fields = fields_for(filters, _light_words(), with_prev=False, single=at.single)
    flags, fparams = flags_sql(filters, with_prev=False, single=at.single, projects=projects, fields=fields)
    # (the several-dates relation unnests the dates before each period whether it reads them or not)
    dparams = at.params(with_prev=not at.single)
    return _LIGHT_SQL.replace("{flags}", flags), {**dparams, **fparams, **_rule_params(rules)}


def _day(con: duckdb.DuckDBPyConnection, as_of: date, year: int | None) -> tuple[int, date]:
    y = year or as_of.year
    return y, min(as_of, date(y, 12, 31))


PROJECT_COLUMNS = ("project_id", "project_name", "tier", "city_code", "city_name", "county_code", "county_name",
                   "industry_name", "stage", *LIGHTS, "light_reason")


def project_lights(con: duckdb.DuckDBPyConnection, as_of: date, *, year: int | None = None,
                   filters: Filters = NO_FILTERS, rules: LightRules = LightRules()) -> pl.DataFrame:
    """Every project of S with its lights as of D (PROJECT_COLUMNS; lights 'red'/'yellow'/'green'/null)."""
    y, d = _day(con, as_of, year)
    sql, params = _lights_at(con, [d], y, filters, rules)
    return query_frame(con, f"SELECT {', '.join(PROJECT_COLUMNS)} FROM ({sql})", params)


def counts_by(con: duckdb.DuckDBPyConnection, as_of: date, bys: Sequence[str | None], *, year: int | None = None,
              filters: Filters = NO_FILTERS, rules: LightRules = LightRules()) -> dict[str | None, list[dict[str, Any]]]:
    """lights_red/yellow/green (projects by their 综合灯) per group of each grouping, in one query:
    {by: [{group, group_code (regions), lights_red, lights_yellow, lights_green}]}."""
    for by in bys:
        if by is not None and by not in metrics.GROUPINGS:
            raise ValueError(f"unknown grouping {by!r}")
    y, d = _day(con, as_of, year)
    sql, params = _lights_at(con, [d], y, filters, rules)
    keyed = [b for b in dict.fromkeys(bys) if b is not None]
    exprs = [metrics.GROUPINGS[b][0] for b in keyed]
    sets = ", ".join(["()"] + [f"({e})" for e in exprs])
    grouping = ", ".join(f"GROUPING({e})" for e in exprs) if exprs else "0"
    cols = "".join(f", {e}" for e in exprs)
    rows = con.execute(
        f"""SELECT [{grouping}] AS g{cols},
                   count(*) FILTER (WHERE light = 'red'), count(*) FILTER (WHERE light = 'yellow'),
                   count(*) FILTER (WHERE light = 'green')
            FROM ({sql}) GROUP BY GROUPING SETS ({sets})""",
        params,
    ).fetchall()
    out: dict[str | None, list[dict[str, Any]]] = {b: [] for b in bys}
    for g, *rest in rows:
        keys, (red, yellow, green) = rest[: len(keyed)], rest[len(keyed):]
        open_ = [i for i, bit in enumerate(g) if bit == 0] if exprs else []
        counts = {"lights_red": red, "lights_yellow": yellow, "lights_green": green}
        if not open_:
            if None in out:
                out[None].append({"group": "全部", **counts})
            continue
        by = keyed[open_[0]]
        key = keys[open_[0]]
        item: dict[str, Any] = {"group": group_name(by, key), "by": by}
        if by in metrics.REGION_GROUPINGS:
            item["group_code"] = key
        out[by].append({**item, **counts})
    for by, items in out.items():
        if by is not None:
            items.sort(key=lambda it: group_order(it["by"], it["group"], it.get("group_code")))
    for items in out.values():
        for it in items:
            it.pop("by", None)
    if None in out and not out[None]:
        out[None].append({"group": "全部", "lights_red": 0, "lights_yellow": 0, "lights_green": 0})
    return out


def with_counts(rows: list[dict[str, Any]], counts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The metrics' JSON rows (metrics.to_json_rows) with lights_red/yellow/green of their group (0 when none)."""
    by_group = {(c["group"], c.get("group_code")): c for c in counts}
    out = []
    for r in rows:
        c = by_group.get((r["group"], r.get("group_code")), {})
        out.append({**r, **{k: int(c.get(k, 0)) for k in COUNT_KEYS}})
    return out


CHANGE_ZH: dict[tuple[str | None, str | None], str] = {
    ("red", "yellow"): "由红转黄", ("yellow", "red"): "由黄转红", ("red", "red"): "持续红灯",
    ("yellow", "yellow"): "持续黄灯", ("green", "red"): "由绿转红", ("green", "yellow"): "由绿转黄",
}


def change_zh(before: str | None, now: str | None) -> str:
    """How a light moved since the last period: 「由红转黄」 (a red caught up), 「新亮红灯」 …"""
    if (before, now) in CHANGE_ZH:
        return CHANGE_ZH[(before, now)]
    if now in ("red", "yellow"):
        return f"新亮{LIGHT_ZH[now]}"
    if before == "red":
        return "由红转绿" if now == "green" else "由红转为不亮灯"
    return ""


LIT_COLUMNS = (*PROJECT_COLUMNS, "light_since", "light_before", "light_change")


def lit_list(con: duckdb.DuckDBPyConnection, as_of: date, *, year: int | None = None, filters: Filters = NO_FILTERS,
             rules: LightRules = LightRules()) -> pl.DataFrame:
    """亮灯清单: the red and yellow projects at D (red first), why, since when (the first report date of
    the run of this light that reaches D), their light at the report date before (light_before) and
    the move in words (由红转黄 …). The lights at D, then the history of the lit projects only."""
    y, d = _day(con, as_of, year)
    dates = [x for x in metrics.report_dates(con, y) if x <= d]
    if not dates:
        return pl.DataFrame(schema={c: pl.String for c in LIT_COLUMNS})
    if dates[-1] != d:
        dates.append(d)
    prev = dates[-2] if len(dates) >= 2 else None
    # The lights at D first (one date: the states there, narrowed by the ranges), then the history
    # of only the red and yellow ones: computing every project's lights at every date of the year
    # and keeping the lit ones took ~9 GiB and ~20 s nationally (200,000 projects × 52 dates).
    sql, params = _lights_at(con, [d], y, filters, rules)
    cur = query_frame(con, f"SELECT {', '.join(PROJECT_COLUMNS)} FROM ({sql}) WHERE light IN ('red', 'yellow')",
                      params)
    before = [x for x in dates if x < d]
    hist = pl.DataFrame(schema={"project_id": pl.String, "report_date": pl.Date, "light": pl.String})
    if before and cur.height:
        con.register("lit_projects", cur.select("project_id"))
        try:
            sql, params = _lights_at(con, before, y, filters, rules, projects="lit_projects")
            hist = query_frame(con, f"SELECT project_id, report_date, light FROM ({sql})", params)
        finally:
            con.unregister("lit_projects")
    # since: the first date of the run of the project's light that reaches D (after the last date
    # its light was another one, no light included); light_before: its light at the date before D.
    now = cur.select("project_id", pl.col("light").alias("light_now"))
    runs = pl.concat([hist, cur.select("project_id", pl.lit(d, pl.Date).alias("report_date"), "light")]).join(
        now, on="project_id")
    breaks = (runs.filter(pl.col("light").ne_missing(pl.col("light_now")) & (pl.col("report_date") < d))
              .group_by("project_id").agg(pl.col("report_date").max().alias("last_other")))
    since = (runs.join(breaks, on="project_id", how="left")
             .filter(pl.col("last_other").is_null() | (pl.col("report_date") > pl.col("last_other")))
             .group_by("project_id").agg(pl.col("report_date").min().alias("light_since")))
    at_prev = hist.filter(pl.col("report_date") == prev) if prev is not None else hist  # none: hist is empty
    was = at_prev.select("project_id", pl.col("light").alias("light_before"))
    frame = cur.join(since, on="project_id", how="left").join(was, on="project_id", how="left")
    frame = frame.with_columns(
        light_change=pl.struct("light_before", "light").map_elements(
            lambda s: change_zh(s["light_before"], s["light"]), return_dtype=pl.String),
    )
    order = {"red": 0, "yellow": 1}
    return frame.sort(pl.col("light").replace_strict(order, return_dtype=pl.Int8), "city_code", "county_code",
                      "project_name", nulls_last=True).select(LIT_COLUMNS)


def project_light_history(con: duckdb.DuckDBPyConnection, project_id: str,
                          rules: LightRules = LightRules()) -> pl.DataFrame:
    """One project's lights at every report date of each year it has reports (report_date, the four
    lights, reason, and light_change: the move since the date before, e.g. 由红转黄 where a red ended)."""
    years = [r[0] for r in con.execute("SELECT DISTINCT year FROM reports WHERE project_id = ? ORDER BY 1",
                                       [project_id]).fetchall()]
    parts = []
    for y in years:
        dates = metrics.report_dates(con, y)
        if not dates:
            continue
        sql, params = _lights_at(con, dates, y, Filters(project_ids=(project_id,)), rules)
        parts.append(query_frame(
            con, f"SELECT report_date, {', '.join(LIGHTS)}, light_reason FROM ({sql}) ORDER BY report_date", params))
    if not parts:
        return pl.DataFrame(schema={"report_date": pl.Date, **{c: pl.String for c in (*LIGHTS, "light_reason",
                                                                                       "light_change")}})
    hist = pl.concat(parts)
    return hist.with_columns(
        light_change=pl.struct(pl.col("light").shift(1).alias("b"), pl.col("light").alias("n")).map_elements(
            lambda s: change_zh(s["b"], s["n"]) if s["b"] != s["n"] else "", return_dtype=pl.String),
    )
