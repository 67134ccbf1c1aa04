"""The reporting loop's tables: submissions awaiting review, 督办单, and the notice queue.

Created with the warehouse's own tables (Warehouse.init) and again by every write of the loop (a
database from before them gets them there); readers treat a missing table as empty. No secret is
ever stored here: notice recipients and channel credentials are read from the deployment's
configuration at send time (pipelines.outputs.notify).
"""

from __future__ import annotations

import duckdb

PENDING_STATUSES = ("待审核", "已通过", "已退回", "已替换")
ORDER_STATUSES = ("办理中", "已回复", "已办结")

DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS pending_submissions (
    pending_id BIGINT PRIMARY KEY,
    status VARCHAR NOT NULL,          -- 待审核 | 已通过 | 已退回 | 已替换 (a later file for the same unit and date)
    unit_code VARCHAR NOT NULL,       -- the submitter's city or county
    city_code VARCHAR NOT NULL,       -- the unit's city: whose 审核员 reviews it
    file_name VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    layout VARCHAR,
    rows BIGINT NOT NULL,
    report_date DATE NOT NULL,
    frequency VARCHAR NOT NULL,
    region_code VARCHAR,
    tier VARCHAR,
    present_fields VARCHAR[] NOT NULL,
    warnings VARCHAR,                 -- the reader's warnings, JSON
    frame BLOB NOT NULL,              -- the staged rows, Parquet: they enter no figure until approved
    stored_path VARCHAR,              -- the raw file as submitted, kept under data/uploads
    submitted_at TIMESTAMP NOT NULL,
    submitted_by VARCHAR NOT NULL,
    reviewed_at TIMESTAMP,
    reviewed_by VARCHAR,
    reason VARCHAR,                   -- why it was sent back (退回)
    submission_id BIGINT              -- the loaded submission, once approved
)""",
    """CREATE TABLE IF NOT EXISTS supervision_orders (
    order_id BIGINT PRIMARY KEY,
    unit_code VARCHAR NOT NULL,       -- the city or county it is issued to
    city_code VARCHAR NOT NULL,
    source VARCHAR NOT NULL,          -- 红灯项目 | 逾期未开工 | 问题未解决 | 其他
    text VARCHAR NOT NULL,
    deadline DATE NOT NULL,
    project_ids VARCHAR[] NOT NULL,
    project_names VARCHAR[] NOT NULL,
    status VARCHAR NOT NULL,          -- 办理中 | 已回复 | 已办结
    issued_by VARCHAR NOT NULL,
    issued_at TIMESTAMP NOT NULL,
    reply VARCHAR,
    replied_by VARCHAR,
    replied_at TIMESTAMP,
    returned_reason VARCHAR,          -- the issuer's reason when a reply was sent back
    returns INTEGER NOT NULL DEFAULT 0,
    closed_by VARCHAR,
    closed_at TIMESTAMP
)""",
    """CREATE TABLE IF NOT EXISTS notices (
    notice_id BIGINT PRIMARY KEY,
    dedup_key VARCHAR NOT NULL UNIQUE, -- one notice per event (a 退回, an order falling overdue …)
    kind VARCHAR NOT NULL,            -- 退回 | 督办下达 | 督办逾期 | 漏报
    unit_code VARCHAR,
    subject VARCHAR NOT NULL,
    body VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL,          -- 待发送 | 已发送 | 发送失败 (attempts used up)
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error VARCHAR,
    sent_at TIMESTAMP,
    sent_via VARCHAR                  -- the channels it reached (smtp, webhook …), never an address or key
)""",
    """CREATE TABLE IF NOT EXISTS confirmed_layouts (
    unit_code VARCHAR NOT NULL,       -- the submission's region (city or county code), or 未指定
    signature VARCHAR NOT NULL,       -- the layout: its normalised header texts, in order, joined by |
    headers VARCHAR[] NOT NULL,       -- the headers as the file wrote them
    frequency VARCHAR NOT NULL,       -- the frequency the file was loaded with
    frequency_source VARCHAR,         -- why (上传时指定, 标题含“…”, 报告期 … 为月末 …)
    columns VARCHAR NOT NULL,         -- JSON [[column, field or null, how], …]: each column's reading as confirmed
    confirmed_at TIMESTAMP NOT NULL,
    confirmed_by VARCHAR NOT NULL,
    submission_id BIGINT              -- the load that confirmed it (one row per unit and signature: the latest)
)""",
)

TABLES = ("pending_submissions", "supervision_orders", "notices", "confirmed_layouts")


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
