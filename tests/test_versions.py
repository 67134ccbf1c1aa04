"""Every version of a report is kept (issue 26): a correction supersedes the earlier version (who, when,
which submission) and deletes nothing; the figures use the newest; `--as-known-at` gives the figures as
the database knew them; an unchanged reload adds no version; 年初计划 is the first plan of the year and a
region whose plan was cut is listed; an upgraded older database and a backup → restore keep it all.

Hand values: 太原市 A (plan 10000, 本年累计 4000) and B (plan 5000, 1000) in 小店区, 忻州市 C (plan 2000,
500). May (05-31): 本年完成 5500, plan 17000, 完成率 5500/17000 = 0.323529. The county corrects A's
本年累计 to 6000: 7500/17000 = 0.441176. June (06-30): B's plan cut to 2000 (本年累计 1500), A 7000,
C 800: plan 14000, 完成 9300, 完成率 0.664286; 太原市's Σ plan 12000 against its 年初计划 15000."""

from __future__ import annotations

import json
import time
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines import cli, metrics
from pipelines.metrics import View
from pipelines.views.history import project_history
from pipelines.views.plans import cut_line, initial_plans, plan_adjustments, plan_cuts
from pipelines.warehouse.store import Submission, Warehouse
from pipelines.warehouse.versions import KnownAt

TY, XZ, XD = ("140100", "太原市"), ("140900", "忻州市"), ("140105", "小店区")
MAY, JUNE = date(2020, 5, 31), date(2020, 6, 30)
FIELDS = ("stage", "annual_plan", "ytd_completed", "county_code", "county_name", "tier")


def _row(name, city, plan, ytd, county=(None, None)):
    return {"project_name": name, "city_code": city[0], "city_name": city[1], "county_code": county[0],
            "county_name": county[1], "tier": "市级千项", "stage": "在建", "annual_plan": plan, "ytd_completed": ytd}


def _load(wh: Warehouse, d: date, rows: list[dict], name: str, user: str) -> list:
    frame = pl.DataFrame(rows, infer_schema_length=None)
    sub = Submission(name, frame, d, raw=(name + repr(rows)).encode(), present_fields=FIELDS, frequency="month")
    return wh.load([sub], actor=user)


def _may(a_ytd: float = 4000.0) -> list[dict]:
    return [_row("A项目", TY, 10000.0, a_ytd, XD), _row("B项目", TY, 5000.0, 1000.0, XD), _row("C项目", XZ, 2000.0, 500.0)]


def _total(con, d: date) -> tuple[float, float, float]:
    t = metrics.total(con, d)
    return t["annual_plan"], t["ytd_completed"], round(t["completion_rate"], 6)


def _versions(wh: Warehouse) -> tuple[int, int]:
    with wh.read() as con:
        (n_reports,), (n_old,) = (con.execute("SELECT count(*) FROM reports").fetchone(),
                                  con.execute("SELECT count(*) FROM report_versions").fetchone())
    return n_reports, n_old


@pytest.fixture
def corrected(wh: Warehouse) -> tuple[Warehouse, datetime]:
    _load(wh, MAY, _may(), "5月.csv", "小店区报送员")
    time.sleep(0.01)
    before = datetime.now()
    time.sleep(0.01)
    out = _load(wh, MAY, [_row("A项目", TY, 10000.0, 6000.0, XD)], "5月更正.csv", "小店区审核员")
    assert out[0].status == "loaded" and out[0].replaced_reports == 1
    return wh, before


def test_a_correction_supersedes_and_deletes_nothing(corrected):
    wh, _ = corrected
    with wh.read() as con:
        assert _total(con, MAY) == (17000.0, 7500.0, 0.441176)  # the corrected figures
    assert _versions(wh) == (3, 1)  # 3 reports now, the original of A kept
    with wh.read() as con:
        old = con.execute("SELECT ytd_completed, superseded_by FROM report_versions").fetchall()
        sid = con.execute("SELECT max(submission_id) FROM submissions").fetchone()[0]
    assert old == [(4000.0, sid)]


def test_as_known_at_before_the_correction_gives_the_original_figures(corrected):
    wh, before = corrected
    known = KnownAt(wh, before)
    with known.read() as con:
        assert _total(con, MAY) == (17000.0, 5500.0, 0.323529)
    known.close()
    # and now (after the correction) the corrected ones, through the same code
    known = KnownAt(wh, datetime.now())
    with known.read() as con:
        assert _total(con, MAY) == (17000.0, 7500.0, 0.441176)
    known.close()
    # the 简报's figures as known then (the same collect the PDF prints from)
    from pipelines.outputs.briefing import collect

    known = KnownAt(wh, before)
    with known.read() as con:
        assert collect(con, MAY, today=MAY).total["ytd_completed"] == 5500.0
    known.close()
    # before anything was loaded: nothing known
    known = KnownAt(wh, datetime(2000, 1, 1))
    with known.read() as con:
        assert con.execute("SELECT count(*) FROM reports").fetchone() == (0,)
    known.close()


def test_cli_metrics_as_known_at(corrected, capsys):
    wh, before = corrected
    assert cli.main(["--db", str(wh.path), "metrics", "--as-of", "2020-05-31", "--json",
                     "--as-known-at", before.isoformat(timespec="microseconds")]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got[0]["ytd_completed"] == 5500.0 and got[0]["completion_rate"] == pytest.approx(0.323529)
    assert cli.main(["--db", str(wh.path), "metrics", "--as-of", "2020-05-31", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["ytd_completed"] == 7500.0


def test_the_history_shows_both_versions_with_who(corrected):
    wh, _ = corrected
    with wh.read() as con:
        pid = con.execute("SELECT project_id FROM projects WHERE name_norm LIKE 'A%'").fetchone()[0]
        v = project_history(con, pid).versions
    assert v is not None
    assert v.select("version", "status", "ytd_completed", "loaded_by", "file_name", "superseded_by_name").rows() == [
        (1, "已更正", 4000.0, "小店区报送员", "5月.csv", "小店区审核员"),
        (2, "现行", 6000.0, "小店区审核员", "5月更正.csv", None),
    ]


def test_an_unchanged_reload_adds_no_version(corrected):
    wh, _ = corrected
    out = _load(wh, MAY, _may(6000.0), "5月重报.csv", "小店区报送员")  # the whole file again, A as corrected
    assert out[0].status == "loaded" and out[0].replaced_reports == 0
    assert _versions(wh) == (3, 1)
    with wh.read() as con:
        assert _total(con, MAY) == (17000.0, 7500.0, 0.441176)
        # the reload's rows are its rows to the change audit all the same (none reported missing)
        kinds = con.execute("SELECT DISTINCT kind FROM change_findings WHERE submission_id = "
                            "(SELECT max(submission_id) FROM submissions)").fetchall()
    assert ("missing",) not in kinds


def test_initial_plan_after_a_mid_year_cut(corrected):
    wh, _ = corrected
    _load(wh, JUNE, [_row("A项目", TY, 10000.0, 7000.0, XD), _row("B项目", TY, 2000.0, 1500.0, XD),
                     _row("C项目", XZ, 2000.0, 800.0)], "6月.csv", "小店区报送员")
    with wh.read() as con:
        assert _total(con, JUNE) == (14000.0, 9300.0, 0.664286)  # against the adjusted plan (the contract's)
        initial = {r["project_id"].split("|")[-1][:3]: r["initial_plan"] for r in initial_plans(con, 2020).to_dicts()}
        adjustments = plan_adjustments(con, 2020)
        cuts = plan_cuts(con, View(JUNE, 2020))
    assert sorted(initial.values()) == [2000.0, 5000.0, 10000.0]
    assert adjustments.select("old_plan", "new_plan", "adjusted_by").rows() == [(5000.0, 2000.0, "小店区报送员")]
    assert cuts.select("city_name", "initial_plan", "annual_plan", "cut", "projects_cut").rows() == [
        ("太原市", 15000.0, 12000.0, 3000.0, 1)]
    assert cut_line(cuts) == "年度计划调减（完成率按调整后计划计算）：太原市由1.50亿元调减为1.20亿元。"
    from pipelines.outputs.briefing import collect

    with wh.read() as con:
        assert collect(con, JUNE, today=JUNE).sentences[1] == cut_line(cuts)  # after the 完成率 sentence
    with wh.read() as con:  # in May nothing was cut
        assert plan_cuts(con, View(MAY, 2020)).is_empty()


def test_an_older_database_is_upgraded_and_keeps_its_figures(wh):
    _load(wh, MAY, _may(), "5月.csv", "小店区报送员")
    with wh.read() as con:
        want = _total(con, MAY)
    con = duckdb.connect(str(wh.path))  # a file from before the versions
    con.execute("DROP TABLE report_versions")
    con.close()
    wh.upgrade()
    with wh.read() as con:
        assert _total(con, MAY) == want
        pid = con.execute("SELECT project_id FROM projects WHERE name_norm LIKE 'A%'").fetchone()[0]
        v = project_history(con, pid).versions
    assert v is not None and v.select("version", "status").rows() == [(1, "现行")]  # the report is version 1
    _load(wh, MAY, [_row("A项目", TY, 10000.0, 6000.0, XD)], "5月更正.csv", "小店区审核员")
    assert _versions(wh) == (3, 1)
    with wh.read() as con:
        assert _total(con, MAY) == (17000.0, 7500.0, 0.441176)


def test_backup_restore_keeps_the_versions(corrected, tmp_path):
    from pipelines.warehouse.backup import backup, restore, verify

    wh, before = corrected
    backup(wh, tmp_path / "bk")
    restored = Warehouse(tmp_path / "restored.duckdb")
    restore(tmp_path / "bk", restored)
    assert _versions(restored) == (3, 1)
    with restored.read() as con:
        assert _total(con, MAY) == (17000.0, 7500.0, 0.441176)
    known = KnownAt(restored, before)
    with known.read() as con:
        assert _total(con, MAY) == (17000.0, 5500.0, 0.323529)
    known.close()
    assert verify(wh, tmp_path / "bk") == []


def test_plan_adjustments_in_the_view_and_on_the_completion_page(corrected, monkeypatch):
    """B's 年度计划 cut in June (5000 → 2000 万元 by 小店区报送员) is listed with its region and who/when,
    in the view of 太原市 and on the 投资完成 page; in May's view (before the cut) and 忻州市's, nothing."""
    wh, _ = corrected
    _load(wh, JUNE, [_row("A项目", TY, 10000.0, 7000.0, XD), _row("B项目", TY, 2000.0, 1500.0, XD),
                     _row("C项目", XZ, 2000.0, 800.0)], "6月.csv", "小店区报送员")
    from pipelines.views.plans import adjustments_in_view

    with wh.read() as con:
        june = adjustments_in_view(con, View(JUNE, 2020, metrics.Filters(cities=(TY[0],))))
        assert adjustments_in_view(con, View(MAY, 2020)).is_empty()
        assert adjustments_in_view(con, View(JUNE, 2020, metrics.Filters(cities=(XZ[0],)))).is_empty()
    assert june.select("city_name", "county_name", "project_name", "report_date", "old_plan", "new_plan",
                       "adjusted_by", "file_name").rows() == [
        ("太原市", "小店区", "B项目", JUNE, 5000.0, 2000.0, "小店区报送员", "6月.csv")]

    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("KAIGONG_DB", str(wh.path))
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/completion.py").run()
    assert not at.exception
    assert any(e.label.startswith("年度计划调整记录（1 条") for e in at.expander)
    [table] = [d.value for d in at.dataframe if "调整人" in d.value.columns]
    assert table[["项目名称", "调整前（万元）", "调整后（万元）", "调整人"]].values.tolist() == [
        ["B项目", 5000.0, 2000.0, "小店区报送员"]]
