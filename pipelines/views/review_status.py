"""数据报送: submissions kept for review, as the page lists them (status, reason, who and when)."""

from __future__ import annotations

import polars as pl

from pipelines.vocab import schema
from pipelines.vocab.reference import region_by_code

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
    name = getattr(region_by_code().get(row["unit_code"]), "name", row["unit_code"])
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
