"""Files in the seeds' own layouts, written as a city's clerk would (not by this project's template), read
end to end: file → reader → warehouse → the contract's figures, each figure computed here by hand.

1. Xinzhou's monthly 调度表 (seed 002): a title 「…（截至5月底）」 with no day, 单位：亿元, a two-row merged
   header, county heading rows and 小计 per county, a 合计; the stage column headed 「项目进展」 holding stage
   words; planned months; a continuing project with no dates; a completion. Then April's file, loaded after
   May's (a correction of an earlier month), and January of the next year after December.
2. The same May file as a GB18030 CSV: the same figures.
3. A Tongling-like 在建项目进展情况表 (seed 003): district heading rows 「一、铜官区」, free-text 开竣工情况.
4. A quarterly Xi'an 技改 投资进度表 (seed 004): Xi'an's own districts, 第二季度 in the title.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from pipelines import metrics
from pipelines.ingest.prepare import prepare
from pipelines.ingest.result import ReadOptions
from pipelines.warehouse.store import Warehouse


def _xlsx(title: str, unit: str | None, groups: list[tuple[str, int]], subheads: list[str | None],
          rows: list[list[Any]]) -> bytes:
    """A workbook as clerks make it: a merged title, a unit line, a two-row header whose group cells are
    merged across their columns and whose single columns are merged down, then the rows."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("调度表")
    width = len(subheads)
    ws.merge_range(0, 0, 0, width - 1, title)
    r = 1
    if unit:
        ws.write(1, width - 1, unit)
        r = 2
    col = 0
    for head, span in groups:
        if span == 1:
            ws.merge_range(r, col, r + 1, col, head)
        else:
            ws.merge_range(r, col, r, col + span - 1, head)
            for j in range(span):
                ws.write(r + 1, col + j, subheads[col + j])
        col += span
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if v is not None:
                ws.write(r + 2 + i, j, v)
    wb.close()
    return buf.getvalue()


# ---- 1. Xinzhou, monthly ----------------------------------------------------------------------------

XZ_GROUPS = [("序号", 1), ("项目名称", 1), ("项目单位", 1), ("建设性质", 1), ("项目进展", 1), ("投资情况", 3),
             ("计划开工时间", 1), ("实际开工时间", 1), ("计划竣工时间", 1), ("是否入统", 1), ("存在问题", 1)]
XZ_SUB = [None, None, None, None, None, "总投资", "2022年计划投资", "1-5月完成投资", None, None, None, None, None]


def xinzhou_may() -> list[list[Any]]:
    """Money in 亿元. D = 31 May 2022 (a Tuesday), month. By hand, per project:
    甲 新开工, planned 2022.04 (→ 30 Apr), started 2022-04-15: due, started.
    乙 续建, no planned date, started 2021.06: continuing → due from 1 Jan, started; planned completion
       2022.05 (→ 31 May) not done: a planned completion.
    丙 前期, planned 2022.06 (→ 30 Jun, the month's last day): not due on 31 May.
    丁 新开工, planned 2022.05 (→ 31 May ≤ D), no start: due, not started (overdue).
    戊 续建, no dates at all: continuing → due and started.
    己 竣工 (a status: started), started 2021.03, planned completion 2022.04: completed in May (first
       report saying so), so a completion as planned."""
    return [
        ["一、忻府区", None, None, None, None, None, None, None, None, None, None, None, None],
        [1, "甲新材料项目", "甲公司", "新建", "新开工", 2.0, 1.0, 0.3, "2022.04", "2022.04.15", None, "是", None],
        [2, "乙装备制造项目", "乙公司", "扩建", "续建", 5.0, 2.0, 1.2, None, "2021.06", "2022.05", "是", None],
        [3, "丙储能项目", "丙公司", "新建", "前期", 1.0, 0.5, 0, "2022.06", None, None, "否", "用地手续办理中"],
        ["小计（3个）", None, None, None, None, 8.0, 3.5, 1.5, None, None, None, None, None],
        ["二、定襄县", None, None, None, None, None, None, None, None, None, None, None, None],
        [1, "丁法兰项目", "丁公司", "技术改造", "新开工", 0.8, 0.8, 0.2, "2022.05", None, None, "否", "资金未到位"],
        [2, "戊锻造项目", "戊公司", "扩建", "续建", 3.0, 1.0, 0.4, None, None, None, "否", None],
        [3, "己铸造项目", "己公司", "技术改造", "竣工", 0.6, 0.3, 0.3, None, "2021.03", "2022.04", "是", None],
        ["小计（3个）", None, None, None, None, 4.4, 2.1, 0.9, None, None, None, None, None],
        ["合计", None, None, None, None, 12.4, 5.6, 2.4, None, None, None, None, None],
    ]


def _load(wh: Warehouse, raw: bytes, name: str, **kw: Any) -> Any:
    p = prepare(raw, name, ReadOptions(**kw))
    assert p.ok, [e.zh() for e in p.errors]
    wh.load([p.submission])
    return p


def _fig(wh: Warehouse, as_of: date, by: str | None = None, **kw: Any) -> dict[str | None, dict[str, Any]]:
    with wh.read() as con:
        return {r["group"]: r for r in metrics.to_json_rows(metrics.figures(con, as_of, by=by, **kw))}


MAY = date(2022, 5, 31)


def _check_may(wh: Warehouse) -> None:
    all_ = _fig(wh, MAY)["全部"]
    assert all_["projects"] == 6
    assert all_["total_investment"] == pytest.approx(124_000)  # 12.4 亿元 in 万元
    assert all_["annual_plan"] == pytest.approx(56_000)
    assert all_["ytd_completed"] == pytest.approx(24_000)
    assert (all_["due"], all_["started"], all_["overdue"]) == (5, 4, 1)  # 丙 not due until 30 June
    assert all_["start_rate"] == pytest.approx(0.8)
    assert (all_["planned_completions"], all_["completed_as_planned"], all_["completed"]) == (2, 1, 1)
    assert all_["completion_count_rate"] == pytest.approx(0.5)
    # started with 总投资 ≥ 500 万元: 甲 乙 戊 己; 入统: 甲 乙 己
    assert (all_["stats_due"], all_["stats_registered"]) == (4, 3)
    # a month's report: the period is May; all six reported in it
    assert (all_["reporting_base"], all_["reported"]) == (6, 6)
    by_county = _fig(wh, MAY, by="county")
    assert set(by_county) == {"忻府区", "定襄县"}  # the heading rows, not 「（未填县区）」
    assert (by_county["忻府区"]["due"], by_county["忻府区"]["started"]) == (2, 2)
    assert (by_county["定襄县"]["due"], by_county["定襄县"]["started"]) == (3, 2)
    assert by_county["忻府区"]["group_code"] == "140902"


def test_xinzhou_monthly_xlsx_gives_the_contract_figures(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "xz.duckdb")
    raw = _xlsx("忻州市2022年工业重点项目调度表（截至5月底）", "单位：亿元", XZ_GROUPS, XZ_SUB, xinzhou_may())
    p = _load(wh, raw, "忻州市调度表.xlsx", region="忻州市", tier="市级千项")
    # what the reader inferred, said before the load
    assert p.report_date == MAY and p.frequency == "month"
    assert p.reading.stage_column == "项目进展"
    assert "截至5月底" in p.reading.frequency_source
    assert p.reading.rows.get("项目") == 6 and p.reading.rows.get("区县标题") == 2
    assert p.reading.rows.get("小计/合计") == 3
    assert not [w for w in p.warnings if "小计" in w.message or "合计" in w.message], "the file's totals agree"
    _check_may(wh)


def test_xinzhou_monthly_gb18030_csv_gives_the_same_figures(tmp_path: Path) -> None:
    head = ("忻州市2022年工业重点项目调度表（截至5月底）\n单位：亿元\n"
            "序号,项目名称,项目单位,建设性质,项目进展,总投资,2022年计划投资,1-5月完成投资,计划开工时间,实际开工时间,"
            "计划竣工时间,是否入统,存在问题\n")
    body = "\n".join(",".join("" if v is None else str(v) for v in row) for row in xinzhou_may())
    wh = Warehouse(tmp_path / "xz.duckdb")
    _load(wh, (head + body + "\n").encode("gb18030"), "忻州市调度表.csv", region="忻州市", tier="市级千项")
    _check_may(wh)


def test_a_subtotal_that_disagrees_is_said(tmp_path: Path) -> None:
    rows = xinzhou_may()
    rows[4][5] = 9.0  # 忻府区小计 总投资 9.0 亿 against 8.0 over its rows (a dropped row would look like this)
    raw = _xlsx("忻州市2022年工业重点项目调度表（截至5月底）", "单位：亿元", XZ_GROUPS, XZ_SUB, rows)
    p = prepare(raw, "忻州市调度表.xlsx", ReadOptions(region="忻州市", tier="市级千项"))
    said = [w.message for w in p.warnings if "总投资" in w.message and "90,000" in w.message]
    assert said and "80,000" in said[0]


def test_april_corrected_after_may_and_january_after_december(tmp_path: Path) -> None:
    """April's file arrives after May's (a correction of an earlier month): May's figures stand, April's are
    April's. Then December and January of 2023: 2023's list is only the projects with a 2023 row."""
    wh = Warehouse(tmp_path / "xz.duckdb")
    may = _xlsx("忻州市2022年工业重点项目调度表（截至5月底）", "单位：亿元", XZ_GROUPS, XZ_SUB, xinzhou_may())
    _load(wh, may, "忻州5月.xlsx", region="忻州市", tier="市级千项")
    april = [list(r) for r in xinzhou_may()]
    april[1][7] = 0.1  # 甲 本年累计 in April: 0.1 亿
    april[2][7] = 0.8  # 乙
    april[3][7] = 0
    april[6][7] = 0
    april[7][7] = 0.2  # 戊
    april[8][4], april[8][7] = "续建", 0.1  # 己 not yet done in April
    april[4][7], april[9][7] = 0.9, 0.3
    april[10][7] = 1.2
    sub_sub = [*XZ_SUB[:7], "1-4月完成投资", *XZ_SUB[8:]]
    apr_raw = _xlsx("忻州市2022年工业重点项目调度表（截至4月底）", "单位：亿元", XZ_GROUPS, sub_sub, april)
    _load(wh, apr_raw, "忻州4月.xlsx", region="忻州市", tier="市级千项")
    _check_may(wh)  # May unchanged by the late April file
    apr = _fig(wh, date(2022, 4, 30))["全部"]
    assert apr["ytd_completed"] == pytest.approx(12_000)
    # 30 April: 甲 planned 2022.04 (→ 30 Apr) and started 15 Apr; 乙 戊 continuing; 己 续建 started 2021;
    # 丁 planned May: not yet due
    assert (apr["due"], apr["started"]) == (4, 4)
    assert apr["completed"] == 0

    dec = [list(r) for r in xinzhou_may()]
    dec[3][7] = 0.4  # 丙 under way by December
    dec[3][4], dec[3][9] = "在建", "2022.07"
    dec_sub = [*XZ_SUB[:7], "1-12月完成投资", *XZ_SUB[8:]]
    _load(wh, _xlsx("忻州市2022年工业重点项目调度表（截至12月底）", "单位：亿元", XZ_GROUPS, dec_sub, dec),
          "忻州12月.xlsx", region="忻州市", tier="市级千项")
    jan = [
        ["一、忻府区", None, None, None, None, None, None, None, None, None, None, None, None],
        [1, "乙装备制造项目", "乙公司", "扩建", "续建", 5.0, 1.5, 0.1, None, "2021.06", None, "是", None],
        [2, "庚新项目", "庚公司", "新建", "新开工", 1.0, 1.0, 0, "2023.03", None, None, "否", None],
    ]
    jan_sub = [*XZ_SUB[:6], "2023年计划投资", "1月完成投资", *XZ_SUB[8:]]
    p = _load(wh, _xlsx("忻州市2023年工业重点项目调度表（截至1月底）", "单位：亿元", XZ_GROUPS, jan_sub, jan),
              "忻州2023年1月.xlsx", region="忻州市", tier="市级千项")
    assert p.report_date == date(2023, 1, 31) and p.frequency == "month"
    j = _fig(wh, date(2023, 1, 31))["全部"]
    assert j["projects"] == 2  # 2023's list: 乙 and 庚, not the four 2022 projects with no 2023 row
    assert j["annual_plan"] == pytest.approx(25_000)
    assert (j["due"], j["started"]) == (1, 1)  # 乙 continuing; 庚 planned March
    d = _fig(wh, date(2022, 12, 31))["全部"]
    assert d["projects"] == 6 and (d["due"], d["started"]) == (6, 5)  # 丁 never started


# ---- 3. Tongling, 在建项目进展情况表 with district headings and free-text 开竣工情况 -----------------------

TL_GROUPS = [("序号", 1), ("项目名称", 1), ("建设内容", 1), ("总投资", 1), ("2020年计划投资", 1),
             ("1-5月完成投资", 1), ("开竣工情况", 1), ("存在问题", 1)]
TL_SUB = [None] * 8


def test_tongling_headings_and_start_completion_text(tmp_path: Path) -> None:
    """万元. D = 31 May 2020 (截至5月底), month, region 铜陵市. By hand:
    A 「2019年8月开工，受疫情影响尚未复工」: continuing (started before 2020) and not restarted: due, not started.
    B 「2020年4月20日开工」: started.
    C 「计划6月开工」: planned 30 June: not due.
    D 「主体已完工，设备安装中，预计6月竣工」: progress, never a completion; but work done states a start
       (what a 工信 analyst reads: its main works are built), so started and due; planned completion 30 June.
    E 「已竣工」: completed (on D, the first report that says so), started, due.
    The districts come from the heading rows."""
    rows = [
        ["一、铜官区", None, None, None, None, None, None, None],
        [1, "A铜箔项目", "…", 30000, 8000, 1000, "2019年8月开工，受疫情影响尚未复工", "复工受阻"],
        [2, "B电子项目", "…", 12000, 6000, 2000, "2020年4月20日开工", None],
        ["二、义安区", None, None, None, None, None, None, None],
        [1, "C材料项目", "…", 8000, 3000, 0, "计划6月开工", None],
        [2, "D装备项目", "…", 20000, 9000, 4000, "主体已完工，设备安装中，预计6月竣工", None],
        [3, "E化工项目", "…", 5000, 2000, 2000, "已竣工", None],
    ]
    raw = _xlsx("铜陵市2020年重大工业项目进展情况表（截至5月底）", "单位：万元", TL_GROUPS, TL_SUB, rows)
    wh = Warehouse(tmp_path / "tl.duckdb")
    p = _load(wh, raw, "铜陵进展.xlsx", region="铜陵市", tier="市级千项")
    assert p.frequency == "month" and p.report_date == date(2020, 5, 31)
    frame = p.submission.frame.sort("source_row")
    by_name = {r["project_name"]: r for r in frame.iter_rows(named=True)}
    assert by_name["A铜箔项目"]["county_name"] == "铜官区" and by_name["E化工项目"]["county_name"] == "义安区"
    assert by_name["A铜箔项目"]["start_stated"] is False
    assert by_name["C材料项目"]["planned_start_date"] == date(2020, 6, 30)
    assert by_name["D装备项目"]["completion_date"] is None
    assert by_name["D装备项目"]["planned_completion_date"] == date(2020, 6, 30)
    f = _fig(wh, date(2020, 5, 31))["全部"]
    assert f["completed"] == 1  # E only: 主体完工 is progress
    # due: A (continuing), B, D (under way), E (completed → started); C planned June. Started: B, D, E.
    assert (f["due"], f["started"], f["overdue"]) == (4, 3, 1)
    assert by_name["D装备项目"]["start_stated"] is True
    c = _fig(wh, date(2020, 5, 31), by="county")
    assert set(c) == {"铜官区", "义安区"}
    # every reading of a text is shown beside it
    shown = " ".join(p.reading.inferred)
    assert "2019年8月开工，受疫情影响尚未复工" in shown and "已竣工" in shown


# ---- 4. Xi'an, quarterly 技改 投资进度表 --------------------------------------------------------------

XA_GROUPS = [("序号", 1), ("区县", 1), ("项目名称", 1), ("企业名称", 1), ("总投资", 1), ("2017年计划投资", 1),
             ("1-6月完成投资", 1), ("建设状态", 1), ("实际开工时间", 1)]
XA_SUB = [None] * 9


def test_xian_quarterly_with_its_own_districts(tmp_path: Path) -> None:
    rows = [
        [1, "雁塔区", "A智能制造技改", "A公司", 5000, 2000, 900, "在建", "2017.03"],
        [2, "高陵县", "B汽车零部件技改", "B公司", 8000, 3000, 1600, "在建", None],  # 高陵县 → 高陵区 (2014)
        [3, "鄠邑区", "C生产线技改", "C公司", 1200, 1200, 0, "前期", None],
    ]
    raw = _xlsx("西安市2017年第二季度重点工业技术改造项目投资进度表", "单位：万元", XA_GROUPS, XA_SUB, rows)
    wh = Warehouse(tmp_path / "xa.duckdb")
    p = _load(wh, raw, "西安技改进度.xlsx", region="西安市", tier="其他")
    assert p.report_date == date(2017, 6, 30) and p.frequency == "quarter"
    c = _fig(wh, date(2017, 6, 30), by="county")
    assert set(c) == {"雁塔区", "高陵区", "鄠邑区"}
    assert c["高陵区"]["group_code"] == "610117"
    f = _fig(wh, date(2017, 6, 30))["全部"]
    # 在建 in a status column: started (B with no date too); C 前期 with no planned date: not due
    assert (f["due"], f["started"]) == (2, 2)
    assert f["ytd_completed"] == pytest.approx(2500)
    assert f["completion_rate"] == pytest.approx(2500 / 6200, abs=1e-6)
