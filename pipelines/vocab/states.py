"""The `states` relation, defined once for the warehouse (which stores it) and the metrics (which
read it): each project's state at a report date of the year, merged field by field from its
reports (see warehouse/snapshots.py for how it is kept).

Stored as ranges: a project's state changes only at its own report dates, so each state is kept
once, valid from the report date it was merged at until the project's next report date in the
year (`state_ranges`; valid_to NULL: no later report yet). A project's first report of the year
is its state as it stands: it is not copied, the report is flagged (`reports.is_state`, its range
end in `reports.state_to`). `state_dates` holds the year's report dates, the dates a state is
read at.

`states` (a view: one row per year, report date and project known by then) is what a reader
that wants many dates reads; a reader of one date reads states_at(year, date), the same rows,
which DuckDB finds by the ranges' dates alone (the view's join to the dates cannot be narrowed
by a date given to it: ~60 ms against ~3 ms at 200,000 projects).
"""

from __future__ import annotations

from pipelines.vocab import schema

STATE_COLS = schema.FIELD_NAMES
OPEN = "DATE '9999-12-31'"  # the end of a range that has none yet


def _bit(name: str) -> int:
    return schema.FIELD_BIT[name]


def range_select(r: str, fields: tuple[str, ...] = STATE_COLS) -> str:
    """The state columns (after year and as_of) of state_ranges row r."""
    return f"{r}.project_id, {r}.valid_from AS last_report_date, {r}.done_date, " + ", ".join(
        f"{r}.{c}" for c in fields)


def first_select(r: str, fields: tuple[str, ...] = STATE_COLS) -> str:
    """The state columns (after year and as_of) of a first report r: the fields it states."""
    return (
        f"{r}.project_id, {r}.report_date AS last_report_date, "
        f"CASE WHEN ({r}.present & {_bit('stage')}) <> 0 AND {r}.stage IN {schema.DONE_STAGES_SQL} "
        f"THEN {r}.report_date END AS done_date, "
        + ", ".join(f"CASE WHEN ({r}.present & {_bit(c)}) <> 0 THEN {r}.{c} END AS {c}" for c in fields)
    )


def states_at(year: str, as_of: str, fields: tuple[str, ...] = STATE_COLS) -> str:
    """A relation of every project's state at as_of in year (SQL expressions, e.g. bound parameters):
    the rows of `states` at that date, with the same columns (of the fields, only those given: a
    smaller query to plan)."""
    return f"""(SELECT {year} AS year, {as_of} AS as_of, {range_select("r", fields)}
    FROM state_ranges r
    WHERE r.year = {year} AND r.valid_from <= {as_of} AND coalesce(r.valid_to, {OPEN}) > {as_of}
    UNION ALL
    SELECT {year} AS year, {as_of} AS as_of, {first_select("f", fields)}
    FROM reports f
    WHERE f.year = {year} AND f.is_state AND f.report_date <= {as_of} AND coalesce(f.state_to, {OPEN}) > {as_of})"""  # noqa: S608 (year, as_of: the caller's parameter names)


def states_of(ranges: str = "state_ranges", firsts: str = "reports", fields: tuple[str, ...] = STATE_COLS, *,
              where_r: str = "", where_f: str = "") -> str:
    """The rows of `states` (with only the fields given) from the ranges and first reports in the relations
    named (the stored tables, or a copy of some projects' rows: warehouse/cells.note_delta); where_r and
    where_f: conditions (each starting with WHERE) on the dates d and the ranges r or first reports f."""
    return f"""SELECT d.year, d.as_of, {range_select("r", fields)}
FROM state_dates d
JOIN {ranges} r ON r.year = d.year AND r.valid_from <= d.as_of AND coalesce(r.valid_to, {OPEN}) > d.as_of{where_r}
UNION ALL
SELECT d.year, d.as_of, {first_select("f", fields)}
FROM state_dates d
JOIN {firsts} f ON f.year = d.year AND f.is_state AND f.report_date <= d.as_of
    AND coalesce(f.state_to, {OPEN}) > d.as_of{where_f}"""  # noqa: S608 (columns from schema, relation names the caller's)


STATES_VIEW_DDL = f"CREATE OR REPLACE VIEW states AS\n{states_of()}"


def states_over(year: str, fields: tuple[str, ...] = STATE_COLS, *, dates: str = "true",
                projects: str | None = None, ranges: str = "state_ranges", firsts: str = "reports") -> str:
    """The rows of `states` of year (a SQL expression) at the report dates d.as_of meeting dates (a
    condition on d), with only the fields given, of only the projects in the relation named projects
    (None: all): the view's own join (states_of) with the conditions inside it. Through the view, a
    condition on its project_id is applied after the join has made every project's state at every date
    (nationally 200,000 × 52 rows, for a history of a few thousand projects)."""
    def where(t: str) -> str:  # t: the alias of the ranges or first reports
        only = "" if projects is None else f" AND {t}.project_id IN (SELECT project_id FROM {projects})"  # noqa: S608 (a relation name of the caller's)
        return f"\nWHERE d.year = {year} AND {t}.year = {year} AND {dates}{only}"

    return f"({states_of(ranges, firsts, fields, where_r=where('r'), where_f=where('f'))})"


# Every state once (year, project_id, last_report_date, done_date and the fields; no as_of): a
# state is in `states` at its own report date at least, so what holds for these holds for
# `states` (the industries named in it, say) without reading every date's copy.
EACH_STATE_SQL = f"""(SELECT r.year, {range_select("r")} FROM state_ranges r
    UNION ALL
    SELECT f.year, {first_select("f")} FROM reports f WHERE f.is_state)"""  # noqa: S608 (columns from schema)
