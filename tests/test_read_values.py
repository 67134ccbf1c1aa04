"""Fields found by their values (issue 25): the stage column by its stage words whatever its header, free
text kept as a progress note, 在建 by its column (start_stated), 开竣工情况 in its wordings, a planned
month as its last day, a column whose values do not fit its header, the headers clerks write."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.ingest import vparse as vp
from pipelines.ingest.headers import header_key
from pipelines.ingest.parse import parse_date
from pipelines.ingest.read import read_submission
from pipelines.ingest.result import ColumnReading, ReadOptions, ReadResult
from pipelines.ingest.stated import read_progress
from pipelines.ingest.template import template_frame
from pipelines.ingest.values import work_under_way

D = date(2022, 5, 31)  # a month-end report (截至5月底)
TITLE = "忻州市2022年工业重点项目调度表（截至5月底）"
HEAD = ["序号", "项目名称", "项目单位", "县（市、区）", "行业类别", "总投资（万元）", "计划开工时间", "实际开工时间", "项目进展",
        "是否入库"]
# (name, county, plan start, actual start, 项目进展)
ROWS = [
    ("甲项目", "忻府区", "", "2021.04", "在建"),
    ("乙项目", "忻府区", "", "2020年9月", "续建"),
    ("丙项目", "原平市", "2022年4月", "", "新开工"),
    ("丁项目", "原平市", "2022.09", "", "前期"),
    ("戊项目", "原平市", "", "2021.06", "竣工"),
]


def csv_bytes(rows: list[list[Any]], head: list[str], title: str | None = TITLE, encoding: str = "gb18030") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    if title:
        w.writerow([title] + [""] * (len(head) - 1))
    w.writerow(head)
    w.writerows(rows)
    return buf.getvalue().encode(encoding)


def monthly(progress: list[str], head: list[str] = HEAD) -> list[list[Any]]:
    return [[str(i + 1), name, f"{name}公司", county, "专用设备制造业", "10000", plan, actual, p, "是"]
            for i, ((name, county, plan, actual, _), p) in enumerate(zip(ROWS, progress, strict=True))]


def read(raw: bytes | Path, name: str = "调度表.csv", **kw: Any) -> ReadResult:
    kw.setdefault("report_date", D)
    kw.setdefault("tier", "市级千项")
    kw.setdefault("region", "忻州市")
    return read_submission(raw, name, ReadOptions(**kw))


def col(res: ReadResult, *names: str) -> list[tuple[Any, ...]]:
    return list(res.frame.select(*names).iter_rows())


def reading_of(res: ReadResult, column: str) -> ColumnReading:
    return next(c for c in res.reading.columns if c.column == column)


# ---- the stage column by its values ------------------------------------------------------------------


def test_a_progress_column_of_stage_words_is_the_stage():
    res = read(csv_bytes(monthly([r[4] for r in ROWS]), HEAD))
    assert res.errors == [], [e.zh() for e in res.errors]
    assert col(res, "stage", "start_stated", "progress_note") == [
        ("在建", True, None),  # a status column: 在建 is started
        ("续建", None, None),  # continuing: the metrics take it as started, no word here
        ("新开工", None, None),  # planned 2022-04-30, no actual start: started only by a date
        ("前期", False, None),  # planned 2022-09-30, after D: not started
        ("竣工", True, None),
    ]
    assert col(res, "county_name") == [("忻府区",), ("忻府区",), ("原平市",), ("原平市",), ("原平市",)]
    assert res.reading.stage_column == "项目进展"
    assert "项目进展" in res.reading.stage_note and "取值" in res.reading.stage_note
    assert reading_of(res, "项目进展") == ColumnReading("项目进展", "stage", "取值")
    assert reading_of(res, "项目名称") == ColumnReading("项目名称", "project_name", "表头")
    assert reading_of(res, "序号") == ColumnReading("序号", None, "序号")
    assert [s for s in res.reading.inferred if "「项目进展」列的取值均为建设状态" in s] != []
    assert "stage" in res.present_fields and "start_stated" in res.present_fields


def test_the_same_from_an_xlsx(tmp_path):
    path = tmp_path / "调度表.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        ws = wb.add_worksheet("5月")
        ws.write_string(0, 0, TITLE)
        ws.write_row(1, 0, HEAD)
        for i, r in enumerate(monthly([r[4] for r in ROWS])):
            ws.write_row(2 + i, 0, r)
        ws.write_row(2 + len(ROWS), 0, ["", "合计", "", "", "", "50000"])
    res = read(path, "调度表.xlsx")
    assert res.errors == []
    assert res.frame["stage"].to_list() == ["在建", "续建", "新开工", "前期", "竣工"]
    assert res.reading.stage_column == "项目进展"


def test_a_progress_column_of_free_text_is_a_note_and_says_so():
    notes = ["主体完工，设备安装中", "厂房封顶", "场地平整", "手续办理中", "已投产运行良好，产能逐步释放"]
    res = read(csv_bytes(monthly(notes), HEAD))
    assert res.errors == []
    assert res.frame["progress_note"].to_list() == notes  # kept
    # no stage column: the text is read for what it states (主体完工 is progress, 已投产 a completion on D);
    # a project whose actual start is before 1 January 2022 is continuing
    assert col(res, "stage", "start_stated", "completion_date") == [
        ("续建", True, None), ("续建", True, None), (None, None, None), (None, False, None), ("投产", True, D)]
    assert "「项目进展」第 3 行「主体完工，设备安装中」读作：建设状态 在建，已开（复）工" in res.reading.inferred
    assert res.reading.stage_column is None
    assert res.reading.stage_note.startswith("未找到建设状态列")
    assert "「项目进展」列为文字描述，作为项目进展保留" in res.reading.stage_note
    assert reading_of(res, "项目进展") == ColumnReading("项目进展", "progress_note", "表头")


def test_a_stage_headed_column_of_free_text_is_kept_as_progress_with_a_warning():
    head = [*HEAD[:8], "建设状态", "是否入库"]
    notes = ["主体完工，设备安装中", "厂房封顶", "在建", "场地平整", "手续办理中"]
    res = read(csv_bytes(monthly(notes, head), head))
    assert res.errors == []
    assert res.frame["progress_note"].to_list() == notes
    assert [(w.row, w.column) for w in res.warnings] == [(2, "建设状态")]
    assert "不是建设状态：已作为项目进展保留" in res.warnings[0].message
    assert reading_of(res, "建设状态") == ColumnReading("建设状态", "progress_note", "取值")
    assert res.reading.stage_column is None
    # the notes are read for what they state; the one stage word among them is still the row's stage
    assert col(res, "stage", "start_stated") == [("续建", True), ("续建", True), ("在建", True), (None, False),
                                                 ("续建", None)]  # 戊: started in 2021, no stage: continuing


def test_a_stage_column_with_one_bad_word_is_still_the_stage_and_names_the_cell():
    head = [*HEAD[:8], "建设状态", "是否入库"]
    res = read(csv_bytes(monthly(["在建", "续建", "新开工", "前期", "干得不错"], head), head))
    assert [(e.row, e.column, e.value) for e in res.errors] == [(7, "建设状态", "干得不错")]


def test_an_unknown_header_of_stage_words_is_the_stage():
    head = [*HEAD[:8], "当前建设进度", "是否入库"]
    res = read(csv_bytes(monthly([r[4] for r in ROWS], head), head))
    assert res.errors == [] and res.warnings == []
    assert res.frame["stage"].to_list() == ["在建", "续建", "新开工", "前期", "竣工"]
    assert reading_of(res, "当前建设进度") == ColumnReading("当前建设进度", "stage", "取值")
    head = [*HEAD[:8], "当前建设进度", "是否入库"]
    res = read(csv_bytes(monthly(["好", "很好", "一般", "好", "好"], head), head))
    assert [(w.column, w.message) for w in res.warnings] == [("当前建设进度", "未识别的列，已忽略")]
    assert reading_of(res, "当前建设进度") == ColumnReading("当前建设进度", None, "未识别的列")


# ---- 在建 by its column ------------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "stated"), [("建设类型", None), ("建设状态", True), ("项目状态", True)])
def test_zaijian_in_a_type_column_says_nothing_of_starting_in_a_status_column_it_says_started(header, stated):
    head = ["项目名称", "地市", "层级", header, "总投资", "开复工时间", "未开复工原因"]
    rows = [["甲", "忻州市", "市级千项", "在建", "100", "", ""],
            ["乙", "忻州市", "市级千项", "在建", "100", "", "受疫情影响尚未复工"],  # the row's own word wins
            ["丙", "忻州市", "市级千项", "在建", "100", "2022年7月", ""],  # a restart after D
            ["丁", "忻州市", "市级千项", "已开工", "100", "", ""],
            ["戊", "忻州市", "市级千项", "停工", "100", "", ""],
            ["己", "忻州市", "市级千项", "未开工", "100", "", ""]]
    res = read(csv_bytes(rows, head, title=None), region=None)
    assert res.errors == [], [e.zh() for e in res.errors]
    assert res.frame["stage"].to_list()[:5] == ["在建"] * 5
    assert res.frame["start_stated"].to_list() == [stated, False, False, stated, False, False]
    # the 7月 restart is after D and planned: the month's last day
    assert res.frame["planned_start_date"].to_list()[2] == date(2022, 7, 31)
    assert res.reading.stage_column == header


# ---- 开竣工情况 wordings -------------------------------------------------------------------------------

_SC = [  # text → (stage, actual start, planned start, completion, planned completion, start_stated)
    ("2019年8月开工，受疫情影响尚未复工", ("续建", date(2019, 8, 1), date(2019, 8, 1), None, None, False)),
    ("主体已完工，设备安装中，预计5月竣工", ("在建", None, None, None, date(2022, 5, 31), True)),
    ("已竣工", ("竣工", None, None, D, None, True)),
    ("已于2022年3月开工", ("新开工", date(2022, 3, 1), date(2022, 3, 1), None, None, True)),
    ("2022年4月20日开工", ("新开工", date(2022, 4, 20), date(2022, 4, 20), None, None, True)),
    ("计划6月开工", ("新开工", None, date(2022, 6, 30), None, None, False)),  # after D: not started
    ("推迟至5月开工", ("新开工", None, date(2022, 5, 31), None, None, None)),  # planned, due by 31 May
    ("预计2022年7月开工，预计2023年6月竣工", ("新开工", None, date(2022, 7, 31), None, date(2023, 6, 30), False)),
    ("已于5月竣工投产", ("投产", None, None, date(2022, 5, 1), None, True)),
    ("3月开工", ("新开工", date(2022, 3, 1), date(2022, 3, 1), None, None, True)),  # no year: the report year
]


def test_start_completion_wordings():
    head = ["项目名称", "地市", "层级", "总投资", "开竣工情况"]
    rows = [[f"项目{i}", "忻州市", "市级千项", "100", text] for i, (text, _) in enumerate(_SC)]
    res = read(csv_bytes(rows, head, title=None), region=None)
    assert res.errors == [], [e.zh() for e in res.errors]
    got = col(res, "stage", "actual_start_date", "planned_start_date", "completion_date", "planned_completion_date",
              "start_stated")
    assert got == [want for _, want in _SC]
    # every reading is shown beside its text
    for i, (text, _) in enumerate(_SC):
        assert any(s.startswith(f"「开竣工情况」第 {i + 2} 行「{text}」读作：") for s in res.reading.inferred), text
    said = next(s for s in res.reading.inferred if "尚未复工" in s)
    assert said.endswith("读作：建设状态 续建，实际开工 2019-08-01，未开（复）工")
    said = next(s for s in res.reading.inferred if "设备安装中" in s)
    assert said.endswith("读作：建设状态 在建，计划竣工 2022-05-31，已开（复）工")


def test_a_start_completion_header_by_another_name():
    head = ["项目名称", "地市", "层级", "总投资", "开复工情况"]
    res = read(csv_bytes([["甲", "忻州市", "市级千项", "100", "2021年8月开工，停工"]], head, title=None), region=None)
    assert res.errors == []
    assert col(res, "stage", "actual_start_date", "start_stated") == [("续建", date(2021, 8, 1), False)]


# ---- a planned month is its last day ---------------------------------------------------------------


def test_a_planned_month_is_its_last_day_an_actual_month_its_first():
    head = ["项目名称", "地市", "层级", "总投资", "计划开工时间", "实际开工时间", "计划竣工时间"]
    rows = [["甲", "忻州市", "市级千项", "100", "2022.06", "2022.03", "2023年2月"],
            ["乙", "忻州市", "市级千项", "100", "2022年6月15日", "2022-03-15", "2022年12月"],
            ["丙", "忻州市", "市级千项", "100", "202206", "", "2022年6月底"]]
    res = read(csv_bytes(rows, head, title=None), region=None)
    assert res.errors == []
    assert col(res, "planned_start_date", "actual_start_date", "planned_completion_date") == [
        (date(2022, 6, 30), date(2022, 3, 1), date(2023, 2, 28)),
        (date(2022, 6, 15), date(2022, 3, 15), date(2022, 12, 31)),
        (date(2022, 6, 30), None, date(2022, 6, 30)),
    ]


def test_the_weekly_start_time_column_month_only():
    head = ["项目名称", "地市", "层级", "总投资", "开复工时间", "未开复工原因"]
    rows = [["甲", "忻州市", "市级千项", "100", "2022.04", ""],  # no reason, before D: actual, the 1st
            ["乙", "忻州市", "市级千项", "100", "2022.04", "资金未到位"],  # a reason: planned, the last day (overdue)
            ["丙", "忻州市", "市级千项", "100", "2022.07", ""]]  # after D: planned, the last day
    res = read(csv_bytes(rows, head, title=None), region=None)
    assert res.errors == []
    assert col(res, "actual_start_date", "planned_start_date", "start_stated") == [
        (date(2022, 4, 1), date(2022, 4, 1), None), (None, date(2022, 4, 30), False), (None, date(2022, 7, 31), False)]


@pytest.mark.parametrize("cell", ["2022.06", "2022.6", "2022年6月", "2022年6月份", "202206", "2022-06", "2022/6",
                                  "2022年6月15日", "2022.6.15", "2022-02", "2024.02", "2022.13", "2022年6月底", "", "—"])
def test_vparse_planned_dates_are_parse_dates(cell):
    frame = pl.DataFrame({"c": [cell]})
    got, errors = vp.parse(frame, [vp.Column("d", "c", "date", planned=True)])
    err = errors.get("d", pl.Series([None], dtype=pl.String))
    assert (got["d"][0], err[0]) == parse_date(cell, planned=True)
    assert parse_date("2022.02", planned=True) == (date(2022, 2, 28), None)


# ---- a column whose values do not fit its header -----------------------------------------------------


def test_a_date_header_over_non_dates_is_a_warning_naming_the_column():
    head = ["项目名称", "地市", "层级", "总投资", "计划开工时间"]
    rows = [["甲", "忻州市", "市级千项", "100", "待定"], ["乙", "忻州市", "市级千项", "100", "手续办理中"],
            ["丙", "忻州市", "市级千项", "100", "2022.06"]]
    res = read(csv_bytes(rows, head, title=None), region=None)
    assert [(w.row, w.column) for w in res.warnings] == [(1, "计划开工时间")]
    assert res.warnings[0].message.startswith("「计划开工时间」列的取值大多不是日期（如「待定」「手续办理中」）")
    assert [(e.row, e.column, e.value) for e in res.errors] == [(2, "计划开工时间", "待定"), (3, "计划开工时间", "手续办理中")]


def test_a_start_date_header_over_start_completion_text_is_read_as_such():
    head = ["项目名称", "地市", "层级", "总投资", "开工时间"]
    rows = [["甲", "忻州市", "市级千项", "100", "已于2022年3月开工"], ["乙", "忻州市", "市级千项", "100", "计划7月开工"]]
    res = read(csv_bytes(rows, head, title=None), region=None)
    assert res.errors == []
    assert [w.column for w in res.warnings] == ["开工时间"]
    assert res.warnings[0].message.startswith("「开工时间」列的内容不是日期，而是开竣工情况的文字（如「已于2022年3月开工」「计划7月开工」）")
    assert col(res, "actual_start_date", "planned_start_date") == [(date(2022, 3, 1), date(2022, 3, 1)),
                                                                   (None, date(2022, 7, 31))]
    assert reading_of(res, "开工时间") == ColumnReading("开工时间", "stage", "取值")
    assert "「开工时间」列按取值读作开竣工情况（文字，不是日期）" in res.reading.inferred


def test_a_yes_no_header_over_other_words_is_a_warning():
    head = ["项目名称", "地市", "层级", "总投资", "是否入统"]
    rows = [["甲", "忻州市", "市级千项", "100", "2021年12月"], ["乙", "忻州市", "市级千项", "100", "2022年1月"]]
    res = read(csv_bytes(rows, head, title=None), region=None)
    assert [w.column for w in res.warnings] == ["是否入统"] and "不是是/否" in res.warnings[0].message
    assert len(res.errors) == 2


# ---- headers as clerks write them ------------------------------------------------------------------


@pytest.mark.parametrize(("header", "key"), [
    ("实际开工日期", "actual_start_date"), ("开工时间（实际）", "actual_start_date"), ("开工日期(实际)", "actual_start_date"),
    ("计划开工日期", "planned_start_date"), ("预计开工时间", "planned_start_date"), ("预计开工日期", "planned_start_date"),
    ("开工时间（计划）", "planned_start_date"), ("竣工时间（实际）", "completion_date"), ("预计竣工日期", "planned_completion_date"),
    ("入统", "stats_registered"), ("入库", "stats_registered"), ("是否纳统", "stats_registered"), ("是否入库", "stats_registered"),
    ("项目单位", "company"), ("建设单位", "company"), ("企业名称", "company"),
    ("行业", "_industry"), ("行业类别", "_industry"), ("所属行业", "_industry"), ("产业类别", "_industry"),
    ("县（市、区）", "_county"), ("所在县区", "_county"), ("所在区县", "_county"), ("县区", "_county"), ("所属区县", "_county"),
    ("开复工情况", "_start_completion"), ("开竣工情况", "_start_completion"),
])
def test_header_synonyms(header, key):
    assert header_key(header) == (key, None)


def test_synonyms_read_through_a_file():
    head = ["项目名称", "建设单位", "所在区县", "产业类别", "总投资", "开工时间（实际）", "预计开工日期", "是否纳统"]
    rows = [["甲", "甲公司", "忻府区", "专用设备制造业", "100", "2022-03-02", "", "是"],
            ["乙", "乙公司", "原平市", "新能源", "100", "", "2022.08", "否"]]
    res = read(csv_bytes(rows, head, title=None))
    assert res.errors == [] and res.warnings == []
    assert col(res, "company", "county_name", "industry_code", "industry_name", "actual_start_date",
               "planned_start_date", "stats_registered") == [
        ("甲公司", "忻府区", "35", "专用设备制造业", date(2022, 3, 2), None, True),
        ("乙公司", "原平市", None, "新能源", None, date(2022, 8, 31), False)]
    assert [(c.column, c.field, c.how) for c in res.reading.columns] == [
        ("项目名称", "project_name", "表头"), ("建设单位", "company", "表头"), ("所在区县", "county_name", "表头"),
        ("产业类别", "industry_name", "表头"), ("总投资", "total_investment", "表头"),
        ("开工时间（实际）", "actual_start_date", "表头"), ("预计开工日期", "planned_start_date", "表头"),
        ("是否纳统", "stats_registered", "表头")]


def test_start_stated_is_derived_never_a_column():
    assert "开工表述" not in template_frame().columns
    assert header_key("开工表述") is None


def test_two_sheets_say_what_each_inferred(tmp_path):
    path = tmp_path / "两表.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        for sheet in ("新兴", "技改"):
            ws = wb.add_worksheet(sheet)
            ws.write_row(0, 0, ["项目名称", "地市", "层级", "总投资", "项目进展"])
            ws.write_row(1, 0, [f"{sheet}甲", "忻州市", sheet, "100", "在建"])
            ws.write_row(2, 0, [f"{sheet}乙", "忻州市", sheet, "100", "续建"])
    res = read(path, "两表.xlsx", region=None, tier=None)
    assert res.errors == []
    assert col(res, "stage", "start_stated") == [("在建", True), ("续建", None), ("在建", True), ("续建", None)]
    assert res.reading.stage_column == "项目进展"
    assert [s[:8] for s in res.reading.inferred] == ["工作表「新兴」：", "工作表「技改」："]


def test_stage_words_as_clerks_write_them_in_a_progress_column():
    words = ["已开工", "续建项目", "未开工", "竣工投产", "停工"]
    res = read(csv_bytes(monthly(words), HEAD))
    assert res.errors == []
    assert res.reading.stage_column == "项目进展"
    # 未开工 → the planned type (a planned start in the year: 新开工); 停工: under construction, not restarted
    assert col(res, "stage", "start_stated") == [("在建", True), ("续建", None), ("新开工", False), ("投产", True),
                                                 ("在建", False)]


_WORDS = ["施工", "安装", "调试", "封顶", "主体", "完工", "竣工", "开工", "未", "预计", "2020", "年", "3", "月", "底", "，", "。",
          "-", ".", "%", "万元", "前期", "停工", "复工", "设备", "中", "已", " ", "５", "．", "在建", "建设中", "厂房", "投产"]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=8).map("".join))
def test_work_under_way_column_wise_is_the_per_text_reading(text):
    """The column-wise shortcut takes a progress text only where the per-text reading is 在建, started."""
    busy = pl.select(work_under_way(pl.lit(text)))[:, 0][0]
    if busy:
        assert read_progress(text, D, 2022) == {"stage": "在建", "start_stated": True}, text


def test_work_under_way_examples():
    texts = ["主体施工，设备安装中", "完成投资3000万元，主体施工，设备安装50%", "2022年3月开工", "未施工", "在建", "主体完工",
             "预计5月竣工，设备安装中"]
    got = pl.DataFrame({"v": texts}).select(work_under_way(pl.col("v")))[:, 0].to_list()
    assert got == [True, True, False, False, False, False, False]


def test_a_two_row_header_with_the_stage_under_its_own_merged_cell(tmp_path):
    """A 调度表 as Xinzhou's: title, 单位：亿元, a two-row header (基本情况 / 投资情况 over their columns, 项目进展
    merged down both rows), county blocks with 小计 and a 合计."""
    path = tmp_path / "忻州调度表.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        ws = wb.add_worksheet()
        ws.write_string(0, 0, TITLE)
        ws.write_string(1, 0, "单位：亿元")
        ws.merge_range(2, 0, 3, 0, "序号")
        ws.merge_range(2, 1, 2, 3, "项目基本情况")
        ws.write_row(3, 1, ["项目名称", "建设单位", "所在县区"])
        ws.merge_range(2, 4, 2, 6, "投资情况")
        ws.write_row(3, 4, ["总投资", "2022年计划投资", "1-5月完成投资"])
        ws.merge_range(2, 7, 3, 7, "项目进展")
        rows = [["1", "甲项目", "甲公司", "忻府区", "1.2", "0.5", "0.2", "续建"],
                ["2", "乙项目", "乙公司", "忻府区", "0.8", "0.4", "0", "新开工"],
                ["", "忻府区小计", "", "", "2.0", "0.9", "0.2", ""],
                ["3", "丙项目", "丙公司", "原平市", "3", "1", "0.6", "已开工"],
                ["", "合计", "", "", "5.0", "1.9", "0.8", ""]]
        for i, r in enumerate(rows):
            ws.write_row(4 + i, 0, r)
    res = read(path, "忻州调度表.xlsx")
    assert res.errors == [], [e.zh() for e in res.errors]
    assert col(res, "project_name", "county_name", "total_investment", "ytd_completed", "stage", "start_stated") == [
        ("甲项目", "忻府区", 12000.0, 2000.0, "续建", None), ("乙项目", "忻府区", 8000.0, 0.0, "新开工", None),
        ("丙项目", "原平市", 30000.0, 6000.0, "在建", True)]
    assert res.reading.stage_column == "项目进展"
    assert reading_of(res, "投资情况 / 总投资") == ColumnReading("投资情况 / 总投资", "total_investment", "表头")
    assert reading_of(res, "项目进展") == ColumnReading("项目进展", "stage", "取值")


def test_a_project_type_column_of_stage_words_is_a_type_column():
    head = ["项目名称", "地市", "层级", "项目类型", "总投资", "开复工时间", "未开复工原因"]
    rows = [["甲", "忻州市", "市级千项", "在建", "100", "2022-03-01", ""],
            ["乙", "忻州市", "市级千项", "续建", "100", "", ""],
            ["丙", "忻州市", "市级千项", "新开工", "100", "2022.06", "手续办理中"]]
    res = read(csv_bytes(rows, head, title=None), region=None)
    assert res.errors == []
    assert col(res, "stage", "category", "start_stated") == [("在建", None, None), ("续建", None, None),
                                                             ("新开工", None, False)]
    assert res.reading.stage_column == "项目类型" and "类型列" in res.reading.stage_note
    assert reading_of(res, "项目类型") == ColumnReading("项目类型", "stage", "取值")
    head[3] = "项目类型"
    rows = [[*r[:3], cat, *r[4:]] for r, cat in zip(rows, ["工业", "工业", "服务业"], strict=True)]
    res = read(csv_bytes(rows, head, title=None), region=None)
    assert res.frame["category"].to_list() == ["工业", "工业", "服务业"] and res.reading.stage_column is None
