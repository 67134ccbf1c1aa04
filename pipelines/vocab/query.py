"""How a query's rows come back as a Polars frame, for every layer (one place, one way)."""

from __future__ import annotations

import duckdb
import polars as pl


def query_frame(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> pl.DataFrame:
    """A query's result as a Polars frame, through execute(). Not con.sql(sql, params=…).pl():
    DuckDB 1.5 materialises a relation with parameters slowly (100,000 rows × 12 columns: 1.3 s
    against 0.06 s through execute on the bench machine), and one without them costs twice as much."""
    return (con.execute(sql, params) if params is not None else con.execute(sql)).pl()
