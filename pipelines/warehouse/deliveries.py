"""Scheduled pushes of the 简报 (briefing_deliveries): the only writer of the table.

One row per push, report date and recipient (its dedup_key), so a push is made and queued once and
never sent again on a later cron run. The row names the issued briefing it carries (issued_briefings,
channel 推送) and keeps the file only while it waits: a retry sends the very bytes that were issued
(their sha256 is the record's), and the file is dropped once sent or given up. No address, URL or key
is stored: recipients' secrets are read from the deployment's configuration at send time
(pipelines/outputs/push.py).

Two cron runs may overlap (a first run of a report date renders a 简报 per city and can take minutes).
Each step is therefore claimed in a write before it is done: a run claims the key before it makes the
简报 (生成中) and claims the rows it is about to send (发送中); another run leaves a claimed row alone
until the claim is stale (STALE: a run that died), so nothing is made or sent twice by two runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import polars as pl

from pipelines.vocab.query import query_frame
from pipelines.warehouse import loop_tables
from pipelines.warehouse.store import Store

STATUSES = ("生成中", "待发送", "发送中", "已发送", "发送失败")
STALE = timedelta(minutes=30)  # a claim older than this was left by a run that died: taken again


def dedup_key(schedule: str, as_of: date, recipient: str) -> str:
    return f"{schedule}|{as_of.isoformat()}|{recipient}"


@dataclass(frozen=True)
class Pending:
    """A push claimed for sending (or sending again)."""

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
    """The dedup keys already made or being made (whatever their status)."""
    if not loop_tables.has(con, "briefing_deliveries"):
        return set()
    return {k for (k,) in con.execute("SELECT dedup_key FROM briefing_deliveries").fetchall()}


def claim_new(wh: Store, *, schedule: str, as_of: date, recipient: str, channel: str, fmt: str, actor: str,
              now: datetime | None = None) -> int | None:
    """Claim the making of one push (status 生成中); None when it was made, or is being made by another run
    (a claim older than STALE is taken over)."""
    now = now or datetime.now()
    key = dedup_key(schedule, as_of, recipient)
    with wh.write(actor, "push_claim", f"推送 {schedule} {as_of} → {recipient}：生成简报") as con:
        loop_tables.ensure(con)
        seen = con.execute("SELECT delivery_id, status, claimed_at FROM briefing_deliveries WHERE dedup_key = ?",
                           [key]).fetchall()
        if seen:
            delivery_id, status, claimed_at = seen[0]
            if status != "生成中" or (claimed_at is not None and claimed_at > now - STALE):
                return None
            con.execute("UPDATE briefing_deliveries SET claimed_at = ? WHERE delivery_id = ?", [now, delivery_id])
            return int(delivery_id)
        got = con.execute("SELECT coalesce(max(delivery_id), 0) + 1 FROM briefing_deliveries").fetchall()
        delivery_id = int(got[0][0])
        con.execute(
            "INSERT INTO briefing_deliveries (delivery_id, dedup_key, schedule, as_of, recipient, channel, format, "
            "created_at, status, claimed_at, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '生成中', ?, 0)",
            [delivery_id, key, schedule, as_of, recipient, channel, fmt, now, now])
    return delivery_id


def made(wh: Store, delivery_id: int, issue_id: int, payload: bytes, actor: str) -> None:
    """The push's 简报 is made and issued: it waits to be sent (待发送) with its file."""
    with wh.write(actor, "push_queue", f"推送第 {delivery_id} 条：第 {issue_id} 号简报待发送") as con:
        con.execute("UPDATE briefing_deliveries SET status = '待发送', issue_id = ?, payload = ?, claimed_at = NULL "
                    "WHERE delivery_id = ?", [issue_id, payload, delivery_id])


def unclaim(wh: Store, delivery_id: int, actor: str) -> None:
    """Making the push failed (nothing issued): the claim is dropped, and the next run tries again."""
    with wh.write(actor, "push_unclaim", f"推送第 {delivery_id} 条：简报未生成，下次运行重试") as con:
        con.execute("DELETE FROM briefing_deliveries WHERE delivery_id = ? AND status = '生成中'", [delivery_id])


def claim_pending(wh: Store, actor: str, limit: int = 200, now: datetime | None = None) -> list[Pending]:
    """Claim the pushes waiting to be sent, oldest first (status 发送中), with those another run claimed and
    left (older than STALE); none when there are none (no write then)."""
    now = now or datetime.now()
    with wh.read() as con:
        if not loop_tables.has(con, "briefing_deliveries"):
            return []
        waiting = con.execute("SELECT count(*) FROM briefing_deliveries WHERE status = '待发送' OR "
                              "(status = '发送中' AND claimed_at <= ?)", [now - STALE]).fetchall()[0][0]
    if not waiting:
        return []
    with wh.write(actor, "push_claim_send", f"推送：取 {waiting} 条待发送") as con:
        rows = con.execute(
            "SELECT delivery_id, schedule, as_of, recipient, channel, format, issue_id, attempts, payload "
            "FROM briefing_deliveries WHERE status = '待发送' OR (status = '发送中' AND claimed_at <= ?) "
            "ORDER BY delivery_id LIMIT ?",
            [now - STALE, limit]).fetchall()
        for r in rows:
            con.execute("UPDATE briefing_deliveries SET status = '发送中', claimed_at = ? WHERE delivery_id = ?",
                        [now, r[0]])
    return [Pending(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bytes(r[8] or b"")) for r in rows]


def record_attempts(wh: Store, actor: str, results: list[tuple[int, str, int, str | None]]) -> None:
    """The outcome of one run's sends: per push (id, status, attempts, last error). A push sent or given up
    drops its file; one to retry waits again (待发送)."""
    if not results:
        return
    sent = sum(1 for _, s, _, _ in results if s == "已发送")
    with wh.write(actor, "push_send", f"推送已发送 {sent}，共 {len(results)} 条") as con:
        for did, status, attempts, error in results:
            con.execute(
                "UPDATE briefing_deliveries SET status = ?, attempts = ?, last_error = ?, claimed_at = NULL, "
                "sent_at = CASE WHEN ? = '已发送' THEN ? ELSE sent_at END, "
                "payload = CASE WHEN ? = '待发送' THEN payload ELSE NULL END WHERE delivery_id = ?",
                [status, attempts, error, status, datetime.now(), status, did])


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
