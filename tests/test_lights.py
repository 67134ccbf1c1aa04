"""Project lights (pipelines/lights.py) on hand-made projects, every rule at its boundary days."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import polars as pl
import pytest

from pipelines import cli
from pipelines.metrics import Filters, lights
from pipelines.warehouse.store import Warehouse
from tests.conftest import _p, load_rows

TY, XD = ("140100", "太原市"), ("140105", "小店区")
XZ, XF = ("140900", "忻州市"), ("140902", "忻府区")
# 2020-02-29 = 2020-01-31 + 1 month; 2020-03-31 = 2020-01-31 + 2 months; 2020-04-01 = 2020-01-01 + 3 months
DATES = (date(2020, 2, 28), date(2020, 2, 29), date(2020, 3, 31), date(2020, 4, 1), date(2020, 4, 30))


def rows(d: date) -> list[dict[str, Any]]:
    """开工灯 cases P* (no plan, under 500 万元: the other lights are off), 入统灯 cases S* (started, no
    plan), 进度灯 cases G* (started, 入统, plan 1000), and R, red by 入统 until 入统 on 04-30."""
    start = {"annual_plan": 0.0, "total_investment": 100.0, "stats_registered": False}
    stats = {"stage": "在建", "annual_plan": 0.0, "total_investment": 1000.0}
    prog = {"stage": "在建", "annual_plan": 1000.0, "total_investment": 1000.0, "stats_registered": True,
            "actual_start_date": date(2020, 1, 1)}
    late = d >= date(2020, 4, 30)
    return [
        _p("P1开工满3个月", TY, XD, "市级千项", stage="新开工", planned_start_date=date(2020, 1, 1), **start),
        _p("P2开工差1天满3个月", TY, XD, "市级千项", stage="新开工", planned_start_date=date(2020, 1, 2), **start),
        _p("P3未到计划开工", TY, XD, "市级千项", stage="新开工", planned_start_date=date(2020, 5, 1), **start),
        # 尚未复工 (the row's word: start_stated false); with nothing saying so, a continuing project
        # with no date has started (green: tests/test_contract_figures.py)
        _p("P4续建未复工", TY, XD, "市级千项", stage="在建", start_stated=False, **start),
        _p("P5储备", TY, XD, "市级千项", stage="储备", planned_start_date=date(2020, 1, 1), **start),
        _p("S1未入统", XZ, XF, "省级双百·新兴", actual_start_date=date(2020, 1, 31), stats_registered=False, **stats),
        _p("S2已入统", XZ, XF, "省级双百·新兴", actual_start_date=date(2020, 1, 31), stats_registered=True, **stats),
        _p("S3不足500万", XZ, XF, "省级双百·新兴", actual_start_date=date(2020, 1, 31), stats_registered=False,
           **{**stats, "total_investment": 400.0}),
        _p("G1进度正常", XZ, XF, "省级双百·技改", ytd_completed=300.0, **prog),
        _p("G2进度滞后", XZ, XF, "省级双百·技改", ytd_completed=100.0, **prog),
        _p("G3进度严重滞后", XZ, XF, "省级双百·技改", ytd_completed=0.0, **prog),
        _p("G4无年度计划", XZ, XF, "省级双百·技改", ytd_completed=0.0, **{**prog, "annual_plan": 0.0}),
        _p("R由红转黄", XZ, XF, "省级双百·技改", ytd_completed=100.0,
           **{**prog, "actual_start_date": date(2020, 1, 31), "stats_registered": late}),
    ]


@pytest.fixture(scope="module")
def lit(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    wh = Warehouse(tmp_path_factory.mktemp("lights") / "l.duckdb")
    wh.init()
    for d in DATES:
        load_rows(wh, d, rows(d), file_name=f"l_{d:%m%d}.csv")
    return wh


def _at(wh: Warehouse, d: date) -> dict[str, tuple[str | None, ...]]:
    with wh.read() as con:
        frame = lights.project_lights(con, d)
    return {r["project_name"]: tuple(r[c] for c in lights.LIGHTS) for r in frame.iter_rows(named=True)}


def test_start_light_boundaries(lit: Warehouse) -> None:
    #                              (开工, 进度, 入统, 综合)
    on_0331, on_0401 = _at(lit, date(2020, 3, 31)), _at(lit, date(2020, 4, 1))
    assert on_0331["P1开工满3个月"] == ("yellow", None, None, "yellow")
    assert on_0401["P1开工满3个月"] == ("red", None, None, "red")  # 01-01 + 3 months = 04-01 ≤ D
    assert on_0401["P2开工差1天满3个月"] == ("yellow", None, None, "yellow")  # 01-02 + 3 months = 04-02 > D
    assert on_0401["P3未到计划开工"] == ("green", None, None, "green")
    assert on_0331["P4续建未复工"] == ("yellow", None, None, "yellow")  # continuing: planned 1 January
    assert on_0401["P4续建未复工"] == ("red", None, None, "red")
    assert on_0401["P5储备"] == (None, None, None, None)


def test_stats_light_boundaries_with_month_end(lit: Warehouse) -> None:
    assert _at(lit, date(2020, 2, 28))["S1未入统"] == ("green", None, "green", "green")  # not yet 1 month
    assert _at(lit, date(2020, 2, 29))["S1未入统"] == ("green", None, "yellow", "yellow")  # 01-31 + 1 month = 02-29
    on_0331 = _at(lit, date(2020, 3, 31))
    assert on_0331["S1未入统"] == ("green", None, "red", "red")  # 01-31 + 2 months = 03-31
    assert on_0331["S2已入统"] == ("green", None, "green", "green")
    assert on_0331["S3不足500万"] == ("green", None, None, "green")


def test_progress_light(lit: Warehouse) -> None:
    # 04-30: 序时进度 121/366 = 33.06 %: G1 30 % → −3.1 pp, G2 10 % → −23.1, G3 0 % → −33.1
    on = _at(lit, date(2020, 4, 30))
    assert on["G1进度正常"] == ("green", "green", "green", "green")
    assert on["G2进度滞后"] == ("green", "yellow", "green", "yellow")
    assert on["G3进度严重滞后"] == ("green", "red", "green", "red")
    assert on["G4无年度计划"] == ("green", None, "green", "green")


def test_thresholds_are_configurable(lit: Warehouse) -> None:
    with lit.read() as con:
        frame = lights.project_lights(con, date(2020, 4, 1), rules=lights.LightRules(start_red_months=4))
    assert dict(frame.select("project_name", "light_start").iter_rows())["P1开工满3个月"] == "yellow"


def test_counts_by_region_tier_and_industry_in_one_call(lit: Warehouse) -> None:
    # 04-30 red: P1 P2 P4 S1 G3; yellow: G2 R; green: P3 S2 S3 G1 G4; P5 (储备) none
    with lit.read() as con:
        c = lights.counts_by(con, date(2020, 4, 30), (None, "city", "tier"))
    assert c[None] == [{"group": "全部", "lights_red": 5, "lights_yellow": 2, "lights_green": 5}]
    assert c["city"] == [
        {"group": "太原市", "group_code": "140100", "lights_red": 3, "lights_yellow": 0, "lights_green": 1},
        {"group": "忻州市", "group_code": "140900", "lights_red": 2, "lights_yellow": 2, "lights_green": 4},
    ]
    assert {t["group"]: t["lights_red"] for t in c["tier"]} == {"省级双百·新兴": 1, "省级双百·技改": 1, "市级千项": 3}


def test_lit_list_says_why_since_when_and_the_move(lit: Warehouse) -> None:
    with lit.read() as con:
        frame = lights.lit_list(con, date(2020, 4, 30))
    got = {r["project_name"]: (r["light"], r["light_since"], r["light_before"], r["light_change"])
           for r in frame.iter_rows(named=True)}
    assert got == {
        "P1开工满3个月": ("red", date(2020, 4, 1), "red", "持续红灯"),
        "P2开工差1天满3个月": ("red", date(2020, 4, 30), "yellow", "由黄转红"),
        "P4续建未复工": ("red", date(2020, 4, 1), "red", "持续红灯"),
        "S1未入统": ("red", date(2020, 3, 31), "red", "持续红灯"),
        "G3进度严重滞后": ("red", date(2020, 4, 30), "yellow", "由黄转红"),
        "G2进度滞后": ("yellow", date(2020, 3, 31), "yellow", "持续黄灯"),  # −6.4 pp on 02-29, −14.9 on 03-31
        "R由红转黄": ("yellow", date(2020, 4, 30), "red", "由红转黄"),
    }
    assert frame["light"].to_list()[:5] == ["red"] * 5  # red first
    reason = dict(frame.select("project_name", "light_reason").iter_rows())
    assert reason["P1开工满3个月"] == "计划2020-01-01开（复）工，截至2020-04-30未开工（满3个月）"
    assert reason["S1未入统"] == "2020-01-31开工，满2个月未入统"
    assert reason["G2进度滞后"] == "投资完成率10.0%，滞后序时进度23.1个百分点"


def test_history_shows_the_date_a_red_ended(lit: Warehouse) -> None:
    with lit.read() as con:
        pid = con.execute("SELECT project_id FROM projects WHERE name_norm = 'R由红转黄'").fetchall()[0][0]
        hist = lights.project_light_history(con, pid)
    assert hist["light"].to_list() == ["green", "yellow", "red", "red", "yellow"]
    assert hist.filter(pl.col("light_change") == "由红转黄")["report_date"].to_list() == [date(2020, 4, 30)]


def test_filters_narrow_the_lights(lit: Warehouse) -> None:
    with lit.read() as con:
        c = lights.counts_by(con, date(2020, 4, 30), (None,), filters=Filters(cities=("140100",)))
    assert c[None][0]["lights_red"] == 3


def test_metrics_json_has_the_light_counts(lit: Warehouse, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--db", str(lit.path), "metrics", "--as-of", "2020-04-30", "--by", "city", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["group"], r["lights_red"], r["lights_yellow"], r["lights_green"]) for r in rows] == [
        ("太原市", 3, 0, 1), ("忻州市", 2, 2, 4)]
    assert cli.main(["--db", str(lit.path), "metrics", "--as-of", "2020-04-30", "--json"]) == 0
    (whole,) = json.loads(capsys.readouterr().out)
    assert (whole["lights_red"], whole["lights_yellow"], whole["lights_green"]) == (5, 2, 5)


def test_briefing_counts_red_projects_and_lists_the_head(lit: Warehouse) -> None:
    from pipelines.outputs import briefing

    with lit.read() as con:
        data = briefing.collect(con, date(2020, 4, 30))
    assert data.sentences[2] == ("按项目亮灯，红灯项目5个、黄灯项目2个、绿灯项目5个；本期新转红灯2个；由红转黄1个，"
                                 "红灯项目需重点督办。")
    html = briefing.render_html(data, [])
    assert "亮灯项目（红灯5个、黄灯2个）" in html
    assert html.index("P1开工满3个月") < html.index("R由红转黄")  # red first
    assert "入统灯：已开工且总投资≥500万元" in html  # the rules in the footnote


def test_progress_light_footnote_says_lagging_not_below() -> None:
    # 「投资完成率 − 序时进度，低于30个百分点为红灯」 read literally makes every project short of
    # 30 points *ahead* red; the rule is a lag of more than 30 points, as the schedule lights say.
    rules = lights.LightRules(progress=lights.Thresholds(yellow_below=-15.0, red_below=-40.0))
    progress = next(line for line in lights.formulas_zh(rules) if line.startswith("进度灯"))
    assert progress == ("进度灯：项目投资完成率滞后序时进度超过40个百分点为红灯，15～40个百分点为黄灯，其余绿灯；"
                        "年度计划为0时不亮")


def test_every_threshold_is_set_by_the_deployment_through_the_environment(monkeypatch):
    """Each rule's threshold comes from its KAIGONG_* variable when set (the defaults are published rules)."""
    from pipelines.metrics.formulas import Thresholds
    from pipelines.metrics.lights import LightRules
    from pipelines.warehouse.changes import Rules

    assert (LightRules().start_red_months, LightRules().stats_yellow_months, LightRules().stats_red_months) == (3, 1, 2)
    assert (Thresholds().yellow_below, Thresholds().red_below, Rules().change_share) == (-10.0, -30.0, 0.2)
    for name, value in [("KAIGONG_LIGHT_START_RED_MONTHS", "2"), ("KAIGONG_LIGHT_STATS_YELLOW_MONTHS", "2"),
                        ("KAIGONG_LIGHT_STATS_RED_MONTHS", "4"), ("KAIGONG_LIGHT_YELLOW_BELOW", "-5"),
                        ("KAIGONG_LIGHT_RED_BELOW", "-20"), ("KAIGONG_CHANGE_SHARE", "0.3")]:
        monkeypatch.setenv(name, value)
    rules = LightRules()
    assert (rules.start_red_months, rules.stats_yellow_months, rules.stats_red_months) == (2, 2, 4)
    assert (rules.progress.yellow_below, rules.progress.red_below, Rules().change_share) == (-5.0, -20.0, 0.3)
    monkeypatch.setenv("KAIGONG_LIGHT_RED_BELOW", "三十")
    with pytest.raises(ValueError, match="KAIGONG_LIGHT_RED_BELOW 的值「三十」不是数字"):
        Thresholds()


def test_lit_list_equals_the_lights_date_by_date_on_the_demo_year(demo_db) -> None:
    """The list reads the history of the lit projects only: the same since / before as every
    project's lights taken at each report date of the year (the demo's 1,240 projects, one city)."""
    from pipelines import metrics

    wh = Warehouse(demo_db)
    d = date(2020, 9, 25)
    with wh.read() as con:
        f = Filters(cities=("140100",))
        got = lights.lit_list(con, d, filters=f)
        dates = [x for x in metrics.report_dates(con, 2020) if x <= d]
        by_date = {x: dict(lights.project_lights(con, x, filters=f).select("project_id", "light").iter_rows())
                   for x in dates}
    assert dates[-1] == d and got.height > 10
    for r in got.iter_rows(named=True):
        pid, light = r["project_id"], r["light"]
        assert by_date[d][pid] == light
        seen = [x for x in dates if pid in by_date[x]]
        others = [x for x in seen if x < d and by_date[x][pid] != light]
        run = [x for x in seen if not others or x > max(others)]
        assert r["light_since"] == min(run), pid
        assert r["light_before"] == by_date[dates[-2]].get(pid), pid
