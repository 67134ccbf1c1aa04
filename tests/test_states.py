"""The states are kept as ranges (a state valid from the report date it was merged at until the
project's next report), and a project's first report of the year is its state as it stands:
flagged is_state, never copied. The `states` view must give exactly the rows a full copy per
project and date gave (the loader's rule before), through resubmissions, corrections of earlier
weeks (in the middle of a range, before a project's first report), upgrades of older files and
restores."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from pipelines import metrics
from pipelines.vocab import schema
from pipelines.vocab.states import first_select, states_at
from pipelines.warehouse import snapshots
from tests.conftest import load_rows
from tests.test_cells import D1, D2, _varied_history, proj, week1


@pytest.fixture(params=["temp tables", "stored tables"])
def merge_path(request, monkeypatch):
    """Both ways a load's states are merged (snapshots.refresh_states): a few projects' in temp tables,
    many projects' date by date in the stored tables."""
    if request.param == "stored tables":
        monkeypatch.setattr(snapshots, "SOME_PROJECTS", 0)


def _states(con) -> list[tuple]:
    return con.execute("SELECT * FROM states ORDER BY year, as_of, project_id").fetchall()


def _bit(name: str) -> int:
    return schema.FIELD_BIT[name]


# The loader's rule before the state ranges, kept here as the reference: every project copied into a
# full state at every report date of the year, the report of that date merged onto the state before
# (a blank never erases an actual start or completion reported earlier in the year: issue 25).
_KEPT = ("actual_start_date", "completion_date")
_FULL_STEP_SQL = f"""
INSERT INTO full_states
SELECT $year, $as_of, coalesce(n.project_id, p.project_id),
    CASE WHEN n.project_id IS NOT NULL THEN $as_of ELSE p.last_report_date END,
    CASE WHEN (CASE WHEN n.project_id IS NOT NULL AND (n.present & {_bit('stage')}) <> 0 THEN n.stage ELSE p.stage END)
              IN {schema.DONE_STAGES_SQL}
         THEN CASE WHEN p.stage IN {schema.DONE_STAGES_SQL} THEN coalesce(p.done_date, $as_of) ELSE $as_of END
    END,
    {", ".join(f"CASE WHEN n.project_id IS NOT NULL AND (n.present & {_bit(c)}) <> 0"
               f"{f' AND n.{c} IS NOT NULL' if c in _KEPT else ''} THEN n.{c} ELSE p.{c} END"
               for c in schema.FIELD_NAMES)}
FROM (SELECT * FROM full_states WHERE year = $year AND as_of = $prev) p
FULL OUTER JOIN (SELECT * FROM reports WHERE year = $year AND report_date = $as_of) n ON p.project_id = n.project_id
"""


def _fully_materialised(con) -> list[tuple]:
    """The states as the loader made them before: every project at every date copied into a full
    state (nothing flagged, no ranges), computed from the reports alone."""
    con.execute("CREATE OR REPLACE TEMP TABLE full_states AS SELECT * FROM states LIMIT 0")
    for (year,) in con.execute("SELECT DISTINCT year FROM reports ORDER BY 1").fetchall():
        prev = None
        dates = con.execute("SELECT DISTINCT report_date FROM reports WHERE year = ? ORDER BY 1", [year]).fetchall()
        for (d,) in dates:
            con.execute(_FULL_STEP_SQL, {"year": year, "as_of": d, "prev": prev})
            prev = d
    try:
        return con.execute("SELECT * FROM full_states ORDER BY year, as_of, project_id").fetchall()
    finally:
        con.execute("DROP TABLE full_states")


def _same_as_full_copy(path) -> list[tuple]:
    con = duckdb.connect(str(path))
    try:
        got = _states(con)
        assert got == _fully_materialised(con)
        # states_at (what a reader of one date reads) is the view's rows at that date
        for (d,) in con.execute("SELECT as_of FROM state_dates ORDER BY 1").fetchall():
            at = con.execute(f"SELECT * FROM {states_at('$y', '$d::DATE')} s ORDER BY project_id",
                             {"y": d.year, "d": d}).fetchall()
            assert at == [r for r in got if r[1] == d]
    finally:
        con.close()
    return got


def test_states_equal_the_fully_materialised_snapshots(merge_path, wh):
    _varied_history(wh)  # new projects, a monthly report, partial weekly fields, a correction of 03-13
    con = duckdb.connect(str(wh.path))
    try:
        got = _states(con)
        want = _fully_materialised(con)
        stored = con.execute("SELECT count(*) FROM state_ranges").fetchall()[0][0]
        merged = con.execute("SELECT count(*) FROM reports WHERE NOT is_state").fetchall()[0][0]
        # the correction of 03-13 came before 项目17's and 项目21's first report (03-31): unflagged
        flags = dict(con.execute(
            "SELECT project_name, is_state FROM reports WHERE report_date = DATE '2020-03-31' "
            "AND project_name IN ('项目17', '项目21')").fetchall())
    finally:
        con.close()
    assert got == want
    assert stored == merged < len(want) / 2  # one state per later report, not one per later date
    assert flags == {"项目17": False, "项目21": False}


def test_a_first_report_is_read_from_the_reports_and_the_next_is_merged(wh):
    load_rows(wh, D1, [*week1(), proj("D项目", stage="竣工", total_investment=800.0, annual_plan=100.0)])
    con = duckdb.connect(str(wh.path))
    try:
        assert con.execute("SELECT count(*) FROM state_ranges").fetchall() == [(0,)]
        assert con.execute("SELECT bool_and(is_state), count(*) FROM reports").fetchall() == [(True, 4)]
        done = con.execute(
            "SELECT project_name, last_report_date, done_date FROM states ORDER BY project_name").fetchall()
    finally:
        con.close()
    assert done == [("A项目", D1, None), ("B项目", D1, None), ("C项目", D1, None), ("D项目", D1, D1)]
    load_rows(wh, D2, [proj("A项目", ytd_completed=300.0)], present=("ytd_completed",))
    with wh.read() as con:
        # D2: A merged onto its first report (industry and plan carried), the others carried as they were
        rows = con.execute("SELECT project_name, industry_name, annual_plan, ytd_completed, done_date FROM states "
                           "WHERE as_of = $d ORDER BY 1", {"d": D2}).fetchall()
        t = metrics.total(con, D2, filters=metrics.Filters(industries=("医药制造业",)))
        stored = con.execute("SELECT project_name, valid_from, valid_to FROM state_ranges").fetchall()
        ends = con.execute("SELECT project_name, state_to FROM reports WHERE is_state ORDER BY 1").fetchall()
    assert rows == [("A项目", "医药制造业", 10000.0, 300.0, None), ("B项目", "医药制造业", 1000.0, 50.0, None),
                    ("C项目", None, 0.0, None, None), ("D项目", None, 100.0, None, D1)]
    assert (t["projects"], t["annual_plan"], t["ytd_completed"]) == (2, 11000.0, 350.0)
    assert stored == [("A项目", D2, None)]  # only A's merged state is stored; B, C, D are read from D1's reports
    assert ends == [("A项目", D2), ("B项目", None), ("C项目", None), ("D项目", None)]


def test_an_earlier_week_loaded_later_makes_the_first_report_merge_onto_it(merge_path, wh):
    # 03-13 first, stating little; then the 03-06 ledger arrives
    load_rows(wh, D2, [proj("A项目", ytd_completed=300.0)], present=("ytd_completed", "tier"))
    load_rows(wh, D1, [proj("A项目", industry_name="医药制造业", annual_plan=2000.0, stage="在建",
                            ytd_completed=100.0)])
    with wh.read() as con:
        t = metrics.total(con, D2, filters=metrics.Filters(industries=("医药制造业",)))
        flags = con.execute("SELECT report_date, is_state FROM reports ORDER BY 1").fetchall()
    assert (t["projects"], t["annual_plan"], t["ytd_completed"]) == (1, 2000.0, 300.0)
    assert flags == [(D1, True), (D2, False)]


# The layout before the state ranges: a `snapshots` table of a full state per project and date.
_OLD_SNAPSHOT_DDL = f"""CREATE TABLE snapshots (
    year INTEGER NOT NULL, as_of DATE NOT NULL, project_id VARCHAR NOT NULL, last_report_date DATE NOT NULL,
    done_date DATE, {schema.REPORT_COLUMNS_SQL})"""


def _as_before_state_reports(path) -> None:
    """Make the file look like one written before is_state: every state copied into the snapshots,
    no flag, no ranges, no view."""
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE TEMP TABLE all_states AS SELECT * FROM states")
        con.execute(_OLD_SNAPSHOT_DDL)
        con.execute("INSERT INTO snapshots SELECT * FROM all_states")
        con.execute("DROP VIEW states")
        con.execute("DROP TABLE state_ranges")
        con.execute("DROP TABLE state_dates")
        con.execute("ALTER TABLE reports DROP COLUMN is_state")
        con.execute("ALTER TABLE reports DROP COLUMN state_to")
    finally:
        con.close()


def _as_before_ranges(path) -> None:
    """Make the file look like one written with is_state but before the ranges: the snapshots hold every
    state but the first reports', at every date; the view reads both."""
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE TEMP TABLE all_states AS SELECT * FROM states")
        con.execute(_OLD_SNAPSHOT_DDL)
        con.execute("""INSERT INTO snapshots SELECT s.* FROM all_states s ANTI JOIN
                       (SELECT project_id, report_date FROM reports WHERE is_state) f
                       ON f.project_id = s.project_id AND f.report_date = s.as_of""")
        con.execute(f"""CREATE OR REPLACE VIEW states AS SELECT * FROM snapshots UNION ALL
                        SELECT f.year, f.report_date AS as_of, {first_select("f")} FROM reports f WHERE f.is_state""")
        con.execute("DROP TABLE state_ranges")
        con.execute("DROP TABLE state_dates")
        con.execute("ALTER TABLE reports DROP COLUMN state_to")
        assert con.execute("SELECT count(*) FROM states").fetchall() == [(len(_states_of(con, "all_states")),)]
    finally:
        con.close()


def _states_of(con, table: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM {table}").fetchall()


def test_a_database_from_before_the_ranges_is_upgraded_and_reads_the_same(wh):
    _varied_history(wh)
    with wh.read() as con:
        want = _states(con)
        before = [metrics.total(con, d) for d in metrics.report_dates(con, 2020)]
    _as_before_ranges(wh.path)
    wh.upgrade()
    assert _same_as_full_copy(wh.path) == want
    with wh.read() as con:
        assert [metrics.total(con, d) for d in metrics.report_dates(con, 2020)] == before
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "snapshots" not in tables and {"state_ranges", "state_dates"} <= tables


def test_a_database_from_before_state_reports_is_upgraded_and_reads_the_same(wh):
    _varied_history(wh)
    with wh.read() as con:
        before = [metrics.total(con, d) for d in metrics.report_dates(con, 2020)]
    _as_before_state_reports(wh.path)
    # the figures come from the cells; a project list does not
    with pytest.raises(duckdb.CatalogException), wh.read() as con:
        metrics.project_states(con, D1)
    wh.upgrade()  # what the app and the CLI do before reading
    with wh.read() as con:
        assert [metrics.total(con, d) for d in metrics.report_dates(con, 2020)] == before
        assert metrics.project_states(con, D1).height == 16
    # the next load flags its first reports and keeps the older ones' copies correct
    load_rows(wh, date(2020, 4, 10), [proj("新项目", stage="在建", annual_plan=50.0), proj("项目00", tier="省级双百·新兴", ytd_completed=9.0)],
              present=("ytd_completed", "stage", "annual_plan", "tier"))
    con = duckdb.connect(str(wh.path))
    try:
        flags = con.execute("SELECT project_name, is_state FROM reports WHERE report_date = DATE '2020-04-10' "
                            "ORDER BY 1").fetchall()
        assert _states(con) == _fully_materialised(con)
    finally:
        con.close()
    assert flags == [("新项目", True), ("项目00", False)]


def test_a_backup_of_a_database_from_before_state_reports_restores_with_them(wh, tmp_path):
    from pipelines.warehouse.backup import backup, restore

    _varied_history(wh)
    with wh.read() as con:
        want = _states(con)
    _as_before_state_reports(wh.path)
    backup(wh, tmp_path / "bk")  # reports without is_state
    target = tmp_path / "restored.duckdb"
    restore(tmp_path / "bk", target)
    con = duckdb.connect(str(target))
    try:
        assert _states(con) == want
        assert con.execute("SELECT count(*) FROM reports WHERE is_state").fetchall()[0][0] > 0
    finally:
        con.close()


D3 = date(2020, 3, 20)


def _state(wh, name: str, d: date, cols: str) -> tuple:
    with wh.read() as con:
        rows = con.execute(f"SELECT {cols} FROM states WHERE project_name = $n AND as_of = $d",
                           {"n": name, "d": d}).fetchall()
    assert len(rows) == 1, rows
    return rows[0]


def test_a_correction_in_the_middle_of_a_range_splits_it_and_remerges_the_next_state(merge_path, wh):
    load_rows(wh, D1, [*week1()])
    load_rows(wh, D3, [proj("A项目", ytd_completed=300.0)], present=("ytd_completed",))
    with wh.read() as con:
        b_before = con.execute("SELECT * FROM state_ranges ORDER BY ALL").fetchall()
    # 03-13 arrives late: A changed its stage and industry then; B and C are not in the file
    load_rows(wh, D2, [proj("A项目", stage="竣工", industry_name="化学原料", ytd_completed=200.0)],
              present=("stage", "industry_name", "ytd_completed"))
    _same_as_full_copy(wh.path)
    assert _state(wh, "A项目", D2, "stage, industry_name, ytd_completed, last_report_date, done_date") == (
        "竣工", "化学原料", 200.0, D2, D2)
    # 03-20 states only the amount: the stage and industry come from the 03-13 report now
    assert _state(wh, "A项目", D3, "stage, industry_name, ytd_completed, last_report_date, done_date") == (
        "竣工", "化学原料", 300.0, D3, D2)
    assert _state(wh, "B项目", D3, "stage, last_report_date") == ("在建", D1)
    with wh.read() as con:
        ranges = con.execute("SELECT project_name, valid_from, valid_to FROM state_ranges ORDER BY 2").fetchall()
        ends = con.execute("SELECT project_name, state_to FROM reports WHERE is_state ORDER BY 1").fetchall()
    assert b_before and ranges == [("A项目", D2, D3), ("A项目", D3, None)]
    assert ends == [("A项目", D2), ("B项目", None), ("C项目", None)]  # A's first report ends at 03-13 now


def test_a_correction_before_a_projects_first_report_becomes_its_first_state(merge_path, wh):
    load_rows(wh, D1, [proj("B项目", stage="在建", annual_plan=10.0)])
    load_rows(wh, D2, [proj("X项目", stage="在建", ytd_completed=50.0)], present=("stage", "ytd_completed"))
    load_rows(wh, D3, [proj("X项目", ytd_completed=80.0)], present=("ytd_completed",))
    # X's ledger for 03-06 comes after: its first report now, carrying the plan and industry on
    load_rows(wh, D1, [proj("X项目", stage="前期", industry_name="医药制造业", annual_plan=900.0)],
              file_name="x_ledger.csv")
    _same_as_full_copy(wh.path)
    assert _state(wh, "X项目", D1, "stage, annual_plan, industry_name, ytd_completed") == ("前期", 900.0, "医药制造业", None)
    assert _state(wh, "X项目", D2, "stage, annual_plan, industry_name, ytd_completed") == ("在建", 900.0, "医药制造业", 50.0)
    assert _state(wh, "X项目", D3, "stage, annual_plan, industry_name, ytd_completed") == ("在建", 900.0, "医药制造业", 80.0)
    with wh.read() as con:
        flags = con.execute("SELECT project_name, report_date, is_state, state_to FROM reports ORDER BY 1, 2").fetchall()
    assert flags == [("B项目", D1, True, None), ("X项目", D1, True, D2), ("X项目", D2, False, None),
                     ("X项目", D3, False, None)]


def test_a_resubmission_replacing_a_report_remerges_the_later_states(merge_path, wh):
    load_rows(wh, D1, [*week1()])
    load_rows(wh, D2, [proj("A项目", ytd_completed=200.0)], present=("ytd_completed",))
    load_rows(wh, D3, [proj("A项目", ytd_completed=300.0)], present=("ytd_completed",))
    # 03-13 sent again: A was 竣工 then
    load_rows(wh, D2, [proj("A项目", stage="竣工", ytd_completed=210.0)], present=("stage", "ytd_completed"),
              file_name="again.csv")
    _same_as_full_copy(wh.path)
    assert _state(wh, "A项目", D2, "stage, ytd_completed, done_date") == ("竣工", 210.0, D2)
    assert _state(wh, "A项目", D3, "stage, ytd_completed, done_date, annual_plan") == ("竣工", 300.0, D2, 10000.0)
    with wh.read() as con:
        n = con.execute("SELECT count(*) FROM state_ranges").fetchall()
    assert n == [(2,)]


def test_a_backup_restores_the_same_states(wh, tmp_path):
    from pipelines.warehouse.backup import backup, restore

    _varied_history(wh)
    want = _same_as_full_copy(wh.path)
    backup(wh, tmp_path / "bk")
    restore(tmp_path / "bk", tmp_path / "restored.duckdb")
    assert _same_as_full_copy(tmp_path / "restored.duckdb") == want
