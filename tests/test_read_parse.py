"""Cell parsers: money, dates, stages, booleans, tiers (values worked out by hand)."""

from datetime import date, datetime

import pytest

from pipelines.ingest.parse import (
    UNSTARTED,
    parse_bool,
    parse_date,
    parse_money,
    parse_stage,
    parse_tier,
    resolve_unstarted,
)
from pipelines.ingest.stated import parse_start_completion


@pytest.mark.parametrize(
    ("raw", "factor", "want"),
    [("12,500", 1, 12500.0), (" 3000 ", 1, 3000.0), ("1.2亿", 1, 12000.0), ("3000万", 1, 3000.0),
     ("１２５００", 1, 12500.0), ("—", 1, None), ("-", 1, None), ("/", 1, None), ("无", 1, None), ("", 1, None),
     (None, 1, None), ("1.2", 10000, 12000.0), (3.5, 10000, 35000.0), (0, 1, 0.0), ("3000万元", 10000, 3000.0)],
)
def test_money(raw, factor, want):
    assert parse_money(raw, factor) == (want, None)


def test_money_errors():
    assert parse_money("-500") == (None, "投资额不能为负数")
    assert parse_money("abc") == (None, "无法识别为数字")
    assert parse_money("12.5.3") == (None, "无法识别为数字")
    assert parse_money("1,2,3") == (None, "千分位逗号位置不对（逗号应每三位数字一个，如 12,500、1,234,567.5）")
    assert parse_money("#DIV/0!") == (None, "单元格为 Excel 错误值 #DIV/0!（公式出错），请修正公式或填写数值")
    assert parse_money("#N/A") == (None, "单元格为 Excel 错误值 #N/A（公式出错），请修正公式或填写数值")


@pytest.mark.parametrize(
    ("raw", "want"),
    [("2020.03", date(2020, 3, 1)), ("2020.3", date(2020, 3, 1)), ("2020.10", date(2020, 10, 1)),
     ("2020年3月", date(2020, 3, 1)), ("2020年3月15日", date(2020, 3, 15)), ("2020-03-15", date(2020, 3, 15)),
     ("2020/3/15", date(2020, 3, 15)), ("2020.3.15", date(2020, 3, 15)), ("20200315", date(2020, 3, 15)),
     (date(2020, 3, 20), date(2020, 3, 20)), (datetime(2020, 3, 20, 8, 0), date(2020, 3, 20)),
     (43910, date(2020, 3, 20)), ("43910", date(2020, 3, 20)), ("2020-03-20 00:00:00", date(2020, 3, 20)),
     ("２０２０．３", date(2020, 3, 1)), ("", None), ("—", None), ("2020年3月底", date(2020, 3, 31)),
     ("2020年3月末", date(2020, 3, 31)), ("2020年底", date(2020, 12, 31)), ("2020年末", date(2020, 12, 31))],
)
def test_dates(raw, want):
    assert parse_date(raw) == (want, None)


def test_date_errors_say_why():
    assert parse_date("已开工")[1].startswith("无法识别为日期")
    assert parse_date("3月中旬")[1].startswith("缺少年份")
    assert parse_date("3月上旬") == parse_date("3月下旬") == parse_date("3月中旬")
    assert parse_date("2020年3月上旬") == parse_date("2020年3月中旬") == parse_date("2020年3月下旬") == (
        None, "上旬、中旬、下旬不是确切日期：请填写具体日期（如 2020年3月15日）或月份（如 2020年3月）")
    assert parse_date("2020年3月前")[1].startswith("日期「2020年3月」后面多了“前”")
    assert parse_date("2020年13月")[1].startswith("日期无效")
    assert parse_date("2020")[1].startswith("只有年份")


@pytest.mark.parametrize(
    ("raw", "stage"),
    [("储备", "储备"), ("已开工", "在建"), ("正在建设", "在建"), ("施工中", "在建"), ("已竣工", "竣工"), ("完工", "竣工"),
     ("建成", "竣工"), ("部分投产", "投产"), ("试生产", "投产"), ("拟建", "新开工"), ("计划新开工", "新开工"),
     ("前期工作", "前期"), ("谋划", "储备"), ("续建项目", "续建"), ("未开工", UNSTARTED), ("新建", "新开工")],
)
def test_stage_words(raw, stage):
    assert parse_stage(raw) == (stage, None, None)


def test_build_type_in_type_column_is_not_a_stage():
    assert parse_stage("新建", type_column=True) == (None, "新建", None)
    assert parse_stage("技改", type_column=True) == (None, "技术改造", None)
    assert parse_stage("在建", type_column=True) == ("在建", None, None)
    assert parse_stage("停工待定")[2].startswith("无法识别的建设状态")


def test_unstarted_rule():
    assert resolve_unstarted(date(2020, 6, 1), 2020) == "新开工"
    assert resolve_unstarted(date(2021, 6, 1), 2020) == "前期"
    assert resolve_unstarted(None, 2020) == "前期"


@pytest.mark.parametrize(
    ("raw", "want"),
    [("是", True), ("否", False), ("Y", True), ("n", False), ("√", True), ("×", False), ("有", True), ("无", False),
     ("已入统", True), ("未入统", False), ("已入库", True), ("未入库", False), ("是（已入库）", True), ("", None)],
)
def test_bool(raw, want):
    assert parse_bool(raw) == (want, None)


@pytest.mark.parametrize(
    ("raw", "want"),
    [("省级双百·新兴", "省级双百·新兴"), ("新兴", "省级双百·新兴"), ("新兴产业", "省级双百·新兴"), ("双百新兴", "省级双百·新兴"),
     ("技改", "省级双百·技改"), ("传统技改", "省级双百·技改"), ("双百技改", "省级双百·技改"), ("千项", "市级千项"),
     ("市级", "市级千项"), ("其他", "其他")],
)
def test_tier(raw, want):
    assert parse_tier(raw) == (want, None)


def test_tier_ambiguous():
    assert parse_tier("省级双百")[1].startswith("层级不明确")


def test_start_completion_text():
    d = date(2020, 5, 25)
    out, err = parse_start_completion("2019年5月开工，预计2020年10月竣工", d, 2020)
    assert err is None
    assert out == {"actual_start_date": date(2019, 5, 1), "planned_start_date": date(2019, 5, 1),
                   "planned_completion_date": date(2020, 10, 31), "stage": "续建"}  # planned month: its last day
    assert parse_start_completion("已竣工", d, 2020)[0] == {"stage": "竣工", "completion_date": d}  # done by this report
    assert parse_start_completion("计划2020年6月开工", d, 2020)[0] == {"planned_start_date": date(2020, 6, 30), "stage": "新开工"}
    assert parse_start_completion("说不清", d, 2020)[1].startswith("无法识别的开竣工情况")
