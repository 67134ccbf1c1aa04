"""The national roll-up: several provinces' exports (warehouse/province_export.py) read as one
warehouse, so the metrics layer's own SQL (metrics.figures_by and the rest) gives the national
figures. No figure is computed here.

An in-memory DuckDB gets a view per table the metrics read, named as the warehouse names it,
over the Parquet files of every export (read_parquet with the Hive partitions). Besides them:
`states`, the warehouse's own view (vocab/states.py) over those views, and `meta`, made here.

Stored cells or computed ones: the stored cells of the provinces add up to the cells one database
holding every province would store when, at every report date, each province that reported by
then has its cells at that date, for the same reporting period (the provinces report on the same
days, as a campaign's weekly dates have them). Then `meta` says the cells are current and the
metrics read them; otherwise they compute the same cells from the states, as they do for a
database whose cells are behind. Both give the figures of the one database (tests/test_rollup.py).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import sqlglot

from pipelines.metrics.flags import CELLS_FORMULA
from pipelines.vocab.states import STATES_VIEW_DDL
from pipelines.warehouse.connection import READ_SETTINGS, sql_literal
from pipelines.warehouse.province_export import TABLES, ExportError, read_schema

# DuckDB's names for the types a schema file records, as Hive partition types.
_HIVE_TYPES = {"province": "VARCHAR", "year": "INTEGER"}

# Whether the provinces' stored cells add up to one database's (see the module's docstring): the
# count of (province, report date) pairs where a province that had reported by that date has no
# stored cells for it, plus the report dates whose provinces' cells are for different periods.
_CELLS_GAPS_SQL = """
WITH sd AS (SELECT DISTINCT province, year, as_of FROM state_dates),
     firsts AS (SELECT province, year, min(as_of) AS first_date FROM sd GROUP BY province, year),
     needed AS (SELECT f.province, d.year, d.as_of
                FROM (SELECT DISTINCT year, as_of FROM sd) d
                JOIN firsts f ON f.year = d.year AND f.first_date <= d.as_of)
SELECT (SELECT count(*) FROM needed n WHERE NOT EXISTS (SELECT 1 FROM report_periods r
            WHERE r.province = n.province AND r.year = n.year AND r.as_of = n.as_of))
     + (SELECT count(*) FROM (SELECT year, as_of FROM report_periods GROUP BY year, as_of
            HAVING count(DISTINCT period_start) > 1) c)
"""


class RollupError(ExportError):
    """Exports that cannot be read together (the message is for the user, in Chinese)."""


_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_TYPES = {"VARCHAR", "INTEGER", "BIGINT", "DOUBLE", "DATE", "BOOLEAN", "TIMESTAMP", "FLOAT", "SMALLINT"}


def _check_tables(d: Path, tables: Any) -> None:
    """The schema file names the tables this code exports, with plain column names and known types
    (they go into the views' SQL text)."""
    ok = isinstance(tables, dict) and set(tables) == {t.name for t in TABLES} and all(
        isinstance(spec, dict)
        and all(_NAME.fullmatch(str(n)) and str(ty).removesuffix("[]") in _TYPES for n, ty in spec["columns"])
        and set(spec["partition_by"]) <= {"province", "year", *(n for n, _ in spec["columns"])}
        for spec in tables.values()
    )
    if not ok:
        raise RollupError(f"{d} 的导出说明文件中的表结构无法识别：请用本版本重新导出")


@dataclass(frozen=True)
class Rollup:
    """One or more export directories, checked to be readable together."""

    dirs: tuple[Path, ...]
    tables: dict[str, dict[str, Any]]  # name → {"columns": [[name, type]], "partition_by": [...]}
    provinces: dict[str, dict[str, Any]]  # province → its entry in the schema file
    where: dict[str, Path]  # province → the directory holding it

    @classmethod
    def of(cls, dirs: list[Path] | tuple[Path, ...]) -> Rollup:
        if not dirs:
            raise RollupError("请至少给出一个导出目录")
        tables: dict[str, dict[str, Any]] | None = None
        provinces: dict[str, dict[str, Any]] = {}
        where: dict[str, Path] = {}
        for d in (Path(x).absolute() for x in dirs):
            if not d.is_dir():
                raise RollupError(f"导出目录不存在：{d}")
            schema = read_schema(d)
            _check_tables(d, schema["tables"])
            if tables is None:
                tables = schema["tables"]
            elif schema["tables"] != tables:
                raise RollupError(f"{d} 的表结构与 {next(iter(where.values()))} 不同（由不同版本导出）：请用同一版本重新导出")
            for p, entry in schema["provinces"].items():
                if p in where:
                    raise RollupError(f"省份 {p} 同时出现在 {where[p]} 和 {d} 中：每个省份只能汇总一次")
                provinces[p], where[p] = entry, d
        assert tables is not None
        return cls(tuple(Path(x).absolute() for x in dirs), tables, provinces, where)

    def files(self, table: str) -> list[str]:
        """The Parquet files of table, every province's."""
        return sorted(str(f) for p, d in sorted(self.where.items())
                      for f in (d / table / f"province={p}").rglob("*.parquet"))

    def columns(self, table: str) -> list[tuple[str, str]]:
        """(name, DuckDB type) of the table's columns, the partition keys last."""
        spec = self.tables[table]
        cols = [(n, t) for n, t in spec["columns"]]
        return cols + [(k, _HIVE_TYPES[k]) for k in spec["partition_by"] if k in _HIVE_TYPES]

    def hive_types(self, table: str) -> dict[str, str]:
        types = dict(self.columns(table))
        return {k: types[k] for k in self.tables[table]["partition_by"]}

    def data_version(self) -> str:
        """Changes when any province's export does."""
        text = "|".join(f"{p}={e.get('data_version')}" for p, e in sorted(self.provinces.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def meta_rows(self, cells_add_up: bool) -> list[tuple[str, str]]:
        """The rows of the roll-up's meta: its cells are current when every province's are (with
        this code's formulas) and they add up (see the module's docstring)."""
        version = self.data_version()
        current = cells_add_up and all(
            e.get("cells_current") and e.get("cells_formula") == CELLS_FORMULA for e in self.provinces.values()
        )
        return [("data_version", version), ("figure_cells_of", version if current else ""),
                ("cells_formula", CELLS_FORMULA)]


def derived_views() -> list[tuple[str, str]]:
    """(name, SELECT in DuckDB's dialect) of the views made over the exported tables: the
    warehouse's `states` view, as the warehouse defines it."""
    states = sqlglot.parse_one(STATES_VIEW_DDL, read="duckdb")
    return [("states", states.expression.sql(dialect="duckdb"))]


def connect(rollup: Rollup) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the roll-up's tables as views, for the metrics functions."""
    con = duckdb.connect(":memory:", config=dict(READ_SETTINGS))
    for table in rollup.tables:
        files = rollup.files(table)
        cols = rollup.columns(table)
        names = ", ".join(n for n, _ in cols)  # names and types checked in Rollup.of (_check_tables)
        if files:
            # A view over the files, read at each query. Not con.sql(…, params=…).create_view(): DuckDB
            # 1.5 runs a relation with bound parameters at once and keeps its rows, so every province's
            # export would be read into memory on opening. A view takes no parameters: the file paths
            # go in as quoted literals (sql_literal: the export directories the user named, whose
            # file names the export wrote), the partition types from the checked schema.
            listed = ", ".join(sql_literal(f) for f in files)
            types = ", ".join(f"{k}: '{t}'" for k, t in rollup.hive_types(table).items())
            source = f"read_parquet([{listed}], hive_partitioning = true, hive_types = {{{types}}})"
            con.execute(f"CREATE VIEW {table} AS SELECT {names} FROM {source}")  # noqa: S608
        else:  # no rows in any province: an empty view of the same columns
            empty = ", ".join(f"NULL::{t} AS {n}" for n, t in cols)
            con.execute(f"CREATE VIEW {table} AS SELECT {empty} WHERE false")
    for name, select in derived_views():
        con.execute(f"CREATE VIEW {name} AS {select}")
    gaps = con.execute(_CELLS_GAPS_SQL).fetchall()[0][0]
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.executemany("INSERT INTO meta VALUES (?, ?)", rollup.meta_rows(gaps == 0))
    return con


def open_rollup(dirs: list[Path] | tuple[Path, ...]) -> duckdb.DuckDBPyConnection:
    """The exports at dirs, together, as a connection the metrics functions read."""
    return connect(Rollup.of(dirs))

