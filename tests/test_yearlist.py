"""The year's list (调度库, warehouse/yearlist.py) and S by it (metrics/flags.py), on hand fixtures:
admitted from its date, 调出 from its date, a listed project that never reports in S and on 录入率's
base, a year with no list as before; a tier that changes across years kept by year."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from pipelines import auth, metrics
from pipelines.vocab.findings import Refused, SubmissionRefused
from pipelines.warehouse import yearlist
from pipelines.warehouse.store import Submission
from tests.conftest import load_rows

TY = ("140100", "太原市")
ANALYST = auth.User("分析员甲", "分析员")
CLERK = auth.User("报送员乙", "报送员", "140100")
MONTHS_2020 = [date(2020, 1, 31), date(2020, 2, 29), date(2020, 3, 31), date(2020, 4, 30), date(2020, 5, 31),
               date(2020, 6, 30), date(2020, 7, 31), date(2020, 8, 31)]


def proj(name: str, **kw):
    return {"project_name": name, "city_code": TY[0], "city_name": TY[1], "tier": "市级千项", "stage": "在建",
            "total_investment": 1000.0, "annual_plan": 500.0, "ytd_completed": 100.0, **kw}


def _figures(wh, d: date) -> tuple[int, int, int, float]:
    with wh.read() as con:
        t = metrics.total(con, d)
    return t["projects"], t["reporting_base"], t["reported"], t["total_investment"]


@pytest.fixture
def listed(wh):
    """A reports every month of 2020; P reported in 2019 only, admitted by hand on 10 March 2020 and
    调出 on 15 July 2020 (total investment 9000 万元 as of its 2019 report)."""
    load_rows(wh, date(2019, 12, 31), [proj("P项目", total_investment=9000.0)], frequency="month")
    for d in MONTHS_2020:
        load_rows(wh, d, [proj("A项目")], frequency="month")
    assert yearlist.admit(wh, ANALYST, 2020, ["140100|P项目"], date(2020, 3, 10), "续建项目补录") == 1
    yearlist.remove(wh, ANALYST, 2020, "140100|P项目", date(2020, 7, 15), "项目终止")
    return wh


def test_admitted_in_march_removed_in_july_is_in_s_exactly_between(listed):
    wh = listed
    # (projects, reporting_base, reported, total_investment): A always; P from 3-10 to 7-14.
    assert _figures(wh, date(2020, 2, 29)) == (1, 1, 1, 1000.0)  # a report date: stored cells
    assert _figures(wh, date(2020, 3, 9)) == (1, 1, 0, 1000.0)  # between: computed
    assert _figures(wh, date(2020, 3, 10)) == (2, 2, 0, 10000.0)
    assert _figures(wh, date(2020, 3, 31)) == (2, 2, 1, 10000.0)
    assert _figures(wh, date(2020, 7, 14)) == (2, 2, 0, 10000.0)
    assert _figures(wh, date(2020, 7, 15)) == (1, 1, 0, 1000.0)
    assert _figures(wh, date(2020, 7, 31)) == (1, 1, 1, 1000.0)
    assert _figures(wh, date(2020, 8, 31)) == (1, 1, 1, 1000.0)


def test_a_listed_project_that_never_reports_lowers_the_reporting_rate(listed):
    with listed.read() as con:
        t = metrics.total(con, date(2020, 4, 30))
        states = metrics.project_states(con, date(2020, 4, 30))
        trend = metrics.trend(con, date(2020, 8, 31))
    assert (t["reporting_base"], t["reported"], t["reporting_rate"]) == (2, 1, 0.5)
    assert t["ytd_completed"] == 100.0  # P's 0: no report this year
    p = states.filter(pl.col("project_id") == "140100|P项目")
    assert p.height == 1
    assert p["project_name"].to_list() == ["P项目"]
    assert p["is_active_before_period"].to_list() == [True]
    assert p["is_reported"].to_list() == [False]
    # the many-dates path (stored cells or one query over the snapshots) agrees
    by_day = dict(zip(trend["report_date"].to_list(), trend["projects"].to_list(), strict=True))
    assert [by_day[d] for d in MONTHS_2020] == [1, 1, 2, 2, 2, 2, 1, 1]


def test_reports_after_the_removal_do_not_bring_it_back(listed):
    wh = listed
    load_rows(wh, date(2020, 8, 31), [proj("P项目", total_investment=9000.0)], frequency="month",
              file_name="p0831.csv")
    assert _figures(wh, date(2020, 8, 31)) == (1, 1, 1, 1000.0)
    with wh.read() as con:
        rows = con.execute("SELECT how, reason, admitted_by, removed_on, removed_by, removed_reason FROM year_list"
                           ).fetchall()
        audit = [r[0] for r in con.execute("SELECT action FROM audit_log ORDER BY logged_at").fetchall()]
    assert rows == [("手动", "续建项目补录", "分析员甲", date(2020, 7, 15), "分析员甲", "项目终止")]
    assert "yearlist_admit" in audit and "yearlist_remove" in audit


def test_readmitted_after_removal_and_refusals(listed):
    wh = listed
    with pytest.raises(Refused, match="已于 2020-07-15 调出"):
        yearlist.remove(wh, ANALYST, 2020, "140100|P项目", date(2020, 8, 1), "重复")
    with pytest.raises(Refused, match="报送员"):
        yearlist.admit(wh, CLERK, 2020, ["140100|P项目"], date(2020, 8, 1), "补录")
    with pytest.raises(Refused, match="理由"):
        yearlist.admit(wh, ANALYST, 2020, ["140100|P项目"], date(2020, 8, 1), " ")
    with pytest.raises(Refused, match="没有这些项目"):
        yearlist.admit(wh, ANALYST, 2020, ["nope"], date(2020, 8, 1), "补录")
    assert yearlist.admit(wh, ANALYST, 2020, ["140100|P项目"], date(2020, 8, 1), "恢复调度") == 1
    assert _figures(wh, date(2020, 7, 31)) == (1, 1, 1, 1000.0)
    assert _figures(wh, date(2020, 8, 31)) == (2, 2, 1, 10000.0)


def test_a_year_with_no_list_is_as_before(wh):
    # 2020: no list. B reports in March only; it stays in S for the rest of the year (its own rows).
    load_rows(wh, date(2020, 3, 31), [proj("A项目"), proj("B项目")], frequency="month")
    load_rows(wh, date(2020, 4, 30), [proj("A项目")], frequency="month")
    assert _figures(wh, date(2020, 3, 31)) == (2, 2, 2, 2000.0)
    assert _figures(wh, date(2020, 4, 30)) == (2, 2, 1, 2000.0)
    # 2021: A admitted by hand; B, never admitted, is in S by its own report as before.
    load_rows(wh, date(2021, 1, 31), [proj("B项目")], frequency="month")
    yearlist.admit(wh, ANALYST, 2021, ["140100|A项目"], date(2021, 1, 10), "续建")
    assert _figures(wh, date(2021, 1, 31)) == (2, 2, 1, 2000.0)
    assert _figures(wh, date(2020, 4, 30)) == (2, 2, 1, 2000.0)  # 2020 unchanged


def test_admission_by_rules_and_confirmation(wh):
    load_rows(wh, date(2019, 12, 31), [proj("续建项目"), proj("竣工项目", stage="竣工")], frequency="month")
    load_rows(wh, date(2020, 3, 31), [
        proj("大项目", stage="新开工", total_investment=600.0, approval_status="已备案"),
        proj("小项目", stage="新开工", total_investment=400.0, approval_status="已备案"),
        proj("未立项", stage="新开工", total_investment=900.0, approval_status="正在办理"),
    ], frequency="month")
    got = yearlist.admit_by_rules(wh, ANALYST, 2020, date(2020, 3, 31))
    assert got == {"续建结转": 1, "立项≥门槛": 1}
    with wh.read() as con:
        rows = con.execute("SELECT project_id, how, admitted_on FROM year_list ORDER BY project_id").fetchall()
    assert rows == [("140100|大项目", "立项≥门槛", date(2020, 3, 31)), ("140100|续建项目", "续建结转", date(2020, 1, 1))]
    # the carried-over project, with no 2020 report, is in S from 1 January
    assert _figures(wh, date(2020, 3, 31))[0] == 4
    assert yearlist.confirm(wh, CLERK, 2020, ["140100|续建项目"]) == 1
    with wh.read() as con:
        assert con.execute("SELECT confirmed_by FROM year_list WHERE how = '续建结转'").fetchall() == [("报送员乙",)]
    # a second run admits nothing again
    assert yearlist.admit_by_rules(wh, ANALYST, 2020, date(2020, 3, 31)) == {"续建结转": 0, "立项≥门槛": 0}


def test_the_threshold_is_configurable(wh, monkeypatch):
    monkeypatch.setenv(yearlist.THRESHOLD_ENV, "300")
    load_rows(wh, date(2020, 3, 31), [proj("小项目", total_investment=400.0, approval_status="已备案")])
    assert yearlist.admit_by_rules(wh, ANALYST, 2020, date(2020, 3, 31))["立项≥门槛"] == 1


def test_a_ledger_admits_its_projects_from_its_date(wh):
    frame = pl.DataFrame([proj("台账项目")])
    wh.load([Submission("台账.xlsx", frame, date(2020, 2, 15), raw=b"ledger", layout="ledger",
                        present_fields=tuple(frame.columns))])
    with wh.read() as con:
        rows = con.execute("SELECT project_id, how, admitted_on, submission_id FROM year_list").fetchall()
    assert rows == [("140100|台账项目", "台账", date(2020, 2, 15), 1)]


def test_a_tier_change_across_years_loads_and_keeps_both_years(wh):
    load_rows(wh, date(2020, 6, 30), [proj("A项目")], frequency="month")
    load_rows(wh, date(2021, 6, 30), [proj("A项目", tier="省级双百·新兴")], frequency="month")
    with wh.read() as con:
        t20 = metrics.figures(con, date(2020, 6, 30), by="tier")
        t21 = metrics.figures(con, date(2021, 6, 30), by="tier")
        kept = con.execute("SELECT project_id, year, tier, previous_tier FROM project_tiers").fetchall()
    assert {g["group"]: g["projects"] for g in t20} == {"市级千项": 1}
    assert {g["group"]: g["projects"] for g in t21} == {"省级双百·新兴": 1}
    assert kept == [("140100|A项目", 2021, "省级双百·新兴", "市级千项")]
    # later in 2021 without a tier: still 省级双百; under the old tier in 2021: two tiers in one year
    load_rows(wh, date(2021, 7, 31), [{k: v for k, v in proj("A项目").items() if k != "tier"}], frequency="month")
    with pytest.raises(SubmissionRefused, match="一个项目只能属于一个层级"):
        load_rows(wh, date(2021, 8, 31), [proj("A项目")], frequency="month")
    with wh.read() as con:
        t = metrics.figures(con, date(2021, 7, 31), by="tier")
    assert {g["group"]: g["projects"] for g in t} == {"省级双百·新兴": 1}


def test_two_tiers_for_one_project_in_one_new_year_file_is_refused(wh):
    load_rows(wh, date(2020, 6, 30), [proj("A项目")], frequency="month")
    with pytest.raises(SubmissionRefused, match="同一年内列入两个层级"):
        load_rows(wh, date(2021, 6, 30), [proj("A项目", tier="省级双百·新兴"), proj("A项目", tier="其他")],
                  frequency="month")


def test_the_page_admits_and_removes_as_the_signed_in_user(listed, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    monkeypatch.setenv("KAIGONG_DB", str(listed.path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/yearlist.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["调度库"]
    assert {m.label: m.value for m in at.metric}["已调出"] == "1"
    box = next(b for b in at.multiselect if b.key == "yl_admit")
    box.select("140100|P项目")
    at.text_input(key="yl_admit_reason").input("恢复调度")
    at.date_input(key="yl_admit_on").set_value(date(2020, 8, 1))
    at.run()
    at.button(key="yl_admit_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("已纳入 1 个项目" in s.value for s in at.success), [s.value for s in at.success]
    with listed.read() as con:
        rows = con.execute("SELECT admitted_on, admitted_by, reason FROM year_list WHERE admitted_on = '2020-08-01'"
                           ).fetchall()
    assert rows == [(date(2020, 8, 1), "本地用户", "恢复调度")]
    at.run()  # the list now holds it: 调出 again from 20 August
    at.selectbox(key="yl_remove").select("140100|P项目")
    at.text_input(key="yl_remove_reason").input("再次终止")
    at.date_input(key="yl_remove_on").set_value(date(2020, 8, 20))
    at.run()
    at.button(key="yl_remove_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    with listed.read() as con:
        rows = con.execute("SELECT removed_on, removed_by, removed_reason FROM year_list WHERE admitted_on = '2020-08-01'"
                           ).fetchall()
    assert rows == [(date(2020, 8, 20), "本地用户", "再次终止")]
    assert _figures(listed, date(2020, 8, 31)) == (1, 1, 1, 1000.0)


def test_a_unit_confirms_its_carried_over_projects_on_the_page_and_the_cli(wh, monkeypatch, capsys):
    from streamlit.testing.v1 import AppTest

    from pipelines.cli import main
    from tests.conftest import ROOT

    load_rows(wh, date(2019, 12, 31), [proj("续建甲"), proj("续建乙")], frequency="month")
    load_rows(wh, date(2020, 3, 31), [proj("A项目")], frequency="month")
    assert yearlist.admit_by_rules(wh, ANALYST, 2020, date(2020, 3, 31)) == {"续建结转": 2, "立项≥门槛": 0}
    monkeypatch.setenv("KAIGONG_DB", str(wh.path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/yearlist.py").run()
    assert {m.label: m.value for m in at.metric}["续建结转待确认"] == "2"
    next(b for b in at.multiselect if b.key == "yl_confirm").select("140100|续建甲")
    at.run()
    at.button(key="yl_confirm_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("已确认 1 个续建结转项目" in s.value for s in at.success), [s.value for s in at.success]
    assert main(["--db", str(wh.path), "yearlist", "confirm", "--project", "140100|续建乙", "--year", "2020",
                 "--on", "2020-03-31"]) == 0
    assert "2020 年续建结转确认 1 个项目" in capsys.readouterr().out
    with wh.read() as con:
        assert sorted(con.execute("SELECT project_id, confirmed_by FROM year_list").fetchall()) == [
            ("140100|续建乙", "cli"), ("140100|续建甲", "本地用户")]
