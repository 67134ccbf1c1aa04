"""Targets from a loaded 目标任务分解表 beside the actual figures of each region."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import polars as pl

from pipelines.metrics.figures import REGION_GROUPINGS, figures_by
from pipelines.metrics.states import project_states
from pipelines.metrics.view import Filters
from pipelines.vocab import schema
from pipelines.vocab.query import query_frame


def targets_vs_actuals(
    con: duckdb.DuckDBPyConnection, as_of: date, *, year: int | None = None, filters: Filters = Filters()
) -> pl.DataFrame:
    """Targets from a loaded 目标任务分解表 beside the actual figures of each region."""
    y = year or as_of.year
    t = query_frame(
        con,
        "SELECT region_code, region_name, metric, value FROM targets WHERE year = $y ORDER BY region_code, metric",
        {"y": y},
    )
    if t.is_empty():
        return t
    actual: dict[str, dict[str, Any]] = {}
    for items in figures_by(con, as_of, REGION_GROUPINGS, year=y, filters=filters).values():
        for item in items:
            if item.get("group_code"):
                actual[item["group_code"]] = item
    states = project_states(con, as_of, year=y, filters=filters, ordered=False,
                            columns=("project_id", "city_code", "county_code", "stage", "total_investment",
                                     "actual_start_date", "has_started", "is_continuing"))
    # A new start of the year: a project reported as 新开工 in the year (up to as_of) that has started,
    # in the year, whatever its stage now (a started 新开工 project is later reported 在建 or 竣工, and
    # stays one of the year's new starts). Continuing: as the figures have it (续建/在建 now, or an actual
    # start before the year: flags.CONTINUING_SQL), and not such a new start.
    was_new = query_frame(
        con,
        f"""SELECT DISTINCT project_id FROM reports
            WHERE report_date BETWEEN $lo AND $hi AND (present & {schema.FIELD_BIT["stage"]}) <> 0
              AND stage = '新开工'""",
        {"lo": date(y, 1, 1), "hi": as_of},
    )["project_id"]
    started_this_year = (pl.col("project_id").is_in(was_new.implode()) & pl.col("has_started")
                         & (pl.col("actual_start_date").dt.year() == y)).fill_null(False)

    def _in_region(code: str) -> pl.DataFrame:
        col = "city_code" if code.endswith("00") else "county_code"
        return states.filter(pl.col(col) == code)

    rows = []
    for code, name, metric, value in t.iter_rows():
        a = actual.get(code)
        region = _in_region(code)
        if metric == "investment_task":
            actual_value = a["ytd_completed"] if a else 0.0
        elif metric == "new_starts":
            actual_value = float(region.filter(started_this_year).height)
        elif metric == "continuing":
            actual_value = float(region.filter(pl.col("is_continuing") & ~started_this_year).height)
        elif metric == "stats_registrations":
            actual_value = a["stats_registered"] if a else 0.0
        elif metric == "planned_projects":
            actual_value = float(region.filter(pl.col("stage") == "储备").height)
        elif metric == "planned_investment":
            actual_value = float(region.filter(pl.col("stage") == "储备")["total_investment"].sum() or 0.0)
        else:
            actual_value = None
        rows.append({
            "region_code": code, "region_name": name, "metric": metric,
            "metric_zh": schema.TARGET_METRICS.get(metric, metric), "target": value, "actual": actual_value,
            "rate": None if actual_value is None or not value else actual_value / value,
        })
    return pl.DataFrame(rows, infer_schema_length=None)
