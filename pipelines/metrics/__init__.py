"""Every figure of the metric contract (shared metrics.md), computed once, here.

Pages, the CLI and the briefing exports all call these functions. Money is in 万元; rates
are fractions; schedule_gap is in percentage points.

The project set S as of report date D in year Y is every project with a report (of any
layout) dated on or before D within Y; each project's state is its latest report on or
before D, field by field where a layout does not carry a field (see store.refresh_snapshots).
"The snapshots" below means the store's `states` view, which every query here reads: the
stored snapshot rows plus each project's first report of the year, which is its own state
and is not copied into a snapshot (store._STATES_VIEW_DDL).

The figures are counts and sums over S; the loader keeps them per report date and cell (see
"figure cells" below), and figures() and trend() add cells up.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import polars as pl

from pipelines.metrics.formulas import (  # noqa: F401  (re-exported)
    FIGURE_KEYS,
    FIGURE_ZH,
    FORMULA_ZH,
    LIGHT_ZH,
    RATE_KEYS,
    Thresholds,
    double_half,
    light,
    period_start,
    time_progress,
)
from pipelines.metrics.view import Filters, View  # noqa: F401  (re-exported)
from pipelines.vocab import schema
from pipelines.vocab.reference import region_by_code

# ---- parameters -------------------------------------------------------------------------------


GROUPINGS: dict[str, tuple[str, str | None]] = {
    # key: (name expression, code expression) over the per-project relation
    "city": ("city_code", "city_code"),
    "county": ("county_code", "county_code"),
    "industry": ("coalesce(industry_name, '（未填行业）')", "industry_code"),
    "tier": ("tier", None),
    "stage": ("coalesce(stage, '（未填）')", None),
    "size_band": ("coalesce(size_band, '（未填总投资）')", None),
}
REGION_GROUPINGS = ("city", "county")


# ---- the per-project relation ----------------------------------------------------------------

_BAND_SQL = "CASE " + " ".join(
    f"WHEN s.total_investment >= {lo!r} AND s.total_investment < {hi!r} THEN '{name}'"
    if hi != float("inf")
    else f"WHEN s.total_investment >= {lo!r} THEN '{name}'"
    for name, lo, hi in schema.SIZE_BANDS
) + " END"

_STATE_COLS = ", ".join(f"s.{c}" for c in schema.FIELD_NAMES if c != "tier")

# The filters: (Filters field, parameter, expression over unqualified column names of the
# per-project relation and of the cells). Only the filters that restrict something go into the
# SQL text (less for DuckDB to plan); their values are always bound.
_FILTERS: tuple[tuple[str, str, str], ...] = (
    ("tiers", "f_tiers", "tier"),
    ("cities", "f_cities", "city_code"),
    ("counties", "f_counties", "county_code"),
    ("industries", "f_industries", "coalesce(industry_name, '（未填行业）')"),
    ("stages", "f_stages", "coalesce(stage, '（未填）')"),
    ("size_bands", "f_bands", "size_band"),
)
_PROJECT_FILTER = ("project_ids", "f_projects", "s.project_id")


def _where(filters: Filters, clauses: tuple[tuple[str, str, str], ...]) -> tuple[str, dict[str, list[str]]]:
    """The SQL condition for the filters that restrict something, and its bound values."""
    used = [(param, expr, list(getattr(filters, name))) for name, param, expr in clauses if getattr(filters, name)]
    sql = " AND ".join(f"list_contains(${param}, {expr})" for param, expr, _ in used)
    return sql or "true", {param: values for param, _, values in used}


@dataclass(frozen=True)
class _Dates:
    """The report dates D a query is asked for, each with the first day of its reporting period,
    the snapshot in force at D (the latest on or before D) and the one in force before its period
    (the latest before the period start). The snapshots are found here, among the year's
    snapshot dates, so the SQL reads only the snapshots it needs."""

    year: int
    dates: list[date]
    period_starts: list[date]
    snaps: list[date | None]
    prev_snaps: list[date | None]

    @classmethod
    def of(cls, year: int, dates: list[date], period_starts: list[date], snapshot_dates: list[date]) -> _Dates:
        def before(i: int) -> date | None:
            return snapshot_dates[i - 1] if i else None

        return cls(
            year, list(dates), list(period_starts),
            [before(bisect.bisect_right(snapshot_dates, d)) for d in dates],
            [before(bisect.bisect_left(snapshot_dates, ps)) for ps in period_starts],
        )

    @property
    def single(self) -> bool:
        return len(self.dates) == 1

    def params(self, *, with_prev: bool = True) -> dict[str, Any]:
        if self.single:
            out = {"year": self.year, "day": self.dates[0], "start": self.period_starts[0], "snap": self.snaps[0]}
            return {**out, "prev_snap": self.prev_snaps[0]} if with_prev else out
        out = {"year": self.year, "dates": self.dates, "period_starts": self.period_starts, "snaps": self.snaps}
        return {**out, "prev_snaps": self.prev_snaps} if with_prev else out


def _projects_sql(filters: Filters, *, with_prev: bool = True, single: bool = False) -> tuple[str, dict[str, Any]]:
    """The per-project relation: one row per (report date, project in S as of that date), and
    the filters' bound values; takes _Dates.params(). Without the stage before the period when
    with_prev is False (the join that finds it is dear, and only 录入率's base needs it). For a
    single date the date, period and snapshots are constants, so DuckDB can push conditions on
    them (a flag in project_states' where) into the scan of the snapshots."""
    where, fparams = _where(filters, (*_FILTERS, _PROJECT_FILTER))
    if single:
        dates_cte = ""
        s_dates = "$day::DATE AS report_date, $start::DATE AS period_start"
        s_from = "states s"
        s_where = "s.year = $year AND s.as_of = $snap::DATE"
        prev_select, prev_from = "", "states sp"
        prev_where = "sp.year = $year AND sp.as_of = $prev_snap::DATE"
        prev_on = "prev.project_id = s.project_id"
    else:
        dates_cte = """
dd AS (
    SELECT unnest($dates::DATE[]) AS report_date, unnest($period_starts::DATE[]) AS period_start,
           unnest($snaps::DATE[]) AS snap, unnest($prev_snaps::DATE[]) AS prev_snap
),"""
        s_dates = "dd.report_date, dd.period_start"
        s_from = "dd JOIN states s ON s.year = $year AND s.as_of = dd.snap"
        s_where = "s.as_of BETWEEN list_min($snaps::DATE[]) AND list_max($snaps::DATE[])"
        prev_select = "dd.report_date, "
        prev_from = "dd JOIN states sp ON sp.year = $year AND sp.as_of = dd.prev_snap"
        prev_where = "sp.as_of BETWEEN list_min($prev_snaps::DATE[]) AND list_max($prev_snaps::DATE[])"
        prev_on = "prev.report_date = s.report_date AND prev.project_id = s.project_id"
    prev_cte = f"""
prev AS (
    SELECT {prev_select}sp.project_id, sp.stage AS stage_before_period
    FROM {prev_from}
    WHERE {prev_where}
),""" if with_prev else ""
    prev_col = "prev.stage_before_period," if with_prev else ""
    prev_join = f"LEFT JOIN prev ON {prev_on}" if with_prev else ""
    sql = f"""
WITH{dates_cte}{prev_cte}
s AS (
    SELECT {s_dates},
           s.project_id, s.last_report_date, s.done_date, p.tier, {_STATE_COLS},
           {_BAND_SQL} AS size_band
    FROM {s_from}
    JOIN projects p ON p.project_id = s.project_id
    WHERE {s_where}
)
SELECT
    s.*,
    {prev_col}
    coalesce(s.completion_date, s.done_date) AS completion_date_eff,
    -- due by the planned (re)start date, as the contract has it (a project that started early
    -- is not due before its planned date, and one with no planned date is not due unless it
    -- is continuing); never null
    (coalesce(s.stage, '') <> '储备'
        AND (s.stage IN ('续建', '在建') OR (s.planned_start_date <= s.report_date) IS TRUE)) AS is_due,
    (s.actual_start_date IS NOT NULL AND s.actual_start_date <= s.report_date) AS has_started
FROM s {prev_join}
WHERE {where}
"""
    return sql, fparams


def _flags_sql(filters: Filters, *, with_prev: bool = True, single: bool = False) -> tuple[str, dict[str, Any]]:
    """The per-project relation with the contract's flags (see _projects_sql).

    录入率, as the contract has it: its base, is_active_before_period (应报送), is the projects not
    yet 竣工/投产 before the period, by the stage of the snapshot before the period and by the
    completion date as of D (a project first reported this period as 竣工 in an earlier year was
    done before the period, too); is_reported (已报送) is the projects of that base with a report
    dated in the period. A project done before the period that still reports is in neither, so
    reported ≤ reporting_base in every group. Both need the snapshot before the period: without
    with_prev neither is there."""
    active = f"""(coalesce(stage_before_period, '') NOT IN {schema.DONE_STAGES_SQL}
        AND (completion_date_eff IS NULL OR completion_date_eff >= period_start))"""
    reporting = (
        f""",
    {active} AS is_active_before_period,
    ({active} AND last_report_date >= period_start) AS is_reported"""
        if with_prev else ""
    )
    projects, fparams = _projects_sql(filters, with_prev=with_prev, single=single)
    sql = f"""
SELECT *,
    is_due AND has_started AS is_started,
    is_due AND NOT has_started AS is_overdue,
    (completion_date_eff IS NOT NULL AND year(completion_date_eff) = $year
        AND completion_date_eff <= report_date) AS is_completed,
    (planned_completion_date IS NOT NULL AND year(planned_completion_date) = $year) AS is_planned_completion,
    (is_due AND has_started AND coalesce(total_investment, 0) >= {schema.STATS_THRESHOLD!r}) AS is_stats_due{reporting}
FROM ({projects})
"""
    return sql, fparams


# The columns of project_states(), in order; the flags are the boolean ones from is_due on.
FLAG_COLUMNS: tuple[str, ...] = (
    "is_due", "has_started", "is_started", "is_overdue", "is_completed", "is_planned_completion",
    "is_stats_due", "is_active_before_period", "is_reported",
)
STATE_COLUMNS: tuple[str, ...] = (
    "project_id", "last_report_date", "done_date", "tier",
    *(c for c in schema.FIELD_NAMES if c != "tier"),
    "size_band", "stage_before_period", "completion_date_eff", *FLAG_COLUMNS,
)
_PREV_COLUMNS = ("stage_before_period", "is_active_before_period", "is_reported")
_STATE_ORDER = ("city_code", "county_code", "project_name")


def _frequency_at(con: duckdb.DuckDBPyConnection, year: int, as_of: date) -> str:
    """The reporting rhythm of the latest report date on or before as_of (weekly by default)."""
    return _frequencies(con, year, [as_of])[as_of]


def _frequencies(con: duckdb.DuckDBPyConnection, year: int, dates: list[date]) -> dict[date, str]:
    """For each date, the most common frequency among the reports of the latest report date on
    or before it (ties: the first by name); weekly when there is none or it is not a known one."""
    counts: dict[date, dict[str | None, int]] = {}
    for rd, freq, n in con.execute(
        """SELECT report_date, frequency, count(*) FROM submissions
           WHERE kind = 'reports' AND year = ? GROUP BY ALL""",
        [year],
    ).fetchall():
        counts.setdefault(rd, {})[freq] = n
    known = sorted(counts)
    out: dict[date, str] = {}
    for d in dates:
        i = bisect.bisect_right(known, d)
        if not i:
            out[d] = "week"
            continue
        by_freq = counts[known[i - 1]]
        best = min(by_freq, key=lambda f: (-by_freq[f], f is None, f or ""))
        out[d] = best if best in schema.FREQUENCIES else "week"
    return out


def _snapshot_dates(con: duckdb.DuckDBPyConnection, year: int, periods: dict[date, date] | None) -> list[date]:
    """The year's snapshot dates: the stored report periods' when current, else from the snapshots."""
    if periods is not None:
        return sorted(periods)
    rows = con.execute("SELECT DISTINCT as_of FROM states WHERE year = ? ORDER BY 1", [year]).fetchall()
    return [r[0] for r in rows]


@dataclass(frozen=True)
class _At:
    """One report date asked for: D, its period start, the stored report periods of its year
    (None when the stored cells are not current), and whether the stored cells hold it."""

    year: int
    day: date
    period_start: date
    periods: dict[date, date] | None
    stored: bool


def _at(con: duckdb.DuckDBPyConnection, as_of: date, year: int | None, frequency: str | None,
        filters: Filters) -> _At:
    """The stored cells hold D's figures when D is a report date, they were computed for the
    period asked for (the frequency in force there unless another is given), and there is no
    project-id filter (see figure cells below)."""
    y = year or as_of.year
    d = min(as_of, date(y, 12, 31))
    periods = _stored_periods(con, y)
    if periods is not None and d in periods and frequency is None:
        start = periods[d]  # the period of the frequency in force at D: the cells' own
    else:
        start = period_start(d, frequency or _frequency_at(con, y, d))
    stored = periods is not None and periods.get(d) == start and not filters.project_ids
    return _At(y, d, start, periods, stored)


def project_states(
    con: duckdb.DuckDBPyConnection,
    as_of: date,
    *,
    year: int | None = None,
    filters: Filters = Filters(),
    frequency: str | None = None,
    columns: Sequence[str] | None = None,
    where: str | None = None,
    ordered: bool = True,
) -> pl.DataFrame:
    """One row per project in S with its state as of D and the contract's flags (is_due, …).

    columns: only these of STATE_COLUMNS (default all, in that order); where: only the projects
    with this flag set or not set ("<flag>", "not <flag>"; flags are FLAG_COLUMNS), or with a
    value in a column ("<column> is not null"). Both only narrow what is read and converted.
    The rows are ordered by city, county and name, unless ordered is False (for a caller that
    sorts or aggregates them itself: sorting 200,000 names costs a few hundred ms).
    """
    cols = tuple(columns) if columns is not None else STATE_COLUMNS
    unknown = [c for c in cols if c not in STATE_COLUMNS]
    conditions = {
        **{f: f for f in FLAG_COLUMNS}, **{f"not {f}": f for f in FLAG_COLUMNS},
        **{f"{c} is not null": c for c in STATE_COLUMNS},
    }  # condition text → the column it reads
    flag = conditions.get(where) if where is not None else None
    if where is not None and flag is None:
        unknown.append(where)
    if unknown:
        raise ValueError(f"unknown state column or condition: {unknown!r}")
    at = _at(con, as_of, year, frequency, filters)
    dates = _Dates.of(at.year, [at.day], [at.period_start], _snapshot_dates(con, at.year, at.periods))
    with_prev = any(c in _PREV_COLUMNS for c in (*cols, flag))
    flags, fparams = _flags_sql(filters, with_prev=with_prev, single=True)
    read = list(dict.fromkeys((*cols, *(_STATE_ORDER if ordered else ()))))
    # Names and conditions are the ones checked above, never the caller's own text.
    frame = con.sql(
        f"SELECT {', '.join(read)} FROM ({flags})" + (f" WHERE {where}" if where else ""),
        params={**dates.params(with_prev=with_prev), **fparams},
    ).pl()
    if not ordered:
        return frame
    # Ordered here, not by DuckDB: its sort carries every column through (at national scale
    # ~0.5 s more and ~70 MB for 200,000 rows); Polars sorts the same way (byte order, nulls last).
    return frame.sort(list(_STATE_ORDER), nulls_last=True).select(cols)


# ---- figure cells: the figures' sums, kept per report date -----------------------------------
# Every figure is a count or a sum over the projects of S, and every filter and grouping but
# the project-id filter is a column of the per-project relation. So the counts and sums per
# report date and cell (tier × city × county × industry × stage × size band) give every figure
# at that date by adding cells up, and there are far fewer cells than projects. The store keeps
# them, computed here from the same per-project flags, in the load transaction that changes the
# snapshots (refresh_cells): figure_cells at that grain, figure_cells_coarse without stage and
# size band (ten times fewer rows at national scale: what most views need), report_periods
# with each report date and the period start its cells were computed for. figures() and trend()
# add stored cells up when they hold what was asked (see _at) and are as current as the data;
# otherwise they compute the same cells from the snapshots and add those up.
CELL_DIMS: tuple[str, ...] = (
    "tier", "city_code", "county_code", "industry_name", "industry_code", "stage", "size_band",
)
_FINE_ONLY = ("stage", "size_band")  # the dimensions figure_cells_coarse leaves out
COARSE_DIMS = tuple(c for c in CELL_DIMS if c not in _FINE_ONLY)
# (name, aggregate over the per-project flags relation); money is DOUBLE, counts BIGINT.
CELL_SUMS: tuple[tuple[str, str], ...] = (
    ("projects", "count(*)"),
    ("total_investment", "sum(total_investment)"),
    ("annual_plan", "sum(annual_plan)"),
    ("ytd_completed", "sum(coalesce(ytd_completed, 0))"),
    ("due", "count(*) FILTER (WHERE is_due)"),
    ("started", "count(*) FILTER (WHERE is_started)"),
    ("overdue", "count(*) FILTER (WHERE is_overdue)"),
    ("completed", "count(*) FILTER (WHERE is_completed)"),
    ("planned_completions", "count(*) FILTER (WHERE is_planned_completion)"),
    ("stats_due", "count(*) FILTER (WHERE is_stats_due)"),
    ("stats_registered", "count(*) FILTER (WHERE is_stats_due AND coalesce(stats_registered, false))"),
    ("reporting_base", "count(*) FILTER (WHERE is_active_before_period)"),
    ("reported", "count(*) FILTER (WHERE is_reported)"),  # of reporting_base: never more than it
)
_MONEY_SUMS = ("total_investment", "annual_plan", "ytd_completed")
_SUM_NAMES = ", ".join(n for n, _ in CELL_SUMS)


def _cells_ddl(table: str, dims: tuple[str, ...]) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {table} (\n    year INTEGER NOT NULL,\n    as_of DATE NOT NULL,\n    "
        + ",\n    ".join(f"{c} VARCHAR" for c in dims) + ",\n    "
        + ",\n    ".join(f"{n} {'DOUBLE' if n in _MONEY_SUMS else 'BIGINT NOT NULL'}" for n, _ in CELL_SUMS)
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


def _cells_sql(filters: Filters, *, single: bool = False) -> tuple[str, dict[str, Any]]:
    """The cells at each date, computed from the snapshots (filters applied); takes _Dates.params()."""
    flags, fparams = _flags_sql(filters, single=single)
    sql = f"""
SELECT report_date, {", ".join(CELL_DIMS)},
    {", ".join(f"{agg} AS {name}" for name, agg in CELL_SUMS)}
FROM ({flags})
GROUP BY ALL
"""
    return sql, fparams


def _stored_cells_sql(filters: Filters, *, fine: bool) -> tuple[str, dict[str, Any]]:
    """The stored cells at each of $dates under the filters: the coarse ones unless the filters
    or a grouping (fine) need stage or size band. (The date range lets the scan skip other dates.)"""
    fine = fine or bool(filters.stages or filters.size_bands)
    table, dims = ("figure_cells", CELL_DIMS) if fine else ("figure_cells_coarse", COARSE_DIMS)
    where, fparams = _where(filters, _FILTERS)
    sql = f"""
SELECT as_of AS report_date, {", ".join(dims)}, {_SUM_NAMES}
FROM {table}
WHERE year = $year AND as_of BETWEEN list_min($dates::DATE[]) AND list_max($dates::DATE[])
  AND list_contains($dates::DATE[], as_of) AND {where}
"""
    return sql, fparams


# The version of the formulas the stored cells are computed with: raise it whenever a change
# here changes what a cell holds (a flag's definition, a sum), so that cells a database kept
# from before are not used, and Warehouse.upgrade() (the app and the CLI call it) or the next
# load rebuilds them. "2": 应开工 by the planned date where known (no longer the earlier of
# planned and actual), 录入率's base leaving out projects completed before the period by date.
# "3": 应开工 by the planned date only, as the contract has it. "4": 已报送 only of the 应报送 base
# (录入率 never above 100 %), and no reported_active column (rebuild_cells recreates the tables).
CELLS_FORMULA = "4"

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
    con.execute(
        """INSERT OR REPLACE INTO meta
           SELECT 'figure_cells_of', (SELECT value FROM meta WHERE key = 'data_version')
           UNION ALL SELECT 'cells_formula', $f""",
        {"f": CELLS_FORMULA},
    )


def keep_cells_current(con: duckdb.DuckDBPyConnection, version: str) -> None:
    """In a write that is about to set data_version to version: cells current before it stay
    current after it (the caller keeps them so: a load refreshes them in its transaction).
    One statement, so both marks are written on the same reading of CELLS_CURRENT_SQL."""
    con.execute(
        f"""INSERT OR REPLACE INTO meta
            SELECT * FROM (VALUES ('figure_cells_of', $v), ('cells_formula', $f)) WHERE {CELLS_CURRENT_SQL}""",
        {"v": version, "f": CELLS_FORMULA},
    )


def refresh_cells(con: duckdb.DuckDBPyConnection, year: int, since: date | None = None) -> None:
    """Recompute the stored cells and report periods of year from report date since on (all
    of them when None), from the snapshots as they are now; part of the caller's transaction."""
    lo = since or date(year, 1, 1)
    for table in _CELL_TABLES:  # table names are the constants above
        con.execute(f"DELETE FROM {table} WHERE year = $y AND as_of >= $lo", {"y": year, "lo": lo})
    snapshot_dates = _snapshot_dates(con, year, None)  # the ones this transaction wrote, too
    dates = [d for d in snapshot_dates if d >= lo]
    if not dates:
        return
    freqs = _frequencies(con, year, dates)
    starts = [period_start(d, freqs[d]) for d in dates]
    step = 8  # dates per statement: a rebuild of a national year stays within memory
    for i in range(0, len(dates), step):
        at = _Dates.of(year, dates[i:i + step], starts[i:i + step], snapshot_dates)
        cells, _ = _cells_sql(Filters(), single=at.single)
        con.execute(
            f"""INSERT INTO figure_cells BY NAME
                SELECT $year AS year, report_date AS as_of, * EXCLUDE (report_date) FROM ({cells})
                ORDER BY as_of, city_code, county_code, tier, industry_name, industry_code, stage, size_band""",
            at.params(),
        )
    dims = ", ".join(COARSE_DIMS)
    con.execute(
        f"""INSERT INTO figure_cells_coarse BY NAME
            SELECT year, as_of, {dims}, {", ".join(f"sum({n}) AS {n}" for n, _ in CELL_SUMS)}
            FROM figure_cells WHERE year = $y AND as_of >= $lo
            GROUP BY year, as_of, {dims}
            ORDER BY as_of, city_code, county_code, tier, industry_name, industry_code""",
        {"y": year, "lo": lo},
    )
    con.execute(
        "INSERT INTO report_periods SELECT $y, unnest($dates::DATE[]), unnest($starts::DATE[])",
        {"y": year, "dates": dates, "starts": starts},
    )


def rebuild_cells(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute every stored cell from the snapshots and mark them current. The tables are
    made anew (they hold nothing but derived sums), so cells of an earlier formula with other
    columns get the columns of CELL_SUMS."""
    for table in _CELL_TABLES:  # table names are the constants above
        con.execute(f"DROP TABLE IF EXISTS {table}")
    for ddl in CELLS_DDL:
        con.execute(ddl)
    for (y,) in con.execute("SELECT DISTINCT year FROM states ORDER BY 1").fetchall():
        refresh_cells(con, y)
    mark_cells_current(con)


def _stored_periods(con: duckdb.DuckDBPyConnection, year: int) -> dict[date, date] | None:
    """{report date: period start} of the stored cells of year, or None when they are not current."""
    try:  # one query: the year's periods, and the meta values that say whether they are current
        rows = con.execute(
            """SELECT as_of, period_start, NULL::VARCHAR, NULL::VARCHAR FROM report_periods WHERE year = $y
               UNION ALL SELECT NULL, NULL, key, value FROM meta
               WHERE key IN ('data_version', 'figure_cells_of', 'cells_formula')""",
            {"y": year},
        ).fetchall()
    except duckdb.CatalogException:  # written before the cells existed
        return None
    meta = {k: v for _, _, k, v in rows if k is not None}
    version = meta.get("data_version")
    # as CELLS_CURRENT_SQL
    if version != meta.get("figure_cells_of") or (version is not None and meta.get("cells_formula") != CELLS_FORMULA):
        return None
    return {d: p for d, p, k, _ in rows if k is None}


def _aggregate_sql(bys: tuple[str | None, ...], source: str) -> tuple[str, list[int]]:
    """The figures' counts and sums per grouping, report date and group, adding up the cells of
    source, in one GROUPING SETS aggregate; and the GROUPING() value that marks each grouping's
    rows. Each row: that value, report date, the name and code of each grouping but None (the
    whole of S, whose rows have neither), the sums."""
    keys, key_cols, sets = [], [], []
    for i, by in enumerate(bys):
        if by is None:
            sets.append("(report_date)")
            continue
        name_expr, code_expr = GROUPINGS[by]
        # Expressions come from GROUPINGS (code constants), never from the caller's text.
        keys += [f"{name_expr} AS k{i}", f"{code_expr or 'NULL'} AS c{i}"]
        key_cols += [f"k{i}", f"c{i}"]
        sets.append(f"(report_date, k{i}, c{i})")
    masks = [  # GROUPING() sets the bit of every key column a grouping set leaves out
        sum(1 << (len(key_cols) - 1 - j) for j, c in enumerate(key_cols) if c not in (f"k{i}", f"c{i}"))
        for i in range(len(bys))
    ]
    sql = f"""
WITH keyed AS (SELECT report_date, {"".join(k + ", " for k in keys)}{_SUM_NAMES} FROM ({source}))
SELECT {f"GROUPING({', '.join(key_cols)})" if key_cols else "0"} AS g, report_date,
    {"".join(c + ", " for c in key_cols)}{", ".join(f"sum({n})" for n, _ in CELL_SUMS)}
FROM keyed
GROUP BY GROUPING SETS ({", ".join(sets)})
ORDER BY report_date
"""
    return sql, masks


def _ratio(num: float, den: float) -> float | None:
    return None if not den else num / den


def _group_order(by: str | None, key: str, code: str | None) -> tuple[Any, ...]:
    if by == "tier":
        return (schema.TIERS.index(key) if key in schema.TIERS else 99, key)
    if by == "stage":
        return (schema.STAGES.index(key) if key in schema.STAGES else 99, key)
    if by == "size_band":
        names = [b[0] for b in schema.SIZE_BANDS]
        return (names.index(key) if key in names else 99, key)
    return (code is None, code or "", key)


def figures(
    con: duckdb.DuckDBPyConnection,
    as_of: date,
    *,
    year: int | None = None,
    filters: Filters = Filters(),
    by: str | None = None,
    frequency: str | None = None,
) -> list[dict[str, Any]]:
    """The contract's figures over S, one dict per group (a single '全部' group when by is None)."""
    return figures_by(con, as_of, (by,), year=year, filters=filters, frequency=frequency)[by]


def figures_by(
    con: duckdb.DuckDBPyConnection,
    as_of: date,
    bys: Sequence[str | None],
    *,
    year: int | None = None,
    filters: Filters = Filters(),
    frequency: str | None = None,
) -> dict[str | None, list[dict[str, Any]]]:
    """figures() for several groupings of the same S, in one query: {by: figures(by=by)}."""
    at = _at(con, as_of, year, frequency, filters)
    out = _figures_at(con, at.year, [at.day], [at.period_start], filters, tuple(bys), at.periods, stored=at.stored)
    return {by: out[by][at.day] for by in bys}


def _figures_at(
    con: duckdb.DuckDBPyConnection, year: int, dates: list[date], period_starts: list[date], filters: Filters,
    bys: tuple[str | None, ...], periods: dict[date, date] | None, *, stored: bool,
) -> dict[str | None, dict[date, list[dict[str, Any]]]]:
    """The figures at each of the dates under each grouping, in one query: {by: {report date:
    one dict per group}} (stored: from the stored cells, which the caller has checked hold them;
    periods: the stored report periods when current, else None)."""
    for by in bys:
        if by is not None and by not in GROUPINGS:
            raise ValueError(f"unknown grouping {by!r}; one of {sorted(GROUPINGS)}")
    if stored:
        source, fparams = _stored_cells_sql(filters, fine=any(by in _FINE_ONLY for by in bys))
        params: dict[str, Any] = {"year": year, "dates": dates, **fparams}
    else:
        at = _Dates.of(year, dates, period_starts, _snapshot_dates(con, year, periods))
        source, fparams = _cells_sql(filters, single=at.single)
        params = {**at.params(), **fparams}
    bys = tuple(dict.fromkeys(bys))  # a grouping asked for twice is one grouping set
    sql, masks = _aggregate_sql(bys, source)
    which = {mask: i for i, mask in enumerate(masks)}
    keyed = [i for i, by in enumerate(bys) if by is not None]  # their key columns, in this order
    at_col = {i: 2 * j for j, i in enumerate(keyed)}
    rows_by: list[list[tuple]] = [[] for _ in bys]
    for g, d, *rest in con.execute(sql, params).fetchall():
        i = which[g]
        key, code = (rest[at_col[i]], rest[at_col[i] + 1]) if i in at_col else ("全部", None)
        rows_by[i].append((d, key, code, *rest[2 * len(keyed):]))
    return {by: _items(by, dates, rows) for by, rows in zip(bys, rows_by, strict=True)}


def _items(by: str | None, dates: list[date], rows: list[tuple]) -> dict[date, list[dict[str, Any]]]:
    """The figures of each group from its counts and sums: {report date: one dict per group}."""
    per_date: dict[date, list[dict[str, Any]]] = {d: [] for d in dates}
    if by is None:
        # An empty S still has its '全部' group (an ungrouped aggregate's single row).
        seen = {r[0] for r in rows}
        rows += [(d, "全部", None, 0, 0.0, 0.0, 0.0) + (0,) * (len(CELL_SUMS) - 4) for d in per_date if d not in seen]
    for r in rows:
        (d, key, code, projects, total, plan, ytd, due, started, overdue, completed, planned_c,
         stats_due, stats_reg, reporting_base, reported) = r
        if by is None and projects == 0:
            key = "全部"
        tp = time_progress(d)
        rate = _ratio(ytd or 0.0, plan or 0.0)
        item: dict[str, Any] = {"group": _group_name(by, key)}
        if by in REGION_GROUPINGS:
            item["group_code"] = code
        item.update(
            projects=projects,
            total_investment=float(total or 0.0),  # a sum over no stated value is 0
            annual_plan=float(plan or 0.0),
            ytd_completed=float(ytd or 0.0),
            completion_rate=rate,
            time_progress=tp,
            schedule_gap=None if rate is None else (rate - tp) * 100.0,
            due=due,
            started=started,
            start_rate=_ratio(started, due),
            overdue=overdue,
            completed=completed,
            planned_completions=planned_c,
            completion_count_rate=_ratio(completed, planned_c),
            stats_due=stats_due,
            stats_registered=stats_reg,
            stats_rate=_ratio(stats_reg, stats_due),
            reporting_base=reporting_base,
            reported=reported,  # of reporting_base, so the rate is at most 1
            reporting_rate=_ratio(reported, reporting_base),
        )
        per_date[d].append(item)
    if by is not None:
        for items in per_date.values():
            items.sort(key=lambda it: _group_order(by, it["group"], it.get("group_code")))
    return per_date


def _group_name(by: str | None, key: str | None) -> str:
    if by in REGION_GROUPINGS:
        if key is None:
            return "（未填县区）" if by == "county" else "（未填地市）"
        region = region_by_code().get(key)
        return region.name if region else key
    return key if key is not None else "（未填）"


def total(
    con: duckdb.DuckDBPyConnection, as_of: date, *, year: int | None = None, filters: Filters = Filters(),
    frequency: str | None = None,
) -> dict[str, Any]:
    """The figures over all of S (the '全部' group)."""
    return figures(con, as_of, year=year, filters=filters, frequency=frequency)[0]


def report_dates(con: duckdb.DuckDBPyConnection, year: int | None = None) -> list[date]:
    """Every report date with a snapshot, newest last (of one year, or of all)."""
    if year is None:
        rows = con.execute("SELECT DISTINCT as_of FROM states ORDER BY 1").fetchall()
        return [r[0] for r in rows]
    # the same dates, from a table of one row per date when the stored cells are current
    return _snapshot_dates(con, year, _stored_periods(con, year))


def years(con: duckdb.DuckDBPyConnection) -> list[int]:
    return [r[0] for r in con.execute("SELECT DISTINCT year FROM states ORDER BY 1").fetchall()]


def previous_report_date(con: duckdb.DuckDBPyConnection, as_of: date) -> date | None:
    """The report date before the one in force at as_of (for 较上期 changes)."""
    dates = report_dates(con, as_of.year)
    i = bisect.bisect_right(dates, as_of)  # dates[i - 1] is the one in force
    return dates[i - 2] if i >= 2 else None


def trend(
    con: duckdb.DuckDBPyConnection,
    as_of: date,
    *,
    year: int | None = None,
    filters: Filters = Filters(),
    by: str | None = None,
) -> pl.DataFrame:
    """The figures at every report date of the year up to as_of (one row per date and group),
    in one query (over the stored cells, or the snapshots): the same as figures() at each of
    those dates."""
    y = year or as_of.year
    periods = _stored_periods(con, y)
    if periods is not None:  # every report date has its stored cells, at the frequency in force
        dates = sorted(d for d in periods if d <= as_of)
        starts = [periods[d] for d in dates]
    else:
        dates = [d for d in _snapshot_dates(con, y, None) if d <= as_of]
        freqs = _frequencies(con, y, dates)
        starts = [period_start(d, freqs[d]) for d in dates]
    rows: list[dict[str, Any]] = []
    if dates:
        stored = periods is not None and not filters.project_ids
        for d, items in _figures_at(con, y, dates, starts, filters, (by,), periods, stored=stored)[by].items():
            rows.extend({"report_date": d, **item} for item in items)
    if not rows:
        return pl.DataFrame(schema={"report_date": pl.Date, "group": pl.String})
    return pl.DataFrame(rows, infer_schema_length=None)


def targets_vs_actuals(
    con: duckdb.DuckDBPyConnection, as_of: date, *, year: int | None = None, filters: Filters = Filters()
) -> pl.DataFrame:
    """Targets from a loaded 目标任务分解表 beside the actual figures of each region."""
    y = year or as_of.year
    t = con.sql(
        "SELECT region_code, region_name, metric, value FROM targets WHERE year = $y ORDER BY region_code, metric",
        params={"y": y},
    ).pl()
    if t.is_empty():
        return t
    actual: dict[str, dict[str, Any]] = {}
    for items in figures_by(con, as_of, REGION_GROUPINGS, year=y, filters=filters).values():
        for item in items:
            if item.get("group_code"):
                actual[item["group_code"]] = item
    states = project_states(con, as_of, year=y, filters=filters, ordered=False,
                            columns=("project_id", "city_code", "county_code", "stage", "total_investment",
                                     "actual_start_date", "has_started"))
    # A new start of the year: a project reported as 新开工 in the year (up to as_of) that has started,
    # in the year, whatever its stage now (a started 新开工 project is later reported 在建 or 竣工, and
    # stays one of the year's new starts). Continuing: 续建/在建 now, and not such a new start.
    was_new = con.sql(
        f"""SELECT DISTINCT project_id FROM reports
            WHERE report_date BETWEEN $lo AND $hi AND (present & {schema.FIELD_BIT["stage"]}) <> 0
              AND stage = '新开工'""",
        params={"lo": date(y, 1, 1), "hi": as_of},
    ).pl()["project_id"]
    started_this_year = (pl.col("project_id").is_in(was_new.implode()) & pl.col("has_started")
                         & (pl.col("actual_start_date").dt.year() == y)).fill_null(False)

    def _in_region(code: str) -> pl.DataFrame:
        col = "city_code" if code.endswith("00") else "county_code"
        return states.filter(pl.col(col) == code)

    rows = []
    for code, name, metric, value in t.iter_rows():
        a = actual.get(code)
        region = _in_region(code)
        if metric == "investment_task":
            actual_value = a["ytd_completed"] if a else 0.0
        elif metric == "new_starts":
            actual_value = float(region.filter(started_this_year).height)
        elif metric == "continuing":
            actual_value = float(region.filter(pl.col("stage").is_in(list(schema.CONTINUING_STAGES))
                                               & ~started_this_year).height)
        elif metric == "stats_registrations":
            actual_value = a["stats_registered"] if a else 0.0
        elif metric == "planned_projects":
            actual_value = float(region.filter(pl.col("stage") == "储备").height)
        elif metric == "planned_investment":
            actual_value = float(region.filter(pl.col("stage") == "储备")["total_investment"].sum() or 0.0)
        else:
            actual_value = None
        rows.append({
            "region_code": code, "region_name": name, "metric": metric,
            "metric_zh": schema.TARGET_METRICS.get(metric, metric), "target": value, "actual": actual_value,
            "rate": None if actual_value is None or not value else actual_value / value,
        })
    return pl.DataFrame(rows, infer_schema_length=None)


# ---- machine-readable output --------------------------------------------------------------


def to_json_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """§ Machine-readable output: money in 万元, rates as fractions rounded to 6 decimals."""
    out = []
    for it in items:
        row: dict[str, Any] = {"group": it["group"]}
        if "group_code" in it:
            row["group_code"] = it["group_code"]
        for k in FIGURE_KEYS:
            v = it[k]
            if isinstance(v, float):
                v = round(v, 6)
            row[k] = v
        out.append(row)
    return out


def dumps(items: list[dict[str, Any]]) -> str:
    return json.dumps(to_json_rows(items), ensure_ascii=False, indent=2)

