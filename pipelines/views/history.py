"""One project across report dates: what each report stated, stage changes, problems raised and closed."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from pipelines.metrics import lights
from pipelines.vocab import schema
from pipelines.vocab.query import query_frame
from pipelines.warehouse import loop_tables

# Fields the history shows; a report that does not carry a field (its layout lacks it) shows null.
HISTORY_FIELDS = ("project_name", "tier", "city_name", "county_name", "stage", "total_investment",
                  "annual_plan", "ytd_completed", "actual_start_date", "not_started_reason",
                  "image_progress", "problem", "problem_department")

# Column names and field bits come from schema.py constants; the project id is bound.
_HISTORY_SQL = (
    "SELECT r.report_date, r.submission_id, s.file_name, "
    + ", ".join(
        f"CASE WHEN (r.present & {schema.FIELD_BIT[c]}) <> 0 THEN r.{c} END AS {c}" for c in HISTORY_FIELDS
    )
    + " FROM reports r LEFT JOIN submissions s USING (submission_id)"
    " WHERE r.project_id = $pid ORDER BY r.report_date"
)


@dataclass
class ProjectHistory:
    project_id: str
    reports: pl.DataFrame  # one row per report date, the fields as stated (forward-filled where not stated)
    stage_changes: pl.DataFrame  # report_date, stage_from, stage_to
    problems: pl.DataFrame  # problem, department, raised_on, last_seen, closed_at, closed_by
    versions: pl.DataFrame | None = None  # every version of each report (report_versions), see VERSION_LABELS


def project_history(con: duckdb.DuckDBPyConnection, project_id: str) -> ProjectHistory:
    """The history of one project over every report (bound SQL over the reports table)."""
    raw = query_frame(con, _HISTORY_SQL, {"pid": project_id})
    # The state at each report: a field a report does not state keeps its earlier value.
    reports = raw.with_columns(pl.col(c).forward_fill() for c in HISTORY_FIELDS if c in raw.columns)
    stage_changes = (
        reports.select("report_date", "stage")
        .with_columns(stage_from=pl.col("stage").shift(1))
        .filter(pl.col("stage").is_not_null() & (pl.col("stage") != pl.col("stage_from").fill_null("")))
        .rename({"stage": "stage_to"})
        .select("report_date", "stage_from", "stage_to")
    )
    raised = (
        raw.filter(pl.col("problem").str.strip_chars().fill_null("") != "")
        .group_by("problem", maintain_order=True)
        .agg(
            department=pl.col("problem_department").drop_nulls().last(),
            raised_on=pl.col("report_date").min(),
            last_seen=pl.col("report_date").max(),
        )
    )
    closures = query_frame(
        con,
        "SELECT problem, closed_at, closed_by, note FROM problem_closures WHERE project_id = $pid",
        {"pid": project_id},
    )
    problems = raised.join(closures, on="problem", how="left").sort("raised_on")
    return ProjectHistory(project_id, reports, stage_changes, problems, report_versions(con, project_id))


# The fields a version lists (what a correction usually changes); the rest is in the report itself.
VERSION_FIELDS = ("stage", "annual_plan", "ytd_completed", "actual_start_date", "total_investment")
_VERSION_SELECT = ("report_date, submission_id, "
                   + ", ".join(f"CASE WHEN (present & {schema.FIELD_BIT[c]}) <> 0 THEN {c} END AS {c}"
                               for c in VERSION_FIELDS))
VERSION_LABELS = {"report_date": "报告期", "version": "版本", "status": "状态", "file_name": "报送文件",
                  "loaded_by": "报送人", "loaded_at": "导入时间", "superseded_by_name": "更正人",
                  "superseded_at": "更正时间", **{c: schema.FIELD[c].zh for c in VERSION_FIELDS}}


def report_versions(con: duckdb.DuckDBPyConnection, project_id: str) -> pl.DataFrame:
    """Every version of each of the project's reports, oldest first: its number, 现行 or 已更正, the
    submission that brought it (file, who, when) and, when superseded, who superseded it and when."""
    older = (f"SELECT {_VERSION_SELECT}, superseded_by FROM report_versions WHERE project_id = $pid UNION ALL "
             if loop_tables.has(con, "report_versions") else "")
    return query_frame(
        con,
        f"""SELECT v.report_date,
                   row_number() OVER (PARTITION BY v.report_date ORDER BY v.submission_id) AS version,
                   CASE WHEN v.superseded_by IS NULL THEN '现行' ELSE '已更正' END AS status,
                   s.file_name, s.loaded_by, s.loaded_at, {", ".join("v." + c for c in VERSION_FIELDS)},
                   v.submission_id, v.superseded_by,
                   n.loaded_by AS superseded_by_name, n.loaded_at AS superseded_at
            FROM ({older}SELECT {_VERSION_SELECT}, NULL::BIGINT AS superseded_by FROM reports
                  WHERE project_id = $pid) v
            LEFT JOIN submissions s ON s.submission_id = v.submission_id
            LEFT JOIN submissions n ON n.submission_id = v.superseded_by
            ORDER BY v.report_date, v.submission_id""",
        {"pid": project_id},
    )


def light_history(con: duckdb.DuckDBPyConnection, project_id: str) -> pl.DataFrame:
    """The project's lights at each of its report dates (metrics/lights.py), for the project page."""
    return lights.project_light_history(con, project_id)
