"""The as-of snapshots: each project's state at every report date of the year, merged field by
field from its reports, and the `states` view the metrics read (snapshots plus first reports).
Written only inside the warehouse's write transaction (store.Warehouse)."""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines.vocab import schema
from pipelines.warehouse import cells
from pipelines.warehouse.connection import first

_STATE_COLS = schema.FIELD_NAMES


SNAPSHOT_DDL = f"""CREATE TABLE IF NOT EXISTS snapshots (
    year INTEGER NOT NULL,
    as_of DATE NOT NULL,              -- a report date: the state holds every report on or before it
    project_id VARCHAR NOT NULL,
    last_report_date DATE NOT NULL,   -- the project's latest report on or before as_of
    done_date DATE,                   -- first report date at which the stage became 竣工/投产
    {schema.REPORT_COLUMNS_SQL}
)"""


def _bit(name: str) -> int:
    return schema.FIELD_BIT[name]


# A project's first report of the year is its state at that date as it stands (nothing earlier
# to merge onto): the snapshots do not copy it, the report is flagged is_state instead, and
# `states` is what readers read: the snapshots and those reports, as one relation. A load of
# new projects so writes each row once, not twice.
STATES_VIEW_DDL = f"""CREATE OR REPLACE VIEW states AS
SELECT year, as_of, project_id, last_report_date, done_date, {", ".join(_STATE_COLS)} FROM snapshots
UNION ALL
SELECT year, report_date AS as_of, project_id, report_date AS last_report_date,
    CASE WHEN (present & {_bit('stage')}) <> 0 AND stage IN {schema.DONE_STAGES_SQL} THEN report_date END AS done_date,
    {", ".join(f"CASE WHEN (present & {_bit(c)}) <> 0 THEN {c} END AS {c}" for c in _STATE_COLS)}
FROM reports WHERE is_state"""

# A database from before is_state: the column (false: every state is in the snapshots), then the view.
UPGRADE_DDL: tuple[str, ...] = (
    "ALTER TABLE reports ADD COLUMN IF NOT EXISTS is_state BOOLEAN DEFAULT false",
    STATES_VIEW_DDL,
)


# The state of a project after merging report n onto state p: a field the report states wins,
# a field its layout does not carry keeps the earlier value.
_MERGE_COLS = ",\n    ".join(
    f"CASE WHEN n.project_id IS NOT NULL AND (n.present & {_bit(c)}) <> 0 THEN n.{c} ELSE p.{c} END AS {c}"
    for c in _STATE_COLS
)
_STAGE_EXPR = (
    f"CASE WHEN n.project_id IS NOT NULL AND (n.present & {_bit('stage')}) <> 0 THEN n.stage ELSE p.stage END"
)
SNAPSHOT_STEP_SQL = f"""
INSERT INTO snapshots
SELECT
    $year AS year,
    $as_of AS as_of,
    coalesce(n.project_id, p.project_id) AS project_id,
    CASE WHEN n.project_id IS NOT NULL THEN $as_of ELSE p.last_report_date END AS last_report_date,
    CASE WHEN {_STAGE_EXPR} IN {schema.DONE_STAGES_SQL}
         THEN CASE WHEN p.stage IN {schema.DONE_STAGES_SQL} THEN coalesce(p.done_date, $as_of) ELSE $as_of END
    END AS done_date,
    {_MERGE_COLS}
FROM (SELECT * FROM states WHERE year = $year AND as_of = $prev) p
FULL OUTER JOIN (SELECT * FROM reports WHERE year = $year AND report_date = $as_of AND NOT is_state) n
    ON p.project_id = n.project_id
"""
# Before the step: a report at $as_of is its project's state when the project has none before it
# in the year. Only reports whose flag changes are written (a backdated report can unflag a later one).
_FLAG_STEP_SQL = """
UPDATE reports SET is_state = NOT is_state
WHERE year = $year AND report_date = $as_of
  AND is_state <> (project_id NOT IN (SELECT project_id FROM states WHERE year = $year AND as_of = $prev))
"""


def has_states(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        con.execute("SELECT 1 FROM states LIMIT 0").fetchall()
    except duckdb.CatalogException:
        return False
    return True


def refresh_snapshots(con: duckdb.DuckDBPyConnection, year: int, since: date) -> None:
    """Recompute the as-of snapshots of year from date since on (report dates are the steps)."""
    con.execute("DELETE FROM snapshots WHERE year = ? AND as_of >= ?", [year, since])
    prev_row = first(con.execute(
        "SELECT max(as_of) FROM states WHERE year = ? AND as_of < ?", [year, since]
    ))
    prev = prev_row[0] if prev_row else None
    dates = [
        d for (d,) in con.execute(
            "SELECT DISTINCT report_date FROM reports WHERE year = ? AND report_date >= ? ORDER BY 1",
            [year, since],
        ).fetchall()
    ]
    for d in dates:
        con.execute(_FLAG_STEP_SQL, {"year": year, "as_of": d, "prev": prev})
        con.execute(SNAPSHOT_STEP_SQL, {"year": year, "as_of": d, "prev": prev})
        prev = d


def rebuild_snapshots(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute every snapshot, and the cells derived from them, from the reports (after a restore)."""
    con.execute("DELETE FROM snapshots")
    years = [y for (y,) in con.execute("SELECT DISTINCT year FROM reports ORDER BY 1").fetchall()]
    for y in years:
        refresh_snapshots(con, y, date(y, 1, 1))
    cells.rebuild_cells(con)
