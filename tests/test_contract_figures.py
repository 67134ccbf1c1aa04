"""The issue-25 contract (shared metrics.md, 「Figures」 and the paragraphs after the table) on tiny
cases computed by hand: started and due from the row's own word (start_stated), a continuing project
with no date, a started project with no planned date, a blank that never erases, 竣工率 over the
planned completions only, S as the year's list, and 同比 both ways. Every figure is checked from the
stored cells and from the snapshots (the same SQL), and the lights take the same started/due."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from pipelines import metrics
from pipelines.metrics import lights
from pipelines.metrics.dates import At
from pipelines.metrics.figures import figures_at, same_day_last_year
from pipelines.vocab import schema
from tests.conftest import load_rows
from tests.test_metrics import assert_figures

TY, XZ = ("140100", "太原市"), ("140900", "忻州市")
D1, D2 = date(2020, 3, 6), date(2020, 3, 13)  # two Fridays: weekly periods 02-29..03-06, 03-07..03-13


def proj(name: str, city=TY, **kw):
    return {"project_name": name, "city_code": city[0], "city_name": city[1], "tier": "市级千项",
            "stage": None, "planned_start_date": None, "actual_start_date": None, "not_started_reason": None,
            "start_stated": None, "planned_completion_date": None, "completion_date": None,
            "total_investment": 100.0, "annual_plan": 0.0, "ytd_completed": None, **kw}


def week1() -> list[dict]:
    return [
        # a status of 在建 with no (re)start date: the row says it has started (start_stated true), which
        # a planned date after D does not undo
        proj("A在建已开工", stage="在建", start_stated=True, planned_start_date=date(2020, 4, 30)),
        # dated on or before D, but a 未开复工原因 is given: not started (the reader sets start_stated false)
        proj("B有原因", stage="新开工", planned_start_date=date(2020, 3, 1), actual_start_date=date(2020, 3, 2),
             not_started_reason="资金未落实", start_stated=False),
        # continuing, no date, nothing saying otherwise: due from 1 January, and started
        proj("C续建无日期", stage="续建"),
        # continuing, 尚未复工: due, not started
        proj("D续建未复工", stage="续建", start_stated=False),
        # no stage, an actual start in 2019: continuing (and started)
        proj("E去年开工", actual_start_date=date(2019, 8, 1)),
        # started with no planned date: due
        proj("F无计划已开工", stage="新开工", actual_start_date=date(2020, 3, 2)),
        # 前期 planned after D: neither due nor started
        proj("G前期", stage="前期", planned_start_date=date(2020, 6, 30)),
        # 储备: never due, whatever the row says
        proj("H储备", stage="储备", start_stated=True),
        # started 03-04; the next week's report leaves the date blank: still started
        proj("I本周开工", stage="新开工", planned_start_date=date(2020, 3, 1), actual_start_date=date(2020, 3, 4)),
        # 竣工 with no date: completed, so started, so due
        proj("J竣工无日期", stage="竣工"),
        # completed 03-05 as planned (planned completion 06-30); the next week leaves the date blank
        proj("K已完工", stage="在建", completion_date=date(2020, 3, 5), planned_completion_date=date(2020, 6, 30)),
    ]


def week2() -> list[dict]:
    return [proj("I本周开工", actual_start_date=None), proj("K已完工", completion_date=None)]


def load_weeks(wh) -> None:
    load_rows(wh, D1, week1())
    load_rows(wh, D2, week2(), present=("actual_start_date", "completion_date"))


# At 03-13 (I and K from their 03-13 reports, the rest from 03-06), by hand:
# due: A (started), B (planned 03-01), C, D (continuing), E (continuing), F (started), I (planned 03-01),
#      J (completed: started), K (continuing, and completed) = 9; not G (planned 06-30), not H (储备)
# started: A, C, E, F, I, J, K = 7; overdue: B, D = 2; start_rate 7/9
# completed: J (竣工 first reported 03-06), K (03-05, kept over the blank) = 2; planned completions: K = 1;
#      completed as planned: K = 1; 竣工率 1/1
AT_D2 = {"projects": 11, "due": 9, "started": 7, "overdue": 2, "start_rate": 7 / 9, "completed": 2,
         "planned_completions": 1, "completed_as_planned": 1, "completion_count_rate": 1.0}
FLAGS_AT_D2 = {  # (is_due, has_started, is_started)
    "A在建已开工": (True, True, True), "B有原因": (True, False, False), "C续建无日期": (True, True, True),
    "D续建未复工": (True, False, False), "E去年开工": (True, True, True), "F无计划已开工": (True, True, True),
    "G前期": (False, False, False), "H储备": (False, True, False), "I本周开工": (True, True, True),
    "J竣工无日期": (True, True, True), "K已完工": (True, True, True),
}



def computed(con, year: int, d: date, start: date, by=None) -> list[dict]:
    """The figures from the snapshots (not the stored cells)."""
    return figures_at(con, year, [d], [start], metrics.Filters(), (by,), None, stored=False)[by][d]


def test_started_and_due_by_hand_in_stored_and_computed_cells(wh):
    load_weeks(wh)
    with wh.read() as con:
        assert At.of(con, D2, None, None, metrics.Filters()).stored
        stored = metrics.total(con, D2)
        from_states = computed(con, 2020, D2, date(2020, 3, 7))[0]
        states = {r["project_name"]: (r["is_due"], r["has_started"], r["is_started"])
                  for r in metrics.project_states(con, D2).to_dicts()}
        lit = {r["project_name"]: r["light_start"] for r in lights.project_lights(con, D2).to_dicts()}
    for got in (stored, from_states):
        assert_figures(got, AT_D2)
    assert states == FLAGS_AT_D2
    # the lights take the same started/due: the two not started are due since 03-01 and 01-01 (yellow,
    # under 3 months); C, continuing with no date, is started (green); H (储备) is not lit
    assert {n: lit[n] for n in ("B有原因", "C续建无日期", "D续建未复工", "G前期", "H储备")} == {
        "B有原因": "yellow", "C续建无日期": "green", "D续建未复工": "yellow", "G前期": "green", "H储备": None}


def test_a_blank_never_erases_an_earlier_start_or_completion(wh):
    load_weeks(wh)
    with wh.read() as con:
        rows = {r["project_name"]: r for r in metrics.project_states(con, D2).to_dicts()}
        blank = con.execute("SELECT count(*) FROM reports WHERE report_date = $d AND actual_start_date IS NULL "
                            "AND completion_date IS NULL", {"d": D2}).fetchall()
    assert blank == [(2,)]  # the reports themselves are blank: the states keep the earlier dates
    assert rows["I本周开工"]["actual_start_date"] == date(2020, 3, 4)
    assert rows["K已完工"]["completion_date"] == date(2020, 3, 5)
    # a later date given does replace it
    load_rows(wh, date(2020, 3, 20), [proj("I本周开工", actual_start_date=date(2020, 3, 3))],
              present=("actual_start_date",))
    with wh.read() as con:
        rows = {r["project_name"]: r for r in metrics.project_states(con, date(2020, 3, 20)).to_dicts()}
    assert rows["I本周开工"]["actual_start_date"] == date(2020, 3, 3)


def test_completion_rate_counts_only_planned_completions(wh):
    d = date(2020, 3, 13)
    load_rows(wh, d, [
        proj("X按计划竣工", stage="竣工", planned_completion_date=date(2020, 6, 30), completion_date=date(2020, 3, 10)),
        proj("Y计划外竣工", stage="竣工", completion_date=date(2020, 3, 11)),
        proj("Z计划年内竣工未竣工", stage="在建", planned_completion_date=date(2020, 12, 31)),
        proj("W竣工无日期", stage="竣工", planned_completion_date=date(2020, 5, 31)),
        proj("U计划明年竣工", stage="竣工", planned_completion_date=date(2021, 6, 30), completion_date=date(2020, 3, 1)),
    ])
    # completed in 2020 by D: X, Y, W (竣工 first reported on D), U = 4; planned in 2020: X, Z, W = 3;
    # of those completed by D: X, W = 2 → 竣工率 2/3 (4/3 before: unplanned completions counted)
    want = {"completed": 4, "planned_completions": 3, "completed_as_planned": 2, "completion_count_rate": 2 / 3}
    with wh.read() as con:
        stored = metrics.total(con, d)
        from_states = computed(con, 2020, d, date(2020, 3, 7))[0]
        by_stage = {it["group"]: it for it in metrics.figures(con, d, by="stage")}
    for got in (stored, from_states):
        assert_figures(got, want)
    assert by_stage["竣工"]["completion_count_rate"] == 1.0  # X, W of X, W (Y and U unplanned)
    assert by_stage["在建"]["completion_count_rate"] == 0.0
    assert all((it["completion_count_rate"] or 0) <= 1 for it in by_stage.values())
    assert "按计划竣工项目数 ÷ 计划竣工项目数" in metrics.FORMULA_ZH["completion_count_rate"]
    assert metrics.FIGURE_ZH["completed_as_planned"] == "按计划竣工项目数"


def test_the_years_list_is_s_a_2022_project_with_no_2023_report_is_not_in_2023(wh):
    load_rows(wh, date(2022, 12, 30), [proj("A两年都有", stage="续建", ytd_completed=100.0),
                                       proj("B只在2022", stage="续建", ytd_completed=300.0)], frequency="month")
    load_rows(wh, date(2023, 3, 31), [proj("A两年都有", stage="续建", ytd_completed=50.0)], frequency="month")
    with wh.read() as con:
        names = set(metrics.project_states(con, date(2023, 3, 31))["project_name"].to_list())
        t = metrics.total(con, date(2023, 3, 31))
        jan = metrics.total(con, date(2023, 1, 31))
    assert names == {"A两年都有"}
    assert (t["projects"], t["due"], t["started"], t["ytd_completed"]) == (1, 1, 1, 50.0)
    assert jan["projects"] == 0  # nothing of 2023 reported on or before 01-31: an empty list


def load_two_years(wh) -> None:
    """2022-03-31: A (太原) ytd 100, B (忻州) ytd 300; 2023-03-31: A ytd 150, C (忻州, new) ytd 250."""
    load_rows(wh, date(2022, 3, 31), [proj("A两年都有", stage="续建", ytd_completed=100.0),
                                      proj("B只在2022", city=XZ, stage="续建", ytd_completed=300.0)],
              frequency="month")
    load_rows(wh, date(2023, 3, 31), [proj("A两年都有", stage="续建", ytd_completed=150.0),
                                      proj("C只在2023", city=XZ, stage="新开工", ytd_completed=250.0)],
              frequency="month")


def test_year_on_year_over_each_years_list_and_over_the_same_projects(wh, capsys):
    from pipelines import cli

    load_two_years(wh)
    with wh.read() as con:
        t = metrics.total(con, date(2023, 3, 31))
        by_city = {it["group"]: it for it in metrics.figures(con, date(2023, 3, 31), by="city")}
        later = metrics.total(con, date(2023, 4, 7))  # not a report date: each year's state in force
        early = metrics.total(con, date(2023, 2, 28))  # 2022 has no report on or before 2022-02-28
        first_year = metrics.total(con, date(2022, 3, 31))
    # over each year's list: 400 (A 150 + C 250) against 400 (A 100 + B 300): 0 %
    assert (t["ytd_completed"], t["ytd_completed_prev"], t["ytd_yoy"]) == (400.0, 400.0, 0.0)
    # the same projects (A alone): 150 against 100: +50 %
    assert t["ytd_yoy_same"] == pytest.approx(0.5)
    assert later["ytd_completed_prev"] == 400.0 and later["ytd_yoy_same"] == pytest.approx(0.5)
    # 太原: A alone in both years; 忻州: C against B, no project on both lists
    assert (by_city["太原市"]["ytd_completed_prev"], by_city["太原市"]["ytd_yoy"]) == (100.0, pytest.approx(0.5))
    assert by_city["太原市"]["ytd_yoy_same"] == pytest.approx(0.5)
    assert (by_city["忻州市"]["ytd_completed_prev"], by_city["忻州市"]["ytd_yoy"]) == (300.0, pytest.approx(-1 / 6))
    assert by_city["忻州市"]["ytd_yoy_same"] is None
    for it in (early, first_year):
        assert (it["ytd_completed_prev"], it["ytd_yoy"], it["ytd_yoy_same"]) == (None, None, None)
    assert same_day_last_year(date(2024, 2, 29)) == date(2023, 2, 28)
    # --json carries them, and the labels say the lists differ
    assert cli.main(["--db", str(wh.path), "metrics", "--as-of", "2023-03-31", "--json"]) == 0
    import json
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["ytd_completed_prev"], row["ytd_yoy"], row["ytd_yoy_same"]) == (400.0, 0.0, 0.5)
    assert "清单" in metrics.FIGURE_ZH["ytd_yoy"] and "两年清单不同" in metrics.FORMULA_ZH["ytd_yoy"]
    assert metrics.FIGURE_ZH["ytd_yoy_same"] == "同口径同比"
    from pipelines.outputs import briefing

    assert "累计完成投资0.0亿元，同比增长0.0%（与上年清单同期比，两年清单不同；同口径增长50.0%）" in (
        briefing.headline_sentence("重点工业转型升级", date(2023, 3, 31), t))
    assert "同比" not in briefing.headline_sentence("重点工业转型升级", date(2022, 3, 31), first_year)


def _as_before_start_stated(path) -> None:
    """Make the file look like one written before start_stated: no column in the reports or the
    ranges, every later field's present bit one place lower, the cells of the formula before."""
    k = schema.FIELD_NAMES.index("start_stated")
    con = duckdb.connect(str(path))
    try:
        con.execute("ALTER TABLE reports DROP COLUMN start_stated")
        con.execute("ALTER TABLE state_ranges DROP COLUMN start_stated")
        con.execute(f"UPDATE reports SET present = (present & {(1 << k) - 1}) | ((present >> {k + 1}) << {k})")
        con.execute("UPDATE meta SET value = '4' WHERE key = 'cells_formula'")
    finally:
        con.close()


def test_a_database_from_before_start_stated_is_upgraded_with_its_fields_where_they_were(wh, tmp_path):
    from pipelines.warehouse.backup import backup, restore
    from pipelines.warehouse.store import Warehouse

    first = proj("P", stage="新开工", planned_start_date=date(2020, 3, 1), problem="缺资金")
    load_rows(wh, D1, [first], present=tuple(k for k in first if k != "start_stated"))  # a file of then
    load_rows(wh, D2, [proj("P", ytd_completed=5.0, problem="缺资金", stats_registered=True)],
              present=("ytd_completed", "problem", "stats_registered"))
    with wh.read() as con:
        present = con.execute("SELECT report_date, present FROM reports ORDER BY 1").fetchall()
        states = con.execute("SELECT * FROM states ORDER BY as_of").fetchall()
        before = metrics.total(con, D2)
    _as_before_start_stated(wh.path)
    backup(wh, tmp_path / "bk")  # a backup of then: reports without the column, the bits of then
    restore(tmp_path / "bk", tmp_path / "restored.duckdb")
    wh.upgrade()
    for w in (wh, Warehouse(tmp_path / "restored.duckdb")):
        with w.read() as con:
            assert con.execute("SELECT report_date, present FROM reports ORDER BY 1").fetchall() == present
            assert con.execute("SELECT * FROM states ORDER BY as_of").fetchall() == states
            assert con.execute("SELECT value FROM meta WHERE key = 'cells_formula'").fetchall() == [
                (metrics.CELLS_FORMULA,)]
            assert metrics.total(con, D2) == before
