"""The DuckLake store: the same Warehouse API over a DuckLake (its catalog in PostgreSQL, its data as
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

from pipelines.warehouse.connection import LOCK_WAIT_SECONDS, first
from pipelines.warehouse.store import Warehouse

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


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class _LakeInstance:
    """One in-memory DuckDB instance per process and lake, with the lake attached once."""

    def __init__(self, cfg: LakeConfig) -> None:
        self.cfg = cfg
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._pid = 0

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of the instance with the lake as its default database (the caller closes it)."""
        with self._lock:
            if self._con is None or self._pid != os.getpid():  # an instance does not survive a fork
                self._con = self._attach()
                self._pid = os.getpid()
            cur = self._con.cursor()
        cur.execute(f"USE {ALIAS}")
        return cur

    def _attach(self) -> duckdb.DuckDBPyConnection:
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
                con.execute(f"LOAD {_quote(_extension(module, name))}")
            self.cfg.data.mkdir(parents=True, exist_ok=True)
            con.execute(f"ATTACH {_quote('ducklake:postgres:' + self.cfg.dsn)} AS {ALIAS} "
                        f"(DATA_PATH {_quote(str(self.cfg.data))})")
        except duckdb.Error as exc:
            con.close()
            raise LakeUnavailable(f"无法打开湖仓（目录库 {self.cfg.label}，数据目录 {self.cfg.data}）：{exc}") from exc
        return con

    def close(self) -> None:
        with self._lock:
            if self._con is not None and self._pid == os.getpid():
                self._con.close()
            self._con = None


class _Catalog:
    """A PostgreSQL session of the process on the catalog, kept open for data_version (polled per rerun)."""

    def __init__(self, cfg: LakeConfig) -> None:
        self.cfg = cfg
        self._lock = threading.Lock()
        self._pg: psycopg.Connection | None = None
        self._pid = 0

    def newest_snapshot(self) -> str:
        with self._lock:
            for attempt in (1, 2):  # a session the server dropped is opened again, once
                try:
                    if self._pg is None or self._pid != os.getpid() or self._pg.closed:
                        self._pg = psycopg.connect(self.cfg.dsn, autocommit=True)
                        self._pid = os.getpid()
                    row = self._pg.execute("SELECT max(snapshot_id) FROM ducklake_snapshot").fetchone()
                    return str(row[0]) if row and row[0] is not None else "0"
                except psycopg.errors.UndefinedTable:
                    return "0"  # a catalog no one has attached yet: nothing written
                except psycopg.OperationalError as exc:
                    self._pg = None
                    if attempt == 2:
                        raise LakeUnavailable(f"无法连接湖仓目录库 {self.cfg.label}：{exc}") from exc
            return "0"


    def close(self) -> None:
        with self._lock:
            if self._pg is not None and self._pid == os.getpid():
                self._pg.close()
            self._pg = None


_INSTANCES: dict[LakeConfig, _LakeInstance] = {}
_CATALOGS: dict[LakeConfig, _Catalog] = {}
_REGISTRY_LOCK = threading.Lock()


def _instance(cfg: LakeConfig) -> _LakeInstance:
    with _REGISTRY_LOCK:
        return _INSTANCES.setdefault(cfg, _LakeInstance(cfg))


def _catalog(cfg: LakeConfig) -> _Catalog:
    with _REGISTRY_LOCK:
        return _CATALOGS.setdefault(cfg, _Catalog(cfg))


def close(cfg: LakeConfig) -> None:
    """Close the process's instance and catalog session of the lake (tests; a server keeps them)."""
    with _REGISTRY_LOCK:
        inst = _INSTANCES.pop(cfg, None)
        cat = _CATALOGS.pop(cfg, None)
    if inst is not None:
        inst.close()
    if cat is not None:
        cat.close()


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


class LakeWarehouse(Warehouse):
    """The warehouse on a DuckLake: Warehouse's API and write path, the lake's connections and lock."""

    def __init__(self, cfg: LakeConfig, *, uploads_dir: Path | None = None):
        self.cfg = cfg
        # Not a file: the store's name under the shared data path, beside which the raw uploads are kept
        # (_keep_raw stores their paths relative to the data path, the same on every server).
        self.path = cfg.data / "kaigong.lake"
        self.uploads_dir = uploads_dir or cfg.data / "uploads"
        self.version_path = cfg.data / "kaigong.lake.version"  # unused: data_version is the catalog's
        self.lock_wait = LOCK_WAIT_SECONDS
        self._created = False

    @property
    def key(self) -> str:
        return self.cfg.key

    @property
    def label(self) -> str:
        return f"湖仓（目录库 {self.cfg.label}，数据目录 {self.cfg.data}）"

    @property
    def is_file(self) -> bool:
        return False

    def exists(self) -> bool:
        if not self._created:
            con = _instance(self.cfg).cursor()
            try:
                row = first(con.execute(
                    "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                    "AND table_name = 'submissions'"))
            finally:
                con.close()
            self._created = bool(row and row[0])
        return self._created

    def _schema_ddl(self) -> tuple[str, ...]:
        return lake_ddl(super()._schema_ddl())

    @contextlib.contextmanager
    def _gate(self, exclusive: bool) -> Iterator[None]:
        """Writers: the catalog's advisory lock. Readers: nothing (a DuckLake transaction is a snapshot)."""
        if exclusive:
            with writer_lock(self.cfg, self.lock_wait):
                yield
        else:
            yield

    def _connect(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        return _instance(self.cfg).cursor()

    @contextlib.contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read: one transaction of the lake, so every statement of it sees the same snapshot."""
        if not self.exists():
            self.init()
        con = _instance(self.cfg).cursor()
        try:
            con.execute("BEGIN TRANSACTION")
            yield con
        finally:
            con.close()  # ends the read's transaction (nothing of it is written)

    def _bump_version(self) -> None:
        pass  # the commit made a snapshot: that is the version

    def data_version(self) -> str:
        """The catalog's newest snapshot id (one query on a kept session; a write makes one, a read none)."""
        return _catalog(self.cfg).newest_snapshot()
