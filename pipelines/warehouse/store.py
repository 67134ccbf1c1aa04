"""The configured store (open_warehouse: the file or the lake, both visible here) and the file store,
Warehouse: the DuckDB file and the only code that opens it. Its write path (loads, 销号, targets,
restore: one audited transaction each) is the one both stores share (base.StoreBase).

Concurrency: DuckDB lets one process write a file, and no other process open it meanwhile.
So nobody holds the file open: every read and every write opens a short-lived connection,
retrying while another process has it (the dashboard reads while the CLI ingests; see
connection.py). Reads are many and short; a write is one transaction, so a killed loader
leaves the file exactly as before. A gate (flock on two sidecar files) orders readers and writers.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from pipelines.vocab.query import mark_read
from pipelines.warehouse import tables
from pipelines.warehouse.base import DERIVED_DDL, Fill, Store, StoreBase, audit
from pipelines.warehouse.connection import READER, default_db_path, new_alias, sql_literal, while_locked
from pipelines.warehouse.lake import LakeConfig, LakeWarehouse
from pipelines.warehouse.load import LoadOutcome, Submission

__all__ = ["DERIVED_DDL", "LoadOutcome", "Store", "Submission", "Warehouse", "audit", "open_warehouse",
           "store_key", "store_mode"]

STORE_ENV = "KAIGONG_STORE"  # file (default): the DuckDB file at KAIGONG_DB; lake: DuckLake (warehouse/lake.py)
STORES = ("file", "lake")


def store_mode() -> str:
    """The configured store: KAIGONG_STORE, file unless it says lake."""
    mode = (os.environ.get(STORE_ENV) or "file").strip().lower()
    if mode not in STORES:
        raise ValueError(f"环境变量 {STORE_ENV} 只能是 file 或 lake（现为 {mode!r}）")
    return mode


def open_warehouse(path: Path | str | None = None, *, uploads_dir: Path | None = None) -> Store:
    """The configured warehouse: the file at path when one is given, else by KAIGONG_STORE, the file at
    KAIGONG_DB (or data/kaigong.duckdb) or the DuckLake store named by KAIGONG_LAKE_CATALOG and
    KAIGONG_LAKE_DATA. Every caller that means "the deployment's warehouse" opens it here, so a
    second app server on the same lake is a matter of configuration."""
    if path is None and store_mode() == "lake":
        return LakeWarehouse(LakeConfig.from_env(), uploads_dir=uploads_dir)
    return Warehouse(path, uploads_dir=uploads_dir)


def store_key() -> str:
    """The configured warehouse's key (Store.key) without opening it: what caches are keyed on."""
    if store_mode() == "lake":
        return LakeConfig.from_env().key
    return str(default_db_path())


def _wal(path: Path) -> Path:
    return Path(str(path) + ".wal")


class Warehouse(StoreBase):
    """The DuckDB file (the DuckLake store: warehouse/lake.py)."""

    def __init__(self, path: Path | str | None = None, *, uploads_dir: Path | None = None):
        self.path = Path(path) if path is not None else default_db_path()
        self.root = self.path.parent
        self.uploads_dir = uploads_dir or self.path.parent / "uploads"
        self.version_path = self.path.with_name(self.path.name + ".version")

    @property
    def key(self) -> str:
        """Names the store among the process's caches: the file's path."""
        return str(self.path)

    @property
    def label(self) -> str:
        return str(self.path)

    def exists(self) -> bool:
        """Whether the store has been created (init) already."""
        return self.path.exists()

    def _ddl(self) -> tuple[str, ...]:
        return tables.ddl(tables.KEPT)

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

    def _exclusive(self) -> contextlib.AbstractContextManager[None]:
        return self._gate(exclusive=True)

    def _writer(self) -> duckdb.DuckDBPyConnection:
        return while_locked(lambda: duckdb.connect(str(self.path), read_only=False))

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
        if not self.exists():
            self.init()
        with self._gate(exclusive=False):
            con = READER.open()
            try:
                alias = self._attach(con)
                mark_read(con)  # the gate is held: no write commits while it is open
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
        # DuckDB 1.5's ATTACH takes no parameters: the path (configuration) as a quoted literal.
        while_locked(lambda: con.execute(f"ATTACH {sql_literal(str(self.path))} AS {alias} (READ_ONLY)"))
        con.execute(f"USE {alias}")
        return alias

    def _committed(self) -> None:
        tmp = self.version_path.with_suffix(".tmp")
        tmp.write_text(str(time.time_ns()), encoding="utf-8")
        os.replace(tmp, self.version_path)

    def data_version(self) -> str:
        """Changes after every committed write; cheap to poll (a sidecar file, no DB open)."""
        try:
            return self.version_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return "0"

    # -- whole-store operations ---------------------------------------------------------------

    def replace_all(self, fill: Fill, actor: str, action: str, detail: str) -> None:
        """A file is built beside this one through the audited write path and moved into place, under
        the gate, only when complete: no read sees the swap half done."""
        building = self.path.with_name(self.path.name + ".restoring")
        for leftover in (building, _wal(building)):
            leftover.unlink(missing_ok=True)
        new = Warehouse(building)
        new.init()
        with new.write(actor, action, detail) as con:
            fill(con)
        con = new._writer()  # the WAL folded into the file before it is moved
        try:
            con.execute("CHECKPOINT")
        finally:
            con.close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._gate(exclusive=True):
            os.replace(building, self.path)
            _wal(self.path).unlink(missing_ok=True)
        _wal(building).unlink(missing_ok=True)
        self._committed()

    def remove(self) -> bool:
        for p in (self.path, _wal(self.path), self.version_path):
            p.unlink(missing_ok=True)
        return True
