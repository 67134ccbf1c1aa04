"""问题清单: open problems that need coordination, their age, and the ones closed (销号: warehouse/problems.py)."""

from __future__ import annotations

import duckdb
import polars as pl

from pipelines import metrics
from pipelines.metrics import View
from pipelines.vocab import schema
from pipelines.vocab.query import query_frame

_PROBLEM_BIT = schema.FIELD_BIT["problem"]

_OPEN_SCHEMA = {
    "project_id": pl.String, "project_name": pl.String, "tier": pl.String, "city_name": pl.String,
    "county_name": pl.String, "problem": pl.String, "problem_department": pl.String,
    "raised_on": pl.Date, "age_days": pl.Int64,
}


def open_problems(con: duckdb.DuckDBPyConnection, view: View) -> pl.DataFrame:
    """Problems in the projects' current state, not closed (销号), with the date first raised and the
    age in days, oldest first: the one definition of an open problem (the 问题清单 page, the briefing
    and so `kaigong brief` read it)."""
    states = metrics.project_states(con, view.as_of, year=view.year, filters=view.filters, columns=(
        "project_id", "project_name", "tier", "city_name", "county_name", "problem", "problem_department",
    ), where=metrics.Where("problem", "not null"))
    current = states.filter(pl.col("problem").str.strip_chars().fill_null("") != "").select(
        "project_id", "project_name", "tier", "city_name", "county_name", "problem",
        pl.col("problem_department").fill_null("（未指定部门）"),
    )
    if current.is_empty():
        return pl.DataFrame(schema=_OPEN_SCHEMA)
    con.register("current_problems", current.select("project_id", "problem"))
    try:
        # Only reports that state a problem are joined (a tenth of them at national scale).
        first_raised = query_frame(
            con,
            """SELECT c.project_id, c.problem, min(r.report_date) AS raised_on
                FROM (SELECT project_id, problem, report_date FROM reports
                      WHERE problem IS NOT NULL AND (present & $bit) <> 0 AND report_date <= $as_of) r
                JOIN current_problems c ON r.project_id = c.project_id AND r.problem = c.problem
                GROUP BY ALL""",
            {"as_of": view.as_of, "bit": _PROBLEM_BIT},
        )
        closed = query_frame(con, "SELECT project_id, problem FROM problem_closures")
    finally:
        con.unregister("current_problems")
    return (
        current.join(closed, on=["project_id", "problem"], how="anti")
        .join(first_raised, on=["project_id", "problem"], how="left")
        .with_columns(age_days=(pl.lit(view.as_of) - pl.col("raised_on")).dt.total_days())
        .sort(["age_days", "project_name"], descending=[True, False], nulls_last=True)
        .select(list(_OPEN_SCHEMA))
    )


def closed_problems(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every problem closed (销号), newest first, with the project's name."""
    # The names come from the reports of the closed projects only: as a correlated subquery
    # DuckDB aggregated every report (8 s and 700 MB at national scale, with no closure at all).
    return query_frame(
        con,
        """WITH c AS (SELECT * FROM problem_closures),
                named AS (SELECT project_id, any_value(project_name) AS project_name FROM reports
                          WHERE project_id IN (SELECT project_id FROM c) GROUP BY project_id)
           SELECT c.project_id, coalesce(named.project_name, p.name_norm) AS project_name,
                  c.problem, c.closed_at, c.closed_by, c.note
           FROM c LEFT JOIN named USING (project_id) LEFT JOIN projects p USING (project_id)
           ORDER BY c.closed_at DESC, c.project_id"""
    )


def counts_by(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Open problems per department or region (column), most first."""
    return (
        frame.group_by(pl.col(column).fill_null("（未填）"))
        .agg(count=pl.len(), oldest_days=pl.col("age_days").max())
        .sort(["count", column], descending=[True, False])
    )

