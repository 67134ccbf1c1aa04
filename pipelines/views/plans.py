"""年初计划 and its 调整, read from the reports' versions (no second source of truth): a project's 年初计划
for a year is the first 年度计划 it reported that year (its earliest report stating one, in the version
first loaded); each later change of the figure, in report order (a correction included), is an 调整 with
who loaded it and when. 完成率 stays the contract's, against the plan as adjusted; plan_cuts lists the
regions whose Σ 年度计划 now is below their Σ 年初计划, for the 投资完成 page and the 简报."""

from __future__ import annotations

import duckdb
import polars as pl

from pipelines import metrics
from pipelines.metrics import View
from pipelines.vocab import schema
from pipelines.vocab.query import query_frame
from pipelines.warehouse import loop_tables

_PLAN_BIT = schema.FIELD_BIT["annual_plan"]
_STATED = f"year = $y AND (present & {_PLAN_BIT}) <> 0 AND annual_plan IS NOT NULL"
# Every version stating a 年度计划 in the year: the newest (reports) and the superseded (report_versions).
_VERSIONS_SQL = f"SELECT project_id, report_date, submission_id, annual_plan FROM reports WHERE {_STATED}"  # noqa: S608
_ALL_VERSIONS_SQL = (
    f"{_VERSIONS_SQL} UNION ALL SELECT project_id, report_date, submission_id, annual_plan "  # noqa: S608
    f"FROM report_versions WHERE {_STATED}")

PLAN_CUT_SCHEMA = {"city_code": pl.String, "city_name": pl.String, "initial_plan": pl.Float64,
                   "annual_plan": pl.Float64, "cut": pl.Float64, "projects_cut": pl.UInt32}
PLAN_CUT_LABELS = {"city_name": "地市", "initial_plan": "年初计划（万元）", "annual_plan": "调整后年度计划（万元）",
                   "cut": "调减（万元）", "projects_cut": "调减项目数"}


def _versions(con: duckdb.DuckDBPyConnection) -> str:
    return _ALL_VERSIONS_SQL if loop_tables.has(con, "report_versions") else _VERSIONS_SQL


# The earliest report stating a plan is the project's first report of the year (reports.is_state) when
# that one states it, else one of its later reports; a superseded version is of a date a report still
# has (a load moves a version out only when it puts the new one in), so it is never earlier than the
# first report. So only the first reports, the superseded versions and the reports of the projects whose
# first report states no plan are read, not every report of the year (~10 M in a national database).
_FIRSTS_SQL = f"""
WITH firsts AS (
    SELECT project_id, report_date, submission_id, annual_plan,
           (present & {_PLAN_BIT}) <> 0 AND annual_plan IS NOT NULL AS stated
    FROM reports WHERE year = $y AND is_state)
SELECT project_id, report_date, submission_id, annual_plan FROM firsts WHERE stated
UNION ALL
SELECT project_id, report_date, submission_id, annual_plan FROM reports
WHERE {_STATED} AND NOT is_state AND project_id IN (SELECT project_id FROM firsts WHERE NOT stated)"""  # noqa: S608
_OLDER_SQL = ("UNION ALL SELECT project_id, report_date, submission_id, annual_plan "  # noqa: S608
              f"FROM report_versions WHERE {_STATED}")


def initial_plans(con: duckdb.DuckDBPyConnection, year: int) -> pl.DataFrame:
    """Each project's 年初计划 in year: project_id, initial_plan (万元), initial_date (the report that stated it)."""
    older = _OLDER_SQL if loop_tables.has(con, "report_versions") else ""
    return query_frame(
        con,
        f"""SELECT project_id,
                   first(annual_plan ORDER BY report_date, submission_id) AS initial_plan,
                   min(report_date) AS initial_date
            FROM ({_FIRSTS_SQL} {older}) GROUP BY project_id""",  # noqa: S608 (constants)
        {"y": year},
    )


def plan_adjustments(con: duckdb.DuckDBPyConnection, year: int) -> pl.DataFrame:
    """Every 调整 of a 年度计划 in year: project, the report date, old → new, who loaded it and when."""
    return query_frame(
        con,
        f"""SELECT v.project_id, v.report_date, v.prev_plan AS old_plan, v.annual_plan AS new_plan,
                   s.loaded_by AS adjusted_by, s.loaded_at AS adjusted_at, s.file_name
            FROM (SELECT *, lag(annual_plan) OVER (PARTITION BY project_id ORDER BY report_date, submission_id)
                            AS prev_plan
                  FROM ({_versions(con)})) v
            JOIN submissions s USING (submission_id)
            WHERE v.prev_plan IS NOT NULL AND v.prev_plan <> v.annual_plan
            ORDER BY v.project_id, v.report_date, v.submission_id""",  # noqa: S608 (constants)
        {"y": year},
    )


ADJUSTMENT_LABELS = {"city_name": "地市", "county_name": "县区", "project_name": "项目名称", "report_date": "报告期",
                     "old_plan": "调整前（万元）", "new_plan": "调整后（万元）", "adjusted_by": "调整人",
                     "adjusted_at": "调整时间", "file_name": "文件"}


def adjustments_in_view(con: duckdb.DuckDBPyConnection, view: View) -> pl.DataFrame:
    """The 调整 of 年度计划 of the view's projects reported on or before its date, newest first, with the
    project's region and name: who changed a plan, when, from what to what (ADJUSTMENT_LABELS' columns)."""
    states = metrics.project_states(con, view.as_of, year=view.year, filters=view.filters, columns=(
        "project_id", "project_name", "city_name", "county_name"), ordered=False)
    adjusted = plan_adjustments(con, view.year).filter(pl.col("report_date") <= view.as_of)
    return (adjusted.join(states, on="project_id", how="inner")
            .sort(["adjusted_at", "report_date", "project_id"], descending=[True, True, False])
            .select(list(ADJUSTMENT_LABELS)))


def plan_cuts(con: duckdb.DuckDBPyConnection, view: View) -> pl.DataFrame:
    """The cities whose Σ 年度计划 at the view's date (the plan the contract's 完成率 is against) is below
    the same projects' Σ 年初计划, with both figures, the cut and how many projects were cut."""
    states = metrics.project_states(con, view.as_of, year=view.year, filters=view.filters,
                                    columns=("project_id", "city_code", "city_name", "annual_plan"), ordered=False)
    if states.is_empty():
        return pl.DataFrame(schema=PLAN_CUT_SCHEMA)
    initial = initial_plans(con, view.year)
    joined = states.join(initial, on="project_id", how="left").with_columns(
        now=pl.col("annual_plan").fill_null(0.0), first=pl.col("initial_plan").fill_null(pl.col("annual_plan"))
        .fill_null(0.0))
    return (
        joined.group_by("city_code")
        .agg(city_name=pl.col("city_name").drop_nulls().first(), initial_plan=pl.col("first").sum(),
             annual_plan=pl.col("now").sum(), projects_cut=(pl.col("now") < pl.col("first")).sum())
        .with_columns(cut=pl.col("initial_plan") - pl.col("annual_plan"))
        .filter(pl.col("annual_plan") < pl.col("initial_plan") - 1e-9)
        .sort(["cut", "city_code"], descending=[True, False])
        .select(list(PLAN_CUT_SCHEMA))
        .cast(PLAN_CUT_SCHEMA)  # type: ignore[arg-type]
    )


def cut_line(cuts: pl.DataFrame) -> str | None:
    """The 简报's line on the cut plans, in words (None: no region's plan was cut)."""
    if cuts.is_empty():
        return None
    parts = [f"{r['city_name'] or r['city_code']}由{r['initial_plan'] / 1e4:.2f}亿元调减为{r['annual_plan'] / 1e4:.2f}亿元"
             for r in cuts.iter_rows(named=True)]
    return "年度计划调减（完成率按调整后计划计算）：" + "；".join(parts) + "。"
