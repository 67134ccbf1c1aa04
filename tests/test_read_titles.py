"""The report date and the frequency as clerks write them in a title (or a file name), and where each came from."""

from __future__ import annotations

from datetime import date

import pytest

from pipelines.ingest.detect import frequency_from_date, report_date_from_title
from pipelines.ingest.read import read_submission
from pipelines.ingest.result import ReadOptions

HEAD = "序号,县区,项目名称,总投资,年度计划投资,本年累计完成投资,建设状态\n1,忻府区,甲项目,1000,300,120,在建\n"


def read(title: str, file_name: str = "调度表.csv", **kw: object):
    text = (title + "\n" if title else "") + "单位：万元\n" + HEAD
    return read_submission(text.encode(), file_name, ReadOptions(region="忻州市", tier="市级千项", **kw))  # type: ignore[arg-type]


@pytest.mark.parametrize(("title", "d", "freq", "freq_source"), [
    ("忻州市2022年工业重点项目调度表（截至5月底）", date(2022, 5, 31), "month", "标题含“截至5月底”"),
    ("忻州市2022年1-5月工业重点项目进展情况", date(2022, 5, 31), "month", "标题含“1-5月”"),
    ("忻州市2022年5月份工业重点项目调度表", date(2022, 5, 31), "month", "标题含“5月份”"),
    ("2022年工业重点项目5月末进展情况", date(2022, 5, 31), "month", "标题含“5月末”"),
    ("2022年第二季度技改项目投资进度表", date(2022, 6, 30), "quarter", "标题含“季度”"),
    ("2022年二季度技改项目投资进度表", date(2022, 6, 30), "quarter", "标题含“季度”"),
    ("2022年一季度技改项目投资进度表", date(2022, 3, 31), "quarter", "标题含“季度”"),
    # 上半年 is no frequency word: 30 June is a quarter's last day
    ("2022年上半年工业项目进展", date(2022, 6, 30), "quarter", "报告期 2022-06-30 为季末"),
    ("2022年工业项目周报（截至2022年5月27日）", date(2022, 5, 27), "week", "标题含“周报”"),
    # a full date and no word: D decides (31 May 2022 is a Tuesday, the last day of May)
    ("2022年工业项目进展（截至2022年5月31日）", date(2022, 5, 31), "month", "报告期 2022-05-31 为月末（非周五）"),
    ("2022年工业项目进展（截至2022年6月24日）", date(2022, 6, 24), "week", "报告期 2022-06-24 为周五"),
])
def test_title_wordings(title: str, d: date, freq: str, freq_source: str) -> None:
    r = read(title)
    assert not r.errors, [e.zh() for e in r.errors]
    assert (r.report_date, r.frequency) == (d, freq)
    assert r.reading.report_date_source == f"标题“{title}”"
    assert r.reading.frequency_source == freq_source


def test_year_from_the_file_name() -> None:
    r = read("工业重点项目调度表（截至5月底）", "2022年调度表.csv")
    assert (r.report_date, r.frequency) == (date(2022, 5, 31), "month")
    assert r.reading.report_date_source == "标题“工业重点项目调度表（截至5月底）”，年份取自文件名“2022年调度表”"


def test_date_from_the_file_name_when_the_title_has_none() -> None:
    r = read("", "2022年5月份调度表.csv")
    assert (r.report_date, r.frequency) == (date(2022, 5, 31), "month")
    assert r.reading.report_date_source == "文件名“2022年5月份调度表”"
    assert r.reading.frequency_source == "文件名含“5月份”"


def test_given_at_upload_wins() -> None:
    r = read("忻州市2022年工业重点项目调度表（截至5月底）", report_date=date(2022, 5, 27), frequency="week")
    assert (r.report_date, r.frequency) == (date(2022, 5, 27), "week")
    assert (r.reading.report_date_source, r.reading.frequency_source) == ("上传时指定", "上传时指定")


def test_no_date_anywhere_is_still_refused() -> None:
    r = read("工业重点项目调度表")
    assert r.report_date is None
    assert any("缺少报告期截止日" in e.message for e in r.errors)


def test_a_period_is_not_a_day() -> None:
    # 2022年1-5月 was once read as 5 January
    assert report_date_from_title("2022年1-5月") == (date(2022, 5, 31), "month")
    assert report_date_from_title("截至5月27日", 2022) == (date(2022, 5, 27), None)
    assert report_date_from_title("截至5月底") == (None, None)  # no year anywhere


@pytest.mark.parametrize(("d", "freq"), [
    (date(2022, 5, 27), "week"),  # a Friday
    (date(2022, 5, 31), "month"),  # a Tuesday, the month's last day
    (date(2022, 6, 30), "quarter"),
    (date(2020, 7, 31), "week"),  # a Friday first, though the month's last day
    (date(2022, 5, 25), "week"),  # neither: the default
])
def test_frequency_from_the_date(d: date, freq: str) -> None:
    assert frequency_from_date(d)[0] == freq
