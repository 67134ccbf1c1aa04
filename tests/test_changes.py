"""The change audit (pipelines/changes.py) on hand-made weeks, each finding computed by hand."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import polars as pl
import pytest

from pipelines import cli
from pipelines.views import changes as changes_view
from pipelines.warehouse import changes
from pipelines.warehouse.store import Submission, Warehouse
from tests.conftest import _p, load_rows

TY, XZ = ("140100", "太原市"), ("140900", "忻州市")
XD, XF, YP = ("140105", "小店区"), ("140902", "忻府区"), ("140981", "原平市")
W1, W2, W3 = date(2020, 3, 6), date(2020, 3, 13), date(2020, 3, 20)
T = "市级千项"


def _ty(name: str, **kw: Any) -> dict[str, Any]:
    return _p(name, TY, XD, T, **kw)


def week1() -> list[dict[str, Any]]:
    return [
        _ty("甲项目", stage="在建", total_investment=10000.0, annual_plan=5000.0, ytd_completed=2000.0,
            completed_before_year=1000.0, actual_start_date=date(2020, 2, 1)),
        _ty("乙项目", stage="在建", total_investment=10000.0, annual_plan=5000.0, ytd_completed=1000.0,
            completed_before_year=0.0, actual_start_date=date(2020, 2, 10)),
        _ty("丙项目", stage="新开工", total_investment=10000.0, annual_plan=5000.0, ytd_completed=0.0,
            completed_before_year=500.0, planned_start_date=date(2020, 4, 1)),
        _ty("丁项目", stage="竣工", total_investment=3000.0, annual_plan=1000.0, ytd_completed=1000.0,
            completed_before_year=2000.0, actual_start_date=date(2019, 5, 1)),
        _ty("戊项目", stage="在建", total_investment=3000.0, annual_plan=1000.0, ytd_completed=100.0,
            completed_before_year=0.0, actual_start_date=date(2020, 1, 5)),
    ]


def week2(a_ytd: float = 1500.0) -> list[dict[str, Any]]:
    """甲 lowers 本年累计 (2000 → a_ytd) and moves its start; 乙 goes back to 新开工, clears its start,
    总投资 +20.01 % and 年度计划 +20 % exactly; 丙 lowers 截至上年底 (累计 500 → 100); 丁 (竣工) and
    戊 are left out; 己 is new."""
    return [
        _ty("甲项目", stage="在建", total_investment=10000.0, annual_plan=5000.0, ytd_completed=a_ytd,
            completed_before_year=1000.0, actual_start_date=date(2020, 2, 5)),
        _ty("乙项目", stage="新开工", total_investment=12001.0, annual_plan=6000.0, ytd_completed=1000.0,
            completed_before_year=0.0, actual_start_date=None),
        _ty("丙项目", stage="新开工", total_investment=10000.0, annual_plan=5000.0, ytd_completed=0.0,
            completed_before_year=100.0, planned_start_date=date(2020, 4, 1)),
        _ty("己项目", stage="新开工", total_investment=2000.0, annual_plan=2000.0, ytd_completed=0.0,
            completed_before_year=0.0, planned_start_date=date(2020, 5, 1)),
    ]


def _xz(name: str, county: tuple[str, str], ytd: float) -> dict[str, Any]:
    return _p(name, XZ, county, T, stage="在建", total_investment=5000.0, annual_plan=2000.0, ytd_completed=ytd,
              completed_before_year=0.0, actual_start_date=date(2020, 2, 1))


def _kinds(found: pl.DataFrame) -> set[tuple[str, str, str | None, str | None]]:
    return {(r["project_name"], r["kind"], r["old_value"], r["new_value"]) for r in found.iter_rows(named=True)
            if r["kind"] != "new"}


@pytest.fixture
def two_weeks(wh: Warehouse) -> Warehouse:
    load_rows(wh, W1, week1(), file_name="太原_0306.csv")
    load_rows(wh, W2, week2(), file_name="太原_0313.csv")
    return wh


def _sub_id(wh: Warehouse, file_name: str) -> int:
    with wh.read() as con:
        return int(con.execute("SELECT max(submission_id) FROM submissions WHERE file_name = ?",
                               [file_name]).fetchall()[0][0])


def test_every_finding_of_a_week_against_the_last(two_weeks: Warehouse) -> None:
    with two_weeks.read() as con:
        found = changes_view.for_submission(con, _sub_id(two_weeks, "太原_0313.csv"))
    assert _kinds(found) == {
        ("甲项目", "ytd_down", "2000", "1500"),
        ("甲项目", "start_changed", "2020-02-01", "2020-02-05"),
        ("乙项目", "stage_back", "在建", "新开工"),
        ("乙项目", "start_cleared", "2020-02-10", "（空）"),
        ("乙项目", "total_changed", "10000", "12001"),  # 2001/10000 = 20.01 % > 20 %; 年度计划 +20 % exactly is not
        ("丙项目", "cumulative_down", "500", "100"),  # 本年累计 unchanged, 截至上年底 500 → 100
        ("戊项目", "missing", "已报送", "未报送"),  # 丁 is 竣工: not expected to report
    }
    new = found.filter(pl.col("kind") == "new")
    assert new["project_name"].to_list() == ["己项目"] and new["prev_report_date"].to_list() == [None]
    assert set(found.filter(pl.col("kind") != "new")["prev_report_date"].to_list()) == {W1}
    a = found.filter(pl.col("kind") == "ytd_down").row(0, named=True)
    assert a["source_row"] is not None and a["later_reports"] is None


def test_the_first_report_of_the_year_has_only_new_projects(wh: Warehouse) -> None:
    load_rows(wh, W1, week1(), file_name="太原_0306.csv")
    with wh.read() as con:
        found = changes_view.for_submission(con, _sub_id(wh, "太原_0306.csv"))
    assert found["kind"].to_list() == ["new"] * 5


def test_a_larger_share_quiets_the_total_change(two_weeks: Warehouse) -> None:
    sub = Submission("x.csv", pl.DataFrame(week2()), W2, present_fields=tuple(week2()[0]))
    with two_weeks.read() as con:
        # the preview of a file identical to the loaded one, before its own load: compare with W1
        loose = changes.preview(con, sub.frame, sub.file_name, W2, sub.present_fields,
                                rules=changes.Rules(change_share=0.25))
        strict = changes.preview(con, sub.frame, sub.file_name, W2, sub.present_fields,
                                 rules=changes.Rules(change_share=0.19))
    assert "total_changed" not in loose["kind"].to_list()
    assert set(strict.filter(pl.col("kind").is_in(["total_changed", "plan_changed"]))["new_value"]) == {"12001", "6000"}


def test_the_preview_names_the_lowered_ytd_before_anything_is_written(wh: Warehouse) -> None:
    load_rows(wh, W1, week1(), file_name="太原_0306.csv")
    frame = pl.DataFrame(week2(), infer_schema_length=None).with_columns(source_row=pl.Series([5, 6, 7, 8]))
    with wh.read() as con:
        found = changes.preview(con, frame, "太原_0313.csv", W2, tuple(c for c in frame.columns if c != "source_row"))
        n_reports = con.execute("SELECT count(*) FROM reports").fetchall()[0][0]
    a = found.filter(pl.col("kind") == "ytd_down").row(0, named=True)
    assert (a["project_name"], a["source_row"], a["old_value"], a["new_value"], a["prev_report_date"]) == (
        "甲项目", 5, "2000", "1500", W1)
    assert "本年累计完成投资减少" in changes_view.line_zh(a) and "2000 → 1500" in changes_view.line_zh(a)
    assert n_reports == 5  # nothing loaded


def test_a_correction_of_an_earlier_week_is_audited_against_that_weeks_previous_state(two_weeks: Warehouse) -> None:
    load_rows(two_weeks, W3, week2(), file_name="太原_0320.csv")
    load_rows(two_weeks, W2, week2(a_ytd=1800.0), file_name="太原_0313_更正.csv")
    with two_weeks.read() as con:
        fixed = changes_view.for_submission(con, _sub_id(two_weeks, "太原_0313_更正.csv"))
        standing = changes_view.for_period(con, W2)
    a = fixed.filter(pl.col("kind") == "ytd_down").row(0, named=True)
    # against 03-06 (2000), not 03-20; and it says the later report it changes
    assert (a["old_value"], a["new_value"], a["prev_report_date"], a["later_reports"]) == ("2000", "1800", W1, "2020-03-20")
    # 本期变动 at 03-13: the correction's finding stands, the first file's (1500) does not
    ytd = standing.filter(pl.col("kind") == "ytd_down")
    assert ytd["new_value"].to_list() == ["1800"]
    assert standing.filter(pl.col("kind") == "missing")["project_name"].to_list() == ["戊项目"]


def test_a_unit_that_skipped_a_period_is_compared_with_its_own_last_report(wh: Warehouse) -> None:
    # 忻府区 reports 03-06, skips 03-13 (太原 reports), reports 03-20 with one of its two projects.
    load_rows(wh, W1, [_xz("子项目", XF, 100.0), _xz("丑项目", XF, 100.0), _xz("寅项目", YP, 100.0)],
              file_name="忻州_0306.csv")
    load_rows(wh, W2, week1(), file_name="太原_0313.csv")
    load_rows(wh, W3, [_xz("子项目", XF, 50.0)], file_name="忻府_0320.csv")
    with wh.read() as con:
        found = changes_view.for_submission(con, _sub_id(wh, "忻府_0320.csv"))
    # the unit is 忻府区 (every row names it): 寅 (原平市) is not its project; 太原's are not either
    assert _kinds(found) == {("子项目", "ytd_down", "100", "50"), ("丑项目", "missing", "已报送", "未报送")}
    assert set(found["prev_report_date"].to_list()) == {W1}


def test_region_given_as_a_city_makes_the_unit_the_city(wh: Warehouse) -> None:
    load_rows(wh, W1, [_xz("子项目", XF, 100.0), _xz("寅项目", YP, 100.0)], file_name="忻州_0306.csv")
    frame = pl.DataFrame([_xz("子项目", XF, 100.0)], infer_schema_length=None)
    fields = tuple(frame.columns)
    with wh.read() as con:
        as_county = changes.preview(con, frame, "f.csv", W2, fields)
        as_city = changes.preview(con, frame, "f.csv", W2, fields, region_code="140900")
    assert as_county.is_empty()
    assert as_city["project_name"].to_list() == ["寅项目"]


def test_cli_changes_json_and_text(two_weeks: Warehouse, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--db", str(two_weeks.path), "changes", "--as-of", "2020-03-13", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["kind"] for r in rows} == {"ytd_down", "start_changed", "stage_back", "start_cleared", "total_changed",
                                         "cumulative_down", "missing", "new"}
    a = next(r for r in rows if r["kind"] == "ytd_down")
    assert set(a) >= {"project_id", "project_name", "field", "old_value", "new_value", "prev_report_date",
                      "later_reports", "kind_zh", "submission_id", "report_date"}
    assert (a["old_value"], a["new_value"], a["prev_report_date"]) == ("2000", "1500", "2020-03-06")
    assert cli.main(["--db", str(two_weeks.path), "changes", "--as-of", "2020-03-13", "--region", "忻州市"]) == 0
    assert "没有" in capsys.readouterr().out
    assert cli.main(["--db", str(two_weeks.path), "changes", "--as-of", "2020-03-13", "--region", "小店区"]) == 0
    out = capsys.readouterr().out
    assert "甲项目：本年累计完成投资减少，本年累计完成投资 2000 → 1500（上期报告期 2020-03-06）" in out


def test_cli_ingest_prints_the_findings(wh: Warehouse, tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    load_rows(wh, W1, week1(), file_name="太原_0306.csv")
    path = tmp_path / "太原_0313.csv"
    heads = {"project_name": "项目名称", "city_name": "地市", "county_name": "县区", "tier": "层级",
             "stage": "建设状态", "total_investment": "总投资", "annual_plan": "本年计划投资",
             "ytd_completed": "本年累计完成投资"}
    pl.DataFrame(week1()).select(list(heads)).rename(heads).with_columns(
        pl.when(pl.col("项目名称") == "甲项目").then(1500.0).otherwise(pl.col("本年累计完成投资")).alias("本年累计完成投资")
    ).write_csv(path)
    assert cli.main(["--db", str(wh.path), "ingest", str(path), "--report-date", "2020-03-13"]) == 0
    out = capsys.readouterr().out
    assert "变动：" in out and "甲项目：本年累计完成投资减少，本年累计完成投资 2000 → 1500" in out


def test_backup_keeps_the_findings_and_an_older_backup_without_them_restores(two_weeks: Warehouse, tmp_path) -> None:
    from pipelines.warehouse.backup import backup, restore

    backup(two_weeks, tmp_path / "bk")
    restore(tmp_path / "bk", tmp_path / "r.duckdb")
    sid = _sub_id(two_weeks, "太原_0313.csv")
    with two_weeks.read() as a, Warehouse(tmp_path / "r.duckdb").read() as b:
        assert changes_view.for_submission(a, sid).equals(changes_view.for_submission(b, sid))
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text(encoding="utf-8"))
    del manifest["tables"]["change_findings"]  # as a backup written before the audit
    (tmp_path / "bk" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    restore(tmp_path / "bk", tmp_path / "old.duckdb")
    with Warehouse(tmp_path / "old.duckdb").read() as con:
        assert changes_view.for_submission(con, sid).is_empty()
