"""Loading staged files into the warehouse's tables: reports, projects, targets and the submission
log. Every function here runs inside the caller's write transaction (store.Warehouse.load)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb
import polars as pl

from pipelines.ingest.submission import Submission
from pipelines.vocab import schema
from pipelines.vocab.findings import Finding
from pipelines.warehouse import tables, yearlist
from pipelines.warehouse.connection import first
from pipelines.warehouse.identity import resolve

_STATE_COLS = schema.FIELD_NAMES


@dataclass
class LoadOutcome:
    file_name: str
    status: str  # loaded | duplicate | refused
    submission_id: int | None
    rows: int
    new_projects: int
    replaced_reports: int
    report_date: date | None
    warnings: list[Finding] = field(default_factory=list)
    changes: int = 0  # change-audit findings stored with it (pipelines/changes.py), new projects included

    def summary_zh(self) -> str:
        if self.status == "duplicate":
            return f"{self.file_name}：与已导入的第 {self.submission_id} 号报送完全相同，未重复导入"
        parts = [
            f"{self.file_name}：已导入 {self.rows} 个项目",
            f"报告期 {self.report_date}",
            f"新项目 {self.new_projects} 个",
        ]
        if self.replaced_reports:
            parts.append(f"更正同期报告 {self.replaced_reports} 条（原报告保留为历史版本）")
        if self.warnings:
            parts.append(f"提示 {len(self.warnings)} 条")
        if self.changes:
            parts.append(f"与上期相比的变动 {self.changes} 条")
        return "，".join(parts) + f"（报送编号 {self.submission_id}）"


# Merge an incoming report onto an existing one for the same project and date (a corrected
# resubmission, or a ledger and a weekly report on the same day). Every incoming row has the
# file's report date $d, so only that date's reports are joined.
_REPORT_MERGE_COLS = ",\n    ".join(
    f"CASE WHEN (i.present & {schema.FIELD_BIT[c]}) <> 0 OR o.project_id IS NULL THEN i.{c} ELSE o.{c} END AS {c}"
    for c in _STATE_COLS
)
_REPORT_MERGE_SQL = f"""
CREATE OR REPLACE TEMP TABLE merged AS
SELECT
    i.project_id, i.report_date, i.year, i.submission_id, i.source_row,
    CASE WHEN o.project_id IS NULL THEN i.present ELSE (i.present | o.present) END AS present,
    {_REPORT_MERGE_COLS}
FROM incoming i
LEFT JOIN (SELECT * FROM reports WHERE report_date = $d) o ON o.project_id = i.project_id
"""


def load_reports(
    con: duckdb.DuckDBPyConnection, sub: Submission, frame: pl.DataFrame, digest: str, actor: str, is_demo: bool,
    before_insert: Callable[[list[str]], None] | None = None,
) -> tuple[LoadOutcome, list[Finding]]:
    """Insert one file's conformed rows as reports (inside the caller's transaction). before_insert,
    when given, is called with the ids of the file's projects already known, before their reports change."""
    ids, new_projects, errors, tier_changes = resolve(con, frame, sub.file_name, sub.report_date.year)
    if errors:
        return LoadOutcome(sub.file_name, "refused", None, frame.height, 0, 0, sub.report_date), errors
    if before_insert is not None:
        new = set(new_projects["project_id"].to_list()) if new_projects.height else set()
        before_insert([pid for pid in ids if pid not in new])
    sub_id = _next_submission_id(con)
    if new_projects.height:
        errors = _insert_projects(con, sub, frame, ids, new_projects, sub_id)
        if errors:
            return LoadOutcome(sub.file_name, "refused", None, frame.height, 0, 0, sub.report_date), errors
    yearlist.record_tier_changes(con, tier_changes, sub_id)  # a tier changed in a new year, kept by year
    replaced = _insert_reports(con, _incoming(sub, frame, ids, sub_id), sub.report_date)
    _record_submission(con, sub, sub_id, digest, actor, is_demo)
    outcome = LoadOutcome(
        sub.file_name, "loaded", sub_id, frame.height, new_projects.height, replaced, sub.report_date,
        list(sub.warnings),
    )
    return outcome, []


def _incoming(sub: Submission, frame: pl.DataFrame, ids: list[str], sub_id: int) -> pl.DataFrame:
    """The file's rows as report rows: project id, date, year, submission, the fields it states."""
    return frame.with_columns(
        project_id=pl.Series(ids, dtype=pl.String),
        report_date=pl.lit(sub.report_date, dtype=pl.Date),
        year=pl.lit(sub.report_date.year, dtype=pl.Int32),
        submission_id=pl.lit(sub_id, dtype=pl.Int64),
        present=pl.lit(schema.present_mask(sub.present_fields), dtype=pl.Int64),
    ).select(
        "project_id", "report_date", "year", "submission_id", "source_row", "present", *schema.FIELD_NAMES,
    )


def _insert_projects(
    con: duckdb.DuckDBPyConnection, sub: Submission, frame: pl.DataFrame, ids: list[str],
    new_projects: pl.DataFrame, sub_id: int,
) -> list[Finding]:
    """Add the file's new projects; none (and the errors) when a new id is an existing project's."""
    con.register("new_projects_src", new_projects.with_columns(first_submission_id=pl.lit(sub_id)))
    # The id of a new project is its code, else "<city>|<name>": a code written like another
    # project's "<city>|<name>" id would take that id (no index refuses it; this does).
    taken = {pid for (pid,) in con.execute(
        "SELECT project_id FROM new_projects_src JOIN projects USING (project_id)").fetchall()}
    if taken:
        con.unregister("new_projects_src")
        clash = frame.with_columns(_pid=pl.Series(ids, dtype=pl.String)).filter(
            pl.col("_pid").is_in(list(taken))).unique("_pid", keep="first", maintain_order=True)
        errors = [
            Finding(sub.file_name, "项目代码与已有项目的编号相同，无法区分两个项目，请核对项目代码", r, "项目代码", code)
            for r, code in clash.select("source_row", "project_code").iter_rows()
        ]
        return errors
    con.execute(
        "INSERT INTO projects SELECT project_id, project_code, city_code, name_norm, tier, "
        "first_submission_id FROM new_projects_src"
    )
    con.unregister("new_projects_src")
    return []


# A merged row that states exactly what the report it merges onto states: not a new version.
_SAME_SQL = " AND ".join(
    ["m.present = o.present", *(f"m.{c} IS NOT DISTINCT FROM o.{c}" for c in _STATE_COLS)])
_VERSION_COLS = ", ".join(("project_id", "report_date", "year", "submission_id", "source_row", "present",
                           *_STATE_COLS))
VERSIONS_DDL = next(t for t in tables.KEPT_TABLES if t.name == "report_versions").ddl
# The file's rows that restate a report unchanged, by submission (a temp table of the load's
# transaction): the change audit reads them as the file's rows (changes.record).
RESTATED_DDL = "CREATE TEMP TABLE IF NOT EXISTS restated (submission_id BIGINT, project_id VARCHAR)"


def _insert_reports(con: duckdb.DuckDBPyConnection, incoming: pl.DataFrame, report_date: date) -> int:
    """Insert the report rows, merged onto the same projects' reports of that date; how many reports
    changed. A changed report's earlier version moves to report_versions (never deleted), superseded
    by this submission; a row that restates its report unchanged leaves it as it is (no new version)."""
    con.register("incoming", incoming)
    d = {"d": report_date}
    row = first(con.execute(
        "SELECT count(*) FROM reports WHERE report_date = $d AND project_id IN (SELECT project_id FROM incoming)", d
    ))
    replaced = int(row[0]) if row else 0
    if replaced == 0:  # the usual case, a new report date: nothing to merge onto
        con.execute("INSERT INTO reports BY NAME SELECT * FROM incoming")
    else:
        replaced = _supersede(con, report_date, int(incoming["submission_id"][0]))
    con.unregister("incoming")
    return replaced


def _supersede(con: duckdb.DuckDBPyConnection, report_date: date, sub_id: int) -> int:
    """Merge the incoming rows onto the reports of report_date they restate or correct; how many changed.
    The merge and the replacement of the changed reports were there before the versions; what keeping
    the versions adds is _keep_versions (bench: the `versions` part times it)."""
    d = {"d": report_date}
    con.execute(_REPORT_MERGE_SQL, d)
    replaced = _keep_versions(con, report_date, sub_id)
    if replaced:
        con.execute(
            "DELETE FROM reports WHERE report_date = $d AND project_id IN (SELECT project_id FROM merged)", d
        )
    con.execute("INSERT INTO reports BY NAME SELECT * FROM merged")
    con.execute("DROP TABLE merged")
    return replaced


def _keep_versions(con: duckdb.DuckDBPyConnection, report_date: date, sub_id: int) -> int:
    """A merged row that restates its report unchanged leaves it as it is (no new version; recorded as
    restated for the change audit) and is dropped from merged; a changed report's earlier version moves to
    report_versions, superseded by sub_id. How many reports changed."""
    d = {"d": report_date}
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE merged_same AS
            SELECT m.project_id FROM merged m JOIN (SELECT * FROM reports WHERE report_date = $d) o
              USING (project_id) WHERE {_SAME_SQL}""", d)
    con.execute(RESTATED_DDL)
    con.execute("INSERT INTO restated SELECT $sid, project_id FROM merged_same", {"sid": sub_id})
    con.execute("DELETE FROM merged WHERE project_id IN (SELECT project_id FROM merged_same)")
    con.execute("DROP TABLE merged_same")
    row = first(con.execute(
        "SELECT count(*) FROM merged m JOIN (SELECT project_id FROM reports WHERE report_date = $d) r "
        "USING (project_id)", d
    ))
    replaced = int(row[0]) if row else 0
    if replaced:
        con.execute(VERSIONS_DDL)  # a database from before the versions gets its table here
        con.execute(
            f"""INSERT INTO report_versions BY NAME
                SELECT {_VERSION_COLS}, $sid AS superseded_by FROM reports
                WHERE report_date = $d AND project_id IN (SELECT project_id FROM merged)""",
            {"d": report_date, "sid": sub_id})
    return replaced


def load_targets(
    con: duckdb.DuckDBPyConnection, sub: Submission, digest: str, actor: str, is_demo: bool
) -> LoadOutcome:
    """Targets per region and metric for a year; a newer 分解表 replaces the same cells."""
    sub_id = _next_submission_id(con)
    t = sub.frame.select(
        pl.col("year").cast(pl.Int32), "region_code", "region_name", "metric",
        pl.col("value").cast(pl.Float64), "leader", "department",
    ).with_columns(submission_id=pl.lit(sub_id, dtype=pl.Int64))
    con.register("incoming_targets", t)
    con.execute(
        "DELETE FROM targets WHERE (year, region_code, metric) IN "
        "(SELECT (year, region_code, metric) FROM incoming_targets)"
    )
    con.execute("INSERT INTO targets SELECT * FROM incoming_targets")
    con.unregister("incoming_targets")
    _record_submission(con, sub, sub_id, digest, actor, is_demo)
    return LoadOutcome(sub.file_name, "loaded", sub_id, sub.frame.height, 0, 0, sub.report_date)


def _next_submission_id(con: duckdb.DuckDBPyConnection) -> int:
    """max + 1 inside the load's write: writes are exclusive (the file's gate, the lake's advisory lock), and
    a submission is recorded before the next one of a batch takes its id, so ids stay unique in both stores."""
    row = first(con.execute("SELECT coalesce(max(submission_id), 0) + 1 FROM submissions"))
    assert row is not None
    return int(row[0])


def _record_submission(
    con: duckdb.DuckDBPyConnection, sub: Submission, sub_id: int, digest: str, actor: str, is_demo: bool
) -> None:
    con.execute(
        "INSERT INTO submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            sub_id, sub.file_name, digest, sub.kind, sub.layout, sub.frame.height, sub.report_date,
            sub.report_date.year, sub.frequency, sub.region_code, sub.tier, list(sub.present_fields),
            sub.stored_path, datetime.now(), actor, is_demo,
        ],
    )


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """The staged frame with every schema column, in schema order and dtype."""
    cols = []
    for name, dtype in schema.STAGED_SCHEMA.items():
        if name in frame.columns:
            cols.append(pl.col(name).cast(dtype))
        else:
            cols.append(pl.lit(None, dtype=dtype).alias(name))
    out = frame.select(cols)
    if out["source_row"].null_count() == out.height:
        out = out.with_columns(source_row=pl.int_range(2, out.height + 2, dtype=pl.Int64))
    return out


def check_rows(frame: pl.DataFrame, file_name: str, allowed_regions: set[str] | None) -> list[Finding]:
    """Checks the loader owns (the reader has done the cell-level ones)."""
    errors: list[Finding] = []
    # Only rows that fail a check are walked (in file order); a clean file costs one filter.
    suspect = (
        pl.col("project_name").is_null() | (pl.col("project_name") == "")
        | pl.col("city_code").is_null() | (pl.col("city_code") == "")
        | (pl.col("tier").is_not_null() & ~pl.col("tier").is_in(list(schema.TIERS)))
    )
    if allowed_regions is not None:
        allowed = list(allowed_regions)
        suspect = suspect | ~(
            pl.col("city_code").is_in(allowed).fill_null(False)
            | pl.col("county_code").fill_null("").is_in(allowed)
        )
    checked = frame.select("source_row", "project_name", "city_code", "county_code", "tier").filter(suspect)
    for row in checked.iter_rows(named=True):
        r = row["source_row"]
        if not row["project_name"]:
            errors.append(Finding(file_name, "项目名称为空", r, "项目名称", ""))
        if not row["city_code"]:
            errors.append(Finding(file_name, "缺少地市，无法确定项目所属地区", r, "地市", ""))
        if row["tier"] is not None and row["tier"] not in schema.TIERS:
            errors.append(Finding(file_name, "层级不在允许的取值内", r, "层级", row["tier"]))
        if allowed_regions is not None and not (
            row["city_code"] in allowed_regions or (row["county_code"] or "") in allowed_regions
        ):
            errors.append(
                Finding(
                    file_name, "该行项目不属于您负责报送的地区", r, "地市",
                    f"{row['city_code'] or ''} {row['county_code'] or ''}".strip(),
                )
            )
    for name in schema.MONEY_FIELDS:
        bad = frame.filter(pl.col(name) < 0)
        for r, v in bad.select("source_row", name).iter_rows():
            errors.append(Finding(file_name, "投资额不能为负数", r, schema.FIELD[name].zh, str(v)))
    return errors
