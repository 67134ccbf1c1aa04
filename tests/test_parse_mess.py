"""What clerks write in value cells, through prepare() on small files: Excel error values, 月底/年底 and
上中下旬 dates, thousands separators in the wrong place, a region whose name begins with the province's."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

import pytest
import xlsxwriter

from pipelines.ingest.parse import (
    EXCEL_ERRORS,
    TEN_DAYS_MESSAGE,
    parse_bool,
    parse_date,
    parse_money,
    parse_number,
)
from pipelines.ingest.prepare import Prepared, prepare
from pipelines.ingest.result import ReadOptions
from pipelines.ingest.stated import parse_start_completion
from pipelines.vocab.reference import find_city, find_county, find_region

D = date(2020, 3, 27)
HEAD = ["项目名称", "地市", "县区", "层级", "总投资", "计划开（复）工时间", "是否入统"]
NO_YEAR = "缺少年份（应为 2020年3月 等格式）"
FORMATS = "（应为 2020.03、2020年3月15日、2020-03-15 等格式）"
COMMAS = "千分位逗号位置不对（逗号应每三位数字一个，如 12,500、1,234,567.5）"


def excel_error(value: str) -> str:
    return f"单元格为 Excel 错误值 {value}（公式出错），请修正公式或填写数值"


def csv_file(rows: list[list[Any]], head: list[str] = HEAD) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(head)
    w.writerows(rows)
    return buf.getvalue().encode()


def row(name: str, total: Any = "1000", when: Any = "2020.3", flag: Any = "是", city: str = "太原市",
        county: str = "小店区") -> list[Any]:
    return [name, city, county, "市级千项", total, when, flag]


def errors(p: Prepared) -> list[tuple[Any, ...]]:
    return [(e.message, e.row, e.column, e.value) for e in p.errors]


def frame_of(p: Prepared, *cols: str) -> list[tuple[Any, ...]]:
    assert p.ok, errors(p)
    assert p.submission is not None
    return list(p.submission.frame.select(cols).iter_rows())


# ---- 1. Excel error values ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["#DIV/0!", "#REF!", "#VALUE!", "#N/A", "#NAME?", "#NUM!", "#NULL!"])
def test_scalar_parsers_refuse_excel_error_values(value):
    want = (None, excel_error(value))
    assert parse_money(value) == want
    assert parse_money(value, 10_000) == want
    assert parse_number(value) == want
    assert parse_date(value) == want
    assert parse_bool(value) == want
    assert value in EXCEL_ERRORS


def test_excel_error_values_are_read_in_any_case_and_width():
    assert parse_money(" #n/a ") == (None, excel_error("#N/A"))
    assert parse_money("＃ＤＩＶ／０！") == (None, excel_error("#DIV/0!"))
    assert parse_date("#value!") == (None, excel_error("#VALUE!"))
    # Not error values: still what they were.
    assert parse_money("n/a") == (None, None)
    assert parse_money("#1") == (None, "无法识别为数字")


def test_excel_error_values_in_a_csv_are_errors_naming_file_row_column_and_value():
    raw = csv_file([
        row("甲项目", total="#DIV/0!"),
        row("乙项目", when="#N/A", flag="#REF!"),
        row("丙项目", total="1,000"),
    ])
    p = prepare(raw, "公式.csv", ReadOptions(report_date=D))
    assert not p.ok and p.submission is None
    assert errors(p) == [
        (excel_error("#DIV/0!"), 2, "总投资", "#DIV/0!"),
        (excel_error("#N/A"), 3, "计划开（复）工时间", "#N/A"),
        (excel_error("#REF!"), 3, "是否入统", "#REF!"),
    ]
    assert {e.file for e in p.errors} == {"公式.csv"}


def _xlsx(write: Any) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf)
    ws = wb.add_worksheet()
    ws.write_row(0, 0, HEAD)
    write(wb, ws)
    wb.close()
    return buf.getvalue()


def test_excel_error_text_in_an_xlsx_is_an_error():
    """A cell holding the text `#DIV/0!` (pasted as values, or typed) is refused like any other."""
    def write(_wb: Any, ws: Any) -> None:
        ws.write_row(1, 0, row("甲项目"))
        ws.write_row(2, 0, row("乙项目"))
        ws.write_string(2, 4, "#DIV/0!")

    p = prepare(_xlsx(write), "公式.xlsx", ReadOptions(report_date=D))
    assert errors(p) == [(excel_error("#DIV/0!"), 3, "总投资", "#DIV/0!")]


def test_excel_formula_error_cells_are_errors():
    def write(_wb: Any, ws: Any) -> None:
        ws.write_row(1, 0, row("甲项目"))
        ws.write_formula(1, 4, "=1/0", None, "#DIV/0!")

    p = prepare(_xlsx(write), "公式.xlsx", ReadOptions(report_date=D))
    assert errors(p) == [(excel_error("#DIV/0!"), 2, "总投资", "#DIV/0!")]


# ---- 2. dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "want"), [
    ("2020年3月底", date(2020, 3, 31)), ("2020年3月末", date(2020, 3, 31)), ("2020年2月底", date(2020, 2, 29)),
    ("2019年2月末", date(2019, 2, 28)), ("2020年12月底", date(2020, 12, 31)), ("2020年6月底前", date(2020, 6, 30)),
    ("2020年底", date(2020, 12, 31)), ("2020年末", date(2020, 12, 31)), ("2020年年底", date(2020, 12, 31)),
    ("2020年底前", date(2020, 12, 31)), ("２０２０年３月底", date(2020, 3, 31)),
    ("2020年3月", date(2020, 3, 1)), ("2020年3月份", date(2020, 3, 1)), ("2020年3月初", date(2020, 3, 1)),
])
def test_month_and_year_end(raw, want):
    assert parse_date(raw) == (want, None)


@pytest.mark.parametrize("raw", ["2020年3月上旬", "2020年3月中旬", "2020年3月下旬", "2020.3月中旬", "2020年3月中旬前"])
def test_ten_day_periods_are_refused_alike(raw):
    assert parse_date(raw) == (None, TEN_DAYS_MESSAGE)


@pytest.mark.parametrize("raw", ["3月上旬", "3月中旬", "3月下旬", "3月底", "3月末"])
def test_without_a_year_the_year_is_missing(raw):
    assert parse_date(raw) == (None, NO_YEAR)


@pytest.mark.parametrize(("raw", "head", "rest"), [
    ("2020年3月前", "2020年3月", "前"), ("2020年3月以后", "2020年3月", "以后"), ("2020年3月之后", "2020年3月", "之后"),
    ("2020年3月左右", "2020年3月", "左右"), ("2020年3月中", "2020年3月", "中"), ("2020.3前", "2020.3", "前"),
    ("2020年3月15日前", "2020年3月15日", "前"), ("2020年3月底后", "2020年3月底", "后"), ("2020年底以后", "2020年底", "以后"),
])
def test_words_that_make_a_date_vague_are_refused(raw, head, rest):
    assert parse_date(raw) == (None, f"日期「{head}」后面多了“{rest}”，不是确切日期" + FORMATS)


@pytest.mark.parametrize("raw", ["2020年3月开工", "2020年1季度", "2020年初", "2020.3底", "2020年3月底竣工"])
def test_other_text_after_a_date_is_no_date(raw):
    assert parse_date(raw) == (None, "无法识别为日期" + FORMATS)


def dated(*whens: str) -> bytes:
    """A CSV of one project per planned start date, named 甲项目, 乙项目, … in order."""
    return csv_file([row(f"{name}项目", when=w) for name, w in zip("甲乙丙丁戊己庚辛壬癸", whens, strict=False)])


def test_dates_through_prepare_csv():
    p = prepare(dated("2020年3月底", "2020年3月末", "2020年底", "2020年末", "2020年6月"), "日期.csv", ReadOptions(report_date=D))
    assert frame_of(p, "source_row", "planned_start_date") == [
        (2, date(2020, 3, 31)), (3, date(2020, 3, 31)), (4, date(2020, 12, 31)), (5, date(2020, 12, 31)),
        (6, date(2020, 6, 30)),  # a planned month: its last day
    ]


def test_vague_dates_through_prepare_csv():
    col = "计划开（复）工时间"
    p = prepare(dated("2020年3月上旬", "2020年3月中旬", "2020年3月下旬", "3月中旬", "2020年3月前", "2020年3月以后",
                      "2020年3月底"), "日期.csv", ReadOptions(report_date=D))
    assert errors(p) == [
        (TEN_DAYS_MESSAGE, 2, col, "2020年3月上旬"),
        (TEN_DAYS_MESSAGE, 3, col, "2020年3月中旬"),
        (TEN_DAYS_MESSAGE, 4, col, "2020年3月下旬"),
        (NO_YEAR, 5, col, "3月中旬"),
        ("日期「2020年3月」后面多了“前”，不是确切日期" + FORMATS, 6, col, "2020年3月前"),
        ("日期「2020年3月」后面多了“以后”，不是确切日期" + FORMATS, 7, col, "2020年3月以后"),
    ]


def test_weekly_start_time_column_reads_month_end():
    """开复工时间 (read with 未开复工原因): 2020年3月底 is after 3月27日, so planned, not started."""
    head = ["项目名称", "地市", "层级", "总投资", "开复工时间", "未开复工原因"]
    raw = csv_file([["甲项目", "太原市", "市级千项", "1000", "2020年3月底", ""],
                    ["乙项目", "太原市", "市级千项", "1000", "2020年3月中旬", ""]], head)
    p = prepare(raw, "周报.csv", ReadOptions(report_date=D))
    assert errors(p) == [(TEN_DAYS_MESSAGE, 3, "开复工时间", "2020年3月中旬")]
    raw = csv_file([["甲项目", "太原市", "市级千项", "1000", "2020年3月底", ""]], head)
    p = prepare(raw, "周报.csv", ReadOptions(report_date=D))
    assert frame_of(p, "planned_start_date", "actual_start_date") == [(date(2020, 3, 31), None)]


def test_every_date_form_of_the_contract_still_parses_through_an_xlsx():
    forms = ["2020.03", "2020.3", "2020年3月", "2020年3月15日", "2020-03-15", "2020/3/15"]

    def write(wb: Any, ws: Any) -> None:
        for i, text in enumerate(forms):
            ws.write_row(1 + i, 0, row(f"项目{i}", when=text))
        n = len(forms) + 1
        ws.write_row(n, 0, row("日期单元格", when=None))
        ws.write_datetime(n, 5, datetime(2020, 3, 20), wb.add_format({"num_format": "yyyy-mm-dd"}))
        ws.write_row(n + 1, 0, row("序列号", when=None))
        ws.write_number(n + 1, 5, 43910)

    p = prepare(_xlsx(write), "日期.xlsx", ReadOptions(report_date=D))
    assert [d for (d,) in frame_of(p, "planned_start_date")] == [  # a planned month: its last day
        date(2020, 3, 31), date(2020, 3, 31), date(2020, 3, 31), date(2020, 3, 15), date(2020, 3, 15), date(2020, 3, 15),
        date(2020, 3, 20), date(2020, 3, 20),
    ]


@pytest.mark.parametrize(("text", "want"), [
    ("2019年5月开工，预计2020年10月底竣工",
     {"actual_start_date": date(2019, 5, 1), "planned_start_date": date(2019, 5, 1),
      "planned_completion_date": date(2020, 10, 31), "stage": "续建"}),
    ("2019年5月开工，预计2020年底竣工",
     {"actual_start_date": date(2019, 5, 1), "planned_start_date": date(2019, 5, 1),
      "planned_completion_date": date(2020, 12, 31), "stage": "续建"}),
    ("2020年3月底开工", {"planned_start_date": date(2020, 3, 31), "stage": "新开工"}),
    ("力争2020年6月底前开工", {"planned_start_date": date(2020, 6, 30), "stage": "新开工"}),
    ("2020年2月末竣工投产", {"completion_date": date(2020, 2, 29), "stage": "投产"}),
    ("2020年3月前完成前期手续", {"stage": "前期"}),  # the date is not read: no error for its 前
])
def test_start_completion_text_month_end(text, want):
    assert parse_start_completion(text, D, 2020) == (want, None)


@pytest.mark.parametrize(("text", "err"), [
    ("2020年3月中旬开工", TEN_DAYS_MESSAGE),
    ("2019年5月开工，预计2020年10月上旬竣工", TEN_DAYS_MESSAGE),
    ("2020年6月前开工", "日期「2020年6月」后面带“前”，不是确切日期：请写明具体年月（如“2020年3月开工”）"),
    ("预计2020年6月以后竣工", "日期「2020年6月」后面带“以后”，不是确切日期：请写明具体年月（如“2020年3月开工”）"),
    ("2020年5月左右开工", "日期「2020年5月」后面带“左右”，不是确切日期：请写明具体年月（如“2020年3月开工”）"),
])
def test_start_completion_text_vague_dates_are_refused(text, err):
    assert parse_start_completion(text, D, 2020) == ({}, err)


def test_start_completion_column_through_prepare():
    head = ["项目名称", "地市", "层级", "总投资", "开竣工情况"]
    raw = csv_file([["甲项目", "太原市", "市级千项", "1000", "2019年5月开工，预计2020年10月底竣工"],
                    ["乙项目", "太原市", "市级千项", "1000", "2020年3月中旬开工"]], head)
    p = prepare(raw, "进展.csv", ReadOptions(report_date=D))
    assert errors(p) == [(TEN_DAYS_MESSAGE, 3, "开竣工情况", "2020年3月中旬开工")]
    p = prepare(raw.rsplit(b"\n", 2)[0] + b"\n", "进展.csv", ReadOptions(report_date=D))
    assert frame_of(p, "stage", "actual_start_date", "planned_completion_date") == [
        ("续建", date(2019, 5, 1), date(2020, 10, 31))]


# ---- 3. thousands separators ----------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "want"), [
    ("12,500", 12500.0), ("1,234,567.5", 1234567.5), ("１２，５００", 12500.0), ("12，500", 12500.0),
    ("1,200万元", 1200.0), ("1,000亿", 10_000_000.0), ("约1,200", 1200.0), ("12,500.", 12500.0), ("999,999", 999999.0),
])
def test_thousands_separators_group_three_digits(raw, want):
    assert parse_money(raw) == (want, None)
    if raw[0].isdigit() and (raw[-1].isdigit() or raw[-1] == "."):
        assert parse_number(raw) == (want, None)


@pytest.mark.parametrize("raw", ["1,2,3", "12,50", "1,2345", ",500", "0,500", "12,500,00", "1，2，3", "1,234.567,8", "1,2亿"])
def test_misplaced_thousands_separators_are_refused(raw):
    assert parse_money(raw) == (None, COMMAS)
    if "亿" not in raw:
        assert parse_number(raw) == (None, COMMAS)


def test_misplaced_separator_through_prepare_csv():
    raw = csv_file([row("甲项目", total="12,500"), row("乙项目", total="1,2,3"), row("丙项目", total="１２，５００"),
                    row("丁项目", total="1,234,567.5")])
    p = prepare(raw, "逗号.csv", ReadOptions(report_date=D))
    assert errors(p) == [(COMMAS, 3, "总投资", "1,2,3")]
    raw = csv_file([row("甲项目", total="12,500"), row("丙项目", total="１２，５００"), row("丁项目", total="1,234,567.5")])
    p = prepare(raw, "逗号.csv", ReadOptions(report_date=D))
    assert frame_of(p, "total_investment") == [(12500.0,), (12500.0,), (1234567.5,)]


# ---- 4. regions whose name begins with the province's ---------------------------------------------


@pytest.mark.parametrize("text", ["山西转型综合改革示范区", "山西省山西转型综合改革示范区", "太原市山西转型综合改革示范区",
                                  "140171"])
def test_the_reform_zone_is_a_county_of_taiyuan(text):
    hit = find_county(text)
    assert hit is not None and (hit.code, hit.parent_code) == ("140171", "140100")
    assert find_county(text, "140100") == hit
    assert find_county(text, "140200") is None


@pytest.mark.parametrize("text", ["山西省太原市", "太原", "太原市", "山西太原", "140100"])
def test_taiyuan_still_found(text):
    hit = find_city(text)
    assert hit is not None and hit.code == "140100"


def test_other_names_with_the_province_prefix():
    assert find_region("山西转型综合改革示范区").code == "140171"  # type: ignore[union-attr]
    assert find_county("山西大同经济开发区").code == "140271"  # type: ignore[union-attr]
    assert find_county("山西省太原市小店区").code == "140105"  # type: ignore[union-attr]
    assert find_city("山西转型综合改革示范区") is None
    assert find_city("山西省") is None and find_county("山西省") is None


def test_reform_zone_through_prepare():
    raw = csv_file([row("甲项目", county="山西转型综合改革示范区"),
                    row("乙项目", city="山西省太原市", county="小店区"),
                    row("丙项目", city="太原", county="山西转型综合改革示范区"),
                    row("丁项目", city="", county="山西转型综合改革示范区")])
    p = prepare(raw, "综改区.csv", ReadOptions(report_date=D))
    assert frame_of(p, "city_code", "county_code", "county_name") == [
        ("140100", "140171", "山西转型综合改革示范区"), ("140100", "140105", "小店区"),
        ("140100", "140171", "山西转型综合改革示范区"), ("140100", "140171", "山西转型综合改革示范区"),
    ]


def test_reform_zone_given_at_load():
    head = ["项目名称", "层级", "总投资"]
    p = prepare(csv_file([["甲项目", "市级千项", "1000"]], head), "综改区.csv",
                ReadOptions(report_date=D, region="山西转型综合改革示范区"))
    assert p.ok, errors(p)
    assert p.submission is not None and p.submission.region_code == "140171"
    assert frame_of(p, "city_code", "county_code") == [("140100", "140171")]


# ---- 5. 开竣工情况 text with a part of the date left out -----------------------------------------------

_D = date(2020, 3, 31)


@pytest.mark.parametrize(("text", "want"), [
    ("3月开工", {"actual_start_date": date(2020, 3, 1), "planned_start_date": date(2020, 3, 1), "stage": "新开工"}),
    ("5月开工", {"planned_start_date": date(2020, 5, 31), "stage": "新开工"}),  # after D: planned, the month's last day
    ("3月15日开工", {"actual_start_date": date(2020, 3, 15), "planned_start_date": date(2020, 3, 15), "stage": "新开工"}),
    ("2019年开工，预计2021年竣工", {"actual_start_date": date(2019, 1, 1), "planned_start_date": date(2019, 1, 1),
                                "planned_completion_date": date(2021, 1, 1), "stage": "续建"}),
    ("2020年3月已开工，预计年底竣工", {"actual_start_date": date(2020, 3, 1), "planned_start_date": date(2020, 3, 1),
                                  "planned_completion_date": date(2020, 12, 31), "stage": "新开工"}),
    ("未开工", {"stage": "前期", "start_stated": False}),  # the planned type: no planned start in the year → 前期
    ("已开工", {"stage": "在建"}),  # no date: started all the same (the reader asks for the date)
])
def test_start_completion_text_with_a_part_left_out(text, want):
    assert parse_start_completion(text, _D, 2020) == (want, None)


@pytest.mark.parametrize(("text", "error"), [
    ("2020年竣工", "「2020年」只写了年份：请写明月份（如“2020年10月竣工”）"),  # done or planned? the month says
    ("2020年3-4月开工", "「3-4月」是一段时间，不是确切日期：请写明开工或竣工的年月（如“2020年3月开工”）"),
    ("13月开工", "日期无效（月份或日期超出范围）"),
])
def test_start_completion_text_that_is_not_a_date(text, error):
    assert parse_start_completion(text, _D, 2020) == ({}, error)


def test_start_completion_month_without_year_needs_the_report_year():
    assert parse_start_completion("3月开工", None, None) == ({}, "缺少年份（应为 2020年3月 等格式）")
