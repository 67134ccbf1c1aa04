"""Which report dates and periods a query reads: the year's snapshot dates, each date's reporting
period (by the frequency in force), and whether the stored figure cells hold a date."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb

from pipelines.metrics.flags import CELLS_FORMULA
from pipelines.metrics.formulas import period_start
from pipelines.metrics.view import Filters
from pipelines.vocab import schema
from pipelines.vocab.query import read_once


@dataclass(frozen=True)
class Dates:
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
    def of(cls, year: int, dates: list[date], period_starts: list[date], snapshot_dates: list[date]) -> Dates:
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


def _frequency_at(con: duckdb.DuckDBPyConnection, year: int, as_of: date) -> str:
    """The reporting rhythm of the latest report date on or before as_of (weekly by default)."""
    return frequencies(con, year, [as_of])[as_of]


def frequencies(con: duckdb.DuckDBPyConnection, year: int, dates: list[date]) -> dict[date, str]:
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


def snapshot_dates(con: duckdb.DuckDBPyConnection, year: int, periods: dict[date, date] | None) -> list[date]:
    """The year's snapshot dates: the stored report periods' when current, else from the snapshots."""
    if periods is not None:
        return sorted(periods)
    rows = con.execute("SELECT DISTINCT as_of FROM state_dates WHERE year = ? ORDER BY 1", [year]).fetchall()
    return [r[0] for r in rows]


@dataclass(frozen=True)
class At:
    """One report date asked for: D, its period start, the stored report periods of its year
    (None when the stored cells are not current), and whether the stored cells hold it."""

    year: int
    day: date
    period_start: date
    periods: dict[date, date] | None
    stored: bool

    @classmethod
    def of(cls, con: duckdb.DuckDBPyConnection, as_of: date, year: int | None, frequency: str | None,
           filters: Filters) -> At:
        """The stored cells hold D's figures when D is a report date, they were computed for the
        period asked for (the frequency in force there unless another is given), and there is no
        project-id filter (see flags.py, figure cells)."""
        y = year or as_of.year
        d = min(as_of, date(y, 12, 31))
        periods = stored_periods(con, y)
        if periods is not None and d in periods and frequency is None:
            start = periods[d]  # the period of the frequency in force at D: the cells' own
        else:
            start = period_start(d, frequency or _frequency_at(con, y, d))
        stored = periods is not None and periods.get(d) == start and not filters.project_ids
        return cls(y, d, start, periods, stored)


def stored_periods(con: duckdb.DuckDBPyConnection, year: int) -> dict[date, date] | None:
    """{report date: period start} of the stored cells of year, or None when they are not current
    (looked up once per read: every metric call of a page view asks; the caller must not change it)."""
    return read_once(con, ("stored_periods", year), lambda: _stored_periods(con, year))


def _stored_periods(con: duckdb.DuckDBPyConnection, year: int) -> dict[date, date] | None:
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


def report_dates(con: duckdb.DuckDBPyConnection, year: int | None = None) -> list[date]:
    """Every report date with a snapshot, newest last (of one year, or of all)."""
    if year is None:
        rows = con.execute("SELECT DISTINCT as_of FROM state_dates ORDER BY 1").fetchall()
        return [r[0] for r in rows]
    # the same dates, from a table of one row per date when the stored cells are current
    return snapshot_dates(con, year, stored_periods(con, year))


def years(con: duckdb.DuckDBPyConnection) -> list[int]:
    return [r[0] for r in con.execute("SELECT DISTINCT year FROM state_dates ORDER BY 1").fetchall()]


def previous_report_date(con: duckdb.DuckDBPyConnection, as_of: date) -> date | None:
    """The report date before the one in force at as_of (for 较上期 changes)."""
    dates = report_dates(con, as_of.year)
    i = bisect.bisect_right(dates, as_of)  # dates[i - 1] is the one in force
    return dates[i - 2] if i >= 2 else None
