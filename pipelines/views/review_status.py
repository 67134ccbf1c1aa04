"""数据报送: submissions kept for review, as the page lists them (status, reason, who and when)."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from pipelines import auth
from pipelines.vocab import schema
from pipelines.vocab.query import query_frame
from pipelines.vocab.reference import region_by_code, region_name
from pipelines.warehouse import loop_tables, review
from pipelines.warehouse.load import Submission

_LIST_COLS = ("pending_id", "status", "unit_code", "city_code", "file_name", "kind", "layout", "rows", "report_date",
              "submitted_at", "submitted_by", "reviewed_at", "reviewed_by", "reason", "submission_id")
_LIST_SCHEMA: dict[str, Any] = {c: pl.String for c in _LIST_COLS} | {
    "pending_id": pl.Int64, "rows": pl.Int64, "report_date": pl.Date, "submitted_at": pl.Datetime("us"),
    "reviewed_at": pl.Datetime("us"), "submission_id": pl.Int64}


def listing(con: duckdb.DuckDBPyConnection, *, status: str | None = None, city_codes: tuple[str, ...] | None = None,
            submitted_by: str | None = None, limit: int = 200) -> pl.DataFrame:
    """Submissions kept for review, newest first (no rows of the files themselves)."""
    if not loop_tables.has(con, "pending_submissions"):
        return pl.DataFrame(schema=_LIST_SCHEMA)
    return query_frame(
        con,
        """SELECT pending_id, status, unit_code, city_code, file_name, kind, layout, rows, report_date,
                  submitted_at, submitted_by, reviewed_at, reviewed_by, reason, submission_id FROM pending_submissions
            WHERE ($status IS NULL OR status = $status) AND ($cities IS NULL OR list_contains($cities, city_code))
              AND ($who IS NULL OR submitted_by = $who)
            ORDER BY pending_id DESC LIMIT $limit""",
        {"status": status, "cities": None if city_codes is None else list(city_codes), "who": submitted_by,
         "limit": limit},
    )


def awaiting(con: duckdb.DuckDBPyConnection, reviewer: auth.User) -> pl.DataFrame:
    """The 待审核 submissions this user may review (an 审核员 of a city: its city's; province: all)."""
    if not reviewer.can("review"):
        return pl.DataFrame(schema=_LIST_SCHEMA)
    cities = None if reviewer.role == "管理员" or not reviewer.region_code else (reviewer.region_code,)
    return listing(con, status="待审核", city_codes=cities)


def modes(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The review mode of each level (the store's setting, else KAIGONG_REVIEW, else direct)."""
    return review.configured_modes(con)


def pending_submission(con: duckdb.DuckDBPyConnection, pending_id: int) -> Submission:
    """The staged file as it was submitted (for the reviewer's preview and change audit)."""
    return review.pending_submission(con, pending_id)


HEADERS = {"pending_id": "审核编号", "status": "状态", "unit": "报送单位", "file_name": "文件", "kind": "类型",
           "rows": "项目数", "report_date": "报告期", "submitted_by": "报送人", "submitted_at": "提交时间",
           "reviewed_by": "审核人", "reviewed_at": "审核时间", "reason": "退回原因", "submission_id": "导入编号"}


def shown(frame: pl.DataFrame) -> pl.DataFrame:
    names = {c: r.name for c, r in region_by_code().items()}
    return frame.with_columns(
        unit=pl.col("unit_code").replace_strict(names, default=pl.col("unit_code")),
        kind=pl.col("kind").replace_strict(schema.KIND_ZH, default=pl.col("kind"), return_dtype=pl.String),
    ).select(list(HEADERS)).rename(HEADERS)


def label(row: dict) -> str:
    name = region_name(row["unit_code"])
    return f"第 {row['pending_id']} 号 · {name} · {row['file_name']} · 报告期 {row['report_date']}（{row['submitted_by']}）"


def status_line(row: dict) -> str:
    """「第 3 号报送《忻州周报.csv》（报告期 2020-03-20）：已通过（xz_review，2020-03-20 10:00）」, with the reason when sent back."""
    text = f"第 {row['pending_id']} 号报送《{row['file_name']}》（报告期 {row['report_date']}）：{row['status']}"
    if row["reviewed_by"] and row["status"] != "待审核":
        when = f"，{row['reviewed_at']:%Y-%m-%d %H:%M}" if row["reviewed_at"] else ""
        text += f"（{row['reviewed_by']}{when}）"
    if row["status"] == "已退回" and row["reason"]:
        text += f"，退回原因：{row['reason']}"
    return text
