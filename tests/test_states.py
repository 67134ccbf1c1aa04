"""A project's first report of the year is its state as it stands: flagged is_state and read
through the `states` view, never copied into the snapshots. The states must be exactly the
ones a full copy per project and date gave (the loader's rule before), through resubmissions,
corrections of earlier weeks and upgrades of older files."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from pipelines import metrics
from pipelines.warehouse import snapshots
from tests.conftest import load_rows
from tests.test_cells import D1, D2, _varied_history, proj, week1


def _states(con) -> list[tuple]:
    return con.execute("SELECT * FROM states ORDER BY year, as_of, project_id").fetchall()


def _fully_materialised(con) -> list[tuple]:
    """The states as the loader made them before: every project at every date copied into the
    snapshots (no report flagged), computed in a transaction that is rolled back."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("UPDATE reports SET is_state = false")
        con.execute("DELETE FROM snapshots")
        for (year,) in con.execute("SELECT DISTINCT year FROM reports ORDER BY 1").fetchall():
            prev = None
            dates = con.execute(
                "SELECT DISTINCT report_date FROM reports WHERE year = ? ORDER BY 1", [year]).fetchall()
            for (d,) in dates:
                con.execute(snapshots.SNAPSHOT_STEP_SQL, {"year": year, "as_of": d, "prev": prev})
                prev = d
        return _states(con)
    finally:
        con.execute("ROLLBACK")


def test_states_equal_the_fully_materialised_snapshots(wh):
    _varied_history(wh)  # new projects, a monthly report, partial weekly fields, a correction of 03-13
    con = duckdb.connect(str(wh.path))
    try:
        got = _states(con)
        want = _fully_materialised(con)
        stored = con.execute("SELECT count(*) FROM snapshots").fetchall()[0][0]
        # the correction of 03-13 came before 项目17's and 项目21's first report (03-31): unflagged
        flags = dict(con.execute(
            "SELECT project_name, is_state FROM reports WHERE report_date = DATE '2020-03-31' "
            "AND project_name IN ('项目17', '项目21')").fetchall())
    finally:
        con.close()
    assert got == want
    assert stored < len(want)  # the first reports are not copied
    assert flags == {"项目17": False, "项目21": False}


def test_a_first_report_is_read_from_the_reports_and_the_next_is_merged(wh):
    load_rows(wh, D1, [*week1(), proj("D项目", stage="竣工", total_investment=800.0, annual_plan=100.0)])
    con = duckdb.connect(str(wh.path))
    try:
        assert con.execute("SELECT count(*) FROM snapshots").fetchall() == [(0,)]
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
        stored = con.execute("SELECT count(*) FROM snapshots WHERE as_of = $d", {"d": D2}).fetchall()
    assert rows == [("A项目", "医药制造业", 10000.0, 300.0, None), ("B项目", "医药制造业", 1000.0, 50.0, None),
                    ("C项目", None, 0.0, None, None), ("D项目", None, 100.0, None, D1)]
    assert (t["projects"], t["annual_plan"], t["ytd_completed"]) == (2, 11000.0, 350.0)
    assert stored == [(4,)]


def test_an_earlier_week_loaded_later_makes_the_first_report_merge_onto_it(wh):
    # 03-13 first, stating little; then the 03-06 ledger arrives
    load_rows(wh, D2, [proj("A项目", ytd_completed=300.0)], present=("ytd_completed", "tier"))
    load_rows(wh, D1, [proj("A项目", industry_name="医药制造业", annual_plan=2000.0, stage="在建",
                            ytd_completed=100.0)])
    with wh.read() as con:
        t = metrics.total(con, D2, filters=metrics.Filters(industries=("医药制造业",)))
        flags = con.execute("SELECT report_date, is_state FROM reports ORDER BY 1").fetchall()
    assert (t["projects"], t["annual_plan"], t["ytd_completed"]) == (1, 2000.0, 300.0)
    assert flags == [(D1, True), (D2, False)]


def _as_before_state_reports(path) -> None:
    """Make the file look like one written before is_state: every state copied into the snapshots,
    no flag, no view."""
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE TEMP TABLE all_states AS SELECT * FROM states")
        con.execute("DELETE FROM snapshots")
        con.execute("INSERT INTO snapshots SELECT * FROM all_states")
        con.execute("DROP VIEW states")
        con.execute("ALTER TABLE reports DROP COLUMN is_state")
    finally:
        con.close()


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
