"""Issued briefings are records (issue 26): every 简报 handed out is recorded with the figures it printed,
`kaigong brief --reissue` reproduces them after a correction, and the next 简报's 更正说明 names the
correction and its effect on the issued figures.

The fixture: four 市级千项 projects of 太原市, all 新开工 with a planned start of 2020-03-01 (so all due),
年度计划 1000 万元 each. Reported 2020-04-30 and 2020-05-31; at 5月31日 A, B and C have started
(2020-03-10, 03-20, 04-05) and D has not: 开（复）工率 3/4 = 75.0 %, 本年累计 300+200+100+0 = 600 万元,
完成率 600/4000 = 15.0 %. The correction of May (by 王科长) moves C's start to 2020-06-15: at 5月31日
2/4 = 50.0 %, 完成率 unchanged (15.0 %).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from pypdf import PdfReader

from pipelines import metrics
from pipelines.outputs import briefing, issue
from pipelines.views import corrections as corrections_view
from pipelines.warehouse import issued
from pipelines.warehouse.store import Submission, Warehouse

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.xdist_group("chromium")  # kaleido's browser: one worker at a time

APR, MAY, JUN = date(2020, 4, 30), date(2020, 5, 31), date(2020, 6, 30)
STARTS = {"甲项目": date(2020, 3, 10), "乙项目": date(2020, 3, 20), "丙项目": date(2020, 4, 5), "丁项目": None}
YTD = {APR: {"甲项目": 100.0, "乙项目": 100.0, "丙项目": 50.0, "丁项目": 0.0},
       MAY: {"甲项目": 300.0, "乙项目": 200.0, "丙项目": 100.0, "丁项目": 0.0},
       JUN: {"甲项目": 400.0, "乙项目": 300.0, "丙项目": 100.0, "丁项目": 0.0}}


def rows(d: date, starts: dict[str, date | None] = STARTS) -> list[dict[str, Any]]:
    return [{"project_name": name, "city_code": "140100", "city_name": "太原市", "tier": "市级千项",
             "stage": "新开工", "total_investment": 5000.0, "annual_plan": 1000.0, "ytd_completed": YTD[d][name],
             "planned_start_date": date(2020, 3, 1), "actual_start_date": starts[name],
             "not_started_reason": None if starts[name] else "资金未到位"} for name in STARTS]


def load(wh: Warehouse, d: date, data: list[dict[str, Any]], actor: str, name: str) -> None:
    frame = pl.DataFrame(data, infer_schema_length=None)
    wh.load([Submission(name, frame, d, raw=(name + repr(data)).encode(), present_fields=tuple(frame.columns),
                        frequency="month")], actor=actor)


def corrected_may(wh: Warehouse) -> None:
    load(wh, MAY, rows(MAY, {**STARTS, "丙项目": date(2020, 6, 15)}), "王科长", "月报_0531_更正.csv")


@pytest.fixture
def months(tmp_path: Path) -> Warehouse:
    wh = Warehouse(tmp_path / "m.duckdb")
    wh.init()
    load(wh, APR, rows(APR), "张三", "月报_0430.csv")
    load(wh, MAY, rows(MAY), "张三", "月报_0531.csv")
    return wh


def kaigong(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", "--db", str(db), *args], capture_output=True,
                          text=True, cwd=ROOT, check=True)


def pdf_text(path: Path) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(path).pages))


def _issue_now(wh: Warehouse, as_of: date, actor: str = "张三",
               filters: metrics.Filters = briefing.NO_FILTERS) -> tuple[int, briefing.BriefingData]:
    """Record a briefing as issued without rendering it (the record's path, minus the browser)."""
    with wh.read() as con:
        data = briefing.collect(con, as_of, filters=filters)
    n = issued.record(wh, actor, "推送", as_of=as_of, year=as_of.year,
                      filters=corrections_view.filters_json(filters), fmt="pdf",
                      figures=issue.to_json(data), data_version=wh.data_version(), sha256="0" * 64)
    return n, data


def test_figures_as_hand_computed(months):
    with months.read() as con:
        [may] = metrics.figures(con, MAY)
    assert (may["started"], may["due"], may["ytd_completed"], may["annual_plan"]) == (3, 4, 600.0, 4000.0)
    assert may["start_rate"] == pytest.approx(0.75) and may["completion_rate"] == pytest.approx(0.15)


def test_issue_correct_reissue_and_the_next_briefings_correction_note(months, tmp_path):
    db = months.path
    may_pdf, again_pdf, june_pdf = tmp_path / "may.pdf", tmp_path / "again.pdf", tmp_path / "june.pdf"
    version = months.data_version()  # the data May's figures are computed on (the record's write bumps it)
    run = kaigong(db, "brief", "--as-of", "2020-05-31", "--out", str(may_pdf), "--user", "张三")
    assert "第 1 号简报" in run.stdout
    with months.read() as con:
        rec = issued.get(con, 1)
    assert rec is not None and rec.channel == "命令行" and rec.issued_by == "张三" and rec.reissue_of is None
    assert rec.as_of == MAY and rec.format == "pdf"
    assert rec.sha256 == hashlib.sha256(may_pdf.read_bytes()).hexdigest()
    assert rec.data_version == version
    printed = json.loads(rec.figures)
    assert printed["total"]["start_rate"] == pytest.approx(0.75)  # the figures it printed
    assert "开（复）工率75.0%" in pdf_text(may_pdf)
    assert "更正说明" not in pdf_text(may_pdf)

    corrected_may(months)
    load(months, JUN, rows(JUN, {**STARTS, "丙项目": date(2020, 6, 15)}), "张三", "月报_0630.csv")
    with months.read() as con:
        assert metrics.figures(con, MAY)[0]["start_rate"] == pytest.approx(0.5)  # now, after the correction

    run = kaigong(db, "brief", "--reissue", "1", "--out", str(again_pdf))
    assert "重印第 1 号简报（登记为第 2 号）" in run.stdout
    again = issue.recorded_figures(months, 2)
    assert again is not None and again["total"] == printed["total"]  # the record's figures, not recomputed
    assert again["regions"] == printed["regions"] and again["sentences"] == printed["sentences"]
    text = pdf_text(again_pdf)
    assert "重印：第1号简报，原发于" in text and "数字为原发时的数字" in text
    assert "开（复）工率75.0%" in text and "开（复）工率50.0%" not in text
    assert printed["sentences"][0] in text  # 截至5月31日 … as issued

    kaigong(db, "brief", "--as-of", "2020-06-30", "--out", str(june_pdf), "--user", "李四")
    june = pdf_text(june_pdf)
    assert "更正说明" in june
    assert "太原市丙项目（5月31日报告期）：实际开（复）工时间2020-04-05→2020-06-15" in june
    assert "王科长" in june
    assert "第1号简报（截至5月31日" in june and "开（复）工率由75.0%更正为50.0%" in june
    assert "投资完成率由" not in june  # 15.0 % either way: not said to move

    listed = kaigong(db, "brief", "--list", "--json")
    got = json.loads(listed.stdout)
    assert [(r["issue_id"], r["as_of"], r["reissue_of"]) for r in got] == [
        (3, "2020-06-30", None), (2, "2020-05-31", 1), (1, "2020-05-31", None)]


def test_correction_note_names_change_and_effect_without_rendering(months):
    n, data = _issue_now(months, MAY)
    assert data.corrections == [] and data.effects == []
    corrected_may(months)
    with months.read() as con:
        june = corrections_view.corrections(con, JUN)
        jdata = briefing.collect(con, JUN)
    assert june.since_issue == n
    [row] = june.rows
    assert (row["project_name"], row["field"], row["old_value"], row["new_value"], row["loaded_by"]) == (
        "丙项目", "实际开（复）工时间", "2020-04-05", "2020-06-15", "王科长")
    assert june.effects == [f"第 {n} 号简报（截至5月31日，{date.today():%Y-%m-%d} 发出）："
                            "开（复）工率由 75.0% 更正为 50.0%"]
    html = briefing.render_html(jdata, [])
    assert "<h2>更正说明</h2>" in html and "开（复）工率由 75.0% 更正为 50.0%" in html
    assert "王科长" in html


def test_no_correction_note_when_nothing_was_corrected(months):
    _issue_now(months, MAY)
    load(months, JUN, rows(JUN), "张三", "月报_0630.csv")  # June's own report corrects nothing earlier
    with months.read() as con:
        data = briefing.collect(con, JUN)
    assert data.corrections == [] and data.effects == []
    assert "更正说明" not in briefing.render_html(data, [])


def test_a_briefing_of_other_filters_is_not_the_previous_issue(months):
    """The 更正说明 counts from the previous 简报 of the same series (filters): May's 太原市 简报 is not the
    previous issue of the province's June 简报, so the province's has no 更正说明 while 太原市's has."""
    taiyuan = metrics.Filters(cities=("140100",))
    n, _ = _issue_now(months, MAY, filters=taiyuan)
    corrected_may(months)
    with months.read() as con:
        assert corrections_view.corrections(con, JUN).since_issue is None
        fixed = corrections_view.corrections(con, JUN, taiyuan)
    assert fixed.since_issue == n and [r["project_name"] for r in fixed.rows] == ["丙项目"]
    assert fixed.effects and fixed.effects[0].endswith("开（复）工率由 75.0% 更正为 50.0%")


def test_reissue_of_an_unknown_number_is_refused(months, tmp_path):
    run = subprocess.run([sys.executable, "-m", "pipelines.cli", "--db", str(months.path), "brief", "--reissue", "9",
                          "--out", str(tmp_path / "x.pdf")], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2 and "没有第 9 号简报" in run.stderr


def test_page_download_is_recorded_and_listed(app_db, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    db = tmp_path / "page.duckdb"
    shutil.copy(app_db, db)
    monkeypatch.setenv("KAIGONG_DB", str(db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/briefing.py").run()
    assert not at.exception
    at.button(key="briefing_build").click().run(timeout=120)
    assert not at.exception
    kind, as_of, payload = at.session_state["briefing_payload"]
    with Warehouse(db).read() as con:
        listed = issued.listing(con)
        rec = issued.get(con, 1)
    assert listed.height == 1 and rec is not None
    assert (rec.channel, rec.issued_by, rec.as_of, rec.format) == ("页面下载", "本地用户", as_of, kind)
    assert rec.sha256 == hashlib.sha256(payload).hexdigest()
    assert at.session_state["briefing_number"] == 1
    assert any("第 1 号简报" in c.value for c in at.caption)
    [shown] = [d.value for d in at.dataframe if "编号" in d.value.columns]  # 已发简报 on the page
    assert shown[["编号", "途径", "发出人"]].values.tolist() == [[1, "页面下载", "本地用户"]]


def test_submissions_page_lists_the_corrections_for_reviewers(months, monkeypatch):
    n, _ = _issue_now(months, MAY)
    corrected_may(months)
    load(months, JUN, rows(JUN, {**STARTS, "丙项目": date(2020, 6, 15)}), "张三", "月报_0630.csv")
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("KAIGONG_DB", str(months.path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/submissions.py").run()
    assert not at.exception
    assert any(f"第 {n} 号简报发出后的更正 1 条" in c.value for c in at.caption)
    [table] = [d for d in at.dataframe if "更正人" in d.value.columns]
    shown = table.value
    assert shown[["项目名称", "字段", "原值", "新值", "更正人"]].values.tolist() == [
        ["丙项目", "实际开（复）工时间", "2020-04-05", "2020-06-15", "王科长"]]
    assert any("开（复）工率由 75.0% 更正为 50.0%" in m.value.replace("\\", "") for m in at.markdown)


def test_backup_and_restore_keep_the_issued_records(months, tmp_path):
    from pipelines.warehouse import backup

    n, _ = _issue_now(months, MAY)
    with months.read() as con:
        before = issued.get(con, n)
    backup.backup(months, tmp_path / "bk")
    target = tmp_path / "restored.duckdb"
    backup.restore(tmp_path / "bk", target)
    with Warehouse(target).read() as con:
        assert issued.get(con, n) == before


def test_the_record_renders_as_the_original_and_keeps_the_printed_rows_of_long_lists(months):
    """A record renders to the same page as the briefing it records; of a list longer than the page
    prints (逾期未开工: 30 rows) it keeps the 30 rows and the count (35), not every row."""
    with months.read() as con:
        data = briefing.collect(con, MAY)
    data.overdue = pl.concat([data.overdue] * 35)
    back = issue.from_json(issue.to_json(data))
    assert back.overdue.height == 30 and back.listed["overdue"] == 35
    assert back.total == data.total and back.overdue.equals(data.overdue.head(30))

    def page(d: briefing.BriefingData) -> str:
        return re.sub(r"生成于 [0-9: -]+", "", briefing.render_html(d, []))

    assert page(back) == page(data)
    assert "逾期未开工项目（35个）" in page(back) and "另有 5 个项目未列出" in page(back)


def test_correction_note_reads_the_kept_versions_old_as_issued_raises_too_and_late_reports(months):
    """The 更正说明 sets each report of an issued period beside the version known when the issue went out:
    丙's 本年累计 raised twice after May's issue (100 → 150 by 王科长, then → 180 by 赵科长) is one line,
    100 → 180 万元, by the last corrector (a raise is listed as much as a cut; "old" is as issued, not the
    previous period's 50). 戊项目, reported for May only after the issue, is a 补报. June's own reports
    (a later period) are not corrections. 完成率 at 5月31日: (600 + 80 + 70) / 5000 = 15.0 % → 15.0 %,
    本年累计 600 → 750 万元 = 0.06 → 0.08 亿元 (shown to 0.1 亿元: 0.1 either way, so not said to move)."""
    n, _ = _issue_now(months, MAY)
    raised = rows(MAY)
    raised[2] = {**raised[2], "ytd_completed": 150.0}
    load(months, MAY, raised, "王科长", "月报_0531_更正1.csv")
    raised[2] = {**raised[2], "ytd_completed": 180.0}
    late = {**raised[0], "project_name": "戊项目", "ytd_completed": 70.0}
    load(months, MAY, [*raised, late], "赵科长", "月报_0531_更正2.csv")
    load(months, JUN, rows(JUN), "张三", "月报_0630.csv")
    with months.read() as con:
        note = corrections_view.corrections(con, JUN)
        [may] = metrics.figures(con, MAY)
    assert may["ytd_completed"] == pytest.approx(300 + 200 + 180 + 0 + 70)
    got = [(r["project_name"], r["kind"], r["field"], r["old_value"], r["new_value"], r["loaded_by"])
           for r in note.rows]
    assert got == [("丙项目", "correction", "本年累计完成投资", "100 万元", "180 万元", "赵科长"),
                   ("戊项目", "late", "整条报告", "（发出时未报）", "补报", "赵科长")]
    assert note.lines[0].startswith("太原市 丙项目（5月31日报告期）：本年累计完成投资 100 万元 → 180 万元（赵科长 ")
    assert note.lines[0].endswith(" 更正）") and note.lines[1].endswith(" 补报）")
    # 戊 is started (2020-03-10, planned 03-01): 开（复）工率 3/4 → 4/5 = 75.0 % → 80.0 %.
    assert note.effects == [f"第 {n} 号简报（截至5月31日，{date.today():%Y-%m-%d} 发出）："
                            "开（复）工率由 75.0% 更正为 80.0%"]
