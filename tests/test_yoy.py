"""同比 (shared metrics.md: ytd_completed_prev, ytd_yoy, ytd_yoy_same; issue 29 §3), computed by hand.

A small database of two years, and the demo's two years (2019 for 同比, 2020 as calibrated): the
figures, `kaigong metrics --json`, the 通报 sentence and the overview / 投资完成 views."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest

from pipelines import cli, metrics
from pipelines.metrics.dates import At
from pipelines.outputs import briefing
from pipelines.vocab import formats
from tests.conftest import load_rows

TY, XZ, DT = ("140100", "太原市"), ("140900", "忻州市"), ("140200", "大同市")
NEW = "省级双百·新兴"


def proj(name: str, ytd: float, city=TY, tier="市级千项", **kw):
    return {"project_name": name, "city_code": city[0], "city_name": city[1], "tier": tier, "stage": "续建",
            "total_investment": 1000.0, "annual_plan": 600.0, "ytd_completed": ytd, **kw}


def load_two_years(wh) -> None:
    """2022: A (太原, 千项) and B (忻州, 千项) from 01-31, D (太原, 新兴) from 03-31; A again on 04-30
    (after the same day of 2023-03-31: not counted). 2023-03-31: A, D, C (忻州, new) and E (大同, new)."""
    load_rows(wh, date(2022, 1, 31), [proj("A两年都有", 40.0), proj("B只在2022", 100.0, XZ)], frequency="month")
    load_rows(wh, date(2022, 3, 31), [proj("A两年都有", 100.0), proj("B只在2022", 300.0, XZ),
                                      proj("D两年都有", 60.0, tier=NEW)], frequency="month")
    load_rows(wh, date(2022, 4, 30), [proj("A两年都有", 500.0)], frequency="month")
    load_rows(wh, date(2023, 3, 31), [proj("A两年都有", 150.0), proj("D两年都有", 30.0, tier=NEW),
                                      proj("C只在2023", 250.0, XZ), proj("E只在2023", 20.0, DT)], frequency="month")


# By hand, at 2023-03-31 (the same day of 2022: 2022-03-31):
#   2023's list: A 150 + D 30 + C 250 + E 20 = 450;  2022's list at 03-31: A 100 + B 300 + D 60 = 460
#   (A's 500 of 2022-04-30 is after the same day);   同比 = 450 / 460 − 1 = −1/46
#   on both lists: A and D, 180 against 160: 同口径 = 180 / 160 − 1 = +12.5 %
TOTAL = {"ytd_completed": 450.0, "ytd_completed_prev": 460.0, "ytd_yoy": 450 / 460 - 1, "ytd_yoy_same": 0.125}
BY_CITY = {
    "太原市": (180.0, 160.0, 0.125, 0.125),     # A + D in both years
    "大同市": (20.0, 0.0, None, None),         # nothing in 2022: no 同比 (not 0, not infinite)
    "忻州市": (250.0, 300.0, 250 / 300 - 1, None),  # C against B: no project on both lists
}
BY_TIER = {
    "市级千项": (420.0, 400.0, 0.05, 0.5),     # A + C + E against A + B; A alone 150 / 100
    NEW: (30.0, 60.0, -0.5, -0.5),             # D alone
}


def _check(got: dict, want: dict) -> None:
    for k, v in want.items():
        assert got[k] == (pytest.approx(v) if v is not None else None), k


def _rows(items: list[dict]) -> dict[str, tuple]:
    return {it["group"]: (it["ytd_completed"], it["ytd_completed_prev"], it["ytd_yoy"], it["ytd_yoy_same"])
            for it in items}


def _approx(rows: dict[str, tuple]) -> dict[str, tuple]:
    return {k: tuple(None if v is None else pytest.approx(v) for v in t) for k, t in rows.items()}


def test_yoy_by_hand_over_each_years_list_and_over_both(wh):
    load_two_years(wh)
    with wh.read() as con:
        pids = [r[0] for r in con.execute("SELECT project_id FROM projects ORDER BY 1").fetchall()]
        every = metrics.Filters(project_ids=tuple(pids))  # the same S, read from the snapshots, not the cells
        assert At.of(con, date(2023, 3, 31), None, None, metrics.Filters()).stored
        assert not At.of(con, date(2023, 3, 31), None, None, every).stored
        stored = metrics.figures_by(con, date(2023, 3, 31), (None, "city", "tier"))
        computed = metrics.figures_by(con, date(2023, 3, 31), (None, "city", "tier"), filters=every)
        xz = metrics.total(con, date(2023, 3, 31), filters=metrics.Filters(cities=(XZ[0],)))
        without = metrics.total(con, date(2023, 3, 31), yoy=False)
    for got in (stored, computed):
        _check(got[None][0], TOTAL)
        assert _rows(got["city"]) == _approx(BY_CITY)
        assert _rows(got["tier"]) == _approx(BY_TIER)
    # the same filters both years: 忻州 alone is C against B
    _check(xz, {"ytd_completed": 250.0, "ytd_completed_prev": 300.0, "ytd_yoy": -1 / 6, "ytd_yoy_same": None})
    assert not set(metrics.YOY_KEYS) & without.keys()


def test_the_day_before_uses_the_state_in_force_then_and_no_year_before_is_no_figure(wh, capsys):
    load_two_years(wh)
    with wh.read() as con:
        # 2023-03-15: nothing of 2023 yet (an empty list, 0); 2022-03-15: the 01-31 reports, A 40 + B 100
        mid = metrics.total(con, date(2023, 3, 15))
        # 2023-01-15: 2022 has no report on or before 2022-01-15
        early = metrics.total(con, date(2023, 1, 15))
        # 2022 itself: no 2021 at all
        first = metrics.figures(con, date(2022, 3, 31), by="city")
    _check(mid, {"ytd_completed": 0.0, "ytd_completed_prev": 140.0, "ytd_yoy": -1.0, "ytd_yoy_same": None})
    for it in (early, *first):
        assert (it["ytd_completed_prev"], it["ytd_yoy"], it["ytd_yoy_same"]) == (None, None, None)
    assert briefing._yoy_words(early) == ""
    # --json: null where there is no 同比, the hand-computed values where there is
    assert cli.main(["--db", str(wh.path), "metrics", "--as-of", "2023-03-31", "--by", "city", "--json"]) == 0
    rows = {r["group"]: r for r in json.loads(capsys.readouterr().out)}
    assert (rows["大同市"]["ytd_completed_prev"], rows["大同市"]["ytd_yoy"], rows["大同市"]["ytd_yoy_same"]) == (
        0.0, None, None)
    assert (rows["太原市"]["ytd_yoy"], rows["忻州市"]["ytd_yoy"]) == (0.125, round(250 / 300 - 1, 6))
    assert cli.main(["--db", str(wh.path), "metrics", "--as-of", "2023-01-15", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["ytd_completed_prev"], row["ytd_yoy"], row["ytd_yoy_same"]) == (None, None, None)


def test_the_briefing_says_growth_or_decline_only_where_the_year_before_has_data(wh):
    load_two_years(wh)
    with wh.read() as con:
        data = briefing.collect(con, date(2023, 3, 31))
        first = briefing.collect(con, date(2022, 3, 31))
    # 450 万元 = 0.045 亿元 → 「0.0亿元」; −1/46 = −2.17 % → 下降2.2%
    assert data.sentences[0].startswith(
        "截至3月31日，重点工业转型升级项目累计完成投资0.0亿元，同比下降2.2%（与上年清单同期比，两年清单不同；同口径增长12.5%）")
    tiers = [s for s in data.sentences if s.startswith("截至3月31日，市级千项")]
    assert tiers and "同比增长5.0%（与上年清单同期比，两年清单不同；同口径增长50.0%）" in tiers[0]
    assert metrics.FORMULA_ZH["ytd_yoy"] in data.footnotes
    assert not any("同比" in s for s in first.sentences)
    assert metrics.FORMULA_ZH["ytd_yoy"] not in first.footnotes


# ---- the demo: 2019 beside the calibrated 2020 ---------------------------------------------------


def _latest_ytd(reports, day: date) -> pl.DataFrame:
    """Each project's ytd in its latest weekly report on or before day (identity: 项目代码, else 地市 + name)."""
    frames = [f.select("project_code", "city_code", "project_name", "ytd_completed").with_columns(d=pl.lit(d))
              for d, f in reports if d <= day]
    return (pl.concat(frames)
            .with_columns(key=pl.coalesce("project_code", pl.concat_str("city_code", pl.lit("|"), "project_name")))
            .sort("d").group_by("key").last())


def test_demo_yoy_at_year_end_from_the_generated_reports(demo_db, capsys):
    """ytd_yoy at 2020-12-25 from the generator's frames alone: 2020's latest reports against 2019's
    latest on or before 2019-12-25 (the ledgers state no ytd), and over the projects in both."""
    from pipelines import demo
    from pipelines.demo import previous

    cur = _latest_ytd(demo.demo_weekly_reports(), date(2020, 12, 25))
    prev = _latest_ytd(previous.previous_weekly_reports(previous.previous_world(demo._demo_world())),
                       date(2019, 12, 25))
    now, then = cur["ytd_completed"].sum(), prev["ytd_completed"].sum()
    both = cur.join(prev, on="key", suffix="_prev")
    assert both.height > 500  # the 2020 续建 projects on 2019's list
    want_yoy = now / then - 1
    want_same = both["ytd_completed"].sum() / both["ytd_completed_prev"].sum() - 1
    assert 0.0 < want_yoy < 0.2 and want_same > 0  # the demo grows (2019's ytd is 0.92 of its calibration)

    assert cli.main(["--db", str(demo_db), "metrics", "--as-of", "2020-12-25", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["ytd_completed"] == pytest.approx(now)
    assert row["ytd_completed_prev"] == pytest.approx(then)
    assert row["ytd_yoy"] == pytest.approx(want_yoy, abs=1e-6)  # --json rounds to 6 decimals
    assert row["ytd_yoy_same"] == pytest.approx(want_same, abs=1e-6)

    from pipelines.warehouse.store import Warehouse

    with Warehouse(demo_db).read() as con:
        data = briefing.collect(con, date(2020, 12, 25), is_demo=True, today=date(2020, 12, 28))
        q1 = metrics.figures(con, date(2020, 3, 31), by="tier")
        years = metrics.years(con)
    assert years == [2019, 2020]
    assert f"累计完成投资{formats.yi_num(now, 1)}亿元，同比增长{want_yoy * 100:.1f}%（与上年清单同期比" in data.sentences[0]
    # the seed's 2020 figures are as calibrated, with 2019 beside them
    tiers = {it["group"]: it for it in q1}
    double_hundred = [tiers[t] for t in (demo.TIER_NEW, demo.TIER_TECH)]
    assert sum(t["ytd_completed"] for t in double_hundred) == pytest.approx(586_000.0)
    assert sum(t["started"] for t in double_hundred) / sum(t["due"] for t in double_hundred) == pytest.approx(0.825)
    assert tiers[demo.TIER_CITY]["ytd_completed"] == pytest.approx(1_425_000.0)
    assert round(tiers[demo.TIER_CITY]["start_rate"], 3) == 0.794
    # 2019-03-29 is the latest 2019 report on or before 2019-03-31: 0.92 of the same calibration
    assert sum(t["ytd_completed_prev"] for t in q1) == pytest.approx(0.92 * (586_000.0 + 1_425_000.0), rel=1e-4)


def test_demo_views_carry_yoy(demo_db):
    from pipelines.views import completion, overview
    from pipelines.warehouse.store import Warehouse

    view = metrics.View(date(2020, 12, 25), 2020)
    with Warehouse(demo_db).read() as con:
        ov = overview.overview(con, view)
        cp = completion.completion(con, view)
        first = completion.completion(con, metrics.View(date(2019, 12, 27), 2019))
    assert ov.total["ytd_yoy"] is not None and all(t["ytd_yoy"] is not None for t in ov.tiers)
    assert ov.total_before is not None and "ytd_yoy" not in ov.total_before  # 较上期 needs no 同比
    assert cp.total["ytd_yoy"] == ov.total["ytd_yoy"]
    table = completion.yoy_by_city(cp)
    assert table is not None and table.height == 11
    taiyuan = next(it for it in cp.by["city"] if it["group"] == "太原市")
    assert table.row(0)[0] == "太原市" and table.row(0)[3] == pytest.approx(taiyuan["ytd_yoy"])
    assert completion.yoy_by_city(first) is None  # 2018 has no data: no 同比 table


def test_demo_pages_show_yoy_cards_and_only_with_a_year_before(demo_db, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from pipelines.warehouse.store import Warehouse
    from tests.conftest import ROOT

    monkeypatch.setenv("KAIGONG_DB", str(demo_db))
    with Warehouse(demo_db).read() as con:
        t = metrics.total(con, date(2020, 12, 25))

    def run(page: str, **query: str) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        for k, v in query.items():
            at.query_params[k] = v
        at.run()
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    for page in ("pages/overview.py", "pages/completion.py"):
        at = run(page)
        cards = {m.label: m.value for m in reversed(at.metric)}  # the first of each label (全部项目 on 总览)
        assert cards["同比增长（与上年清单同期比）"] == f"{t['ytd_yoy'] * 100:+.1f}%"
        assert cards["同口径同比"] == f"{t['ytd_yoy_same'] * 100:+.1f}%"
        assert cards["上年同期累计完成投资（亿元）"] == formats.yi_num(t["ytd_completed_prev"])
    assert any(df.value.shape[0] == 11 and "同口径同比" in df.value.columns for df in at.dataframe)
    # 2019: no 2018 to compare with, so no 同比 cards
    at = run("pages/overview.py", year="2019", date="2019-12-27")
    assert not any("同比" in m.label for m in at.metric)
