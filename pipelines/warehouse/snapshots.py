"""The states: each project's state at every report date of the year, merged field by field from
its reports, stored as ranges (pipelines/vocab/states.py: a state is kept once, valid from the
report date it was merged at until the project's next report), and the `states` view the
metrics read. Written only inside the warehouse's write transaction (store.Warehouse).

A load changes the states of the projects it brings reports for, from its report date on, and
no others: a report for an earlier week splits the range it falls into and re-merges that
project's later states (a later report that lacks a field takes it from the state before it),
so a backdated file costs what a current one does, not a rewrite of every later week.
"""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines.vocab import schema
from pipelines.vocab.states import OPEN, STATE_COLS, STATES_VIEW_DDL, first_select
from pipelines.warehouse import cells
from pipelines.warehouse.connection import count_rows, first

STATE_DDL: tuple[str, ...] = (
    f"""CREATE TABLE IF NOT EXISTS state_ranges (
    year INTEGER NOT NULL,
    project_id VARCHAR NOT NULL,
    valid_from DATE NOT NULL,         -- the report date this state was merged at (its last_report_date)
    valid_to DATE,                    -- the project's next report date in the year (NULL: none yet)
    done_date DATE,                   -- first report date at which the stage became 竣工/投产
    {schema.REPORT_COLUMNS_SQL}
)""",
    """CREATE TABLE IF NOT EXISTS state_dates (
    year INTEGER NOT NULL,
    as_of DATE NOT NULL               -- a report date of the year: the states are read at these
)""",
)

# A database from before the ranges: the derived columns and tables, then the view (the states
# themselves are computed again by rebuild_states, and the old `snapshots` table dropped).
UPGRADE_DDL: tuple[str, ...] = (
    "ALTER TABLE reports ADD COLUMN IF NOT EXISTS is_state BOOLEAN DEFAULT false",
    "ALTER TABLE reports ADD COLUMN IF NOT EXISTS state_to DATE",
    *STATE_DDL,
    STATES_VIEW_DDL,
)


def _bit(name: str) -> int:
    return schema.FIELD_BIT[name]


# The state of a project after merging its report n onto its state p before it: a field the
# report states wins, a field its layout does not carry keeps the earlier value. A blank never
# erases a date that happened (KEPT_DATES): a start or completion reported earlier in the year
# stands until a later report gives another one.
KEPT_DATES = ("actual_start_date", "completion_date")
_MERGE_COLS = ",\n    ".join(
    f"CASE WHEN (n.present & {_bit(c)}) <> 0{f' AND n.{c} IS NOT NULL' if c in KEPT_DATES else ''} "
    f"THEN n.{c} ELSE p.{c} END AS {c}" for c in STATE_COLS
)
_STAGE_EXPR = f"CASE WHEN (n.present & {_bit('stage')}) <> 0 THEN n.stage ELSE p.stage END"
_MERGE_SQL = f"""
INSERT INTO state_ranges
SELECT
    $year AS year, n.project_id, $d AS valid_from, NULL AS valid_to,
    CASE WHEN {_STAGE_EXPR} IN {schema.DONE_STAGES_SQL}
         THEN CASE WHEN p.stage IN {schema.DONE_STAGES_SQL} THEN coalesce(p.done_date, $d) ELSE $d END
    END AS done_date,
    {_MERGE_COLS}
FROM reports n JOIN step_prev p USING (project_id)
WHERE n.year = $year AND n.report_date = $d
"""
# The open state (the latest, valid_to NULL) before $d of each project reporting at $d.
_PREV_SQL = f"""
CREATE OR REPLACE TEMP TABLE step_prev AS
SELECT r.project_id, r.done_date, {", ".join(f"r.{c}" for c in STATE_COLS)}
FROM state_ranges r
WHERE r.year = $year AND r.valid_to IS NULL AND r.valid_from < $d
  AND r.project_id IN (SELECT project_id FROM step_new)
UNION ALL
SELECT * EXCLUDE (last_report_date) FROM (
    SELECT {first_select("f")} FROM reports f
    WHERE f.year = $year AND f.is_state AND f.state_to IS NULL AND f.report_date < $d
      AND f.project_id IN (SELECT project_id FROM step_new))
"""


def missing_report_fields(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The fields of REPORT_FIELDS the reports table has no column for (a database written before
    they were added; none in a database without reports)."""
    cols = {c for (c,) in con.execute(
        """SELECT column_name FROM duckdb_columns()
           WHERE database_name = current_database() AND schema_name = 'main' AND table_name = 'reports'"""
    ).fetchall()}
    return [f for f in schema.FIELD_NAMES if f not in cols] if cols else []


def present_remap_sql(had: list[str] | tuple[str, ...]) -> str:
    """The `present` bitmask of a report written when REPORT_FIELDS were only the fields had (in
    the same order: fields are only ever added), as the bits of REPORT_FIELDS now."""
    return "(" + " | ".join(
        f"CASE WHEN (present & {1 << i}) <> 0 THEN {schema.FIELD_BIT[f]} ELSE 0 END" for i, f in enumerate(had)
    ) + ")"


def remap_present(con: duckdb.DuckDBPyConnection, had: list[str], table: str = "reports") -> None:
    """Reports (or their superseded versions, table report_versions) restored from a backup written when
    REPORT_FIELDS were only the fields had: their `present` bits moved to the fields' places now."""
    assert table in ("reports", "report_versions")
    if len(had) < len(schema.FIELD_NAMES):
        con.execute(f"UPDATE {table} SET present = {present_remap_sql(had)}")


def add_report_fields(con: duckdb.DuckDBPyConnection) -> None:
    """Add the columns of the fields added to REPORT_FIELDS since the reports were written (null:
    no report stated them), with each report's `present` bits moved to the fields' places now."""
    missing = missing_report_fields(con)
    if not missing:
        return
    had = [f for f in schema.FIELD_NAMES if f not in missing]
    sql_type = {"text": "VARCHAR", "money": "DOUBLE", "date": "DATE", "bool": "BOOLEAN", "stage": "VARCHAR",
                "tier": "VARCHAR", "int": "BIGINT"}
    for f in missing:  # names and types from the schema, never user text
        con.execute(f"ALTER TABLE reports ADD COLUMN IF NOT EXISTS {f} {sql_type[schema.FIELD[f].kind]}")
    con.execute(f"UPDATE reports SET present = {present_remap_sql(had)}")


def has_states(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the states are kept as this module keeps them (not a database from before the ranges)."""
    rows = con.execute(
        """SELECT count(*) FILTER (WHERE table_name IN ('state_ranges', 'state_dates'))
                  - count(*) FILTER (WHERE table_name = 'snapshots')
           FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'"""
    ).fetchall()
    if not rows or rows[0][0] != 2:
        return False
    if missing_report_fields(con):  # a field added since: its column, the bits, the states again
        return False
    try:
        con.execute("SELECT state_to FROM reports LIMIT 0").fetchall()
        con.execute("SELECT 1 FROM states LIMIT 0").fetchall()
    except duckdb.BinderException:
        return False
    except duckdb.CatalogException:
        return False
    return True


# A load of at most this many projects (a county's or a city's correction) merges their states in temp
# tables (_refresh_some); more (a week's file, a rebuild) date by date in the stored tables.
SOME_PROJECTS = 5_000

# The states of a few projects from since on, merged in temp tables (_refresh_some): st_reports their
# reports from since on; st_have their ranges from the one open before since on, as they are; st_states the
# state each had just before since (before: true; is_first: a first report, flagged in reports, not a range;
# old_to: where it ended) and, added date by date, the state merged at each report.
_SOME_PREV_SQL = f"""
CREATE OR REPLACE TEMP TABLE st_states AS
SELECT project_id, valid_from, false AS is_first, true AS before, valid_to AS old_to, done_date,
       {", ".join(STATE_COLS)}
FROM st_have WHERE valid_from < $since
UNION ALL BY NAME
SELECT project_id, last_report_date AS valid_from, true AS is_first, true AS before,
       * EXCLUDE (project_id, last_report_date) FROM (
    SELECT f.state_to AS old_to, {first_select("f")} FROM reports f
    WHERE f.year = $year AND f.is_state AND f.report_date < $since AND coalesce(f.state_to, {OPEN}) >= $since
      AND f.project_id IN (SELECT project_id FROM st_projects))
"""
# The merge of _MERGE_SQL onto each project's latest state in st_states; a project with none yet: its
# first report, whose state is the report as it stands (merged onto nothing, the same columns: every
# field the report does not state NULL, done_date its date when its stage is done).
_SOME_STEP_SQL = f"""
INSERT INTO st_states BY NAME
SELECT
    n.project_id, $d AS valid_from, p.project_id IS NULL AS is_first, false AS before,
    CASE WHEN {_STAGE_EXPR} IN {schema.DONE_STAGES_SQL}
         THEN CASE WHEN p.stage IN {schema.DONE_STAGES_SQL} THEN coalesce(p.done_date, $d) ELSE $d END
    END AS done_date,
    {_MERGE_COLS}
FROM st_reports n
LEFT JOIN (SELECT * FROM st_states QUALIFY row_number() OVER (PARTITION BY project_id ORDER BY valid_from DESC) = 1) p
    ON p.project_id = n.project_id
WHERE n.report_date = $d
"""


def _refresh_some(con: duckdb.DuckDBPyConnection, year: int, since: date, projects: str) -> None:
    """refresh_states for a few projects: their reports from since on and their states before it read
    once into temp tables, merged there date by date (a statement per date over a few rows, not six
    over the stored tables), and written back where they changed, each stored table passed over once."""
    ys = {"year": year, "since": since}
    con.execute(f"CREATE OR REPLACE TEMP TABLE st_projects AS SELECT DISTINCT project_id FROM {projects}")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE st_reports AS SELECT * FROM reports
           WHERE year = $year AND report_date >= $since AND project_id IN (SELECT project_id FROM st_projects)""",
        ys,
    )
    con.execute(  # a new report date is one of these projects' (the only reports a load adds)
        """INSERT INTO state_dates
           SELECT DISTINCT $year, report_date FROM st_reports
           WHERE report_date NOT IN (SELECT as_of FROM state_dates WHERE year = $year)""",
        {"year": year},
    )
    cols = ", ".join(("year", "project_id", "valid_from", "valid_to", "done_date", *STATE_COLS))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE st_have AS
            SELECT {cols} FROM state_ranges
            WHERE year = $year AND coalesce(valid_to, {OPEN}) >= $since
              AND project_id IN (SELECT project_id FROM st_projects)""", ys)
    con.execute(_SOME_PREV_SQL, ys)
    dates = [d for (d,) in con.execute("SELECT DISTINCT report_date FROM st_reports ORDER BY 1").fetchall()]
    if dates:  # prepared once, run date after date (each run sees the states the one before added)
        con.executemany(_SOME_STEP_SQL, [{"d": d} for d in dates])
    # each state valid until the project's next report (NULL: none yet)
    con.execute(
        """CREATE OR REPLACE TEMP TABLE st_ends AS
           SELECT project_id, valid_from, is_first, before,
                  lead(valid_from) OVER (PARTITION BY project_id ORDER BY valid_from) AS valid_to
           FROM st_states""")
    # Written back only where something changed (a correction of one week changes the states of a few
    # dates; a later report that states the corrected fields itself leaves its state as it was): the
    # ranges from the one open before since on, as they are and as they should be, compared whole.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE st_want AS
            SELECT {cols} FROM (
                SELECT $year AS year, s.*, e.valid_to FROM st_states s
                JOIN st_ends e ON e.project_id = s.project_id AND e.valid_from = s.valid_from
                WHERE NOT s.is_first)""", {"year": year})
    # (a join on the key and the columns compared after it: EXCEPT compares all of them in its join, ~5x slower)
    same = " AND ".join(f"w.{c} IS NOT DISTINCT FROM h.{c}" for c in ("valid_to", "done_date", *STATE_COLS))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE st_changed AS
            SELECT coalesce(w.project_id, h.project_id) AS project_id, coalesce(w.valid_from, h.valid_from) AS valid_from,
                   h.project_id IS NOT NULL AS had, w.project_id IS NOT NULL AS wanted
            FROM st_want w FULL JOIN st_have h ON h.project_id = w.project_id AND h.valid_from = w.valid_from
            WHERE w.project_id IS NULL OR h.project_id IS NULL OR NOT ({same})""")
    changed = first(con.execute("SELECT count(*) FILTER (had), count(*) FILTER (wanted) FROM st_changed"))
    if changed and changed[0]:
        con.execute(
            """DELETE FROM state_ranges r USING st_changed g
               WHERE r.year = $year AND g.had AND r.project_id = g.project_id AND r.valid_from = g.valid_from""",
            {"year": year})
    if changed and changed[1]:
        con.execute(
            """INSERT INTO state_ranges BY NAME
               SELECT w.* FROM st_want w JOIN st_changed g ON g.project_id = w.project_id AND g.valid_from = w.valid_from
               WHERE g.wanted ORDER BY w.valid_from, w.project_id""")
    # every report from since on: a first report is its state (until the next), others not; and the first
    # report before since that is its project's state there ends at its next report now
    con.execute(
        """CREATE OR REPLACE TEMP TABLE st_flags AS
           SELECT e.project_id, e.valid_from AS report_date, e.is_first AS is_state,
                  CASE WHEN e.is_first THEN e.valid_to END AS state_to
           FROM st_ends e
           LEFT JOIN st_reports r ON r.project_id = e.project_id AND r.report_date = e.valid_from
           LEFT JOIN st_states s ON s.project_id = e.project_id AND s.valid_from = e.valid_from AND s.before
           WHERE CASE WHEN e.before THEN e.is_first AND s.old_to IS DISTINCT FROM e.valid_to
                      ELSE r.is_state IS DISTINCT FROM e.is_first
                           OR r.state_to IS DISTINCT FROM CASE WHEN e.is_first THEN e.valid_to END END""")
    if count_rows(con, "st_flags"):
        con.execute(
            """UPDATE reports r SET is_state = e.is_state, state_to = e.state_to FROM st_flags e
               WHERE r.year = $year AND r.project_id = e.project_id AND r.report_date = e.report_date""",
            {"year": year})
    for t in ("st_projects", "st_reports", "st_states", "st_ends", "st_want", "st_have", "st_changed", "st_flags"):
        con.execute(f"DROP TABLE IF EXISTS {t}")


def refresh_states(
    con: duckdb.DuckDBPyConnection, year: int, since: date, projects: str | None = None
) -> None:
    """Recompute year's states of the projects whose reports on or after since changed (projects:
    the name of a relation of their project_id; None: every project), from since on."""
    if projects is not None and count_rows(con, projects) <= SOME_PROJECTS:
        _refresh_some(con, year, since, projects)
        return
    p_in = "true" if projects is None else f"project_id IN (SELECT project_id FROM {projects})"
    ys = {"year": year, "since": since}
    con.execute(
        """INSERT INTO state_dates
           SELECT DISTINCT year, report_date FROM reports
           WHERE year = $year AND report_date >= $since
             AND report_date NOT IN (SELECT as_of FROM state_dates WHERE year = $year)""",
        ys,
    )
    # Undo the projects' states from since on: the state before since is open again.
    con.execute(f"DELETE FROM state_ranges WHERE year = $year AND valid_from >= $since AND {p_in}", ys)
    con.execute(f"UPDATE state_ranges SET valid_to = NULL WHERE year = $year AND valid_to >= $since AND {p_in}", ys)
    con.execute(
        f"""UPDATE reports SET is_state = false, state_to = NULL
            WHERE year = $year AND report_date >= $since AND (is_state OR state_to IS NOT NULL) AND {p_in}""",
        ys,
    )
    con.execute(
        f"""UPDATE reports SET state_to = NULL
            WHERE year = $year AND is_state AND report_date < $since AND state_to >= $since AND {p_in}""",
        ys,
    )
    dates = [d for (d,) in con.execute(
        f"SELECT DISTINCT report_date FROM reports WHERE year = $year AND report_date >= $since AND {p_in} ORDER BY 1",
        ys,
    ).fetchall()]
    for d in dates:
        yd = {"year": year, "d": d}
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE step_new AS SELECT project_id FROM reports "
            f"WHERE year = $year AND report_date = $d AND {p_in}", yd)
        con.execute(_PREV_SQL, yd)
        # A report with no state before it is its project's state as it stands (flagged, not copied).
        con.execute(
            f"""UPDATE reports SET is_state = true
                WHERE year = $year AND report_date = $d AND {p_in}
                  AND project_id NOT IN (SELECT project_id FROM step_prev)""",
            yd,
        )
        con.execute(_MERGE_SQL, yd)
        con.execute(
            """UPDATE state_ranges SET valid_to = $d
               WHERE year = $year AND valid_to IS NULL AND valid_from < $d
                 AND project_id IN (SELECT project_id FROM step_prev)""",
            yd,
        )
        con.execute(
            """UPDATE reports SET state_to = $d
               WHERE year = $year AND is_state AND state_to IS NULL AND report_date < $d
                 AND project_id IN (SELECT project_id FROM step_prev)""",
            yd,
        )
    con.execute("DROP TABLE IF EXISTS step_new")
    con.execute("DROP TABLE IF EXISTS step_prev")


def rebuild_states(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute every state from the reports (after a restore, or in a database from before the
    ranges, whose `snapshots` table goes), and the cells derived from them."""
    add_report_fields(con)
    # The ranges are derived and written by position: made anew with the fields of now.
    con.execute("DROP VIEW IF EXISTS states")
    con.execute("DROP TABLE IF EXISTS state_ranges")
    for ddl in UPGRADE_DDL:
        con.execute(ddl)
    con.execute("DROP TABLE IF EXISTS snapshots")
    con.execute("DELETE FROM state_ranges")
    con.execute("DELETE FROM state_dates")
    years = [y for (y,) in con.execute("SELECT DISTINCT year FROM reports ORDER BY 1").fetchall()]
    for y in years:
        refresh_states(con, y, date(y, 1, 1))
    cells.rebuild_cells(con)
