"""Scheduled pushes of the 简报 (briefing_deliveries): the only writer of the table.

One row per push, report date and recipient (its dedup_key), so a push is queued once and never
sent again on a later cron run. The row names the issued briefing it carries (issued_briefings,
channel 推送) and keeps the file only while it waits: a retry sends the very bytes that were issued
(their sha256 is the record's), and the file is dropped once sent or given up. No address, URL or
key is stored: recipients' secrets are read from the deployment's configuration at send time
(pipelines/outputs/push.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import polars as pl

from pipelines.vocab.query import query_frame
from pipelines.warehouse import loop_tables
from pipelines.warehouse.store import Store

STATUSES = ("待发送", "已发送", "发送失败")


def dedup_key(schedule: str, as_of: date, recipient: str) -> str:
    return f"{schedule}|{as_of.isoformat()}|{recipient}"


@dataclass(frozen=True)
class Pending:
    """A push waiting to be sent (or tried again)."""

    delivery_id: int
    schedule: str
    as_of: date
    recipient: str
    channel: str
    format: str
    issue_id: int
    attempts: int
    payload: bytes


def known_keys(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The dedup keys already queued (whatever their status)."""
    if not loop_tables.has(con, "briefing_deliveries"):
        return set()
    return {k for (k,) in con.execute("SELECT dedup_key FROM briefing_deliveries").fetchall()}


def queue(wh: Store, *, schedule: str, as_of: date, recipient: str, channel: str, fmt: str, issue_id: int,
          payload: bytes, actor: str) -> int | None:
    """Queue one push of an issued briefing; None when that push was queued before (never twice)."""
    key = dedup_key(schedule, as_of, recipient)
    with wh.write(actor, "push_queue", f"推送 {schedule} {as_of} → {recipient}（第 {issue_id} 号简报）") as con:
        loop_tables.ensure(con)
        seen = con.execute("SELECT count(*) FROM briefing_deliveries WHERE dedup_key = ?", [key]).fetchall()
        if seen and seen[0][0]:
            return None
        got = con.execute("SELECT coalesce(max(delivery_id), 0) + 1 FROM briefing_deliveries").fetchall()
        delivery_id = int(got[0][0])
        con.execute(
            "INSERT INTO briefing_deliveries (delivery_id, dedup_key, schedule, as_of, recipient, channel, format, "
            "issue_id, created_at, status, attempts, payload) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP, '待发送', 0, ?)",
            [delivery_id, key, schedule, as_of, recipient, channel, fmt, issue_id, payload])
    return delivery_id


def pending(con: duckdb.DuckDBPyConnection, limit: int = 200) -> list[Pending]:
    """The pushes waiting to be sent, oldest first."""
    if not loop_tables.has(con, "briefing_deliveries"):
        return []
    rows = con.execute(
        "SELECT delivery_id, schedule, as_of, recipient, channel, format, issue_id, attempts, payload "
        "FROM briefing_deliveries WHERE status = '待发送' ORDER BY delivery_id LIMIT ?", [limit]).fetchall()
    return [Pending(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bytes(r[8] or b"")) for r in rows]


def record_attempts(wh: Store, actor: str, results: list[tuple[int, str, int, str | None]]) -> None:
    """The outcome of one run's sends: per push (id, status, attempts, last error). A push sent or
    given up drops its file."""
    if not results:
        return
    sent = sum(1 for _, s, _, _ in results if s == "已发送")
    with wh.write(actor, "push_send", f"推送已发送 {sent}，共 {len(results)} 条") as con:
        loop_tables.ensure(con)
        for did, status, attempts, error in results:
            con.execute(
                "UPDATE briefing_deliveries SET status = ?, attempts = ?, last_error = ?, "
                "sent_at = CASE WHEN ? = '已发送' THEN now()::TIMESTAMP ELSE sent_at END, "
                "payload = CASE WHEN ? = '待发送' THEN payload ELSE NULL END WHERE delivery_id = ?",
                [status, attempts, error, status, status, did])


def listing(con: duckdb.DuckDBPyConnection, limit: int = 200) -> pl.DataFrame:
    """The pushes, newest first (without their files)."""
    schema: dict[str, Any] = {
        "delivery_id": pl.Int64, "schedule": pl.String, "as_of": pl.Date, "recipient": pl.String,
        "channel": pl.String, "format": pl.String, "issue_id": pl.Int64, "status": pl.String,
        "attempts": pl.Int32, "sent_at": pl.Datetime("us"), "last_error": pl.String}
    if not loop_tables.has(con, "briefing_deliveries"):
        return pl.DataFrame(schema=schema)
    return query_frame(
        con, "SELECT delivery_id, schedule, as_of, recipient, channel, format, issue_id, status, attempts, sent_at, "
        "last_error FROM briefing_deliveries ORDER BY delivery_id DESC LIMIT $n", {"n": limit})
