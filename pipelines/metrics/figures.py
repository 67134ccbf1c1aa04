"""The contract's figures over S: per grouping and report date, by adding up figure cells (the
stored ones when they hold the date asked for, else the same cells computed from the snapshots)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

import duckdb
import polars as pl

from pipelines.metrics.dates import At, Dates, frequencies, snapshot_dates, stored_periods
from pipelines.metrics.flags import (
    CELL_DIMS,
    CELL_FILTERS,
    CELL_SUMS,
    COARSE_DIMS,
    FINE_ONLY,
    SUM_NAMES,
    cells_sql,
    flags_sql,
    where_sql,
)
from pipelines.metrics.formulas import FIGURE_KEYS, YOY_KEYS, period_start, time_progress
from pipelines.metrics.view import Filters
from pipelines.vocab import schema
from pipelines.vocab.reference import region_by_code

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


def _stored_cells_sql(filters: Filters, *, fine: bool) -> tuple[str, dict[str, Any]]:
    """The stored cells at each of $dates under the filters: the coarse ones unless the filters
    or a grouping (fine) need stage or size band. (The date range lets the scan skip other dates.)"""
    fine = fine or bool(filters.stages or filters.size_bands)
    table, dims = ("figure_cells", CELL_DIMS) if fine else ("figure_cells_coarse", COARSE_DIMS)
    where, fparams = where_sql(filters, CELL_FILTERS)
    sql = f"""
SELECT as_of AS report_date, {", ".join(dims)}, {SUM_NAMES}
FROM {table}
WHERE year = $year AND as_of BETWEEN list_min($dates::DATE[]) AND list_max($dates::DATE[])
  AND list_contains($dates::DATE[], as_of) AND {where}
"""
    return sql, fparams


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
WITH keyed AS (SELECT report_date, {"".join(k + ", " for k in keys)}{SUM_NAMES} FROM ({source}))
SELECT {f"GROUPING({', '.join(key_cols)})" if key_cols else "0"} AS g, report_date,
    {"".join(c + ", " for c in key_cols)}{", ".join(f"sum({n})" for n, _ in CELL_SUMS)}
FROM keyed
GROUP BY GROUPING SETS ({", ".join(sets)})
ORDER BY report_date
"""
    return sql, masks


def _ratio(num: float, den: float) -> float | None:
    return None if not den else num / den


def group_order(by: str | None, key: str, code: str | None) -> tuple[Any, ...]:
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
    yoy: bool = True,
) -> list[dict[str, Any]]:
    """The contract's figures over S, one dict per group (a single '全部' group when by is None);
    yoy=False leaves out the 同比 keys (YOY_KEYS: a view that does not show them need not read Y−1)."""
    return figures_by(con, as_of, (by,), year=year, filters=filters, frequency=frequency, yoy=yoy)[by]


def figures_by(
    con: duckdb.DuckDBPyConnection,
    as_of: date,
    bys: Sequence[str | None],
    *,
    year: int | None = None,
    filters: Filters = Filters(),
    frequency: str | None = None,
    yoy: bool = True,
) -> dict[str | None, list[dict[str, Any]]]:
    """figures() for several groupings of the same S, in one query (and one for 同比): {by: figures(by=by)}."""
    at = At.of(con, as_of, year, frequency, filters)
    out = figures_at(con, at.year, [at.day], [at.period_start], filters, tuple(bys), at.periods, stored=at.stored)
    result = {by: out[by][at.day] for by in bys}
    if yoy:
        _add_yoy(con, at, filters, tuple(dict.fromkeys(bys)), result)
    return result


# ---- 同比: the same date of the year before ----------------------------------------------------


def same_day_last_year(d: date) -> date:
    """The same month and day of the year before (28 February for 29 February)."""
    return date(d.year - 1, d.month, 28 if (d.month, d.day) == (2, 29) else d.day)


def _renamed(sql: str, params: dict[str, Any], prefix: str) -> tuple[str, dict[str, Any]]:
    """The SQL and its bound values with every parameter renamed (prefix + name): two relations of
    the same SQL at other values in one query."""
    return (re.sub(r"\$([A-Za-z_]\w*)", lambda m: f"${prefix}{m.group(1)}", sql),
            {prefix + k: v for k, v in params.items()})


def _same_list_sql(bys: tuple[str | None, ...], cur: str, prv: str) -> tuple[str, list[tuple[int, int]]]:
    """Per grouping and group of the year's S, in one query: Σ ytd in Y and Σ ytd in Y−1 of the
    projects on both lists, and how many; with the (first, last) columns of each grouping's key and
    code in a row (the whole of S: none). Each row: GROUPING(), the keys and codes, the three sums."""
    keys: list[str] = []
    key_cols: list[str] = []
    sets: list[str] = []
    at: list[tuple[int, int]] = []
    for i, by in enumerate(bys):
        if by is None:
            sets.append("()")
            at.append((-1, -1))
            continue
        name_expr, code_expr = GROUPINGS[by]
        # Expressions come from GROUPINGS (code constants), never from the caller's text.
        keys += [f"{name_expr} AS k{i}", f"{code_expr or 'NULL'} AS c{i}"]
        at.append((len(key_cols), len(key_cols) + 1))
        key_cols += [f"k{i}", f"c{i}"]
        sets.append(f"(k{i}, c{i})")
    sql = f"""
WITH cur AS (SELECT project_id, {"".join(k + ", " for k in keys)}ytd_completed FROM ({cur})),
prv AS (SELECT project_id, ytd_completed AS ytd_prev FROM ({prv}))
SELECT {f"GROUPING({', '.join(key_cols)})" if key_cols else "0"}, {"".join(c + ", " for c in key_cols)}
    sum(coalesce(ytd_completed, 0)), sum(coalesce(ytd_prev, 0)), count(*)
FROM cur JOIN prv USING (project_id)
GROUP BY GROUPING SETS ({", ".join(sets)})
"""
    return sql, at


def _add_yoy(con: duckdb.DuckDBPyConnection, at: At, filters: Filters, bys: tuple[str | None, ...],
             result: dict[str | None, list[dict[str, Any]]]) -> None:
    """Add ytd_completed_prev, ytd_yoy and ytd_yoy_same (the contract's 同比) to each group's figures:
    Y−1's S at the same month and day, under the same filters (each year's list: they differ), and the
    projects on both lists (同口径: ytd of each in its own year), grouped as this year's figures.

    Y−1's ytd at that day is its ytd at its latest report date on or before it (no state changes
    between report dates, and a project listed since without a report adds 0), so it is read from
    that date's stored cells when they are current."""
    d0 = same_day_last_year(at.day)
    y0 = d0.year
    none = dict.fromkeys(YOY_KEYS)
    snaps0 = [d for d in snapshot_dates(con, y0, stored_periods(con, y0)) if d <= d0]
    if not snaps0:  # Y−1 has no report on or before that day
        for items in result.values():
            for it in items:
                it.update(none)
        return
    last0 = At.of(con, max(snaps0), y0, None, filters)
    prev = figures_at(con, y0, [last0.day], [last0.period_start], filters, bys, last0.periods, stored=last0.stored)
    at0 = At.of(con, d0, y0, None, filters)
    dates = Dates.of(at.year, [at.day], [at.period_start], snapshot_dates(con, at.year, at.periods))
    dates0 = Dates.of(y0, [at0.day], [at0.period_start], snapshot_dates(con, y0, at0.periods))
    cur_sql, cur_params = flags_sql(filters, with_prev=False, single=True)
    prv_sql, prv_params = _renamed(cur_sql, {**dates0.params(with_prev=False), **cur_params}, "p_")
    sql, cols = _same_list_sql(bys, cur_sql, prv_sql)
    nk = 2 * sum(by is not None for by in bys)  # GROUPING() sets the bit of every key column a set leaves out
    which = {sum(1 << (nk - 1 - j) for j in range(nk) if j not in cols[i]): i for i in range(len(bys))}
    same: dict[str | None, dict[tuple[str, str | None], tuple[float, float, int]]] = {by: {} for by in bys}
    for g, *rest in con.execute(sql, {**dates.params(with_prev=False), **cur_params, **prv_params}).fetchall():
        i = which[g]
        by, (k, c) = bys[i], cols[i]
        now, then, n = rest[-3:]
        key = (group_name(by, rest[k]), rest[c] if by in REGION_GROUPINGS else None) if by is not None else ("全部", None)
        same[by][key] = (now, then, n)
    for by in bys:
        before = {(it["group"], it.get("group_code")): it["ytd_completed"] for it in prev[by][last0.day]}
        for it in result[by]:
            key = (it["group"], it.get("group_code"))
            ytd_prev = float(before.get(key, 0.0) or 0.0)
            now, then, n = same[by].get(key, (0.0, 0.0, 0))
            it.update(
                ytd_completed_prev=ytd_prev,
                ytd_yoy=None if not ytd_prev else it["ytd_completed"] / ytd_prev - 1.0,
                ytd_yoy_same=None if not n or not then else float(now) / float(then) - 1.0,
            )


def figures_at(
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
        source, fparams = _stored_cells_sql(filters, fine=any(by in FINE_ONLY for by in bys))
        params: dict[str, Any] = {"year": year, "dates": dates, **fparams}
    else:
        at = Dates.of(year, dates, period_starts, snapshot_dates(con, year, periods))
        source, fparams = cells_sql(filters, single=at.single)
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
        (d, key, code, projects, total, plan, ytd, due, started, overdue, completed, planned_c, as_planned,
         stats_due, stats_reg, reporting_base, reported) = r
        if by is None and projects == 0:
            key = "全部"
        tp = time_progress(d)
        rate = _ratio(ytd or 0.0, plan or 0.0)
        item: dict[str, Any] = {"group": group_name(by, key)}
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
            completed_as_planned=as_planned,  # of planned_completions, so the rate is at most 1
            completion_count_rate=_ratio(as_planned, planned_c),
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
            items.sort(key=lambda it: group_order(by, it["group"], it.get("group_code")))
    return per_date


def group_name(by: str | None, key: str | None) -> str:
    if by in REGION_GROUPINGS:
        if key is None:
            return "（未填县区）" if by == "county" else "（未填地市）"
        region = region_by_code().get(key)
        return region.name if region else key
    return key if key is not None else "（未填）"


def total(
    con: duckdb.DuckDBPyConnection, as_of: date, *, year: int | None = None, filters: Filters = Filters(),
    frequency: str | None = None, yoy: bool = True,
) -> dict[str, Any]:
    """The figures over all of S (the '全部' group)."""
    return figures(con, as_of, year=year, filters=filters, frequency=frequency, yoy=yoy)[0]


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
    periods = stored_periods(con, y)
    if periods is not None:  # every report date has its stored cells, at the frequency in force
        dates = sorted(d for d in periods if d <= as_of)
        starts = [periods[d] for d in dates]
    else:
        dates = [d for d in snapshot_dates(con, y, None) if d <= as_of]
        freqs = frequencies(con, y, dates)
        starts = [period_start(d, freqs[d]) for d in dates]
    rows: list[dict[str, Any]] = []
    if dates:
        stored = periods is not None and not filters.project_ids
        for d, items in figures_at(con, y, dates, starts, filters, (by,), periods, stored=stored)[by].items():
            rows.extend({"report_date": d, **item} for item in items)
    if not rows:
        return pl.DataFrame(schema={"report_date": pl.Date, "group": pl.String})
    return pl.DataFrame(rows, infer_schema_length=None)


# ---- machine-readable output --------------------------------------------------------------


def to_json_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """§ Machine-readable output: money in 万元, rates as fractions rounded to 6 decimals."""
    out = []
    for it in items:
        row: dict[str, Any] = {"group": it["group"]}
        if "group_code" in it:
            row["group_code"] = it["group_code"]
        for k in (*FIGURE_KEYS, *(k for k in YOY_KEYS if k in it)):
            v = it[k]
            if isinstance(v, float):
                v = round(v, 6)
            row[k] = v
        out.append(row)
    return out


def dumps(items: list[dict[str, Any]]) -> str:
    return json.dumps(to_json_rows(items), ensure_ascii=False, indent=2)
