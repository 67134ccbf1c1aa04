"""What every store is (the Store protocol: what a page, a load and a backup may ask of one) and the
write path both stores share (StoreBase): one audited transaction per write, creating and upgrading
the tables, loading files. The file (store.Warehouse) and the lake (lake.LakeWarehouse) each supply
how a write is locked and connected, how a read is made, and what their version is.

What a write does lives beside it: load.py (staged frames into reports, projects, targets),
identity.py (which project a row is), snapshots.py (the states, kept as ranges), cells.py (the figure
cells), changes.py (the change audit). The tables are the registry's (tables.py).

SQL values are always bound parameters. Column lists and the field bit constants that
appear in SQL text come from schema.py, never from user input.
"""

from __future__ import annotations

import abc
import contextlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

import duckdb
import polars as pl

from pipelines.vocab.findings import Finding, SubmissionRefused
from pipelines.warehouse import cells, changes, layouts, tables, yearlist
from pipelines.warehouse.connection import first, set_meta
from pipelines.warehouse.load import LoadOutcome, Submission, check_rows, conform, load_reports, load_targets
from pipelines.warehouse.snapshots import UPGRADE_DDL, has_states, rebuild_states, refresh_states

# Derived tables kept by the loader beside the snapshots: the figures' cells (warehouse/cells.py).
DERIVED_DDL: tuple[str, ...] = tables.ddl(tables.CELLS)

Fill = Callable[[duckdb.DuckDBPyConnection], None]
InTransaction = Callable[[duckdb.DuckDBPyConnection, list[LoadOutcome]], None]


class Store(Protocol):
    """What a page, a load and a backup may ask of a store (the file or the lake)."""

    uploads_dir: Path  # where the raw files are kept as submitted

    @property
    def key(self) -> str:
        """Names the store among the process's caches (the file's path; a lake's catalog and data path)."""
        ...

    @property
    def label(self) -> str:
        """The store as users are told of it (never a password)."""
        ...

    def exists(self) -> bool: ...

    def read(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """A read: every statement of it sees one version of the data."""
        ...

    def write(self, actor: str, action: str, detail: str = "") -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """One write transaction, recorded in the audit log as actor's; all or nothing."""
        ...

    def data_version(self) -> str:
        """Changes after every committed write; cheap to poll."""
        ...

    def init(self) -> None: ...

    def upgrade(self) -> None: ...

    def is_empty(self) -> bool: ...

    def is_demo(self) -> bool: ...

    def find_submission(self, sub: Submission, sha256: str) -> int | None: ...

    def load(self, batch: list[Submission], *, actor: str = "local", is_demo: bool = False,
             allowed_regions: set[str] | None = None, in_transaction: InTransaction | None = None,
             ) -> list[LoadOutcome]: ...

    def keep_raw(self, raw: bytes, digest: str, file_name: str) -> str:
        """Keep a file exactly as submitted, before the write that records it; its stored path."""
        ...

    def replace_all(self, fill: Fill, actor: str, action: str, detail: str) -> None:
        """Every kept table emptied and filled by fill (then the derived ones computed again) in one
        audited write: readers see the data before or after, never between (a restore)."""
        ...

    def remove(self) -> bool:
        """Delete the store, to build it again (the demo): True when it was; a lake, shared by other
        servers, is never deleted here (False)."""
        ...


class StoreBase(abc.ABC):
    """The write path both stores share, over the primitives each supplies (the abstract methods)."""

    uploads_dir: Path
    root: Path  # kept raw files are stored relative to it (the file's directory, the lake's data path)

    @abc.abstractmethod
    def _exclusive(self) -> AbstractContextManager[None]:
        """Held for the duration of a write: the one writer of the store."""

    @abc.abstractmethod
    def _writer(self) -> duckdb.DuckDBPyConnection:
        """A connection to write through (the caller closes it)."""

    @abc.abstractmethod
    def _committed(self) -> None:
        """After a committed write (the file bumps its version sidecar)."""

    @abc.abstractmethod
    def _ddl(self) -> tuple[str, ...]:
        """The statements that create the kept tables, as this store takes them."""

    @abc.abstractmethod
    def exists(self) -> bool: ...

    @abc.abstractmethod
    def read(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]: ...

    @contextlib.contextmanager
    def write(self, actor: str, action: str, detail: str = "") -> Iterator[duckdb.DuckDBPyConnection]:
        """One write transaction, recorded in the audit log; all or nothing."""
        with self._exclusive():
            con = self._writer()
            try:
                with _transaction(con):
                    yield con
                    audit(con, actor, action, detail)
                    version = str(time.time_ns())
                    # Cells current before this write stay current after it: every write here
                    # keeps them so (a load refreshes them in this transaction).
                    cells.keep_cells_current(con, version)
                    set_meta(con, "data_version", version)
            finally:
                con.close()
            self._committed()


    def init(self) -> None:
        """Create the tables if they are not there, and bring the derived cells up to date
        (a database written before they existed, or by a writer that does not keep them)."""
        with self._exclusive():
            con = self._writer()
            try:
                layout_current = has_states(con) or _is_new(con)
                for ddl in self._ddl():  # with the reporting loop's tables (warehouse/review.py …)
                    con.execute(ddl)
                current = cells.cells_current(con)  # before creating them: new tables are empty
                for ddl in DERIVED_DDL:
                    con.execute(ddl)
                if layout_current:
                    for ddl in UPGRADE_DDL:
                        con.execute(ddl)
                written = first(con.execute("SELECT count(*) FROM meta WHERE key = 'data_version'"))
                if not layout_current or (not current and written and written[0]):  # new: nothing to derive
                    with _transaction(con):
                        if layout_current:
                            cells.rebuild_cells(con)
                        else:  # states as a database from before the ranges kept them: computed again
                            rebuild_states(con)
            finally:
                con.close()

    def upgrade(self) -> None:
        """Bring the derived cells up to date when a database from before them, or a writer
        that does not keep them, left them behind, and compute the states of a database from
        before the state ranges again (costs one read when all is current)."""
        if not self.exists():
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
        in_transaction: Callable[[duckdb.DuckDBPyConnection, list[LoadOutcome]], None] | None = None,
    ) -> list[LoadOutcome]:
        """Load files in one transaction: all of them, or (on any error) none.

        allowed_regions, when given, is the set of city/county codes the submitter may load.
        A file already loaded (same sha256, report date, tier and region given) is skipped and said so.
        in_transaction (hook, e.g. an approval in warehouse/review.py) runs last inside the load's
        transaction with the loaded files' outcomes; it is not called when nothing is loaded.
        """
        if not self.exists():
            self.init()
        todo, outcomes = self._staged(batch, allowed_regions)
        if not todo:
            return [outcomes[i] for i in range(len(batch))]
        for sub, digest, _ in todo:
            if sub.raw is not None:
                sub.stored_path = self.keep_raw(sub.raw, digest, sub.file_name)
        detail = "; ".join(f"{sub.file_name} sha256={digest}" for sub, digest, _ in todo)
        loaded: list[LoadOutcome] = []
        errors: list[Finding] = []
        fills: dict[int, pl.DataFrame] = {}  # a prefilled sheet's rows, by position in todo (the change audit's)
        with self.write(actor, "load", detail) as con:
            keep_cells = cells.cells_current(con) and has_states(con)
            # one reports file of few projects (a county's or a city's correction, a week's file of a
            # few counties): its cells by delta; a file of a quarter of the known projects or more
            # changes most cells at every later date, where computing them whole costs no more (the
            # bench's 100,000-row backdated file: 282 s by delta, 246 s whole, one run each under load)
            by_delta = CELLS_BY_DELTA and keep_cells and _few([f for sub, _, f in todo if sub.kind == "reports"], con)
            for i, (sub, digest, frame) in enumerate(todo):
                if sub.kind == "targets":
                    loaded.append(load_targets(con, sub, digest, actor, is_demo))
                else:
                    fill = changes.unconfirmed(con, sub.frame, sub.file_name, sub.report_date, sub.present_fields,
                                               sub.region_code)
                    if fill is not None:  # rows that change nothing and are not marked: not a report of the period
                        fills[i], dropped = fill
                        frame = frame.filter(~pl.col("source_row").is_in(list(dropped)))
                        if frame.is_empty():
                            errors.append(Finding(
                                sub.file_name, "本期填报表中没有任何项目有修改或标记「本期无变化」：未修改又未标记的项目"
                                "不计为本期报送，请更新本期数据，或在确无变化的项目的「本期无变化」列填「是」"))
                            loaded.append(LoadOutcome(sub.file_name, "refused", None, 0, 0, 0, sub.report_date))
                            continue
                    # The cells the file's known projects are in before their reports change (a
                    # resubmitted first report is its state: its old cell is gone once replaced).
                    before = (_delta_before(con, sub.report_date) if by_delta
                              else _cells_before(con, sub.report_date) if keep_cells else None)
                    outcome, errs = load_reports(con, sub, frame, digest, actor, is_demo, before)
                    errors += errs
                    loaded.append(outcome)
                    layouts.remember(con, sub, outcome.submission_id, actor)  # how it was read, confirmed
            if errors:
                raise SubmissionRefused(_names(batch), errors)
            # a 台账 admits its projects to its year's list (调度库) from its report date (before the
            # cells are derived: a project 调出 earlier and listed again is back in S)
            yearlist.admit_ledgers(con, [(sub, o) for (sub, _, _), o in zip(todo, loaded, strict=True)], actor)
            _derive(con, todo, loaded, by_delta)
            _audit_changes(con, todo, loaded, fills)
            if in_transaction is not None:
                in_transaction(con, loaded)
        it = iter(loaded)
        return [outcomes[i] if i in outcomes else next(it) for i in range(len(batch))]

    def _staged(
        self, batch: list[Submission], allowed_regions: set[str] | None
    ) -> tuple[list[tuple[Submission, str, pl.DataFrame]], dict[int, LoadOutcome]]:
        """The files to load, each with its digest and conformed frame, and the outcomes of the ones
        skipped as already loaded (by position in batch); refused as a whole when a row fails a check."""
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
            frame = conform(sub.frame) if sub.kind == "reports" else sub.frame
            if sub.kind == "reports":
                errors += check_rows(frame, sub.file_name, allowed_regions)
            todo.append((sub, digest, frame))
        if errors:
            raise SubmissionRefused(_names(batch), errors)
        return todo, outcomes

    def keep_raw(self, raw: bytes, digest: str, file_name: str) -> str:
        """Keep the file exactly as submitted (written before the load commits)."""
        safe = "".join(ch for ch in Path(file_name).name if ch not in '\\/:*?"<>|\0') or "upload"
        target = self.uploads_dir / f"{digest[:16]}_{safe}"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            tmp = target.with_name(target.name + ".part")
            tmp.write_bytes(raw)
            os.replace(tmp, target)
        try:
            return str(target.relative_to(self.root))
        except ValueError:
            return str(target)


# A load of one reports file keeps the stored cells by delta (cells.note_delta); False: the cells it
# touches are recomputed whole (the path before issue 32; the bench's baseline, a batch of files).
CELLS_BY_DELTA = True


def audit(con: duckdb.DuckDBPyConnection, actor: str, action: str, detail: str = "") -> None:
    """One audit_log row inside the caller's write (StoreBase.write adds its own; a write that does two
    things, such as a load approved in review, adds the second here)."""
    con.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?)", [datetime.now(), actor, action, detail])


def _derive(
    con: duckdb.DuckDBPyConnection, todo: list[tuple[Submission, str, pl.DataFrame]], loaded: list[LoadOutcome],
    by_delta: bool = False,
) -> None:
    """Bring the states and figure cells up to date with the loaded files (in the load's transaction)."""
    cells_current = cells.cells_current(con)
    if not has_states(con):  # a database from before the ranges (not upgraded): every state again
        rebuild_states(con)
        return
    for ddl in DERIVED_DDL:  # a database from before them gets them here
        con.execute(ddl)
    ids = [o.submission_id for (sub, _, _), o in zip(todo, loaded, strict=True)
           if sub.kind == "reports" and o.submission_id is not None]
    for year, since in _earliest_dates(todo).items():
        # The projects the files bring reports for: only their states change.
        con.execute(
            "CREATE OR REPLACE TEMP TABLE state_touched AS SELECT DISTINCT project_id FROM reports "
            "WHERE year = $y AND report_date >= $since AND list_contains($ids, submission_id)",
            {"y": year, "since": since, "ids": ids},
        )
        refresh_states(con, year, since, "state_touched")
        if cells_current and by_delta:
            # the old contributions of the file's known projects are in cells_delta (_delta_before)
            # (a row restating its report unchanged keeps its report and is not in state_touched:
            # it was taken away, so it is added back, unchanged)
            con.execute("CREATE TEMP TABLE IF NOT EXISTS cells_delta_known (project_id VARCHAR)")
            con.execute("CREATE OR REPLACE TEMP TABLE cells_delta_projects AS SELECT project_id FROM state_touched "
                        "UNION SELECT project_id FROM cells_delta_known")
            cells.refresh_cells_delta(con, year, since, "cells_delta_projects")
            con.execute("DROP TABLE cells_delta_projects")
            con.execute("DROP TABLE cells_delta_known")
        elif cells_current:
            # Few projects (a county's correction): only the cells they were in (noted before their
            # reports changed) and are in now can change. Many (a new city's file): every cell from
            # since on is recomputed, which costs less than finding them.
            row = first(con.execute(
                "SELECT (SELECT count(*) FROM state_touched) * 4 <= (SELECT count(*) FROM projects)"))
            few = bool(row and row[0])
            if few:
                cells.note_touched_cells(con, year, since, "state_touched")
            cells.refresh_cells(con, year, since, touched_only=few)
        con.execute("DROP TABLE IF EXISTS cells_touched")
        con.execute("DROP TABLE state_touched")
    if not cells_current:
        cells.rebuild_cells(con)


def _few(frames: list[pl.DataFrame], con: duckdb.DuckDBPyConnection) -> bool:
    """One reports file, of at most FEW_ROWS rows or a quarter of the projects known."""
    if len(frames) != 1:
        return False
    if frames[0].height <= FEW_ROWS:
        return True
    row = first(con.execute("SELECT count(*) FROM projects"))
    return frames[0].height * 4 <= (row[0] if row else 0)


FEW_ROWS = 1_000  # a file this small is cheaper by delta whatever the database's size


def _delta_before(con: duckdb.DuckDBPyConnection, report_date: date) -> Callable[[list[str]], None]:
    """Before the file's known projects' reports change: their contributions to the stored cells
    from the file's date on, taken away (cells.note_delta with sign -1; added back as they are
    after, in _derive). A new project had none (a listed one is a known project)."""
    def note(known: list[str]) -> None:
        con.execute("DROP TABLE IF EXISTS cells_delta")
        con.execute("CREATE OR REPLACE TEMP TABLE cells_delta_known AS SELECT unnest($ids::VARCHAR[]) AS project_id",
                    {"ids": known})
        if known:
            cells.note_delta(con, report_date.year, report_date, "cells_delta_known", -1)
    return note


def _cells_before(con: duckdb.DuckDBPyConnection, report_date: date) -> Callable[[list[str]], None]:
    def note(known: list[str]) -> None:
        row = first(con.execute("SELECT count(*) FROM projects"))
        if not known or len(known) * 4 > (row[0] if row else 0):  # many: every cell is recomputed (_derive)
            return
        con.execute("CREATE OR REPLACE TEMP TABLE cells_known AS SELECT unnest($ids::VARCHAR[]) AS project_id",
                    {"ids": known})
        cells.note_touched_cells(con, report_date.year, report_date, "cells_known")
        con.execute("DROP TABLE cells_known")
    return note


def _audit_changes(
    con: duckdb.DuckDBPyConnection, todo: list[tuple[Submission, str, pl.DataFrame]], loaded: list[LoadOutcome],
    fills: dict[int, pl.DataFrame] | None = None,
) -> None:
    """The change audit, against the states before each file's date (this batch's earlier files included)."""
    for i, ((sub, _, _), outcome) in enumerate(zip(todo, loaded, strict=True)):
        if sub.kind == "reports" and outcome.submission_id is not None:
            outcome.changes = changes.record(
                con, outcome.submission_id, sub.report_date, sub.present_fields, sub.region_code,
                fill=(fills or {}).get(i))


def _is_new(con: duckdb.DuckDBPyConnection) -> bool:
    """A file with no tables yet (created here, with the current layout)."""
    row = first(con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()"))
    return not row or row[0] == 0


@contextlib.contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN … COMMIT, or ROLLBACK on any exception (a killed or failed write leaves nothing)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _names(batch: list[Submission]) -> str:
    return "、".join(sub.file_name for sub in batch)


def _earliest_dates(todo: list[tuple[Submission, str, pl.DataFrame]]) -> dict[int, date]:
    out: dict[int, date] = {}
    for sub, _, _ in todo:
        if sub.kind == "reports":
            y = sub.report_date.year
            out[y] = min(out.get(y, sub.report_date), sub.report_date)
    return out
