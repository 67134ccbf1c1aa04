"""数据报送: the submission log and who has (not) reported at each report date (漏报)."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from . import metrics
from .metrics import View


def submission_log(con: duckdb.DuckDBPyConnection, limit: int = 200, loaded_by: str | None = None) -> pl.DataFrame:
    """The latest submissions, newest first; only one user's own when loaded_by is given."""
    return con.sql(
        """SELECT submission_id, file_name, kind, layout, rows, report_date, frequency,
                  region_code, tier, loaded_at, loaded_by, is_demo
           FROM submissions WHERE $who IS NULL OR loaded_by = $who
           ORDER BY submission_id DESC LIMIT $limit""",
        params={"limit": limit, "who": loaded_by},
    ).pl()


def reporting_matrix(con: duckdb.DuckDBPyConnection, view: View) -> pl.DataFrame:
    """录入率 of each city at each report date of the year up to as_of (report_date, group, rate)."""
    t = metrics.trend(con, view.as_of, year=view.year, filters=view.filters, by="city")
    if t.is_empty() or "reporting_rate" not in t.columns:
        return pl.DataFrame(schema={"report_date": pl.Date, "group": pl.String, "group_code": pl.String,
                                    "reported": pl.Int64, "reporting_rate": pl.Float64})
    return t.select("report_date", "group", "group_code", "reported", "reporting_rate")


def missing_reports(matrix: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Regions that reported nothing at as_of (漏报)."""
    return matrix.filter((pl.col("report_date") == as_of) & (pl.col("reported") == 0)).select("group", "group_code")
