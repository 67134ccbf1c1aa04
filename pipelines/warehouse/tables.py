"""The registry of the warehouse's tables: each one's DDL, the columns that name a row, and the one
module that writes it. Creating a store (init, upgrade), backup, restore and export iterate over it,
and tests/test_tables.py fails when a module other than a table's owner writes it.

Kept tables hold what was submitted and decided (backed up and restored); derived ones (the states,
the figure cells) are computed again from them, by their owner, whenever they are missing or behind.
Their DDL stays with the module that derives them (snapshots.py, cells.py), named here.

project_id is the stable identity: the 项目代码 when first seen with one, else
"<city_code>|<normalised name>". Reports keep every field as submitted (schema.REPORT_FIELDS).
DuckLake has no PRIMARY KEY, UNIQUE or sequences: there the owners keep the keys (lake.lake_ddl).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pipelines.vocab.schema import REPORT_COLUMNS_SQL
from pipelines.warehouse import cells, snapshots

KEPT: Literal["kept"] = "kept"
STATES: Literal["states"] = "states"
CELLS: Literal["cells"] = "cells"
Kind = Literal["kept", "states", "cells"]


@dataclass(frozen=True)
class Table:
    name: str
    keys: tuple[str, ...]  # the columns that name one row (none: a log); kept by the owner, not by the store
    owner: str  # the one module that writes the table's rows
    ddl: str
    kind: Kind = KEPT  # kept: backed up; states, cells: derived again from the kept tables
    derives: tuple[str, ...] = ()  # modules that write derived columns of its rows (reports.is_state …)
    loop: bool = False  # the reporting loop's: a database from before it lacks the table (read as empty)


KEPT_TABLES: tuple[Table, ...] = (
    Table(
        "submissions", ('submission_id',), "pipelines.warehouse.load",
        """CREATE TABLE IF NOT EXISTS submissions (
    submission_id BIGINT PRIMARY KEY, -- max + 1, taken in the write (writes are exclusive: no sequence,
                                      -- which DuckLake lacks, and a restore keeps it)
    file_name VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,            -- reports | targets
    layout VARCHAR,                   -- which layout the reader recognised
    rows BIGINT NOT NULL,
    report_date DATE NOT NULL,
    year INTEGER NOT NULL,
    frequency VARCHAR NOT NULL,       -- week | month | quarter
    region_code VARCHAR,              -- region given at load, if any
    tier VARCHAR,                     -- tier given at load, if any
    present_fields VARCHAR[] NOT NULL,-- fields the file's layout carries
    stored_path VARCHAR,              -- the raw file as submitted, kept under data/
    loaded_at TIMESTAMP NOT NULL,
    loaded_by VARCHAR NOT NULL,
    is_demo BOOLEAN NOT NULL DEFAULT false
)""",
    ),
    Table(
        "projects", ('project_id',), "pipelines.warehouse.load",
        """CREATE TABLE IF NOT EXISTS projects (
    project_id VARCHAR NOT NULL,
    project_code VARCHAR,
    city_code VARCHAR NOT NULL,
    name_norm VARCHAR NOT NULL,
    tier VARCHAR NOT NULL,
    first_submission_id BIGINT NOT NULL
)  -- unique on project_id, kept by the loader (it inserts only the ids identity resolution found new);
   -- no PRIMARY KEY: its index cost ~0.3 s of a 100,000-project load and no query looks it up""",
    ),
    Table(
        "reports", ('project_id', 'report_date'), "pipelines.warehouse.load",
        f"""CREATE TABLE IF NOT EXISTS reports (
    project_id VARCHAR NOT NULL,
    report_date DATE NOT NULL,
    year INTEGER NOT NULL,
    submission_id BIGINT NOT NULL,
    source_row BIGINT,
    present BIGINT NOT NULL,          -- bitmask over REPORT_FIELDS: which fields this report states
    {REPORT_COLUMNS_SQL},
    is_state BOOLEAN NOT NULL DEFAULT false, -- derived: the project's first report of the year, which is
                                             -- its state from that date (no state row copies it)
    state_to DATE                            -- derived, when is_state: the project's next report date in
                                             -- the year, where that state ends (NULL: none yet)
)  -- unique on (project_id, report_date), kept by the loader (it merges a resubmission)""",
        derives=('pipelines.warehouse.snapshots',),
    ),
    Table(
        "report_versions", ('project_id', 'report_date', 'submission_id'), "pipelines.warehouse.load",
        f"""CREATE TABLE IF NOT EXISTS report_versions (
    project_id VARCHAR NOT NULL,
    report_date DATE NOT NULL,
    year INTEGER NOT NULL,
    submission_id BIGINT NOT NULL,    -- the submission that brought this version (who, when: submissions)
    source_row BIGINT,
    present BIGINT NOT NULL,
    {REPORT_COLUMNS_SQL},
    superseded_by BIGINT NOT NULL     -- the submission whose changed row replaced it in `reports`
)  -- the superseded versions of reports, kept apart: `reports` holds the newest version of each
   -- (project_id, report_date), so every reader of it sees what it saw before; a load moves a row here
   -- only when a later file for the same date changes it (an unchanged row is not a new version).
   -- Version n of a report: its versions here ordered by submission_id, then the row in `reports`""",
        loop=True,
    ),
    Table(
        "targets", ('year', 'region_code', 'metric'), "pipelines.warehouse.load",
        """CREATE TABLE IF NOT EXISTS targets (
    year INTEGER NOT NULL,
    region_code VARCHAR NOT NULL,
    region_name VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,
    value DOUBLE NOT NULL,
    leader VARCHAR,
    department VARCHAR,
    submission_id BIGINT NOT NULL,
    PRIMARY KEY (year, region_code, metric)
)""",
    ),
    Table(
        "problem_closures", ('project_id', 'problem'), "pipelines.warehouse.problems",
        """CREATE TABLE IF NOT EXISTS problem_closures (
    project_id VARCHAR NOT NULL,
    problem VARCHAR NOT NULL,
    closed_at TIMESTAMP NOT NULL,
    closed_by VARCHAR NOT NULL,
    note VARCHAR,
    PRIMARY KEY (project_id, problem)
)""",
    ),
    Table(
        "audit_log", (), "pipelines.warehouse.base",
        """CREATE TABLE IF NOT EXISTS audit_log (
    logged_at TIMESTAMP NOT NULL,
    actor VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    detail VARCHAR
)""",
    ),
    Table(
        "meta", ('key',), "pipelines.warehouse.connection",
        """CREATE TABLE IF NOT EXISTS meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR
)""",
    ),
    Table(
        "change_findings", (), "pipelines.warehouse.changes",
        """CREATE TABLE IF NOT EXISTS change_findings (
    submission_id BIGINT NOT NULL,    -- the submission whose load found it
    report_date DATE NOT NULL,
    year INTEGER NOT NULL,
    project_id VARCHAR NOT NULL,
    project_name VARCHAR,
    city_code VARCHAR,
    county_code VARCHAR,
    source_row BIGINT,                -- the row in the file (null for a project missing from it)
    kind VARCHAR NOT NULL,            -- changes.KIND_ZH
    field VARCHAR NOT NULL,           -- the field as users know it (总投资, 建设状态 …)
    old_value VARCHAR,
    new_value VARCHAR,
    prev_report_date DATE,            -- the earlier report the new one was compared with
    later_reports VARCHAR             -- a correction of an earlier week: the project's later report dates
)  -- the change audit (pipelines/changes.py), written in the load's transaction""",
    ),
    Table(
        "pending_submissions", ('pending_id',), "pipelines.warehouse.review",
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
        loop=True,
    ),
    Table(
        "supervision_orders", ('order_id',), "pipelines.warehouse.supervision",
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
        loop=True,
    ),
    Table(
        "notices", ('notice_id',), "pipelines.warehouse.loop_tables",
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
        loop=True,
    ),
    Table(
        "confirmed_layouts", ('unit_code', 'signature'), "pipelines.warehouse.layouts",
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
        loop=True,
    ),
    Table(
        "year_list", ('year', 'project_id', 'admitted_on'), "pipelines.warehouse.yearlist",
        """CREATE TABLE IF NOT EXISTS year_list (
    year INTEGER NOT NULL,
    project_id VARCHAR NOT NULL,
    admitted_on DATE NOT NULL,        -- in S from this date (the 台账's report date, 1 January for 续建结转 …)
    admitted_by VARCHAR NOT NULL,     -- the signed-in user (or the loader of the 台账)
    admitted_at TIMESTAMP NOT NULL,
    how VARCHAR NOT NULL,             -- 台账 | 立项≥门槛 | 续建结转 | 手动
    reason VARCHAR,                   -- the rule in words, or the user's reason for a hand admission
    submission_id BIGINT,             -- the 台账 that admitted it, if one did
    project_name VARCHAR,             -- as known at admission: a listed project that never reports is
    city_code VARCHAR,                -- counted with these (S, 总投资, 录入率's base)
    county_code VARCHAR,
    industry_code VARCHAR,
    industry_name VARCHAR,
    total_investment DOUBLE,          -- 万元
    confirmed_by VARCHAR,             -- 续建结转: the unit that confirmed it (NULL: not yet)
    confirmed_at TIMESTAMP,
    removed_on DATE,                  -- 调出: out of S from this date (its history kept)
    removed_by VARCHAR,
    removed_at TIMESTAMP,
    removed_reason VARCHAR
)  -- the year's list (调度库): one row per admission; a project is re-admitted by a new row""",
    ),
    Table(
        "project_tiers", ('project_id', 'year'), "pipelines.warehouse.yearlist",
        """CREATE TABLE IF NOT EXISTS project_tiers (
    project_id VARCHAR NOT NULL,
    year INTEGER NOT NULL,            -- the tier holds from this year on (until a later row)
    tier VARCHAR NOT NULL,
    previous_tier VARCHAR,
    submission_id BIGINT,             -- the file that changed it
    changed_at TIMESTAMP NOT NULL
)  -- a project's tier changed across years (市级千项 → 省级双百); projects.tier is its first""",
    ),
    Table(
        "issued_briefings", ('issue_id',), "pipelines.warehouse.issued",
        """CREATE TABLE IF NOT EXISTS issued_briefings (
    issue_id BIGINT PRIMARY KEY,      -- 第 N 号简报 (max + 1, taken in the write)
    issued_at TIMESTAMP NOT NULL,
    issued_by VARCHAR NOT NULL,       -- the signed-in user (page), the CLI's actor, or the pushing job
    channel VARCHAR NOT NULL,         -- 页面下载 | 命令行 | 推送
    as_of DATE NOT NULL,
    year INTEGER NOT NULL,
    filters VARCHAR NOT NULL,         -- JSON: the Filters it was made for
    format VARCHAR NOT NULL,          -- pdf | png (| markdown: a DingTalk push, outputs/push.py)
    figures VARCHAR NOT NULL,         -- JSON: everything it printed (the metrics dicts, lists, sentences)
    data_version VARCHAR,             -- the store's data_version it was computed at
    sha256 VARCHAR NOT NULL,          -- of the file handed out
    reissue_of BIGINT                 -- a reissue (重印): the issue it reproduces
)  -- every 简报 that left Kaigong (pipelines/outputs/issue.py); its figures are reproduced, never recomputed""",
        loop=True,
    ),
    Table(
        "briefing_deliveries", ('delivery_id',), "pipelines.warehouse.deliveries",
        """CREATE TABLE IF NOT EXISTS briefing_deliveries (
    delivery_id BIGINT PRIMARY KEY,   -- max + 1, taken in the write
    dedup_key VARCHAR NOT NULL UNIQUE, -- schedule|report date|recipient: one push each, never resent
    schedule VARCHAR NOT NULL,        -- the push's name in the notify config (briefings[].name)
    as_of DATE NOT NULL,              -- the report date pushed
    recipient VARCHAR NOT NULL,       -- the city code the 简报 was filtered to, or * (the whole scope)
    channel VARCHAR NOT NULL,         -- wecom | dingtalk | email (never an address, URL or key)
    format VARCHAR NOT NULL,          -- png | pdf | markdown …
    issue_id BIGINT,                  -- the issued briefing pushed (issued_briefings, channel 推送); NULL while 生成中
    created_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL,          -- 生成中 | 待发送 | 发送中 | 已发送 | 发送失败 (attempts used up, or not sendable)
    claimed_at TIMESTAMP,             -- when a run took it (生成中, 发送中): another run leaves it alone until stale
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error VARCHAR,
    sent_at TIMESTAMP,
    payload BLOB                      -- the file while it waits to be sent; NULL once sent or given up
)  -- the scheduled pushes of the 简报 (pipelines/outputs/push.py, run by `kaigong notify`)""",
        loop=True,
    ),
    Table(
        "reference_lists", ('list_id', 'source_row'), "pipelines.warehouse.reference_lists",
        """CREATE TABLE IF NOT EXISTS reference_lists (
    list_id BIGINT NOT NULL,          -- one uploaded list (max + 1, taken in the write)
    kind VARCHAR NOT NULL,            -- 立项 (行政审批局) | 入统 (统计局) | 签约 (商务局)
    as_of DATE NOT NULL,              -- the date the list is as of (a later list of the kind and year replaces it)
    year INTEGER NOT NULL,
    file_name VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    loaded_by VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,       -- the row as Excel shows it
    project_code VARCHAR,
    project_name VARCHAR NOT NULL,
    name_norm VARCHAR NOT NULL,       -- identity's normalisation: matched within the city
    city_code VARCHAR,
    county_code VARCHAR,
    total_investment DOUBLE,          -- 万元
    industry_code VARCHAR,
    industry_name VARCHAR
)  -- another department's list, reconciled with ours (pipelines/views/reconcile.py)""",
        loop=True,
    ),
    Table(
        "fill_drafts", ('user_name', 'unit_code', 'report_date'), "pipelines.warehouse.drafts",
        """CREATE TABLE IF NOT EXISTS fill_drafts (
    user_name VARCHAR NOT NULL,       -- the 报送员 whose draft it is
    unit_code VARCHAR NOT NULL,       -- the unit they report for
    report_date DATE NOT NULL,        -- the period the draft is for
    rows VARCHAR NOT NULL,            -- the grid as last edited (Parquet, base64) (views.fill: the sheet's fields and 本期无变化)
    saved_at TIMESTAMP NOT NULL
)  -- 在线填报 drafts (issue 31): one per user, unit and period, deleted when submitted""",
        loop=True,
    ),
)


def _derived(ddl: tuple[str, ...], kind: Kind, owner: str, keys: dict[str, tuple[str, ...]]) -> tuple[Table, ...]:
    out = []
    for statement in ddl:
        name = statement.split("EXISTS", 1)[1].split("(", 1)[0].strip()
        out.append(Table(name, keys.get(name, ()), owner, statement, kind))
    return tuple(out)


TABLES: tuple[Table, ...] = (
    *KEPT_TABLES,
    *_derived(snapshots.STATE_DDL, STATES, "pipelines.warehouse.snapshots",
              {"state_ranges": ("year", "project_id", "valid_from"), "state_dates": ("year", "as_of")}),
    *_derived(cells.CELLS_DDL, CELLS, "pipelines.warehouse.cells", {}),
)
BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}


def of(kind: Kind) -> tuple[Table, ...]:
    """The tables of one kind, in the registry's order (kept: the order a restore loads them in)."""
    return tuple(t for t in TABLES if t.kind == kind)


def ddl(kind: Kind) -> tuple[str, ...]:
    return tuple(t.ddl for t in of(kind))


def names(kind: Kind) -> tuple[str, ...]:
    return tuple(t.name for t in of(kind))
