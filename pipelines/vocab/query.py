"""How a query's rows come back as a Polars frame, for every layer (one place, one way)."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import duckdb
import polars as pl

T = TypeVar("T")


def query_frame(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> pl.DataFrame:
    """A query's result as a Polars frame, through execute(). Not con.sql(sql, params=…).pl():
    DuckDB 1.5 materialises a relation with parameters slowly (100,000 rows × 12 columns: 1.3 s
    against 0.06 s through execute on the bench machine), and one without them costs twice as much."""
    return (con.execute(sql, params) if params is not None else con.execute(sql)).pl()


# What a read looked up once, kept for the rest of that read. A read (Warehouse.read: a file read holds
# the gate, so no write commits while it is open; a lake read is one transaction) sees the same data from
# its first statement to its last, so a value it derived once (the stored cells' report periods, asked for
# by every metric call of a page view) need not be asked again. Only connections marked as reads keep
# anything: a writer's connection changes what it reads.
_KEPT: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, dict[Hashable, Any]] = weakref.WeakKeyDictionary()
_KEPT_LOCK = threading.Lock()


def mark_read(con: duckdb.DuckDBPyConnection) -> None:
    """con is a read: what it sees does not change while it is open (see read_once)."""
    with _KEPT_LOCK:
        _KEPT[con] = {}


def read_once(con: duckdb.DuckDBPyConnection, key: Hashable, make: Callable[[], T]) -> T:
    """make(), once per read con and key; on a connection not marked as a read, every time."""
    with _KEPT_LOCK:
        kept = _KEPT.get(con)
        if kept is not None and key in kept:
            return kept[key]  # type: ignore[no-any-return]
    value = make()
    if kept is not None:
        with _KEPT_LOCK:
            kept[key] = value
    return value
