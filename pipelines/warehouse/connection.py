"""Opening the warehouse file: the process's reader instance, waiting out another process's lock,
and where the file is.

Concurrency: DuckDB lets one process write a file, and no other process open it meanwhile.
So nobody holds the file open: every read and every write opens a short-lived connection,
retrying while another process has it (the dashboard reads while the CLI ingests).
"""

from __future__ import annotations

import itertools
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

import duckdb

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
DEFAULT_DB = DATA_DIR / "kaigong.duckdb"
LOCK_WAIT_SECONDS = 60.0


def first(cursor: duckdb.DuckDBPyConnection) -> tuple | None:
    """The first row of a result, reading it to the end (DuckDB 2 results stream until drained)."""
    rows = cursor.fetchall()
    return rows[0] if rows else None


def count_rows(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    """How many rows the relation named has (a table or temp table the caller names, never a user's text)."""
    row = first(con.execute(f"SELECT count(*) FROM {relation}"))  # noqa: S608 (the caller's relation name)
    return int(row[0]) if row else 0


# DuckDB settings of the read-only instances (the reader, the roll-up). DuckDB 1.5's join filter
# pushdown turns a hash join's key range into an "optional" filter on the probe side's scan: joining
# the states to `projects` (for the tier) then compared all 9.5 M national reports' project_id strings
# against a range that holds them all, and the overdue list took 375-414 ms against 108-131 ms without
# it (bench/.cache/national.duckdb, 2026-12-04). The writer keeps it: a correction's few projects make
# a narrow range that spares most of the scans (a 300-project correction nationally: 42 s with it,
# 66 s without), and so does the lake's instance, which also writes.
READ_SETTINGS: dict[str, str] = {"disabled_optimizers": "join_filter_pushdown"}
# What DuckDB may hold in memory for the reads (KAIGONG_READ_MEMORY, DuckDB's own units; default 1GB;
# empty: DuckDB's default, 80 % of the machine). Above it a read's joins spill to temporary files
# (KAIGONG_READ_SPILL_DIR, default the system's temporary directory) instead of growing the server: the
# national 亮灯清单's history (47,000 lit projects × 51 report dates) held ~4 GiB without a bound, ~0.6 GiB
# with one of 600MB at twice the time (bench/.cache/national.duckdb, 2026-12-07).
_READ_MEMORY = os.environ.get("KAIGONG_READ_MEMORY", "1GB").strip()
if _READ_MEMORY:
    READ_SETTINGS["memory_limit"] = _READ_MEMORY
    READ_SETTINGS["temp_directory"] = str(
        Path(os.environ.get("KAIGONG_READ_SPILL_DIR") or tempfile.gettempdir()) / "kaigong-duckdb-spill")
READER_RECYCLE_BYTES = 128 * 2**20
T = TypeVar("T")


def _rss() -> int:
    """The process's resident memory in bytes (0 where /proc is not there)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class ProcessLocal(Generic[T]):
    """One resource per process (a DuckDB instance, a PostgreSQL session): made by make on first use,
    and again in a forked child (neither survives a fork) or after drop(). lock (re-entrant) is held
    while it is made or dropped; a caller holds it too around steps that must see one resource."""

    def __init__(self, make: Callable[[], T], close: Callable[[T], None]) -> None:
        self.lock = threading.RLock()
        self._make, self._close = make, close
        self._value: T | None = None
        self._pid = 0

    def get(self) -> T:
        with self.lock:
            if self._value is None or self._pid != os.getpid():
                self._value = self._make()
                self._pid = os.getpid()
            return self._value

    def current(self) -> T | None:
        """The resource if this process has made one (without making it)."""
        with self.lock:
            return self._value if self._pid == os.getpid() else None

    def drop(self) -> None:
        """Close the resource (if this process made it) and forget it: the next get() makes another."""
        with self.lock:
            if self._value is not None and self._pid == os.getpid():
                self._close(self._value)
            self._value = None


class _Reader:
    """The process's in-memory DuckDB instance that reads attach the database file to.

    Starting an instance (its built-in catalog) costs ~30 ms and an ATTACH ~3 ms, so reads share
    one instance instead of opening their own; the instance holds no file between reads. It
    keeps memory a large read used (allocator arenas of its threads, ~100-300 MB after reading a
    national ledger), which an instance of its own would have returned on closing: so when the
    last read in flight ends and the process has grown more than READER_RECYCLE_BYTES since the
    instance started, the instance is closed and the next read starts a new one.
    """

    def __init__(self) -> None:
        self._instance: ProcessLocal[duckdb.DuckDBPyConnection] = ProcessLocal(self._start, lambda con: con.close())
        self._users = 0
        self._base = 0

    def _start(self) -> duckdb.DuckDBPyConnection:
        self._users, self._base = 0, _rss()
        try:
            return duckdb.connect(":memory:", config=dict(READ_SETTINGS))
        except duckdb.Error as exc:
            raise ValueError(f"设置 KAIGONG_READ_MEMORY={_READ_MEMORY!r} 无效（应为如 1GB、512MB 的内存大小，"
                             f"或留空使用 DuckDB 默认值）：{exc}") from exc

    def open(self) -> duckdb.DuckDBPyConnection:
        """A cursor of the instance for one read; release() when the read is over."""
        with self._instance.lock:
            con = self._instance.get()
            self._users += 1
            return con.cursor()

    def release(self) -> None:
        with self._instance.lock:
            self._users -= 1
            if self._users or self._instance.current() is None:
                return
            if _rss() - self._base > READER_RECYCLE_BYTES:
                self._instance.drop()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """Another cursor of the instance, within a read (to detach, or to look at it)."""
        con = self._instance.current()
        assert con is not None
        return con.cursor()


READER = _Reader()
_ALIASES = itertools.count(1)


def sql_literal(text: str) -> str:
    """Configuration (a file's path, an extension's path, a lake's DSN and data path) as an SQL string
    literal, for the statements that take no bound parameters (DuckDB 1.5's ATTACH and LOAD); never
    user text or an uploaded file's. Quotes are doubled, and a NUL (which no path holds) is refused."""
    if "\0" in text:
        raise ValueError("数据库路径或配置含有空字符（NUL），无法打开")
    return "'" + text.replace("'", "''") + "'"


def new_alias() -> str:
    """A name not used before in this process, to ATTACH the file under."""
    return f"kaigong_{next(_ALIASES)}"



class StoreTooNew(RuntimeError):
    """The database file was written by a newer DuckDB than the project's (message in Chinese)."""


def too_new(exc: duckdb.Error) -> StoreTooNew | None:
    """exc as StoreTooNew when it says the file's storage version is newer than this DuckDB reads
    (a data/kaigong.duckdb from a Kaigong on DuckDB 2.0), else None."""
    text = str(exc)
    if "version number" not in text or "newer version" not in text:
        return None
    return StoreTooNew(
        f"数据库文件由更新版本的 DuckDB 写入，本版本（DuckDB {duckdb.__version__}）无法打开，文件未作任何改动。"
        "迁移办法：用写入它的开工版本运行 `kaigong backup --out 备份目录`，"
        "再用本版本运行 `kaigong restore 备份目录`（备份为 Parquet，与 DuckDB 版本无关）。")


def while_locked(open_: Callable[[], T]) -> T:
    """open_() (a connect or an ATTACH), tried again while another process holds the file, for up
    to LOCK_WAIT_SECONDS; any other error, or the wait running out, is raised."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    delay = 0.02
    while True:
        try:
            return open_()
        except duckdb.IOException as exc:  # another process holds the file: wait our turn
            if (newer := too_new(exc)) is not None:
                raise newer from exc
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str | None) -> None:
    """meta[key] = value inside the caller's write: DELETE then INSERT, which both stores take (DuckLake
    has no INSERT OR REPLACE); the write is exclusive, so no other writer sees the key missing."""
    con.execute("DELETE FROM meta WHERE key = ?", [key])
    con.execute("INSERT INTO meta VALUES (?, ?)", [key, value])


def default_db_path() -> Path:
    return Path(os.environ.get("KAIGONG_DB") or DEFAULT_DB)
