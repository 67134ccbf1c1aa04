"""Issue 31, part 1: the prefilled 本期填报表 — made, protected, loaded back through the normal upload, and
what 本期无变化 and the stale flag do. Fixture: the dashboard's test database (tests/conftest.py: 忻州市 has
焦化余热发电技术改造项目 (忻府区, 续建, 本年累计 6000 at 2020-03-13) and 杂粮深加工项目 (原平市, 新开工, 0, 未入统))."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook

from pipelines import cli
from pipelines.ingest.prepare import prepare
from pipelines.outputs.fill_sheet import HIGHLIGHT, fill_sheet
from pipelines.vocab.findings import SubmissionRefused
from pipelines.warehouse import changes, intake
from pipelines.warehouse.store import Warehouse
from tests.conftest import build_app_db, load_rows

JIAO, ZALIANG = "焦化余热发电技术改造项目", "杂粮深加工项目"


@pytest.fixture
def app(tmp_path: Path) -> Warehouse:
    return Warehouse(build_app_db(tmp_path / "app.duckdb"))


def _edit(content: bytes, edits: dict[tuple[str, str], object]) -> bytes:
    """The sheet with cells changed as a clerk would (by project name and header)."""
    wb = load_workbook(io.BytesIO(content))
    ws = wb.worksheets[0]
    heads = [c.value for c in ws[2]]
    for r in range(3, ws.max_row + 1):
        name = ws.cell(r, heads.index("项目名称") + 1).value
        for (project, header), value in edits.items():
            if project == name:
                ws.cell(r, heads.index(header) + 1).value = value
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _upload(wh: Warehouse, content: bytes, name: str = "忻州市_0320.xlsx"):
    p = prepare(content, name)
    assert p.ok, p.errors
    return intake.load_prepared(wh, [p])[0]


def _findings(wh: Warehouse, sid: int) -> list[tuple[str, str, str, str, str]]:
    with wh.read() as con:
        return con.execute("SELECT project_name, kind, field, old_value, new_value FROM change_findings "
                           "WHERE submission_id = ? ORDER BY project_name, field", [sid]).fetchall()


def test_the_cli_writes_the_units_sheet_prefilled_from_its_last_report(app: Warehouse, tmp_path: Path, capsys):
    out = tmp_path / "忻府区_0320.xlsx"
    assert cli.main(["--db", str(app.path), "fill-sheet", "--unit", "忻府区", "--as-of", "2020-03-13",
                     "--out", str(out)]) == 0
    assert "忻府区 本期填报表：1 个项目，按上期（2020-03-13）数据预填，报告期 2020-03-20（周报）" in capsys.readouterr().out
    ws = load_workbook(out).worksheets[0]
    assert ws.cell(1, 1).value == "忻府区重点项目周报表（截至2020年3月20日）"
    heads = [c.value for c in ws[2]]
    assert heads[-1] == "本期无变化" and ws.max_row == 3  # one project of 忻府区
    row = {h: ws.cell(3, i + 1).value for i, h in enumerate(heads)}
    assert (row["项目名称"], row["本年累计完成投资"], row["总投资"], row["建设状态"], row["是否入统"]) == (
        JIAO, 6000, 120000, "续建", "否")
    assert row["实际开（复）工时间"].date() == date(2020, 2, 25)
    # the function gives the same bytes' content
    sheet = fill_sheet(app, "忻府区", date(2020, 3, 13))
    assert (sheet.rows, sheet.report_date, sheet.last_report_date) == (1, date(2020, 3, 20), date(2020, 3, 13))
    assert cli.main(["--db", str(app.path), "fill-sheet", "--unit", "火星区", "--as-of", "2020-03-13",
                     "--out", str(out)]) == 2


def test_the_sheet_is_protected_and_only_the_periods_cells_are_open_and_highlighted(app: Warehouse):
    ws = load_workbook(io.BytesIO(fill_sheet(app, "忻州市", date(2020, 3, 13)).content)).worksheets[0]
    assert ws.protection.sheet is True
    heads = [c.value for c in ws[2]]
    opened = {h for i, h in enumerate(heads) if not ws.cell(3, i + 1).protection.locked}
    assert opened == {"建设状态", "本年累计完成投资", "工程形象进度", "计划开（复）工时间", "实际开（复）工时间",
                      "未开复工原因", "计划竣工时间", "实际竣工时间", "存在问题", "建议解决部门", "是否入统", "本期无变化"}
    for i, h in enumerate(heads):
        colour = ws.cell(3, i + 1).fill.fgColor.rgb
        assert (colour == "FF" + HIGHLIGHT[1:]) == (h in opened), h
    assert ws.cell(3, heads.index("总投资") + 1).protection.locked  # unchanged fields locked


def test_two_cells_changed_the_change_audit_names_exactly_those_two(app: Warehouse):
    content = fill_sheet(app, "忻州市", date(2020, 3, 13)).content
    out = _upload(app, _edit(content, {(JIAO, "本年累计完成投资"): 9000, (ZALIANG, "是否入统"): "是"}))
    assert out.status == "loaded" and out.rows == 2 and out.report_date == date(2020, 3, 20)
    assert _findings(app, out.submission_id) == [
        (ZALIANG, "updated", "是否入统", "否", "是"),
        (JIAO, "updated", "本年累计完成投资", "6000", "9000"),
    ]
    with app.read() as con:  # the rest carried over as it was
        assert con.execute("SELECT total_investment, ytd_completed FROM reports WHERE report_date = '2020-03-20' "
                           "AND project_id LIKE '%焦化%'").fetchall() == [(120000.0, 9000.0)]


def _reporting(wh: Warehouse, capsys) -> tuple[int, int, float]:
    capsys.readouterr()
    assert cli.main(["--db", str(wh.path), "metrics", "--as-of", "2020-03-20", "--city", "忻州市", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)[0]
    return r["reporting_base"], r["reported"], r["reporting_rate"]


def test_an_unchanged_row_counts_for_the_reporting_rate_only_when_marked(app: Warehouse, capsys):
    content = fill_sheet(app, "忻州市", date(2020, 3, 13)).content
    # 焦化: nothing changed, not marked → not a report of 03-20; 杂粮: nothing changed, marked 本期无变化 → reported
    out = _upload(app, _edit(content, {(ZALIANG, "本期无变化"): "是"}))
    assert out.rows == 1
    assert _findings(app, out.submission_id) == [(JIAO, "unconfirmed", "本期无变化", "未标", "未修改")]
    # by hand: both projects are due to report in the week to 03-20 (neither done); one reported → 1/2
    assert _reporting(app, capsys) == (2, 1, 0.5)


def test_an_unchanged_row_marked_counts_and_a_sheet_sent_back_untouched_is_refused(app: Warehouse, capsys):
    content = fill_sheet(app, "忻州市", date(2020, 3, 13)).content
    with pytest.raises(SubmissionRefused, match="没有任何项目有修改或标记「本期无变化」"):
        _upload(app, content)
    assert _reporting(app, capsys) == (2, 0, 0.0)  # nothing half-loaded
    _upload(app, _edit(content, {(ZALIANG, "本期无变化"): "是", (JIAO, "本期无变化"): "是"}))
    assert _reporting(app, capsys) == (2, 2, 1.0)


def test_a_project_in_construction_whose_figures_do_not_move_for_n_periods_is_stale(wh: Warehouse):
    base = {"project_name": "停滞项目", "city_code": "140900", "city_name": "忻州市", "county_code": "140902",
            "county_name": "忻府区", "tier": "市级千项", "stage": "在建", "total_investment": 9000.0,
            "annual_plan": 3000.0, "actual_start_date": date(2019, 5, 1)}
    days = [date(2020, 3, 6), date(2020, 3, 13), date(2020, 3, 20), date(2020, 3, 27)]
    load_rows(wh, days[0], [{**base, "ytd_completed": 100.0}])
    for d in days[1:3]:
        load_rows(wh, d, [{**base, "ytd_completed": 500.0}])
    fields = (*base, "ytd_completed")
    row = pl.DataFrame([{**base, "ytd_completed": 500.0}])
    with wh.read() as con:
        # 03-27: unchanged since 03-13, two periods: stale for N = 2, not for the default 3
        found = changes.preview(con, row, "x.csv", days[3], fields, rules=changes.Rules(stale_periods=2))
        assert found.select("kind", "old_value", "new_value").rows() == [("stale", "2020-03-13 起未变", "500")]
        assert changes.preview(con, row, "x.csv", days[3], fields).filter(pl.col("kind") == "stale").is_empty()
    load_rows(wh, days[3], [{**base, "ytd_completed": 500.0}])
    with wh.read() as con:
        # 04-03: unchanged for three periods: stale at the default; not when it is no longer 在建
        found = changes.preview(con, row, "x.csv", date(2020, 4, 3), fields)
        assert found.select("kind").to_series().to_list() == ["stale"]
        done = row.with_columns(stage=pl.lit("竣工"))
        assert changes.preview(con, done, "x.csv", date(2020, 4, 3), fields).filter(
            pl.col("kind") == "stale").is_empty()


def test_the_stale_flag_is_on_the_lights_list_and_the_lights_do_not_change(wh: Warehouse):
    from pipelines.metrics import View
    from pipelines.views import procedures

    # 在建, 本年累计 3000 of a 3000 plan (green progress), then 100 of 3000 and unchanged for three weeks:
    # at 06-26 (序时 178/366 = 48.6 %, progress 3.3 %: red) it is lit and stale
    base = {"project_name": "停滞项目", "city_code": "140900", "city_name": "忻州市", "county_code": "140902",
            "county_name": "忻府区", "tier": "市级千项", "stage": "在建", "total_investment": 9000.0,
            "annual_plan": 3000.0, "actual_start_date": date(2019, 5, 1), "stats_registered": True}
    for d in (date(2020, 6, 5), date(2020, 6, 12), date(2020, 6, 19)):
        load_rows(wh, d, [{**base, "ytd_completed": 100.0}])
    view = View(date(2020, 6, 19), 2020)
    with wh.read() as con:
        before = procedures.lights_page(con, view)
    assert before.stale.is_empty() and before.lit["stale"].to_list() == [None]
    load_rows(wh, date(2020, 6, 26), [{**base, "ytd_completed": 100.0}])
    with wh.read() as con:
        page = procedures.lights_page(con, View(date(2020, 6, 26), 2020))
        shown = procedures.lit_shown(page.lit)
    assert page.stale.select("project_name", "stale_since", "ytd_completed").rows() == [
        ("停滞项目", "2020-06-05 起未变", "100")]
    assert shown.select("项目名称", "综合灯", "停滞提示").rows() == [("停滞项目", "红灯", "停滞（本年累计2020-06-05 起未变）")]
    assert page.lit["light"].to_list() == before.lit["light"].to_list() == ["red"]


def test_a_sheet_sent_to_review_keeps_its_marks_and_the_approval_loads_only_what_counts(app: Warehouse, capsys):
    from pipelines import auth
    from pipelines.warehouse import review

    clerk, reviewer = auth.User("xz_clerk", "报送员", "140900"), auth.User("xz_review", "审核员", "140900")
    content = fill_sheet(app, "忻州市", date(2020, 3, 13)).content
    p = prepare(_edit(content, {(ZALIANG, "本年累计完成投资"): 800}), "忻州市_0320.xlsx")
    [pending] = review.submit(app, [p.submission], clerk)
    with app.read() as con:  # the reviewer's preview: the audit with the sheet's marks
        sub = review.pending_submission(con, pending.pending_id)
        found = changes.preview(con, sub.frame, sub.file_name, sub.report_date, sub.present_fields)
    assert sorted(found.select("project_name", "kind").rows()) == [(ZALIANG, "updated"), (JIAO, "unconfirmed")]
    out = review.approve(app, pending.pending_id, reviewer)
    assert out.rows == 1 and _findings(app, out.submission_id) == [
        (ZALIANG, "updated", "本年累计完成投资", "0", "800"), (JIAO, "unconfirmed", "本期无变化", "未标", "未修改")]
    assert _reporting(app, capsys) == (2, 1, 0.5)


def test_a_draft_is_kept_per_user_and_period_until_discarded(app: Warehouse):
    from pipelines.views.fill import fill_grid, grid_from_draft
    from pipelines.warehouse import drafts

    with app.read() as con:
        g = fill_grid(con, "忻州市", date(2020, 3, 13))
    edited = g.frame.with_columns(ytd_completed=pl.Series([800.0, 6000.0]))
    drafts.save(app, "xz_clerk", g.unit_code, g.report_date, edited)
    saved = drafts.load(app, "xz_clerk", g.unit_code, g.report_date)
    assert saved is not None and grid_from_draft(g, saved[0]).equals(edited)  # dates and all, as typed
    assert drafts.load(app, "other", g.unit_code, g.report_date) is None
    assert drafts.load(app, "xz_clerk", g.unit_code, date(2020, 3, 27)) is None
    drafts.discard(app, "xz_clerk", g.unit_code, g.report_date)
    assert drafts.load(app, "xz_clerk", g.unit_code, g.report_date) is None


def test_a_file_without_the_column_is_not_opened_again_to_look_for_it(monkeypatch: pytest.MonkeyPatch):
    """Only a file whose header the reader saw 本期无变化 in is read for the marks (openpyxl re-reading a
    100,000-row file took ~3 s of every upload)."""
    from pipelines.ingest import fill
    from pipelines.ingest.result import ReadOptions

    def refuse(*_a: object) -> None:
        raise AssertionError("a file without 本期无变化 was opened again")

    monkeypatch.setattr(fill, "marks", refuse)
    sample = Path(__file__).resolve().parent.parent / "data" / "samples" / "standard_template.xlsx"
    p = prepare(sample.read_bytes(), sample.name, ReadOptions(report_date=date(2020, 3, 20)))
    assert p.ok and p.submission is not None
    assert fill.NO_CHANGE not in p.submission.frame.columns
