"""The DuckLake store: the Store protocol over a DuckLake (its catalog in PostgreSQL, its data as
Parquet under a shared data path), so several app servers can serve one province's data.

Chosen by KAIGONG_STORE=lake with KAIGONG_LAKE_CATALOG (a libpq DSN of the PostgreSQL catalog) and
KAIGONG_LAKE_DATA (the shared data directory: the lake's Parquet files and the raw uploads).

- Reads take no lock: each read is one DuckLake transaction, so all its statements see one snapshot
  and a write in progress is never half seen. The process attaches the lake once (an ATTACH asks
  PostgreSQL for the catalog, ~0.3 s) and every read or write is a cursor of that instance.
- Writes are serialised across every server by a PostgreSQL advisory lock held by a session of its own
  for the write's duration (two DuckLake writers rewriting one table otherwise fail with 「Transaction
  conflict」). The wait is bounded (LOCK_WAIT_SECONDS, as the file's gate) and says which catalog.
- data_version is the catalog's newest snapshot id: every committed write makes one, a read none.
- DuckLake has no PRIMARY KEY, UNIQUE or sequences: the tables are created without those constraints
  (lake_ddl) and the writers keep the keys themselves, as in the file (max + 1 ids, DELETE then INSERT).
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

try:  # the scale-out extras (make scale); a dashboard set up by make run alone has none of them
    import psycopg
    from psycopg import conninfo
except ImportError:
    psycopg = None  # type: ignore[assignment]

from pipelines.vocab.query import mark_read
from pipelines.warehouse import tables
from pipelines.warehouse.base import Fill, StoreBase
from pipelines.warehouse.connection import LOCK_WAIT_SECONDS, ProcessLocal, first, sql_literal

CATALOG_ENV = "KAIGONG_LAKE_CATALOG"
DATA_ENV = "KAIGONG_LAKE_DATA"
ALIAS = "kaigong_lake"  # the lake's name in the process's DuckDB instance
# The advisory lock every writer of a lake takes (one catalog database holds one lake): a constant.
WRITER_LOCK_KEY = 0x6B61_6967_6F6E_6701  # "kaigong" 01
CONNECT_TIMEOUT_SECONDS = 10


class LakeUnavailable(RuntimeError):
    """The lake's catalog cannot be reached, or a writer's lock was not had in time (message in Chinese)."""


MISSING_EXTRAS = (
    "湖仓模式（KAIGONG_STORE=lake）所需的组件未安装（{missing}）：请在项目目录运行 make scale"
    "（或 .venv/bin/pip install --no-deps --require-hashes -r requirements/scale.lock）")


def check_extras() -> None:
    """The lake's Python parts are installed, or LakeUnavailable saying what to install (no import is tried
    beyond finding the modules: this answers at once)."""
    import importlib.util

    missing = [dist for module, dist in (("psycopg", "psycopg"),
                                         ("duckdb_extension_ducklake", "duckdb-extension-ducklake"),
                                         ("duckdb_extension_postgres_scanner", "duckdb-extension-postgres-scanner"))
               if (psycopg is None if module == "psycopg" else importlib.util.find_spec(module) is None)]
    if missing:
        raise LakeUnavailable(MISSING_EXTRAS.format(missing="、".join(missing)))


@dataclass(frozen=True)
class LakeConfig:
    catalog: str  # libpq DSN of the PostgreSQL catalog database
    data: Path  # the shared data directory

    @classmethod
    def from_env(cls) -> LakeConfig:
        check_extras()
        catalog = (os.environ.get(CATALOG_ENV) or "").strip()
        data = (os.environ.get(DATA_ENV) or "").strip()
        if not catalog or not data:
            raise LakeUnavailable(
                f"湖仓模式（KAIGONG_STORE=lake）需要设置 {CATALOG_ENV}（PostgreSQL 目录库的连接串，"
                f"如 host=127.0.0.1 port=5432 dbname=kaigong user=kaigong）和 {DATA_ENV}（共享数据目录）")
        return cls(catalog, Path(data).resolve())

    @property
    def dsn(self) -> str:
        """The catalog's DSN with a connect timeout (a catalog that does not answer is not waited on forever)."""
        params = conninfo.conninfo_to_dict(self.catalog)
        params.setdefault("connect_timeout", str(CONNECT_TIMEOUT_SECONDS))
        return conninfo.make_conninfo(**{k: str(v) for k, v in params.items() if v is not None})

    @property
    def label(self) -> str:
        """The catalog as users may be shown it: host, port, database and user, never a password."""
        p = conninfo.conninfo_to_dict(self.catalog)
        where = f"{p.get('host', 'localhost')}:{p.get('port', 5432)}/{p.get('dbname', '')}"
        return f"{p['user']}@{where}" if p.get("user") else where

    @property
    def key(self) -> str:
        return f"lake:{self.label}|{self.data}"


# -- DDL -------------------------------------------------------------------------------------------

_TABLE_KEY = re.compile(r",\s*PRIMARY KEY\s*\([^)]*\)")
_COLUMN_KEY = re.compile(r"\bPRIMARY KEY\b(?=\s*[,\n-])")
_UNIQUE = re.compile(r"\s+UNIQUE\b(?=\s*[,\n-])")


def lake_ddl(statements: tuple[str, ...]) -> tuple[str, ...]:
    """The statements as DuckLake takes them: no sequences, no PRIMARY KEY or UNIQUE (a key column
    stays NOT NULL); the writers keep those keys (see the module's doc)."""
    out = []
    for ddl in statements:
        if ddl.lstrip().upper().startswith("CREATE SEQUENCE"):
            continue
        ddl = _TABLE_KEY.sub("", ddl)
        ddl = _COLUMN_KEY.sub("NOT NULL", ddl)
        ddl = _UNIQUE.sub("", ddl)
        out.append(ddl)
    return tuple(out)


# -- the process's lake instance ---------------------------------------------------------------------

def _extension(module: str, name: str) -> str:
    """The extension file of a PyPI wheel (duckdb_extension_*), loaded by path: the machine cannot
    download extensions at run time."""
    import importlib

    pkg = importlib.import_module(module)
    path = Path(pkg.__file__ or "").parent / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise LakeUnavailable(f"未找到 DuckDB {duckdb.__version__} 的 {name} 扩展（{path}）：请在项目目录运行 make scale")
    return str(path)


def _attach(cfg: LakeConfig) -> duckdb.DuckDBPyConnection:
    """The process's in-memory DuckDB instance with the lake attached (an ATTACH asks PostgreSQL for the
    catalog, ~0.3 s: made once per process and lake, every read and write a cursor of it)."""
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        # DuckLake 1.5.5 keeps wrong column statistics after an UPDATE (reports.state_to read as
        # all NULL): with statistics propagation `coalesce(state_to, …) > d` held for every row
        # and the states at a date came out ~4× too many. Off for the lake's instance.
        con.execute("SET GLOBAL disabled_optimizers = 'statistics_propagation'")
        # LOAD and ATTACH take no parameters in DuckDB 1.5: the extension paths (the installed wheels),
        # the catalog DSN and the data path (the deployment's configuration) are quoted literals,
        # never user text.
        for module, name in (("duckdb_extension_postgres_scanner", "postgres_scanner"),
                             ("duckdb_extension_ducklake", "ducklake")):
            con.execute(f"LOAD {sql_literal(_extension(module, name))}")
        cfg.data.mkdir(parents=True, exist_ok=True)
        con.execute(f"ATTACH {sql_literal('ducklake:postgres:' + cfg.dsn)} AS {ALIAS} "
                    f"(DATA_PATH {sql_literal(str(cfg.data))})")
    except duckdb.Error as exc:
        con.close()
        raise LakeUnavailable(f"无法打开湖仓（目录库 {cfg.label}，数据目录 {cfg.data}）：{exc}") from exc
    return con


class _Lake:
    """The process's hold on one lake: its DuckDB instance (the lake attached once) and a PostgreSQL
    session on the catalog, kept open for data_version (polled per rerun)."""

    def __init__(self, cfg: LakeConfig) -> None:
        self.cfg = cfg
        self.instance: ProcessLocal[duckdb.DuckDBPyConnection] = ProcessLocal(lambda: _attach(cfg), _close)
        self.session: ProcessLocal[psycopg.Connection] = ProcessLocal(
            lambda: psycopg.connect(cfg.dsn, autocommit=True), _close)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of the instance with the lake as its default database (the caller closes it)."""
        cur = self.instance.get().cursor()
        cur.execute(f"USE {ALIAS}")
        return cur

    def newest_snapshot(self) -> str:
        with self.session.lock:
            for attempt in (1, 2):  # a session the server dropped is opened again, once
                try:
                    pg = self.session.get()
                    if pg.closed:
                        self.session.drop()
                        pg = self.session.get()
                    row = pg.execute("SELECT max(snapshot_id) FROM ducklake_snapshot").fetchone()
                    return str(row[0]) if row and row[0] is not None else "0"
                except psycopg.errors.UndefinedTable:
                    return "0"  # a catalog no one has attached yet: nothing written
                except psycopg.OperationalError as exc:
                    self.session.drop()
                    if attempt == 2:
                        raise LakeUnavailable(f"无法连接湖仓目录库 {self.cfg.label}：{exc}") from exc
            return "0"

    def close(self) -> None:
        self.instance.drop()
        self.session.drop()


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> int:
    row = first(con.execute(sql, params))
    return int(row[0]) if row else 0


def _close(resource: duckdb.DuckDBPyConnection | psycopg.Connection) -> None:
    resource.close()


_LAKES: dict[LakeConfig, _Lake] = {}
_LAKES_LOCK = threading.Lock()


def _lake(cfg: LakeConfig) -> _Lake:
    with _LAKES_LOCK:
        return _LAKES.setdefault(cfg, _Lake(cfg))


def close(cfg: LakeConfig) -> None:
    """Close the process's instance and catalog session of the lake (tests; a server keeps them)."""
    with _LAKES_LOCK:
        held = _LAKES.pop(cfg, None)
    if held is not None:
        held.close()


@contextlib.contextmanager
def writer_lock(cfg: LakeConfig, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """The lake's writer lock: a PostgreSQL advisory lock on a session of its own, waited for up to
    wait seconds (lock_timeout), released when the session ends (also when the process dies)."""
    try:
        pg = psycopg.connect(cfg.dsn, autocommit=True)
    except psycopg.OperationalError as exc:
        raise LakeUnavailable(f"无法连接湖仓目录库 {cfg.label}：{exc}") from exc
    try:
        pg.execute("SELECT set_config('lock_timeout', %s, false)", [f"{max(1, int(wait * 1000))}ms"])
        try:
            pg.execute("SELECT pg_advisory_lock(%s)", [WRITER_LOCK_KEY])
        except psycopg.errors.LockNotAvailable:
            raise LakeUnavailable(
                f"湖仓（目录库 {cfg.label}）正被另一个写入占用，等待 {wait:g} 秒后仍未轮到：本次未写入任何数据，请稍后重试"
            ) from None
        yield
    finally:
        pg.close()


class LakeWarehouse(StoreBase):
    """The warehouse on a DuckLake: the shared write path (base.StoreBase), the lake's connections and lock."""

    def __init__(self, cfg: LakeConfig, *, uploads_dir: Path | None = None):
        self.cfg = cfg
        # The raw uploads are kept under the shared data path, and their paths stored relative to it
        # (the same on every server).
        self.root = cfg.data
        self.uploads_dir = uploads_dir or cfg.data / "uploads"
        self.lock_wait = LOCK_WAIT_SECONDS
        self._created = False

    @property
    def key(self) -> str:
        return self.cfg.key

    @property
    def label(self) -> str:
        return f"湖仓（目录库 {self.cfg.label}，数据目录 {self.cfg.data}）"

    def exists(self) -> bool:
        if not self._created:
            con = _lake(self.cfg).cursor()
            try:
                row = first(con.execute(
                    "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                    "AND table_name = 'submissions'"))
            finally:
                con.close()
            self._created = bool(row and row[0])
        return self._created

    def _ddl(self) -> tuple[str, ...]:
        return lake_ddl(tables.ddl(tables.KEPT))

    def _exclusive(self) -> contextlib.AbstractContextManager[None]:
        """The catalog's advisory lock (readers take none: a DuckLake transaction is a snapshot)."""
        return writer_lock(self.cfg, self.lock_wait)

    def _writer(self) -> duckdb.DuckDBPyConnection:
        return _lake(self.cfg).cursor()

    @contextlib.contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read: one transaction of the lake, so every statement of it sees the same snapshot."""
        if not self.exists():
            self.init()
        con = _lake(self.cfg).cursor()
        try:
            con.execute("BEGIN TRANSACTION")
            mark_read(con)  # one transaction: one snapshot
            yield con
        finally:
            con.close()  # ends the read's transaction (nothing of it is written)

    def _committed(self) -> None:
        pass  # the commit made a snapshot: that is the version

    def data_version(self) -> str:
        """The catalog's newest snapshot id (one query on a kept session; a write makes one, a read none)."""
        return _lake(self.cfg).newest_snapshot()

    def replace_all(self, fill: Fill, actor: str, action: str, detail: str) -> None:
        """A lake (shared by other servers, never swapped) has its kept tables emptied and filled in one
        audited write: its readers see the data before or after, never between."""
        self.init()
        with self.write(actor, action, detail) as con:
            for name in tables.names(tables.KEPT):
                con.execute(f"DELETE FROM {name}")  # noqa: S608 (the registry's names)
            fill(con)

    def remove(self) -> bool:
        return False  # shared by other servers: never deleted here

    def maintain(self, actor: str, keep: datetime.timedelta) -> dict[str, int]:
        """DuckLake's own upkeep, for a nightly cron (`kaigong maintain`), under the writer lock: the rows
        small writes left inlined in the catalog written out to Parquet, small Parquet files of the same
        table merged (every load writes a few), snapshots older than keep expired
        (the figures never time-travel: versions of a report are rows, `report_versions`), and the files
        those snapshots alone held deleted. How many files were merged, snapshots expired, files deleted."""
        keep_s = {"s": keep.total_seconds()}  # older than now() less this (the catalog clock)
        with writer_lock(self.cfg, self.lock_wait):
            con = _lake(self.cfg).cursor()
            try:
                # Counted in SQL: their rows carry TIMESTAMPTZ values, which Python would need pytz for.
                flushed = _count(con, "SELECT count(*) FROM ducklake_flush_inlined_data($lake)", {"lake": ALIAS})
                merged = _count(con, "SELECT count(*) FROM ducklake_merge_adjacent_files($lake)", {"lake": ALIAS})
                expired = _count(con, "SELECT count(*) FROM ducklake_expire_snapshots($lake, "
                                      "older_than => now() - to_seconds($s))", {"lake": ALIAS, **keep_s})
                deleted = _count(con, "SELECT count(*) FROM ducklake_cleanup_old_files($lake, "
                                      "older_than => now() - to_seconds($s))", {"lake": ALIAS, **keep_s})
            finally:
                con.close()
        with self.write(actor, "maintain", f"湖仓维护：写出内联数据 {flushed} 表，合并文件 {merged}，"
                                            f"过期快照 {expired}，删除文件 {deleted}"):
            pass
        return {"flushed_tables": flushed, "merged_files": merged, "expired_snapshots": expired,
                "deleted_files": deleted}
