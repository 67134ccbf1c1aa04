"""The DuckDB warehouse: connections, transactional loads, and the as-of snapshots the metrics read.

Concurrency: DuckDB lets one process write a file, and no other process open it meanwhile.
So nobody holds the file open: every read and every write opens a short-lived connection,
retrying while another process has it (the dashboard reads while the CLI ingests).
Reads are many and short; a write is one transaction, so a killed loader leaves the file
exactly as before.

SQL values are always bound parameters. Column lists and the field bit constants that
appear in SQL text come from schema.py, never from user input.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from pipelines.vocab import schema
from pipelines.vocab.findings import Finding, SubmissionRefused
from pipelines.warehouse import cells, changes
from pipelines.warehouse.connection import READER, default_db_path, first, new_alias, while_locked
from pipelines.warehouse.identity import resolve_identity
from pipelines.warehouse.snapshots import (
    SNAPSHOT_DDL,
    UPGRADE_DDL,
    has_states,
    refresh_snapshots,
)

_STATE_COLS = schema.FIELD_NAMES


# Derived tables kept by the loader beside the snapshots: the figures' cells (warehouse/cells.py).
DERIVED_DDL: tuple[str, ...] = cells.CELLS_DDL

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


@dataclass
class Submission:
    """One file, read and staged, ready to load."""

    file_name: str
    frame: pl.DataFrame  # STAGED_SCHEMA rows (reports) or the targets frame
    report_date: date
    raw: bytes | None = None  # the file exactly as submitted (kept under data/uploads)
    kind: str = "reports"  # reports | targets
    frequency: str = "week"
    present_fields: tuple[str, ...] = ()
    layout: str = "standard"
    region_code: str | None = None
    tier: str | None = None
    warnings: list[Finding] = field(default_factory=list)
    stored_path: str | None = None

    def digest(self) -> str:
        if self.raw is not None:
            return hashlib.sha256(self.raw).hexdigest()
        return _frame_digest(self.frame, self.report_date)


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
            parts.append(f"更新同期报告 {self.replaced_reports} 条")
        if self.warnings:
            parts.append(f"提示 {len(self.warnings)} 条")
        if self.changes:
            parts.append(f"与上期相比的变动 {self.changes} 条")
        return "，".join(parts) + f"（报送编号 {self.submission_id}）"


class Warehouse:
    """The DuckDB file and the only code that opens it."""

    def __init__(self, path: Path | str | None = None, *, uploads_dir: Path | None = None):
        self.path = Path(path) if path is not None else default_db_path()
        self.uploads_dir = uploads_dir or self.path.parent / "uploads"
        self.version_path = self.path.with_name(self.path.name + ".version")

    # -- connections --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _gate(self, exclusive: bool) -> Iterator[None]:
        """Writer-preferring readers–writer lock across processes (flock on two sidecar files).

        DuckDB's own file lock gives no preference, so a steady stream of readers can starve
        a writer. A writer first takes the turnstile and holds it while it waits, so new
        readers queue behind it. flock locks die with their process: a killed loader
        cannot wedge the gate.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        turn = open(self.path.with_name(self.path.name + ".turn"), "a+b")  # noqa: SIM115
        gate = open(self.path.with_name(self.path.name + ".gate"), "a+b")  # noqa: SIM115
        try:
            fcntl.flock(turn, fcntl.LOCK_EX)
            if exclusive:
                fcntl.flock(gate, fcntl.LOCK_EX)
            else:
                fcntl.flock(turn, fcntl.LOCK_UN)
                fcntl.flock(gate, fcntl.LOCK_SH)
            yield
        finally:
            gate.close()
            turn.close()

    def _connect(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        return while_locked(lambda: duckdb.connect(str(self.path), read_only=read_only))

    @contextlib.contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived read-only connection.

        Never open one inside another in the same thread: a writer waiting at the gate holds
        the turnstile, so the inner read waits for the writer, which waits for the outer read.

        The file is attached, read-only, to the process's reader instance (see _Reader) for the
        duration of the read and detached after it, so it is held exactly as long as a connection
        of its own would be; the connection is a cursor of that instance with the file as its
        default database.
        """
        if not self.path.exists():
            self.init()
        with self._gate(exclusive=False):
            con = READER.open()
            try:
                alias = self._attach(con)
                try:
                    yield con
                finally:
                    con.close()  # ends any transaction the reader left open
                    detach = READER.cursor()
                    try:
                        # alias is ours (a counter), not user text; DETACH takes no parameters.
                        detach.execute(f"DETACH {alias}")
                    finally:
                        detach.close()
            finally:
                con.close()
                READER.release()

    def _attach(self, con: duckdb.DuckDBPyConnection) -> str:
        """Attach the file to con's instance under a new alias and make it con's default (the
        caller closes con, whether this succeeds or not)."""
        alias = new_alias()
        while_locked(lambda: con.execute(f"ATTACH $path AS {alias} (READ_ONLY)", {"path": str(self.path)}))
        con.execute(f"USE {alias}")
        return alias

    @contextlib.contextmanager
    def write(self, actor: str, action: str, detail: str = "") -> Iterator[duckdb.DuckDBPyConnection]:
        """One write transaction, recorded in the audit log; all or nothing."""
        with self._gate(exclusive=True):
            con = self._connect(read_only=False)
            try:
                con.execute("BEGIN TRANSACTION")
                try:
                    yield con
                    con.execute(
                        "INSERT INTO audit_log VALUES (?, ?, ?, ?)", [datetime.now(), actor, action, detail]
                    )
                    version = str(time.time_ns())
                    # Cells current before this write stay current after it: every write here
                    # keeps them so (a load refreshes them in this transaction).
                    cells.keep_cells_current(con, version)
                    con.execute("INSERT OR REPLACE INTO meta VALUES ('data_version', ?)", [version])
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
            finally:
                con.close()
            self._bump_version()

    def _bump_version(self) -> None:
        tmp = self.version_path.with_suffix(".tmp")
        tmp.write_text(str(time.time_ns()), encoding="utf-8")
        os.replace(tmp, self.version_path)

    def data_version(self) -> str:
        """Changes after every committed write; cheap to poll (a sidecar file, no DB open)."""
        try:
            return self.version_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return "0"

    def init(self) -> None:
        """Create the tables if they are not there, and bring the derived cells up to date
        (a database written before they existed, or by a writer that does not keep them)."""
        with self._gate(exclusive=True):
            con = self._connect(read_only=False)
            try:
                for ddl in (*schema.DDL, SNAPSHOT_DDL, *UPGRADE_DDL):
                    con.execute(ddl)
                current = cells.cells_current(con)  # before creating them: new tables are empty
                for ddl in DERIVED_DDL:
                    con.execute(ddl)
                written = first(con.execute("SELECT count(*) FROM meta WHERE key = 'data_version'"))
                if not current and written and written[0]:  # a new file has nothing to derive
                    con.execute("BEGIN TRANSACTION")
                    try:
                        cells.rebuild_cells(con)
                        con.execute("COMMIT")
                    except BaseException:
                        con.execute("ROLLBACK")
                        raise
            finally:
                con.close()

    def upgrade(self) -> None:
        """Bring the derived cells up to date when a database from before them, or a writer
        that does not keep them, left them behind, and give a database from before the
        `states` view its view (costs one read when all is current)."""
        if not self.path.exists():
            return
        with self.read() as con:
            current = cells.cells_current(con) and has_states(con)
        if not current:
            self.init()

    def is_empty(self) -> bool:
        with self.read() as con:
            row = first(con.execute("SELECT count(*) FROM submissions"))
        return not row or row[0] == 0

    def is_demo(self) -> bool:
        with self.read() as con:
            row = first(con.execute("SELECT bool_or(is_demo) FROM submissions"))
        return bool(row and row[0])

    # -- loading ------------------------------------------------------------------------------

    def find_submission(self, sub: Submission, sha256: str) -> int | None:
        """The earlier submission this one repeats: the same file loaded for the same report date,
        tier and region given at upload (the same bytes for another week, or under another tier,
        are another submission: a county whose figures did not change sends last week's file)."""
        with self.read() as con:
            row = first(con.execute(
                """SELECT submission_id FROM submissions
                   WHERE sha256 = $sha AND report_date = $d AND tier IS NOT DISTINCT FROM $tier
                     AND region_code IS NOT DISTINCT FROM $region
                   ORDER BY submission_id LIMIT 1""",
                {"sha": sha256, "d": sub.report_date, "tier": sub.tier, "region": sub.region_code},
            ))
        return int(row[0]) if row else None

    def load(
        self,
        batch: list[Submission],
        *,
        actor: str = "local",
        is_demo: bool = False,
        allowed_regions: set[str] | None = None,
    ) -> list[LoadOutcome]:
        """Load files in one transaction: all of them, or (on any error) none.

        allowed_regions, when given, is the set of city/county codes the submitter may load.
        A file already loaded (same sha256, report date, tier and region given) is skipped and said so.
        """
        if not self.path.exists():
            self.init()
        errors: list[Finding] = []
        todo: list[tuple[Submission, str, pl.DataFrame]] = []  # conformed once, checked and loaded
        outcomes: dict[int, LoadOutcome] = {}
        seen: dict[tuple[str, date, str | None, str | None], int] = {}
        for i, sub in enumerate(batch):
            digest = sub.digest()
            key = (digest, sub.report_date, sub.tier, sub.region_code)
            known = self.find_submission(sub, digest)
            if known is not None or key in seen:
                outcomes[i] = LoadOutcome(sub.file_name, "duplicate", known, sub.frame.height, 0, 0, sub.report_date)
                continue
            seen[key] = i
            frame = _conform(sub.frame) if sub.kind == "reports" else sub.frame
            if sub.kind == "reports":
                errors += _check_rows(frame, sub.file_name, allowed_regions)
            todo.append((sub, digest, frame))
        if errors:
            raise SubmissionRefused(_names(batch), errors)
        if not todo:
            return [outcomes[i] for i in range(len(batch))]
        for sub, digest, _ in todo:
            if sub.raw is not None:
                sub.stored_path = self._keep_raw(sub.raw, digest, sub.file_name)
        detail = "; ".join(f"{sub.file_name} sha256={digest}" for sub, digest, _ in todo)
        loaded: list[LoadOutcome] = []
        with self.write(actor, "load", detail) as con:
            for sub, digest, frame in todo:
                if sub.kind == "targets":
                    loaded.append(_load_targets(con, sub, digest, actor, is_demo))
                else:
                    outcome, errs = _load_reports(con, sub, frame, digest, actor, is_demo)
                    errors += errs
                    loaded.append(outcome)
            if errors:
                raise SubmissionRefused(_names(batch), errors)
            cells_current = cells.cells_current(con)
            for ddl in (*UPGRADE_DDL, *DERIVED_DDL):  # a database from before them gets them here
                con.execute(ddl)
            for year, since in _earliest_dates(todo).items():
                refresh_snapshots(con, year, since)
                if cells_current:
                    cells.refresh_cells(con, year, since)
            if not cells_current:
                cells.rebuild_cells(con)
            # The change audit, against the states before each file's date (this batch's earlier files included).
            for (sub, _, _), outcome in zip(todo, loaded, strict=True):
                if sub.kind == "reports" and outcome.submission_id is not None:
                    outcome.changes = changes.record(
                        con, outcome.submission_id, sub.report_date, sub.present_fields, sub.region_code)
        it = iter(loaded)
        return [outcomes[i] if i in outcomes else next(it) for i in range(len(batch))]

    def _keep_raw(self, raw: bytes, digest: str, file_name: str) -> str:
        """Keep the file exactly as submitted (written before the load commits)."""
        safe = "".join(ch for ch in Path(file_name).name if ch not in '\\/:*?"<>|\0') or "upload"
        target = self.uploads_dir / f"{digest[:16]}_{safe}"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            tmp = target.with_name(target.name + ".part")
            tmp.write_bytes(raw)
            os.replace(tmp, target)
        try:
            return str(target.relative_to(self.path.parent))
        except ValueError:
            return str(target)


def _names(batch: list[Submission]) -> str:
    return "、".join(sub.file_name for sub in batch)


def _earliest_dates(todo: list[tuple[Submission, str, pl.DataFrame]]) -> dict[int, date]:
    out: dict[int, date] = {}
    for sub, _, _ in todo:
        if sub.kind == "reports":
            y = sub.report_date.year
            out[y] = min(out.get(y, sub.report_date), sub.report_date)
    return out


def _present_mask(fields: tuple[str, ...] | list[str]) -> int:
    mask = 0
    for name in (*fields, *schema.ALWAYS_PRESENT):
        mask |= schema.FIELD_BIT[name]
    return mask


def _load_reports(
    con: duckdb.DuckDBPyConnection, sub: Submission, frame: pl.DataFrame, digest: str, actor: str, is_demo: bool
) -> tuple[LoadOutcome, list[Finding]]:
    """Insert one file's conformed rows as reports (inside the caller's transaction)."""
    ids, new_projects, errors = resolve_identity(con, frame, sub.file_name)
    if errors:
        return LoadOutcome(sub.file_name, "refused", None, frame.height, 0, 0, sub.report_date), errors
    sub_id = _next_submission_id(con)
    incoming = frame.with_columns(
        project_id=pl.Series(ids, dtype=pl.String),
        report_date=pl.lit(sub.report_date, dtype=pl.Date),
        year=pl.lit(sub.report_date.year, dtype=pl.Int32),
        submission_id=pl.lit(sub_id, dtype=pl.Int64),
        present=pl.lit(_present_mask(sub.present_fields), dtype=pl.Int64),
    ).select(
        "project_id", "report_date", "year", "submission_id", "source_row", "present", *schema.FIELD_NAMES,
    )
    if new_projects.height:
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
            return LoadOutcome(sub.file_name, "refused", None, frame.height, 0, 0, sub.report_date), errors
        con.execute(
            "INSERT INTO projects SELECT project_id, project_code, city_code, name_norm, tier, "
            "first_submission_id FROM new_projects_src"
        )
        con.unregister("new_projects_src")
    con.register("incoming", incoming)
    d = {"d": sub.report_date}
    row = first(con.execute(
        "SELECT count(*) FROM reports WHERE report_date = $d AND project_id IN (SELECT project_id FROM incoming)", d
    ))
    replaced = int(row[0]) if row else 0
    if replaced == 0:  # the usual case, a new report date: nothing to merge onto
        con.execute("INSERT INTO reports BY NAME SELECT * FROM incoming")
    else:
        con.execute(_REPORT_MERGE_SQL, d)
        row = first(con.execute(
            "SELECT count(*) FROM merged m JOIN (SELECT project_id FROM reports WHERE report_date = $d) r "
            "USING (project_id)", d
        ))
        replaced = int(row[0]) if row else 0
        con.execute(
            "DELETE FROM reports WHERE report_date = $d AND project_id IN (SELECT project_id FROM merged)", d
        )
        con.execute("INSERT INTO reports BY NAME SELECT * FROM merged")
        con.execute("DROP TABLE merged")
    con.unregister("incoming")
    _record_submission(con, sub, sub_id, digest, actor, is_demo)
    outcome = LoadOutcome(
        sub.file_name, "loaded", sub_id, frame.height, new_projects.height, replaced, sub.report_date,
        list(sub.warnings),
    )
    return outcome, []


def _load_targets(
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
    row = first(con.execute("SELECT nextval('submission_seq')"))
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


def _frame_digest(frame: pl.DataFrame, report_date: date) -> str:
    h = hashlib.sha256(str(report_date).encode())
    h.update(frame.write_csv().encode("utf-8"))
    return h.hexdigest()


def _conform(frame: pl.DataFrame) -> pl.DataFrame:
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


def _check_rows(frame: pl.DataFrame, file_name: str, allowed_regions: set[str] | None) -> list[Finding]:
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



