"""The stored figure cells: the figures' counts and sums per report date and cell, kept by the
warehouse in the transaction that changes the snapshots (the write side; metrics reads them).

What a cell holds is defined once, in metrics/flags.py (CELL_DIMS, CELL_SUMS, cells_sql,
CELLS_FORMULA): the cells stored here and the cells metrics computes from the snapshots are the
same SQL, so stored = computed (tests/test_cells.py). The warehouse imports the formulas; the
formulas never import the warehouse.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import duckdb

from pipelines.metrics.dates import Dates, frequencies, snapshot_dates
from pipelines.metrics.flags import (
    CELL_DIMS,
    CELL_SUMS,
    CELLS_FORMULA,
    COARSE_DIMS,
    MONEY_SUMS,
    cells_sql,
    flags_sql,
)
from pipelines.metrics.formulas import period_start
from pipelines.metrics.view import Filters
from pipelines.warehouse.connection import count_rows, first, set_meta


def _cells_ddl(table: str, dims: tuple[str, ...]) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {table} (\n    year INTEGER NOT NULL,\n    as_of DATE NOT NULL,\n    "
        + ",\n    ".join(f"{c} VARCHAR" for c in dims) + ",\n    "
        + ",\n    ".join(f"{n} {'DOUBLE' if n in MONEY_SUMS else 'BIGINT NOT NULL'}" for n, _ in CELL_SUMS)
        + "\n)"
    )


CELLS_DDL: tuple[str, ...] = (
    _cells_ddl("figure_cells", CELL_DIMS),
    _cells_ddl("figure_cells_coarse", COARSE_DIMS),
    """CREATE TABLE IF NOT EXISTS report_periods (
    year INTEGER NOT NULL,
    as_of DATE NOT NULL,              -- a report date (a snapshot's as_of)
    period_start DATE NOT NULL        -- first day of the period ending at as_of its cells were computed for
)""",
)
_CELL_TABLES = ("figure_cells", "figure_cells_coarse", "report_periods")


# Stored cells are as current as the data when figure_cells_of names the data version they were
# last brought up to date at (store.Warehouse.write carries it forward, see keep_cells_current;
# a writer that does not know of the cells leaves it behind, and then the cells are not used
# until rebuilt) and cells_formula is CELLS_FORMULA. A database nothing was ever written to
# (no data_version) has nothing to derive: its (empty) cells are current.
CELLS_CURRENT_SQL = f"""
((SELECT value FROM meta WHERE key = 'data_version')
    IS NOT DISTINCT FROM (SELECT value FROM meta WHERE key = 'figure_cells_of')
 AND ((SELECT value FROM meta WHERE key = 'data_version') IS NULL
      OR (SELECT value FROM meta WHERE key = 'cells_formula') IS NOT DISTINCT FROM '{CELLS_FORMULA}'))"""


def cells_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the stored cells and report periods exist and are up to date with the data."""
    rows = con.execute(
        f"""SELECT (SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()
                      AND schema_name = 'main' AND list_contains($tables, table_name)) = len($tables)
                   AND {CELLS_CURRENT_SQL}""",
        {"tables": list(_CELL_TABLES)},
    ).fetchall()
    return bool(rows and rows[0][0])


def mark_cells_current(con: duckdb.DuckDBPyConnection) -> None:
    """Record that the stored cells hold every report date of the data as it is now, computed
    with the formulas of CELLS_FORMULA."""
    row = first(con.execute("SELECT value FROM meta WHERE key = 'data_version'"))
    set_meta(con, "figure_cells_of", row[0] if row else None)
    set_meta(con, "cells_formula", CELLS_FORMULA)


def keep_cells_current(con: duckdb.DuckDBPyConnection, version: str) -> None:
    """In a write that is about to set data_version to version: cells current before it stay
    current after it (the caller keeps them so: a load refreshes them in its transaction).
    CELLS_CURRENT_SQL is read once, before either mark is written (DELETE then INSERT: see set_meta)."""
    row = first(con.execute(f"SELECT {CELLS_CURRENT_SQL}"))
    if row and row[0]:
        set_meta(con, "figure_cells_of", version)
        set_meta(con, "cells_formula", CELLS_FORMULA)


def refresh_cells(con: duckdb.DuckDBPyConnection, year: int, since: date | None = None, *,
                  touched_only: bool = False, only: list[date] | None = None) -> None:
    """Recompute the stored cells and report periods of year from report date since on (all
    of them when None), from the snapshots as they are now; part of the caller's transaction.

    touched_only: at report dates whose cells are stored for the same period, recompute only the
    cells in cells_touched (note_touched_cells, before and after the states changed): a cell
    holds sums over the projects in it, so a cell no changed state was or is in cannot change.
    The cells recomputed are recomputed whole, from every project in them (no running totals).
    only: recompute (whole) just these report dates of those from since on (and drop the stored
    cells of those that are no report date now)."""
    lo = since or date(year, 1, 1)
    snaps = snapshot_dates(con, year, None)  # the ones this transaction wrote, too
    dates = [d for d in snaps if d >= lo]
    freqs = frequencies(con, year, dates) if dates else {}
    starts = [period_start(d, freqs[d]) for d in dates]
    whole = dates if only is None else sorted(set(only))
    if touched_only and only is None:
        stored = dict(con.execute(
            "SELECT as_of, period_start FROM report_periods WHERE year = $y AND as_of >= $lo", {"y": year, "lo": lo}
        ).fetchall())
        whole = [d for d, st in zip(dates, starts, strict=True) if stored.get(d) != st]
        part = [(d, st) for d, st in zip(dates, starts, strict=True) if stored.get(d) == st]
        if part:
            _refresh_touched(con, year, [d for d, _ in part], [st for _, st in part], snaps)
    for table in _CELL_TABLES:  # table names are the constants above
        con.execute(f"DELETE FROM {table} WHERE year = $y AND list_contains($d, as_of)", {"y": year, "d": whole})
    if not whole:
        return
    whole_dates = [d for d in dates if d in set(whole)]
    whole_starts = [st for d, st in zip(dates, starts, strict=True) if d in set(whole)]
    if not whole_dates:
        return
    whole = whole_dates
    _insert_cells(con, year, whole, whole_starts, snaps, "true")
    dims = ", ".join(COARSE_DIMS)
    con.execute(
        f"""INSERT INTO figure_cells_coarse BY NAME
            SELECT year, as_of, {dims}, {", ".join(f"sum({n}) AS {n}" for n, _ in CELL_SUMS)}
            FROM figure_cells WHERE year = $y AND list_contains($d, as_of)
            GROUP BY year, as_of, {dims}
            ORDER BY as_of, city_code, county_code, tier, industry_name, industry_code""",
        {"y": year, "d": whole},
    )
    con.execute(
        "INSERT INTO report_periods SELECT $y, unnest($dates::DATE[]), unnest($starts::DATE[])",
        {"y": year, "dates": whole, "starts": whole_starts},
    )


def _insert_cells(con: duckdb.DuckDBPyConnection, year: int, dates: list[date], starts: list[date],
                  snaps: list[date], within: str, projects: str | None = None) -> None:
    step = 8  # dates per statement: a rebuild of a national year stays within memory
    for i in range(0, len(dates), step):
        at = Dates.of(year, dates[i:i + step], starts[i:i + step], snaps)
        cells, _ = cells_sql(Filters(), single=at.single, within=within, projects=projects)
        con.execute(
            f"""INSERT INTO figure_cells BY NAME
                SELECT $year AS year, report_date AS as_of, * EXCLUDE (report_date) FROM ({cells})
                ORDER BY as_of, city_code, county_code, tier, industry_name, industry_code, stage, size_band""",
            at.params(),
        )


_TOUCHED_DDL = (
    "CREATE TEMP TABLE IF NOT EXISTS cells_touched (report_date DATE, "
    + ", ".join(f"{c} VARCHAR" for c in CELL_DIMS) + ")"
)


def _match(dims: tuple[str, ...], a: str, b: str) -> str:
    return " AND ".join(f"{a}.{c} IS NOT DISTINCT FROM {b}.{c}" for c in dims)


def _stored_batches(con: duckdb.DuckDBPyConnection, year: int, since: date, step: int = 8) -> Iterator[Dates]:
    """The stored report dates of year from since on, in batches of step (8: a national year's states
    stay within memory; with their periods and the year's snapshot dates), as the cells' SQL reads them;
    nothing when there is none."""
    periods = dict(con.execute(
        "SELECT as_of, period_start FROM report_periods WHERE year = $y AND as_of >= $lo ORDER BY 1",
        {"y": year, "lo": since},
    ).fetchall())
    if not periods:
        return
    snaps = snapshot_dates(con, year, None)
    dates = sorted(periods)
    for i in range(0, len(dates), step):
        yield Dates.of(year, dates[i:i + step], [periods[d] for d in dates[i:i + step]], snaps)


def note_touched_cells(con: duckdb.DuckDBPyConnection, year: int, since: date, projects: str) -> None:
    """Add to cells_touched the cell of each state the projects (a relation of project_id) are in at
    each stored report date from since on: call it before the states change and after."""
    con.execute(_TOUCHED_DDL)
    for at in _stored_batches(con, year, since):
        flags, _ = flags_sql(Filters(), single=at.single, projects=projects)
        con.execute(
            f"INSERT INTO cells_touched SELECT DISTINCT report_date, {', '.join(CELL_DIMS)} FROM ({flags})",
            at.params(),
        )


def _refresh_touched(con: duckdb.DuckDBPyConnection, year: int, dates: list[date], starts: list[date],
                     snaps: list[date]) -> None:
    """Recompute the cells in cells_touched at dates (stored for the same periods)."""
    con.execute(_TOUCHED_DDL)
    d = {"y": year, "d": dates}
    con.execute(
        f"""DELETE FROM figure_cells s WHERE year = $y AND list_contains($d, as_of) AND EXISTS
            (SELECT 1 FROM cells_touched k WHERE k.report_date = s.as_of AND {_match(CELL_DIMS, "k", "s")})""", d)
    # Only projects that ever had a state in the cells' cities can be in them (read for those alone).
    con.execute(
        """CREATE OR REPLACE TEMP TABLE cells_projects AS
           SELECT project_id FROM state_ranges WHERE year = $y AND city_code IN (SELECT city_code FROM cells_touched)
           UNION SELECT project_id FROM reports
           WHERE year = $y AND is_state AND city_code IN (SELECT city_code FROM cells_touched)""", {"y": year})
    _insert_cells(con, year, dates, starts, snaps, f"""EXISTS (SELECT 1 FROM cells_touched k
        WHERE k.report_date = s.report_date AND {_match(CELL_DIMS, "k", "s")})""", "cells_projects")
    con.execute("DROP TABLE cells_projects")
    con.execute(
        f"""DELETE FROM figure_cells_coarse s WHERE year = $y AND list_contains($d, as_of) AND EXISTS
            (SELECT 1 FROM cells_touched k WHERE k.report_date = s.as_of AND {_match(COARSE_DIMS, "k", "s")})""", d)
    dims = ", ".join(COARSE_DIMS)
    con.execute(
        f"""INSERT INTO figure_cells_coarse BY NAME
            SELECT year, as_of, {dims}, {", ".join(f"sum({n}) AS {n}" for n, _ in CELL_SUMS)}
            FROM figure_cells s WHERE year = $y AND list_contains($d, as_of) AND EXISTS
                (SELECT 1 FROM cells_touched k WHERE k.report_date = s.as_of AND {_match(COARSE_DIMS, "k", "s")})
            GROUP BY year, as_of, {dims}
            ORDER BY as_of, city_code, county_code, tier, industry_name, industry_code""", d)
    con.execute("DROP TABLE cells_touched")


def rebuild_cells(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute every stored cell from the snapshots and mark them current. The tables are
    made anew (they hold nothing but derived sums), so cells of an earlier formula with other
    columns get the columns of CELL_SUMS."""
    for table in _CELL_TABLES:  # table names are the constants above
        con.execute(f"DROP TABLE IF EXISTS {table}")
    for ddl in CELLS_DDL:
        con.execute(ddl)
    for (y,) in con.execute("SELECT DISTINCT year FROM state_dates ORDER BY 1").fetchall():
        refresh_cells(con, y)
    mark_cells_current(con)


# ---- corrections by delta (issue 32) ------------------------------------------------------------
# A cell is a sum of per-project contributions (CELL_SUMS: counts and sums, nothing else). A report
# for an earlier date changes only its projects' states, so only their contributions can change, and
# only at the report dates from its date on: the loader subtracts the projects' contributions
# before their reports change (note_delta, sign -1), adds them after their states are derived again
# (sign +1), and adds the difference to the stored cells (apply_delta). Whatever carries a change
# further (a blank that never erases, the stage before a later period, S by the year's list, a
# first report) is in the projects' contributions computed both times from the snapshots by the
# same SQL as the cells. The full recompute (refresh_cells) stays the checker (tests/test_cells_delta.py).

_DELTA_DDL = (
    "CREATE TEMP TABLE IF NOT EXISTS cells_delta (as_of DATE, "
    + ", ".join(f"{c} VARCHAR" for c in CELL_DIMS) + ", "
    + ", ".join(f"{n} {'DOUBLE' if n in MONEY_SUMS else 'BIGINT'}" for n, _ in CELL_SUMS) + ")"
)


def note_delta(con: duckdb.DuckDBPyConnection, year: int, since: date, projects: str, sign: int) -> None:
    """Add sign × the contributions of the projects (a relation of project_id) to the cells at each
    stored report date of year from since on to the temp table cells_delta (part of the write)."""
    con.execute(_DELTA_DDL)
    sums = ", ".join(f"{int(sign)} * {n} AS {n}" for n, _ in CELL_SUMS)
    # Their ranges and first reports of the year copied first (a few hundred rows per project): the
    # states of every batch are read from the copy, not by a join of the dates to the stored tables.
    p_in = f"project_id IN (SELECT project_id FROM {projects})"
    con.execute(f"CREATE OR REPLACE TEMP TABLE nd_ranges AS SELECT * FROM state_ranges WHERE year = $y AND {p_in}",
                {"y": year})
    con.execute(f"CREATE OR REPLACE TEMP TABLE nd_firsts AS SELECT * FROM reports WHERE year = $y AND is_state "
                f"AND {p_in}", {"y": year})
    sql, _ = cells_sql(Filters(), single=False, projects=projects, copies=("nd_ranges", "nd_firsts"))
    # as many dates per statement as keep the project-dates of a batch to a national batch's (each
    # statement costs ~0.1 s to plan: a county's correction of week 13 reads its 39 dates in one)
    step = max(8, 8 * 200_000 // max(count_rows(con, projects), 1))
    for at in _stored_batches(con, year, since, step):
        con.execute(
            f"INSERT INTO cells_delta SELECT report_date AS as_of, {', '.join(CELL_DIMS)}, {sums} FROM ({sql})",
            {"year": at.year, "dates": at.dates, "period_starts": at.period_starts, "snaps": at.snaps,
             "prev_snaps": at.prev_snaps},  # the many-dates form's parameters, for one date too
        )
    con.execute("DROP TABLE nd_ranges")
    con.execute("DROP TABLE nd_firsts")


def _apply(con: duckdb.DuckDBPyConnection, table: str, dims: tuple[str, ...], year: int) -> None:
    """Add cells_delta_sum (summed over the dims) to table's cells of year: a cell the delta empties
    (no project left) is gone, a cell it fills is new."""
    keys = ", ".join(dims)
    adds = ", ".join(f"sum({n}) AS {n}" for n, _ in CELL_SUMS)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE cells_delta_at AS
            SELECT as_of, {keys}, {adds} FROM cells_delta_sum GROUP BY ALL""")
    # a join, not EXISTS: DuckDB 1.5 runs the EXISTS over IS NOT DISTINCT FROM as a delim semi join,
    # ~30x slower (a 300-project correction at 30,000 projects: 3.6 s against 0.11 s)
    on = f"k.as_of = s.as_of AND {_match(dims, 'k', 's')}"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE cells_delta_new AS
            SELECT as_of, {keys}, {adds} FROM (
                SELECT s.as_of, {", ".join(f"s.{c}" for c in dims)}, {", ".join(f"s.{n}" for n, _ in CELL_SUMS)}
                FROM {table} s JOIN cells_delta_at k ON {on} WHERE s.year = $y
                UNION ALL SELECT * FROM cells_delta_at)
            GROUP BY ALL HAVING sum(projects) <> 0""", {"y": year})
    con.execute(f"DELETE FROM {table} s USING cells_delta_at k WHERE s.year = $y AND {on}", {"y": year})
    con.execute(f"INSERT INTO {table} BY NAME SELECT $y AS year, * FROM cells_delta_new ORDER BY ALL", {"y": year})


def apply_delta(con: duckdb.DuckDBPyConnection, year: int, dates: list[date]) -> None:
    """Add cells_delta at the given report dates (stored for the same periods as now) to the stored
    cells of year, fine and coarse, in the caller's transaction; then drop cells_delta."""
    con.execute(_DELTA_DDL)
    nonzero = " OR ".join(f"sum({n}) <> 0" for n, _ in CELL_SUMS)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE cells_delta_sum AS
            SELECT as_of, {", ".join(CELL_DIMS)}, {", ".join(f"sum({n}) AS {n}" for n, _ in CELL_SUMS)}
            FROM cells_delta WHERE list_contains($d, as_of) GROUP BY ALL HAVING {nonzero}""", {"d": dates})
    row = first(con.execute("SELECT count(*) FROM cells_delta_sum"))
    if row and row[0]:
        _apply(con, "figure_cells", CELL_DIMS, year)
        _apply(con, "figure_cells_coarse", COARSE_DIMS, year)
    for t in ("cells_delta", "cells_delta_sum", "cells_delta_at", "cells_delta_new"):
        con.execute(f"DROP TABLE IF EXISTS {t}")


def refresh_cells_delta(con: duckdb.DuckDBPyConnection, year: int, since: date, projects: str) -> None:
    """After the projects' states changed from since on (their old contributions already in cells_delta,
    note_delta with sign -1 before the change): add their new contributions and apply the difference
    at the stored report dates whose period is the same; recompute whole the dates new or with another
    period (a new report date's cells hold every project)."""
    snaps = snapshot_dates(con, year, None)
    dates = [d for d in snaps if d >= since]
    freqs = frequencies(con, year, dates) if dates else {}
    starts = {d: period_start(d, freqs[d]) for d in dates}
    stored = dict(con.execute(
        "SELECT as_of, period_start FROM report_periods WHERE year = $y AND as_of >= $lo", {"y": year, "lo": since}
    ).fetchall())
    same = [d for d in dates if stored.get(d) == starts[d]]
    # a stored date no longer a report date (cannot happen by a load; kept whole to be safe)
    gone = [d for d in stored if d not in starts]
    note_delta(con, year, since, projects, +1)
    apply_delta(con, year, same)
    whole = sorted({*(d for d in dates if d not in same), *gone})
    if whole:
        refresh_cells(con, year, since, only=whole)
