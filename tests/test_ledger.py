"""The project ledger's search, order and pages (pipelines.views.ledger.ledger_page), by hand."""

from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.views.ledger import LEDGER_SORTS, ledger_page

LEDGER = pl.DataFrame({
    "project_id": ["a", "b", "c", "d", "e"],
    "project_name": ["芯片项目", "建材项目", "焦化改造项目", "杂粮项目", "Solar 光伏项目"],
    "company": ["潞安微电子", None, "山西焦化集团", "原平杂粮公司", "晋能 SOLAR"],
    "total_investment": [50000.0, 8000.0, None, 3000.0, 120000.0],
    "last_report_date": [date(2020, 3, 13), date(2020, 3, 6), date(2020, 3, 13), None, date(2020, 3, 13)],
})


def ids(frame: pl.DataFrame) -> list[str]:
    return frame["project_id"].to_list()


def test_search_matches_name_or_company_literally_in_any_case():
    assert ids(ledger_page(LEDGER, search="潞安").rows) == ["a"]  # the company only
    assert ids(ledger_page(LEDGER, search=" 焦化 ").rows) == ["c"]  # name and company: once
    assert ids(ledger_page(LEDGER, search="solar").rows) == ["e"]
    assert ids(ledger_page(LEDGER, search="项目").rows) == ["a", "b", "c", "d", "e"]  # the ledger's order kept
    assert ids(ledger_page(LEDGER, search=".*").rows) == []  # not a pattern
    none = ledger_page(LEDGER, search="不存在")
    assert (none.matched.height, none.page, none.pages, none.first) == (0, 1, 1, 0)


def test_orders_put_missing_values_last():
    assert ids(ledger_page(LEDGER, sort="按总投资从高到低").rows) == ["e", "a", "b", "d", "c"]
    assert ids(ledger_page(LEDGER, sort="按最近报送从早到晚").rows) == ["b", "a", "c", "e", "d"]  # ties keep order
    assert ids(ledger_page(LEDGER, sort="按地市、县区、名称").rows) == ["a", "b", "c", "d", "e"]
    assert next(iter(LEDGER_SORTS)) == "按地市、县区、名称"  # the default


def test_pages_split_the_matched_and_clamp():
    first = ledger_page(LEDGER, sort="按总投资从高到低", page=1, size=2)
    assert (ids(first.rows), first.page, first.pages, first.first) == (["e", "a"], 1, 3, 1)
    last = ledger_page(LEDGER, sort="按总投资从高到低", page=3, size=2)
    assert (ids(last.rows), last.first) == (["c"], 5)
    assert ids(last.matched) == ["e", "a", "b", "d", "c"]  # every page's, for the download
    assert ledger_page(LEDGER, page=9, size=2).page == 3
    assert ledger_page(LEDGER, page=0, size=2).page == 1
