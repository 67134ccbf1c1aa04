"""The per-project flags SQL: one row per project in S with the contract's flags (is_due, …),
and the figure cells it adds up to. The one definition of what a flag and a cell hold: the
figures computed from the snapshots (metrics.figures) and the cells the warehouse stores
(warehouse.cells) are both this SQL.

No queries run here: every function returns SQL text and its bound values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pipelines.metrics.view import Filters
from pipelines.vocab import schema
from pipelines.vocab.states import states_at, states_over

_BAND_SQL = "CASE " + " ".join(
    f"WHEN s.total_investment >= {lo!r} AND s.total_investment < {hi!r} THEN '{name}'"
    if hi != float("inf")
    else f"WHEN s.total_investment >= {lo!r} THEN '{name}'"
    for name, lo, hi in schema.SIZE_BANDS
) + " END"

def _state_cols(fields: frozenset[str] | None) -> str:
    """The state fields of s_rows, in the schema's order (the UNION ALL with the listed part is by
    position): NULL for a field not in fields (None: every field)."""
    return ", ".join(f"s.{c}" if fields is None or c in fields else f"NULL AS {c}"
                     for c in schema.FIELD_NAMES if c != "tier")

# The filters: (Filters field, parameter, expression over unqualified column names of the
# per-project relation and of the cells). Only the filters that restrict something go into the
# SQL text (less for DuckDB to plan); their values are always bound.
CELL_FILTERS: tuple[tuple[str, str, str], ...] = (
    ("tiers", "f_tiers", "tier"),
    ("cities", "f_cities", "city_code"),
    ("counties", "f_counties", "county_code"),
    ("industries", "f_industries", "coalesce(industry_name, '（未填行业）')"),
    ("stages", "f_stages", "coalesce(stage, '（未填）')"),
    ("size_bands", "f_bands", "size_band"),
)
PROJECT_FILTER = ("project_ids", "f_projects", "s.project_id")


# ---- started and due: the one definition (figures, stored cells, states and lights read these) --
# Over the per-project state s at its report date D (s.report_date) in year $year.
# Continuing (续建): stage 续建 or 在建 (在建 in a type column; in a status column the reader states
# the start too), or an actual (re)start before 1 January of Y.
_CONTINUING_STAGES_SQL = "(" + ", ".join(f"'{x}'" for x in schema.CONTINUING_STAGES) + ")"
CONTINUING_SQL = (
    f"(s.stage IN {_CONTINUING_STAGES_SQL} OR (s.actual_start_date < make_date($year, 1, 1)) IS TRUE)"
)
# Completed as of D: a 竣工/投产 stage, or a completion date on or before D.
_DONE_SQL = (
    f"(s.stage IN {schema.DONE_STAGES_SQL} "
    "OR (coalesce(s.completion_date, s.done_date) <= s.report_date) IS TRUE)"
)
# 已开（复）工 (has_started): the row's own word that it has not (re)started wins (a 未开复工原因,
# 尚未复工, 停工: start_stated false); else an actual (re)start on or before D, the row's word that it
# has started, a continuing project with no (re)start date (planned or actual) and nothing saying
# otherwise, or a completed project (a completed project has started). Never null.
HAS_STARTED_SQL = f"""(CASE
        WHEN s.start_stated IS FALSE THEN false
        WHEN (s.actual_start_date <= s.report_date) IS TRUE THEN true
        WHEN s.start_stated IS TRUE THEN true
        WHEN {CONTINUING_SQL} AND s.actual_start_date IS NULL AND s.planned_start_date IS NULL THEN true
        WHEN {_DONE_SQL} THEN true
        ELSE false END)"""
# 应开（复）工 (is_due), over the relation with has_started and is_continuing: not 储备, and a planned
# (re)start on or before D, or continuing (due from 1 January of Y), or started (a project that has
# actually started by D is due even with no planned date). Never null.
DUE_SQL = """(coalesce(stage, '') <> '储备'
        AND ((planned_start_date <= report_date) IS TRUE OR is_continuing OR has_started))"""


def where_sql(filters: Filters, clauses: tuple[tuple[str, str, str], ...]) -> tuple[str, dict[str, list[str]]]:
    """The SQL condition for the filters that restrict something, and its bound values."""
    used = [(param, expr, list(getattr(filters, name))) for name, param, expr in clauses if getattr(filters, name)]
    sql = " AND ".join(f"list_contains(${param}, {expr})" for param, expr, _ in used)
    return sql or "true", {param: values for param, _, values in used}


# A project's tier in year $year: its latest change of tier (warehouse/yearlist.project_tiers) in a
# year up to $year, else the tier it was first loaded with (projects.tier).
_YEAR_TIER_SQL = "SELECT project_id, arg_max(tier, year) AS tier FROM project_tiers WHERE year <= $year GROUP BY ALL"

# The year's list (调度库, warehouse/yearlist.py): the fields a listed project that has no state at D
# is counted with (its admission's); the rest are NULL (no report: not reported, 0 completed).
_LISTED_FIELDS = ("project_name", "city_code", "county_code", "industry_code", "industry_name", "total_investment")


def _listed_sql(single: bool, projects: str | None, read: frozenset[str] | None = None) -> str:
    """The CTEs yl (each project's latest admission to the year's list on or before D, per date) and
    s (the states s_rows, as S has them): S by the list, as the contract has it. A project 调出 on or
    before D leaves S; a listed project with no state at D (it has not reported in Y by D) is in S
    with its admission's fields. A project never admitted in the year is in S by its own rows, as
    before, so a year with no list is unchanged."""
    only = "" if projects is None else f" AND y.project_id IN (SELECT project_id FROM {projects})"
    listed = ", ".join(f"y.{c}" for c in _LISTED_FIELDS)
    if single:
        yl = f"""yl AS (
    SELECT $day::DATE AS report_date, $start::DATE AS period_start, y.project_id, y.removed_on, {listed}
    FROM year_list y
    WHERE y.year = $year AND y.admitted_on <= $day::DATE{only}
    QUALIFY row_number() OVER (PARTITION BY y.project_id ORDER BY y.admitted_on DESC) = 1
),"""
    else:
        # each admission holds from its date until the project's next one: joined to the dates by that
        # range, not by taking the latest per date and project (a group of every date × project: 2.4 M
        # rows, ~2.5 s, for a national history of the lit projects)
        yl = f"""yl AS (
    SELECT dd.report_date, dd.period_start, y.project_id, y.removed_on, {listed}
    FROM (SELECT y.*, lead(y.admitted_on) OVER (PARTITION BY y.project_id ORDER BY y.admitted_on) AS next_on
          FROM year_list y WHERE y.year = $year{only}) y
    JOIN dd ON y.admitted_on <= dd.report_date AND (y.next_on IS NULL OR y.next_on > dd.report_date)
),"""
    # the columns of s_rows, in order (UNION ALL by position: Spark has no BY NAME), NULL where unknown
    fields = ", ".join(f"s.{c}" if c in _LISTED_FIELDS and (read is None or c in read) else f"NULL AS {c}"
                       for c in schema.FIELD_NAMES if c != "tier")
    return f"""{yl}
s AS (
    -- NOT EXISTS, not LEFT JOIN … IS NULL: with a city filter DuckDB 1.5.5 planned the LEFT JOIN form of
    -- a national history into a join that did not end in minutes (the 督办单 page's candidates)
    SELECT * FROM s_rows r
    WHERE NOT EXISTS (SELECT 1 FROM yl WHERE yl.project_id = r.project_id AND yl.report_date = r.report_date
                      AND yl.removed_on <= yl.report_date)
    UNION ALL
    SELECT s.report_date, s.period_start, s.project_id, NULL AS last_report_date, NULL AS done_date,
           coalesce(pt.tier, p.tier) AS tier, {fields},
           {_BAND_SQL} AS size_band
    FROM yl s
    JOIN projects p ON p.project_id = s.project_id
    LEFT JOIN pt ON pt.project_id = s.project_id
    WHERE (s.removed_on IS NULL OR s.removed_on > s.report_date)
      AND NOT EXISTS (SELECT 1 FROM s_keys r WHERE r.project_id = s.project_id AND r.report_date = s.report_date)"""


def _projects_sql(
    filters: Filters, *, with_prev: bool = True, single: bool = False, within: str = "true",
    projects: str | None = None, fields: frozenset[str] | None = None, copies: tuple[str, str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The per-project relation: one row per (report date, project in S as of that date), and
    the filters' bound values; takes Dates.params(). Without the stage before the period when
    with_prev is False (the join that finds it is dear, and only 录入率's base needs it). For a
    single date the date, period and snapshots are constants, so DuckDB can push conditions on
    them (a flag in project_states' where) into the scan of the snapshots. within: a condition on
    the state rows s (their report_date and CELL_DIMS), applied before the flags are computed;
    projects: the name of a relation of project_id the states are read for (None: all); fields: the
    state fields read (the others NULL; None: all; see fields_for); copies: the relations (ranges, first
    reports) the states of many dates are read from in place of the stored tables (a copy of a few
    projects' rows: warehouse/cells.note_delta)."""
    only = "" if projects is None else f" WHERE project_id IN (SELECT project_id FROM {projects})"
    at_fields = schema.FIELD_NAMES if fields is None else tuple(c for c in schema.FIELD_NAMES if c in fields)
    where, fparams = where_sql(filters, (*CELL_FILTERS, PROJECT_FILTER))
    if single:
        dates_cte = ""
        s_dates = "$day::DATE AS report_date, $start::DATE AS period_start"
        # states_at, not the view: DuckDB narrows the ranges by the date only so (vocab/states.py)
        s_from = f"(SELECT * FROM {states_at('$year', '$snap::DATE', at_fields)} x{only}) s"
        s_where = "true"
        prev_at = states_at("$year", "$prev_snap::DATE", ("stage",))  # only the stage is read from it
        prev_select, prev_from = "", f"(SELECT * FROM {prev_at} x{only}) sp"
        prev_where = "true"
        prev_on = "prev.project_id = s.project_id"
    else:
        dates_cte = """
dd AS (
    SELECT unnest($dates::DATE[]) AS report_date, unnest($period_starts::DATE[]) AS period_start,
           unnest($snaps::DATE[]) AS snap, unnest($prev_snaps::DATE[]) AS prev_snap
),"""
        s_dates = "dd.report_date, dd.period_start"
        s_where = "s.as_of BETWEEN list_min($snaps::DATE[]) AND list_max($snaps::DATE[])"
        prev_select = "dd.report_date, "
        # the states read by states_over: narrowed to the dates and the projects inside the dates' join
        ranges, firsts = copies or ("state_ranges", "reports")
        within_snaps = "d.as_of BETWEEN list_min($snaps::DATE[]) AND list_max($snaps::DATE[])"
        s_from = f"dd JOIN {states_over('$year', at_fields, dates=within_snaps, projects=projects, ranges=ranges, firsts=firsts)} s ON s.as_of = dd.snap"
        within_prev = "d.as_of BETWEEN list_min($prev_snaps::DATE[]) AND list_max($prev_snaps::DATE[])"
        prev_from = f"dd JOIN {states_over('$year', ('stage',), dates=within_prev, projects=projects, ranges=ranges, firsts=firsts)} sp ON sp.as_of = dd.prev_snap"
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
    # s_rows' keys read apart: a CTE named twice is materialised with every column it has (all 45 fields
    # of every state: ~1 s for one date nationally, GiBs for a history), and the states' read by the
    # dates (states_at, states_over) is a narrow one
    s_keys = f"""s_keys AS (
    SELECT {s_dates}, s.project_id FROM {s_from} WHERE {s_where}
),
"""
    s_in_cte, s_in = ("", "s") if within == "true" else (f",\ns_in AS (SELECT * FROM s WHERE {within})", "s_in")
    sql = f"""
WITH{dates_cte}{prev_cte}
pt AS ({_YEAR_TIER_SQL}),
s_rows AS (
    SELECT {s_dates},
           s.project_id, s.last_report_date, s.done_date, coalesce(pt.tier, p.tier) AS tier, {_state_cols(fields)},
           {_BAND_SQL} AS size_band
    FROM {s_from}
    JOIN projects p ON p.project_id = s.project_id
    LEFT JOIN pt ON pt.project_id = s.project_id
    WHERE {s_where}
),
{s_keys}{_listed_sql(single, projects, fields)}
){s_in_cte}
SELECT *, {DUE_SQL} AS is_due FROM (
SELECT
    s.*,
    {prev_col}
    coalesce(s.completion_date, s.done_date) AS completion_date_eff,
    {CONTINUING_SQL} AS is_continuing,
    {HAS_STARTED_SQL} AS has_started
FROM {s_in} s {prev_join}
WHERE {where}
)
"""
    return sql, fparams


def flags_sql(
    filters: Filters, *, with_prev: bool = True, single: bool = False, within: str = "true",
    projects: str | None = None, fields: frozenset[str] | None = None, copies: tuple[str, str] | None = None,
) -> tuple[str, dict[str, Any]]:
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
    ({active} AND coalesce(last_report_date >= period_start, false)) AS is_reported"""
        if with_prev else ""
    )
    per_project, fparams = _projects_sql(filters, with_prev=with_prev, single=single, within=within,
                                         projects=projects, fields=fields, copies=copies)
    sql = f"""
SELECT *,
    is_due AND has_started AS is_started,
    is_due AND NOT has_started AS is_overdue,
    (completion_date_eff IS NOT NULL AND year(completion_date_eff) = $year
        AND completion_date_eff <= report_date) AS is_completed,
    (planned_completion_date IS NOT NULL AND year(planned_completion_date) = $year) AS is_planned_completion,
    -- 按计划竣工: of the planned completions, those completed on or before D (an unplanned
    -- completion is in is_completed only, so 竣工率 is never above 100 %)
    (planned_completion_date IS NOT NULL AND year(planned_completion_date) = $year
        AND completion_date_eff IS NOT NULL AND completion_date_eff <= report_date) AS is_completed_as_planned,
    (is_due AND has_started AND coalesce(total_investment, 0) >= {schema.STATS_THRESHOLD!r}) AS is_stats_due{reporting}
FROM ({per_project})
"""
    return sql, fparams


_NULLED = re.compile(r"NULL AS \w+")
_WORDS = re.compile(r"\w+")


def fields_for(filters: Filters, columns: Iterable[str], *, with_prev: bool = True, single: bool = False) -> frozenset[str]:
    """The state fields a reader of columns (of STATE_COLUMNS, or a condition's) needs read: those
    columns' own, and every field the flags and the filters name (found in the SQL itself, so a flag
    that starts to read a field reads it here too). A project list reads ~10 of the 45 fields: at
    200,000 projects the free-text ones (亮点, 简介, 联系人 …) were most of the read (~1 s)."""
    bare, _ = flags_sql(filters, with_prev=with_prev, single=single, fields=frozenset())
    named = set(_WORDS.findall(_NULLED.sub("", bare))) | set(columns)
    return frozenset(c for c in schema.FIELD_NAMES if c in named)


# The columns of project_states(), in order; the flags are the boolean ones from is_due on.
FLAG_COLUMNS: tuple[str, ...] = (
    "is_continuing", "is_due", "has_started", "is_started", "is_overdue", "is_completed", "is_planned_completion",
    "is_completed_as_planned", "is_stats_due", "is_active_before_period", "is_reported",
)
STATE_COLUMNS: tuple[str, ...] = (
    "project_id", "last_report_date", "done_date", "tier",
    *(c for c in schema.FIELD_NAMES if c != "tier"),
    "size_band", "stage_before_period", "completion_date_eff", *FLAG_COLUMNS,
)


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
FINE_ONLY = ("stage", "size_band")  # the dimensions figure_cells_coarse leaves out
COARSE_DIMS = tuple(c for c in CELL_DIMS if c not in FINE_ONLY)
# (name, aggregate over the per-project flags relation); money is DOUBLE, counts BIGINT.
CELL_SUMS: tuple[tuple[str, str], ...] = (
    ("projects", "count(*)"),
    # money: 0 over no stated value (as figures read it), so a cell is the sum of its projects' parts
    # whatever was added or taken away (the delta of a correction: warehouse/cells.py)
    ("total_investment", "sum(coalesce(total_investment, 0))"),
    ("annual_plan", "sum(coalesce(annual_plan, 0))"),
    ("ytd_completed", "sum(coalesce(ytd_completed, 0))"),
    ("due", "count(*) FILTER (WHERE is_due)"),
    ("started", "count(*) FILTER (WHERE is_started)"),
    ("overdue", "count(*) FILTER (WHERE is_overdue)"),
    ("completed", "count(*) FILTER (WHERE is_completed)"),
    ("planned_completions", "count(*) FILTER (WHERE is_planned_completion)"),
    ("completed_as_planned", "count(*) FILTER (WHERE is_completed_as_planned)"),  # of planned_completions
    ("stats_due", "count(*) FILTER (WHERE is_stats_due)"),
    ("stats_registered", "count(*) FILTER (WHERE is_stats_due AND coalesce(stats_registered, false))"),
    ("reporting_base", "count(*) FILTER (WHERE is_active_before_period)"),
    ("reported", "count(*) FILTER (WHERE is_reported)"),  # of reporting_base: never more than it
)
MONEY_SUMS = ("total_investment", "annual_plan", "ytd_completed")
SUM_NAMES = ", ".join(n for n, _ in CELL_SUMS)


def cells_sql(filters: Filters, *, single: bool = False, within: str = "true",
              projects: str | None = None, copies: tuple[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    """The cells at each date, computed from the snapshots (filters applied; within: see
    _projects_sql); takes Dates.params()."""
    flags, fparams = flags_sql(filters, single=single, within=within, projects=projects, copies=copies)
    sql = f"""
SELECT report_date, {", ".join(CELL_DIMS)},
    {", ".join(f"{agg} AS {name}" for name, agg in CELL_SUMS)}
FROM ({flags})
GROUP BY ALL
"""
    return sql, fparams


# The version of the formulas the stored cells are computed with: raise it whenever a change
# here changes what a cell holds (a flag's definition, a sum), so that cells a database kept
# from before are not used, and Warehouse.upgrade() (the app and the CLI call it) or the next
# load rebuilds them. "2": 应开工 by the planned date where known (no longer the earlier of
# planned and actual), 录入率's base leaving out projects completed before the period by date.
# "3": 应开工 by the planned date only, as the contract has it. "4": 已报送 only of the 应报送 base
# (录入率 never above 100 %), and no reported_active column (rebuild_cells recreates the tables).
# "5": the contract of issue 25: started by start_stated, continuing (续建/在建 or an actual start
# before the year) with no date, or completed; due when started, too; 按计划竣工 (completed_as_planned)
# a new sum; the states carry an earlier actual start or completion over a later blank.
# "6": S by the year's list (调度库: admitted from its date, 调出 from its date, a listed project that
# has not reported counted too) and a project's tier by year (project_tiers).
CELLS_FORMULA = "6"
