"""开工: start rates by tier, city, county and industry, the trend, overdue and upcoming starts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import polars as pl

from pipelines import metrics
from pipelines.metrics import View
from pipelines.views.grouped import Grouped, grouped
from pipelines.vocab import schema


def _add_month(d: date) -> date:
    y, m = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
    last = (date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)).day
    return date(y, m, min(d.day, last))


@dataclass
class Starts(Grouped):
    overdue: pl.DataFrame
    due_next_month: pl.DataFrame
    next_month_end: date


_LIST_COLS = ["project_id", "project_name", "tier", "city_name", "county_name", "industry_name", "stage",
              "total_investment", "planned_start_date", "actual_start_date", "not_started_reason"]


def starts(con: duckdb.DuckDBPyConnection, view: View) -> Starts:
    figures = grouped(con, view, ("tier", "city", "county", "industry"), shown_if="due")
    end = _add_month(view.as_of)
    cols = list(_LIST_COLS)
    # One read for both lists: an overdue project (due, not started) is one not started.
    not_started = metrics.project_states(
        con, view.as_of, year=view.year, filters=view.filters, columns=[*cols, "is_overdue"], where=metrics.Where("has_started", "unset")
    )
    overdue = not_started.filter(pl.col("is_overdue")).select(cols).sort("planned_start_date", nulls_last=True)
    upcoming = not_started.filter(
        ~pl.col("stage").fill_null("").is_in(["储备", *schema.DONE_STAGES])
        & (pl.col("planned_start_date") > view.as_of)
        & (pl.col("planned_start_date") <= end)
    ).select(cols).sort("planned_start_date")
    return Starts(**vars(figures), overdue=overdue, due_next_month=upcoming, next_month_end=end)
