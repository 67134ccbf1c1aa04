"""已发简报: the issued briefings as the 简报 page and `kaigong brief --list` show them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import duckdb
import polars as pl

from pipelines.views.corrections import filters_from_json
from pipelines.views.options import filter_lines
from pipelines.vocab.reference import region_names
from pipelines.warehouse import deliveries as deliveries_store
from pipelines.warehouse import issued


def listing(con: duckdb.DuckDBPyConnection, limit: int = 200) -> pl.DataFrame:
    """The issued briefings, newest first, with their filters in words (scope)."""
    frame = issued.listing(con, limit)
    return frame.with_columns(pl.Series("scope", [_scope(f, y, d) for f, y, d in
                                                  frame.select("filters", "year", "as_of").iter_rows()],
                                        dtype=pl.String))


def _scope(filters: str, year: int, as_of: date) -> str:
    lines = filter_lines(year, as_of, filters_from_json(filters))[2:]  # after 年度, 报告期截止日
    return "；".join(f"{k}：{v}" for k, v in lines if v != "全部") or "全部项目"


def lines_zh(frame: pl.DataFrame) -> list[str]:
    """「第 3 号  2020-05-31  PDF  cli 2026-12-07 05:50（命令行）  重印第 1 号」, one per issue."""
    out = []
    for r in frame.iter_rows(named=True):
        text = (f"第 {r['issue_id']} 号  报告期 {r['as_of']}  {r['format'].upper()}  {r['issued_by']} "
                f"{r['issued_at']:%Y-%m-%d %H:%M}（{r['channel']}）  {r['scope']}  sha256={r['sha256'][:12]}")
        if r["reissue_of"] is not None:
            text += f"  重印第 {r['reissue_of']} 号"
        out.append(text)
    return out


def to_json(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [{k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in r.items()}
            for r in frame.iter_rows(named=True)]


def shown(frame: pl.DataFrame) -> pl.DataFrame:
    """The list as the 简报 page shows it: Chinese headers."""
    return frame.select(
        pl.col("issue_id").alias("编号"),
        pl.col("as_of").alias("报告期"),
        pl.col("scope").alias("范围"),
        pl.col("format").str.to_uppercase().alias("格式"),
        pl.col("issued_by").alias("发出人"),
        pl.col("issued_at").alias("发出时间"),
        pl.col("channel").alias("途径"),
        pl.col("reissue_of").alias("重印自"),
        pl.col("sha256").str.slice(0, 12).alias("文件校验（sha256 前12位）"),
    )


def deliveries(con: duckdb.DuckDBPyConnection, limit: int = 200) -> pl.DataFrame:
    """The scheduled pushes (kaigong notify), newest first, as the 简报 page shows them: which push, report
    date, recipient (a city's group or mailbox), channel, format, the issued 简报's number, status, tries,
    when sent and the last error (no file, no address, no key)."""
    frame = deliveries_store.listing(con, limit)
    return frame.select(
        pl.col("schedule").alias("推送"),
        pl.col("as_of").alias("报告期"),
        region_names("recipient").replace({"*": "全部"}).alias("接收方"),
        pl.col("channel").alias("渠道"),
        pl.col("format").str.to_uppercase().alias("格式"),
        pl.col("issue_id").alias("简报编号"),
        pl.col("status").alias("状态"),  # in words already (deliveries.STATUSES)
        pl.col("attempts").alias("尝试次数"),
        pl.col("sent_at").alias("发送时间"),
        pl.col("last_error").alias("最近错误"),
    )
