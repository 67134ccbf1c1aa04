"""The metric contract on small cases computed by hand."""

from __future__ import annotations

import json
from datetime import date

import pytest

from pipelines import metrics
from pipelines.metrics.dates import At
from pipelines.metrics.figures import figures_at
from pipelines.vocab.findings import SubmissionRefused
from pipelines.warehouse.store import Submission
from tests.conftest import load_rows

TY, XZ = ("140100", "太原市"), ("140900", "忻州市")


def proj(name: str, city=TY, **kw):
    return {"project_name": name, "city_code": city[0], "city_name": city[1], "tier": "市级千项", **kw}


def test_time_progress_and_lights():
    assert metrics.time_progress(date(2020, 3, 31)) == pytest.approx(91 / 366)
    assert metrics.time_progress(date(2021, 12, 31)) == 1.0
    assert metrics.light(-9.99) == "green"
    assert metrics.light(-10.0) == "yellow"
    assert metrics.light(-30.0) == "yellow"
    assert metrics.light(-30.01) == "red"
    assert metrics.double_half(date(2020, 6, 29), 0.9) is None
    assert metrics.double_half(date(2020, 6, 30), 0.5) is True
    assert metrics.double_half(date(2020, 7, 3), 0.49) is False


def test_figures_by_hand(wh):
    # A: continuing (在建), no planned date: due from 1 Jan; restarted 2020-02-20.
    # B: new start planned 2020-03-01 (a month-only date is the 1st), not started: overdue.
    # C: reserve: never due.  D: new start planned after D: not due.
    # E: zero plan, 竣工 reported on 3-13 -> completed, planned completion in the year.
    load_rows(wh, date(2020, 3, 13), [
        proj("A项目", stage="在建", total_investment=20000.0, annual_plan=10000.0, ytd_completed=3000.0,
             actual_start_date=date(2020, 2, 20), stats_registered=True),
        proj("B项目", stage="新开工", total_investment=400.0, annual_plan=400.0, ytd_completed=None,
             planned_start_date=date(2020, 3, 1), not_started_reason="资金未落实"),
        proj("C项目", city=XZ, stage="储备", total_investment=100000.0, annual_plan=0.0),
        proj("D项目", city=XZ, stage="新开工", total_investment=60000.0, annual_plan=6000.0,
             planned_start_date=date(2020, 6, 1)),
        proj("E项目", city=XZ, stage="竣工", total_investment=800.0, annual_plan=0.0, ytd_completed=200.0,
             actual_start_date=date(2019, 5, 1), planned_completion_date=date(2020, 4, 30)),
    ])
    with wh.read() as con:
        t = metrics.total(con, date(2020, 3, 31))
        by_city = metrics.figures(con, date(2020, 3, 31), by="city")
        by_band = metrics.figures(con, date(2020, 3, 31), by="size_band")
    assert t["projects"] == 5
    assert t["total_investment"] == 181200.0
    assert t["annual_plan"] == 16400.0
    assert t["ytd_completed"] == 3200.0
    assert t["completion_rate"] == pytest.approx(3200 / 16400)
    assert t["schedule_gap"] == pytest.approx((3200 / 16400 - 91 / 366) * 100)
    # due: A (continuing), B (planned 3-01), E (竣工: a completed project has started, and a started
    # project is due, though it has no planned (re)start date; its 2019 start makes it continuing, too)
    assert (t["due"], t["started"], t["overdue"]) == (3, 2, 1)
    assert t["start_rate"] == pytest.approx(2 / 3)
    # E: planned to complete in 2020, completed (竣工 reported 03-13): completed as planned
    assert (t["completed"], t["planned_completions"], t["completed_as_planned"]) == (1, 1, 1)
    assert t["completion_count_rate"] == 1.0
    # stats: started (so due) with total >= 500: A (20000, registered), E (800, not)
    assert (t["stats_due"], t["stats_registered"], t["stats_rate"]) == (2, 1, 0.5)
    # weekly period ending 3-31 is 3-25..3-31: nobody reported in it
    assert (t["reported"], t["reporting_rate"]) == (0, 0.0)
    assert [c["group"] for c in by_city] == ["太原市", "忻州市"]
    assert by_city[1]["group_code"] == "140900"
    assert by_city[1]["completion_rate"] == pytest.approx(200 / 6000)
    assert by_city[0]["start_rate"] == 0.5
    assert [(b["group"], b["projects"]) for b in by_band] == [("<1亿", 2), ("1–5亿", 1), ("5–10亿", 1), ("≥10亿", 1)]


def test_zero_plan_and_no_reports_give_null_rates(wh):
    load_rows(wh, date(2020, 3, 6), [proj("A项目", stage="储备", total_investment=100.0, annual_plan=0.0)])
    with wh.read() as con:
        t = metrics.total(con, date(2020, 3, 6))
        before = metrics.total(con, date(2020, 3, 5))
    assert t["completion_rate"] is None and t["schedule_gap"] is None
    assert t["start_rate"] is None and t["stats_rate"] is None
    assert before["projects"] == 0 and before["ytd_completed"] == 0.0 and before["reporting_rate"] is None


def test_earlier_figures_do_not_change_when_a_later_week_arrives(wh):
    load_rows(wh, date(2020, 3, 6), [proj("A项目", stage="在建", annual_plan=1000.0, ytd_completed=100.0)])
    with wh.read() as con:
        first = metrics.total(con, date(2020, 3, 6))
    load_rows(wh, date(2020, 3, 13), [proj("A项目", stage="在建", annual_plan=1000.0, ytd_completed=300.0)])
    with wh.read() as con:
        again = metrics.total(con, date(2020, 3, 6))
        later = metrics.total(con, date(2020, 3, 13))
    assert again == first
    assert later["ytd_completed"] == 300.0


def test_resubmission_for_same_date_replaces_and_identity_ignores_spacing(wh):
    load_rows(wh, date(2020, 3, 6), [proj("年产5万吨 碳纤维项目", stage="在建", annual_plan=1000.0, ytd_completed=100.0)],
              file_name="first.csv")
    # same project: full-width space in the name; corrected figures for the same date
    load_rows(wh, date(2020, 3, 6), [proj("年产5万吨\u3000碳纤维项目", stage="在建", annual_plan=1000.0, ytd_completed=150.0)],
              file_name="corrected.csv")
    with wh.read() as con:
        t = metrics.total(con, date(2020, 3, 6))
        n = con.execute("SELECT count(*) FROM reports").fetchall()[0][0]
    assert (t["projects"], t["ytd_completed"], n) == (1, 150.0, 1)


def test_fields_a_layout_lacks_carry_from_the_ledger(wh):
    ledger = [proj("A项目", stage="在建", total_investment=5000.0, annual_plan=2000.0, stats_registered=True,
                   industry_name="医药制造业", industry_code="27")]
    load_rows(wh, date(2020, 2, 7), ledger)
    # the weekly report does not carry 入统 or industry: those stay; it states ytd and an empty reason
    load_rows(wh, date(2020, 2, 14), [proj("A项目", ytd_completed=50.0, actual_start_date=date(2020, 2, 10),
                                           not_started_reason=None)],
              present=("ytd_completed", "actual_start_date", "not_started_reason"))
    with wh.read() as con:
        t = metrics.total(con, date(2020, 2, 14), filters=metrics.Filters(industries=("医药制造业",)))
    assert (t["projects"], t["annual_plan"], t["ytd_completed"], t["stats_registered"]) == (1, 2000.0, 50.0, 1)


def test_a_stated_empty_reason_clears_the_old_one(wh):
    load_rows(wh, date(2020, 3, 6), [proj("B项目", stage="新开工", planned_start_date=date(2020, 3, 1),
                                          actual_start_date=None, not_started_reason="资金")])
    load_rows(wh, date(2020, 3, 13), [proj("B项目", stage="新开工", planned_start_date=date(2020, 3, 1),
                                           actual_start_date=date(2020, 3, 10), not_started_reason=None)])
    with wh.read() as con:
        s = metrics.project_states(con, date(2020, 3, 13))
    assert s["not_started_reason"].to_list() == [None]
    assert s["is_started"].to_list() == [True]


def test_reporting_rate_counts_the_period_and_leaves_out_completed(wh):
    load_rows(wh, date(2020, 3, 6), [
        proj("A项目", stage="在建"), proj("B项目", stage="在建"), proj("C项目", stage="竣工"),
    ])
    load_rows(wh, date(2020, 3, 13), [proj("A项目", stage="在建")])
    with wh.read() as con:
        t = metrics.total(con, date(2020, 3, 13))
    # period 3-07..3-13: A reported; base excludes C (竣工 before the period)
    assert (t["reported"], t["reporting_rate"]) == (1, 0.5)


def test_same_project_under_two_tiers_is_refused_and_nothing_loads(wh):
    load_rows(wh, date(2020, 3, 6), [proj("A项目", stage="在建")])
    good = Submission("ok.csv", __import__("polars").DataFrame([proj("新项目", stage="在建")]), date(2020, 3, 13),
                      raw=b"ok", present_fields=("stage",))
    bad = Submission("bad.csv", __import__("polars").DataFrame([{**proj("A项目", stage="在建"), "tier": "省级双百·新兴"}]),
                     date(2020, 3, 13), raw=b"bad", present_fields=("stage",))
    with pytest.raises(SubmissionRefused) as exc:
        wh.load([good, bad])
    assert "一个项目只能属于一个层级" in exc.value.errors[0].zh()
    assert exc.value.errors[0].file == "bad.csv"
    with wh.read() as con:
        assert con.execute("SELECT count(*) FROM projects").fetchall()[0][0] == 1
        assert con.execute("SELECT count(*) FROM submissions").fetchall()[0][0] == 1


def test_same_file_twice_is_a_noop(wh):
    import polars as pl

    sub = Submission("a.csv", pl.DataFrame([proj("A项目", stage="在建")]), date(2020, 3, 6), raw=b"same",
                     present_fields=("stage",))
    assert wh.load([sub])[0].status == "loaded"
    again = wh.load([sub])[0]
    assert again.status == "duplicate" and "未重复导入" in again.summary_zh()


def test_the_same_file_is_another_submission_for_another_week_or_tier(wh):
    from pipelines.ingest.prepare import prepare
    from pipelines.ingest.result import ReadOptions
    from pipelines.vocab.findings import SubmissionRefused
    from pipelines.warehouse.intake import load_prepared

    raw = ("项目名称,地市,县区,建设状态,总投资,本年计划投资,本年累计完成投资,实际开（复）工时间\n"
           "甲项目,太原市,小店区,在建,1000,500,100,2020-02-20\n").encode()

    def load(d: date, tier: str) -> str:
        return load_prepared(wh, [prepare(raw, "县报.csv", ReadOptions(report_date=d, tier=tier))])[0].status

    assert load(date(2020, 3, 6), "市级千项") == "loaded"
    assert load(date(2020, 3, 6), "市级千项") == "duplicate"
    # nothing changed in the county: last week's file, sent for this week, is this week's report
    assert load(date(2020, 3, 13), "市级千项") == "loaded"
    with wh.read() as con:
        assert metrics.total(con, date(2020, 3, 13))["reported"] == 1
    with pytest.raises(SubmissionRefused) as exc:  # the same bytes under another tier: a conflict, not a repeat
        load(date(2020, 3, 6), "省级双百·新兴")
    assert "层级" in exc.value.errors[0].zh()


def test_json_rows_follow_the_contract(wh):
    load_rows(wh, date(2020, 3, 13), [proj("A项目", stage="在建", annual_plan=3.0, ytd_completed=1.0)])
    with wh.read() as con:
        rows = metrics.to_json_rows(metrics.figures(con, date(2020, 3, 13), by="city"))
    assert list(rows[0]) == ["group", "group_code", *metrics.FIGURE_KEYS, *metrics.YOY_KEYS]
    assert rows[0]["completion_rate"] == 0.333333
    assert rows[0]["group"] == "太原市" and rows[0]["group_code"] == "140100"


def test_reporting_rate_by_hand_never_above_one_in_any_group(wh, capsys):
    from pipelines import cli

    # 03-06 (period 02-29..03-06): 太原 A, B 在建, C 竣工; 忻州 D, E 在建, F 竣工
    load_rows(wh, date(2020, 3, 6), [
        proj("A项目", stage="在建"), proj("B项目", stage="在建"), proj("C项目", stage="竣工"),
        proj("D项目", city=XZ, stage="在建"), proj("E项目", city=XZ, stage="在建"), proj("F项目", city=XZ, stage="竣工"),
    ])
    # 03-13 (period 03-07..03-13): A reports; B reports 竣工 (done during the period: in both
    # counts); C and F, 竣工 before the period, still report (in neither); D reports; E does not
    load_rows(wh, date(2020, 3, 13), [
        proj("A项目", stage="在建"), proj("B项目", stage="竣工"), proj("C项目", stage="竣工"),
        proj("D项目", city=XZ, stage="在建"), proj("F项目", city=XZ, stage="竣工"),
    ])
    # 太原: base A, B = 2, reported A, B = 2 → 100 % [every reporter: 3 ÷ 2 = 150 %]
    # 忻州: base D, E = 2, reported D = 1 → 50 % [every reporter: 2 ÷ 2]
    # 全部: base 4, reported 3 → 75 % [every reporter: 5 ÷ 4 = 125 %]
    want = {"全部": (4, 3, 0.75), "太原市": (2, 2, 1.0), "忻州市": (2, 1, 0.5)}
    with wh.read() as con:
        got = {it["group"]: (it["reporting_base"], it["reported"], it["reporting_rate"])
               for by in (None, "city") for it in metrics.figures(con, date(2020, 3, 13), by=by)}
        states = metrics.project_states(con, date(2020, 3, 13), columns=("project_name", "is_reported"))
    assert got == want
    assert dict(states.iter_rows()) == {"A项目": True, "B项目": True, "C项目": False, "D项目": True,
                                        "E项目": False, "F项目": False}
    # `kaigong metrics --json`: reporting_base in every object, the rate never above 1
    out = {}
    for by in (None, "city", "tier", "stage"):
        argv = ["--db", str(wh.path), "metrics", "--as-of", "2020-03-13", "--json", *(["--by", by] if by else [])]
        assert cli.main(argv) == 0
        out[by] = json.loads(capsys.readouterr().out)
    for rows in out.values():
        assert rows and all("reporting_base" in r for r in rows)
        assert all(r["reported"] <= r["reporting_base"] for r in rows)
        assert all(r["reporting_rate"] is None or 0 <= r["reporting_rate"] <= 1 for r in rows)
    assert {r["group"]: (r["reporting_base"], r["reported"], r["reporting_rate"]) for r in (*out[None], *out["city"])} == want


def test_missing_reports_are_regions_with_projects_to_report_and_no_report(wh):
    from pipelines.views import submissions

    dt = ("140200", "大同市")
    load_rows(wh, date(2020, 3, 6), [proj("A项目", stage="在建"), proj("F项目", city=XZ, stage="竣工"),
                                     proj("G项目", city=dt, stage="在建")])
    load_rows(wh, date(2020, 3, 13), [proj("G项目", city=dt, stage="在建")])
    with wh.read() as con:
        matrix = submissions.reporting_matrix(con, metrics.View(date(2020, 3, 13), 2020))
    at = {r["group"]: (r["reporting_base"], r["reported"]) for r in matrix.filter(
        matrix["report_date"] == date(2020, 3, 13)).iter_rows(named=True)}
    assert at == {"太原市": (1, 0), "大同市": (1, 1), "忻州市": (0, 0)}
    # 太原's A did not report: 漏报; 忻州 has nothing left to report (F was 竣工 before the period)
    assert submissions.missing_reports(matrix, date(2020, 3, 13))["group"].to_list() == ["太原市"]


def test_a_project_finished_before_the_period_that_still_reports_is_in_neither_count(wh):
    load_rows(wh, date(2020, 3, 6), [proj("A项目", stage="在建"), proj("C项目", stage="竣工")])
    load_rows(wh, date(2020, 3, 13), [proj("A项目", stage="在建"), proj("C项目", stage="竣工")])
    with wh.read() as con:
        t = metrics.total(con, date(2020, 3, 13))
    # both reported in 3-07..3-13; C was 竣工 at 3-06, before the period: not 应报送, so not 已报送
    # either (it was counted as reported before, and the rate was 2 ÷ 1 = 200 %). A alone: 1 ÷ 1.
    assert (t["reporting_base"], t["reported"], t["reporting_rate"]) == (1, 1, 1.0)


# ---- 应开工 by the planned date; 录入率 = reported ÷ projects not done before the period ---------

EARLY_D1, EARLY_D2 = date(2020, 3, 6), date(2020, 3, 13)


def load_early_starters_and_late_completions(wh) -> None:
    """Two weeks (periods 02-29..03-06 and 03-07..03-13). 太原: P starts early (actual 03-10,
    planned 05-01), Q has no planned date and started 03-02 (due: started), V is overdue (planned 03-01).
    忻州: R first reported on 03-13 as 竣工 on 2019-11-30, S reported 竣工 on 03-06 and again on
    03-13, T is 在建 (started 02-20, 入统) and does not report on 03-13."""
    load_rows(wh, EARLY_D1, [
        proj("P早开工", stage="新开工", total_investment=60000.0, planned_start_date=date(2020, 5, 1)),
        proj("V逾期", stage="新开工", total_investment=400.0, planned_start_date=date(2020, 3, 1),
             not_started_reason="资金未落实"),
        proj("S上期竣工", city=XZ, stage="竣工", total_investment=800.0),
        proj("T未报送", city=XZ, stage="在建", total_investment=20000.0, actual_start_date=date(2020, 2, 20),
             stats_registered=True),
    ])
    load_rows(wh, EARLY_D2, [
        proj("P早开工", stage="新开工", total_investment=60000.0, planned_start_date=date(2020, 5, 1),
             actual_start_date=date(2020, 3, 10)),
        proj("Q无计划", stage="新开工", total_investment=8000.0, actual_start_date=date(2020, 3, 2)),
        proj("V逾期", stage="新开工", total_investment=400.0, planned_start_date=date(2020, 3, 1),
             not_started_reason="资金未落实"),
        proj("R去年竣工", city=XZ, stage="竣工", total_investment=3000.0, completion_date=date(2019, 11, 30)),
        proj("S上期竣工", city=XZ, stage="竣工", total_investment=800.0),
    ])


# The figures at 03-13 by hand (period 03-07..03-13; old formulas in brackets):
# due: every project but none in 储备: T (在建), V (planned 03-01), P and Q (started: a project that has
#      started by D is due, whatever its planned date [formula "4": by the planned date only, not P, not
#      Q]), R and S (竣工: a completed project has started) = 6 [2]
# started: P (03-10), Q (03-02), T (02-20), R and S (completed) = 5 [1]; overdue: V = 1; start_rate 5/6
# completed: S (竣工 reported 03-06, in 2020) = 1; R's completion is in 2019
# stats: started with total ≥ 500 万元: P, Q, R, S, T = 5 [T: 1]; 入统: T = 1
# base: P, Q, T, V = 4; not S (竣工 in the snapshot before the period), not R (completed 2019-11-30,
#      before 03-07) [the stage alone kept R: 5]
# reported: of the base, P, Q, V = 3 (T did not report in the period; R and S reported but are not
#      in the base) [every reporter: P, Q, R, S, V = 5, and 5 ÷ 4 = 125 %]
# reporting_rate: 3 ÷ 4 = 0.75
EARLY_AT_D2 = {
    "projects": 6, "due": 6, "started": 5, "overdue": 1, "start_rate": 5 / 6, "completed": 1,
    "planned_completions": 0, "completed_as_planned": 0, "completion_count_rate": None, "stats_due": 5,
    "stats_registered": 1, "stats_rate": 1 / 5, "reporting_base": 4, "reported": 3, "reporting_rate": 0.75,
}
# by city at 03-13: 太原 P, Q, V: due all 3; started P, Q; reported 3 of base 3.
# 忻州 R, S, T: due and started all 3; base T = 1, which did not report: 0 of 1 (R and S report, in
# neither count) [every reporter: 2 ÷ 1 = 200 %].
EARLY_BY_CITY_AT_D2 = {
    "太原市": {"projects": 3, "due": 3, "started": 2, "start_rate": 2 / 3, "reporting_base": 3, "reported": 3,
               "reporting_rate": 1.0},
    "忻州市": {"projects": 3, "due": 3, "started": 3, "start_rate": 1.0, "reporting_base": 1, "reported": 0,
               "reporting_rate": 0.0},
}
# 03-06 (period 02-29..03-06; no snapshot before it): P, S, T, V. due: S (竣工), T, V = 3 (P planned
# 05-01, no actual); started S, T = 2; all 4 reported; base 4 (S became 竣工 on 03-06, inside the period) = 100 %.
EARLY_AT_D1 = {"projects": 4, "due": 3, "started": 2, "overdue": 1, "completed": 1, "reporting_base": 4,
               "reported": 4, "reporting_rate": 1.0}
# 03-20, not a report date (period 03-14..03-20, states of 03-13): due 6, started 5; nobody reported;
# base: the 03-13 snapshot's stages leave out R and S (竣工): P, Q, T, V = 4; 0 ÷ 4 = 0.
EARLY_AT_0320 = {"projects": 6, "due": 6, "started": 5, "reporting_base": 4, "reported": 0, "reporting_rate": 0.0}


def assert_figures(got: dict, want: dict) -> None:
    for k, v in want.items():
        if isinstance(v, float):
            assert got[k] == pytest.approx(v), k
        else:
            assert got[k] == v, k


def test_due_by_planned_date_and_reporting_rate_over_the_base_by_hand(wh):
    load_early_starters_and_late_completions(wh)
    with wh.read() as con:
        assert At.of(con, EARLY_D2, None, None, metrics.Filters()).stored  # the stored cells
        stored = metrics.total(con, EARLY_D2)
        by_city = {it["group"]: it for it in metrics.figures(con, EARLY_D2, by="city")}
        computed = figures_at(con, 2020, [EARLY_D2], [date(2020, 3, 7)], metrics.Filters(), (None,),
                                       None, stored=False)[None][EARLY_D2][0]  # from the snapshots
        at_d1 = metrics.total(con, EARLY_D1)
        at_0320 = metrics.total(con, date(2020, 3, 20))
        trend = {r["report_date"]: r for r in metrics.trend(con, EARLY_D2).to_dicts()}
        states = {r["project_name"]: r for r in metrics.project_states(con, EARLY_D2).to_dicts()}
    for got in (stored, computed, trend[EARLY_D2]):
        assert_figures(got, EARLY_AT_D2)
    for city, want in EARLY_BY_CITY_AT_D2.items():
        assert_figures(by_city[city], want)
    for got in (at_d1, trend[EARLY_D1]):
        assert_figures(got, EARLY_AT_D1)
    assert_figures(at_0320, EARLY_AT_0320)
    flags = {n: (s["is_due"], s["has_started"], s["is_started"], s["is_reported"], s["is_active_before_period"])
             for n, s in states.items()}
    assert flags == {
        "P早开工": (True, True, True, True, True),  # started before its planned date: due
        "Q无计划": (True, True, True, True, True),  # started with no planned date: due
        "V逾期": (True, False, False, True, True),
        "R去年竣工": (True, True, True, False, False),  # reported, but done before the period
        "S上期竣工": (True, True, True, False, False),
        "T未报送": (True, True, True, False, True),
    }
    assert "已报送项目数 ÷ 应报送项目数（应报送：本期开始前尚未竣工（投产）的项目；已报送：其中本期有报送的项目）" in (
        metrics.FORMULA_ZH["reporting_rate"])
    assert "计划开复工时间不晚于截止日" in metrics.FORMULA_ZH["start_rate"]


def test_due_and_reporting_rate_over_several_dates_equal_single_dates(wh):
    load_early_starters_and_late_completions(wh)
    with wh.read() as con:
        for by in (None, "city", "stage", "size_band"):
            assert _assert_trend_is_figures_per_date(con, EARLY_D2, by=by) >= 2
        for f in (metrics.Filters(cities=(XZ[0],)), metrics.Filters(stages=("竣工",))):
            _assert_trend_is_figures_per_date(con, EARLY_D2, filters=f)
        # and the snapshot path for several dates at once equals it at each date alone
        starts = [date(2020, 2, 29), date(2020, 3, 7)]
        many = figures_at(con, 2020, [EARLY_D1, EARLY_D2], starts, metrics.Filters(), (None, "city"),
                                   None, stored=False)
        for d, ps in zip((EARLY_D1, EARLY_D2), starts, strict=True):
            one = figures_at(con, 2020, [d], [ps], metrics.Filters(), (None, "city"), None, stored=False)
            for by in (None, "city"):
                assert many[by][d] == one[by][d]


# ---- trend() is figures() at every report date, in one query ---------------------------------


def _assert_trend_is_figures_per_date(con, as_of: date, *, by=None, filters=None) -> int:
    filters = filters or metrics.Filters()
    got = metrics.trend(con, as_of, filters=filters, by=by).to_dicts()
    expected = [
        {"report_date": d, **item}
        for d in metrics.report_dates(con, as_of.year) if d <= as_of
        for item in metrics.figures(con, d, filters=filters, by=by)
    ]
    assert [(g["report_date"], g["group"], g.get("group_code")) for g in got] == [
        (e["report_date"], e["group"], e.get("group_code")) for e in expected
    ]
    for g, e in zip(got, expected, strict=True):
        for k in metrics.FIGURE_KEYS:
            if e[k] is None:
                assert g[k] is None, (e["report_date"], e["group"], k)
            elif isinstance(e[k], float):
                assert g[k] == pytest.approx(e[k]), (e["report_date"], e["group"], k)
            else:
                assert g[k] == e[k], (e["report_date"], e["group"], k)
    return len(expected)


def test_trend_equals_figures_at_each_date_by_hand(wh):
    # Weekly, then a monthly report (its period starts on the 1st), a completion before a period,
    # a late start, and a project that only appears later (an empty S under its filter).
    load_rows(wh, date(2020, 3, 6), [
        proj("A项目", stage="在建", total_investment=20000.0, annual_plan=10000.0, ytd_completed=100.0),
        proj("B项目", stage="新开工", total_investment=400.0, annual_plan=400.0,
             planned_start_date=date(2020, 3, 10)),
        proj("C项目", city=XZ, stage="竣工", total_investment=800.0, annual_plan=0.0,
             actual_start_date=date(2019, 5, 1), planned_completion_date=date(2020, 4, 30)),
    ])
    load_rows(wh, date(2020, 3, 13), [
        proj("A项目", stage="在建", ytd_completed=300.0, actual_start_date=date(2020, 3, 2),
             stats_registered=True),
        proj("C项目", city=XZ, stage="竣工"),
    ])
    load_rows(wh, date(2020, 3, 31), [
        proj("B项目", stage="新开工", actual_start_date=date(2020, 3, 20)),
        proj("D项目", city=XZ, stage="储备", total_investment=100000.0, annual_plan=0.0),
    ], frequency="month")
    load_rows(wh, date(2020, 4, 3), [proj("A项目", stage="在建", ytd_completed=500.0)])
    with wh.read() as con:
        for as_of in (date(2020, 3, 13), date(2020, 4, 3), date(2020, 12, 31)):
            for by in (None, "city", "stage", "size_band", "industry", "tier"):
                _assert_trend_is_figures_per_date(con, as_of, by=by)
        late = metrics.Filters(project_ids=tuple(
            r[0] for r in con.execute(
                "SELECT DISTINCT project_id FROM states WHERE project_name = 'D项目'").fetchall()
        ))
        assert _assert_trend_is_figures_per_date(con, date(2020, 4, 3), filters=late) == 4
        _assert_trend_is_figures_per_date(con, date(2020, 4, 3), by="city", filters=late)
        _assert_trend_is_figures_per_date(con, date(2020, 4, 3), filters=metrics.Filters(cities=(XZ[0],)))
        assert metrics.trend(con, date(2019, 12, 31)).is_empty()


@pytest.mark.parametrize("by", [None, "city"])
def test_trend_equals_figures_at_each_date_on_the_demo(demo_db, by):
    from pipelines.warehouse.store import Warehouse

    with Warehouse(demo_db).read() as con:
        as_of = metrics.report_dates(con)[-1]
        assert _assert_trend_is_figures_per_date(con, as_of, by=by) >= 40
        tier = metrics.Filters(tiers=("省级双百·新兴",))
        assert _assert_trend_is_figures_per_date(con, date(as_of.year, 6, 30), by=by, filters=tier) > 0


def test_targets_against_actuals_by_hand(wh):
    import polars as pl

    load_rows(wh, date(2020, 3, 13), [
        proj("新开工甲", stage="新开工", planned_start_date=date(2020, 3, 1), actual_start_date=date(2020, 3, 5),
             ytd_completed=300.0, stats_registered=True, total_investment=1000.0),
        proj("新开工乙", stage="新开工", planned_start_date=date(2020, 3, 1), not_started_reason="资金"),
        proj("续建丙", stage="续建", actual_start_date=date(2020, 2, 20), ytd_completed=200.0),
        proj("储备丁", stage="储备", total_investment=2000.0),
        proj("储备戊", city=XZ, stage="储备", total_investment=9000.0),
    ])
    targets = pl.DataFrame({
        "year": [2020] * 5, "region_code": ["140100"] * 5, "region_name": ["太原市"] * 5,
        "metric": ["investment_task", "new_starts", "continuing", "planned_projects", "planned_investment"],
        "value": [1000.0, 2.0, 4.0, 1.0, 5000.0], "leader": [None] * 5, "department": [None] * 5,
    })
    wh.load([Submission("分解表.xlsx", targets, date(2020, 12, 31), raw=b"t", kind="targets")])
    with wh.read() as con:
        got = metrics.targets_vs_actuals(con, date(2020, 3, 31))
        assert metrics.previous_report_date(con, date(2020, 3, 31)) is None  # only one report date
    actual = dict(zip(got["metric"].to_list(), got["actual"].to_list(), strict=True))
    assert actual == {"investment_task": 500.0, "new_starts": 1.0, "continuing": 1.0,
                      "planned_projects": 1.0, "planned_investment": 2000.0}
    rate = dict(zip(got["metric"].to_list(), got["rate"].to_list(), strict=True))
    assert rate["continuing"] == 0.25 and rate["investment_task"] == 0.5


def test_a_new_start_reported_in_construction_later_stays_a_new_start(wh):
    import polars as pl

    load_rows(wh, date(2020, 3, 6), [
        proj("新开工甲", stage="新开工", planned_start_date=date(2020, 3, 1)),
        proj("在建乙", stage="在建", actual_start_date=date(2020, 2, 20)),  # a 复工 date, continuing
    ])
    load_rows(wh, date(2020, 3, 13), [  # 甲 started on 3-12 and is now reported 在建
        proj("新开工甲", stage="在建", planned_start_date=date(2020, 3, 1), actual_start_date=date(2020, 3, 12)),
        proj("在建乙", stage="在建", actual_start_date=date(2020, 2, 20)),
    ])
    targets = pl.DataFrame({
        "year": [2020] * 2, "region_code": ["140100"] * 2, "region_name": ["太原市"] * 2,
        "metric": ["new_starts", "continuing"], "value": [2.0, 2.0], "leader": [None] * 2, "department": [None] * 2,
    })
    wh.load([Submission("分解表.xlsx", targets, date(2020, 12, 31), raw=b"t", kind="targets")])
    with wh.read() as con:
        got = metrics.targets_vs_actuals(con, date(2020, 3, 31))
    # new starts: 甲 (新开工 on 3-06, started 3-12); continuing: 乙 only [the stage alone: 0 and 2]
    assert dict(zip(got["metric"].to_list(), got["actual"].to_list(), strict=True)) == {
        "new_starts": 1.0, "continuing": 1.0}


def test_previous_report_date_is_the_one_before_the_date_in_force(wh):
    for d in (date(2020, 3, 6), date(2020, 3, 13), date(2020, 3, 20)):
        load_rows(wh, d, [proj("A项目", stage="在建", ytd_completed=float(d.day))])
    with wh.read() as con:
        assert metrics.previous_report_date(con, date(2020, 3, 19)) == date(2020, 3, 6)
        assert metrics.previous_report_date(con, date(2020, 3, 20)) == date(2020, 3, 13)
        assert metrics.previous_report_date(con, date(2020, 3, 5)) is None
