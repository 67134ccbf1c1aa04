"""Issued briefings (已发简报): every 简报 that left Kaigong, as a record. The only writer of
issued_briefings: one audited write per issue, after the file is made (its sha256 is the file's).

A record keeps what the briefing printed (its figures, as JSON: pipelines/outputs/issue.py makes and
reads it), the parameters it was made for, the store's data_version it was computed at, and who and
when. A reissue (重印) renders the recorded figures again and is itself recorded, with reissue_of.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb
import polars as pl

from pipelines.vocab.query import query_frame
from pipelines.warehouse import loop_tables
from pipelines.warehouse.store import Store

CHANNELS: tuple[str, ...] = ("页面下载", "命令行", "推送")
LIST_SCHEMA: dict[str, Any] = {
    "issue_id": pl.Int64, "issued_at": pl.Datetime("us"), "issued_by": pl.String, "channel": pl.String,
    "as_of": pl.Date, "year": pl.Int32, "filters": pl.String, "format": pl.String, "data_version": pl.String,
    "sha256": pl.String, "reissue_of": pl.Int64,
}


@dataclass(frozen=True)
class Issue:
    """One issued briefing as recorded."""

    issue_id: int
    issued_at: datetime
    issued_by: str
    channel: str
    as_of: date
    year: int
    filters: str  # JSON
    format: str
    figures: str  # JSON
    data_version: str | None
    sha256: str
    reissue_of: int | None


def record(wh: Store, actor: str, channel: str, *, as_of: date, year: int, filters: str, fmt: str,
           figures: str, data_version: str | None, sha256: str, reissue_of: int | None = None) -> int:
    """Record one issued briefing (its number, 第 N 号); channel is one of CHANNELS. issued_at is the
    local time, as the submissions' loaded_at is (the 更正说明 compares them)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    what = f"重印第 {reissue_of} 号" if reissue_of is not None else "简报"
    with wh.write(actor, "issue_briefing", f"{what} {as_of} {fmt} sha256={sha256}（{channel}）") as con:
        loop_tables.ensure(con)
        got = con.execute("SELECT coalesce(max(issue_id), 0) + 1 FROM issued_briefings").fetchall()
        issue_id = int(got[0][0])
        con.execute(
            "INSERT INTO issued_briefings (issue_id, issued_at, issued_by, channel, as_of, year, filters, format, "
            "figures, data_version, sha256, reissue_of) VALUES ($id, $at, $by, $channel, $as_of, $year, $filters, $fmt, $figures, $version, "
            "$sha, $of)",
            {"id": issue_id, "at": datetime.now(), "by": actor, "channel": channel, "as_of": as_of, "year": year,
             "filters": filters, "fmt": fmt, "figures": figures, "version": data_version, "sha": sha256, "of": reissue_of})
    return issue_id


def get(con: duckdb.DuckDBPyConnection, issue_id: int) -> Issue | None:
    """The record of 第 issue_id 号简报, or None."""
    if not loop_tables.has(con, "issued_briefings"):
        return None
    rows = con.execute(
        "SELECT issue_id, issued_at, issued_by, channel, as_of, year, filters, format, figures, data_version, sha256, "
        "reissue_of FROM issued_briefings WHERE issue_id = ?", [issue_id]).fetchall()
    return Issue(*rows[0]) if rows else None


def listing(con: duckdb.DuckDBPyConnection, limit: int = 200) -> pl.DataFrame:
    """The issued briefings, newest first (without their figures)."""
    if not loop_tables.has(con, "issued_briefings"):
        return pl.DataFrame(schema=LIST_SCHEMA)
    return query_frame(
        con, "SELECT issue_id, issued_at, issued_by, channel, as_of, year, filters, format, data_version, sha256, "
        "reissue_of FROM issued_briefings ORDER BY issue_id DESC LIMIT $n", {"n": limit}).cast(pl.Schema(LIST_SCHEMA))


def originals_before(con: duckdb.DuckDBPyConnection, as_of: date) -> list[Issue]:
    """The issued briefings (reissues left out) of report dates before as_of, latest issue first."""
    if not loop_tables.has(con, "issued_briefings"):
        return []
    rows = con.execute(
        "SELECT issue_id, issued_at, issued_by, channel, as_of, year, filters, format, figures, data_version, sha256, "
        "reissue_of FROM issued_briefings WHERE reissue_of IS NULL AND as_of < ? ORDER BY issued_at DESC, issue_id DESC", [as_of]).fetchall()
    return [Issue(*r) for r in rows]
