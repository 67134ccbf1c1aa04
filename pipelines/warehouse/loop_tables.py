"""The reporting loop's tables: submissions awaiting review, 督办单, and the notice queue.

Created with the warehouse's own tables (Warehouse.init) and again by every write of the loop (a
database from before them gets them there); readers treat a missing table as empty. No secret is
ever stored here: notice recipients and channel credentials are read from the deployment's
configuration at send time (pipelines.outputs.notify).
"""

from __future__ import annotations

import duckdb

from pipelines.warehouse import tables

PENDING_STATUSES = ("待审核", "已通过", "已退回", "已替换")
ORDER_STATUSES = ("办理中", "已回复", "已办结")

# Their DDL: the registry (warehouse/tables.py), where they are the tables marked loop.
DDL: tuple[str, ...] = tuple(t.ddl for t in tables.TABLES if t.loop)
TABLES: tuple[str, ...] = tuple(t.name for t in tables.TABLES if t.loop)


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in DDL:
        con.execute(ddl)


def has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND table_name = ?", [table]
    ).fetchall()
    return bool(rows and rows[0][0])


def next_id(con: duckdb.DuckDBPyConnection, table: str, column: str) -> int:
    """max + 1 inside a write (writes are exclusive, so no sequence is needed and a restore keeps it)."""
    assert table in TABLES and column in ("pending_id", "order_id", "notice_id")
    rows = con.execute(f"SELECT coalesce(max({column}), 0) + 1 FROM {table}").fetchall()  # noqa: S608 (names checked)
    return int(rows[0][0])


def enqueue_notice(con: duckdb.DuckDBPyConnection, dedup_key: str, kind: str, unit_code: str | None,
                   subject: str, body: str) -> bool:
    """Queue a notice inside the caller's write (sent later by `kaigong notify`, never here);
    an event already queued (the same dedup_key) is not queued twice. True when queued."""
    ensure(con)
    seen = con.execute("SELECT count(*) FROM notices WHERE dedup_key = ?", [dedup_key]).fetchall()
    if seen and seen[0][0]:
        return False
    con.execute(
        "INSERT INTO notices (notice_id, dedup_key, kind, unit_code, subject, body, created_at, status, attempts) "
        "VALUES (?, ?, ?, ?, ?, ?, now()::TIMESTAMP, '待发送', 0)",
        [next_id(con, "notices", "notice_id"), dedup_key, kind, unit_code, subject, body],
    )
    return True


def record_attempts(con: duckdb.DuckDBPyConnection, results: list[tuple[int, str, int, str | None, str]]) -> None:
    """The outcome of sending notices, inside the caller's write: per notice (id, status, attempts, the last
    error, the channels it reached); sent_at is set when it was sent."""
    for nid, status, attempts, error, via in results:
        con.execute(
            "UPDATE notices SET status = ?, attempts = ?, last_error = ?, sent_via = ?, "
            "sent_at = CASE WHEN ? = '已发送' THEN now()::TIMESTAMP ELSE sent_at END WHERE notice_id = ?",
            [status, attempts, error, via or None, status, nid])
