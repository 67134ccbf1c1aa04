"""Small things a leader notices: an unchanged figure reads 持平, the uploader says in Chinese what it takes."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines.vocab import formats
from tests.conftest import ROOT

APP = str(ROOT / "app.py")


def page(path: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if path:
        at.switch_page(path).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize(("delta", "expected"), [
    (formats.delta_count(4, 4), "持平"),
    (formats.delta_count(5, 4), "+1"),
    (formats.delta_yi(181_000.0, 181_000.0), "持平"),
    (formats.delta_yi(181_000.4, 181_000.0), "持平"),  # 0.4 万元 is +0.00 亿元 at the card's precision
    (formats.delta_yi(181_000.0, 181_049.0), "持平"),  # and -0.00 likewise
    (formats.delta_yi(181_100.0, 181_000.0), "+0.01 亿元"),
    (formats.delta_pp(0.5, 0.5), "持平"),
    (formats.delta_pp(0.5004, 0.5), "持平"),
    (formats.delta_pp(0.45, 0.5), "-5.0 个百分点"),
])
def test_a_change_of_zero_at_the_shown_precision_is_flat(delta, expected):
    assert delta == expected


def test_overview_shows_an_unchanged_figure_as_flat_and_grey(app_db: Path, monkeypatch):
    monkeypatch.setenv("KAIGONG_DB", str(app_db))
    at = page()
    cards = {}
    for m in at.metric:  # the 全部项目 block comes first
        cards.setdefault(m.label, m.proto)
    # the fixture's four projects and their investment are the same in both weeks
    for label in ("项目数（个）", "总投资（亿元）", "年度计划投资（亿元）"):
        card = cards[label]
        assert card.delta == "持平", label
        assert card.color == card.GRAY and card.direction == card.NONE, label
    moved = cards["本年累计完成投资（亿元）"]
    assert moved.delta == "+0.55 亿元" and moved.color == moved.GREEN and moved.direction == moved.UP
    assert not [m for m in at.metric if m.proto.delta.lstrip("+-").startswith(("0 ", "0.00 ", "0.0 "))]
    assert not [m for m in at.metric if m.proto.delta in ("+0", "-0")]


def test_the_uploader_says_in_chinese_what_it_takes_and_the_size_limit(app_db: Path, monkeypatch):
    import tomllib

    monkeypatch.setenv("KAIGONG_DB", str(app_db))
    limit = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"]
    at = page("pages/submissions.py")
    [uploader] = at.get("file_uploader")
    assert uploader.proto.label == (f"拖入文件：周报表、台账或目标任务分解表（CSV、XLSX、XLS，可一次多个，"
                                    f"每个文件不超过 {limit} MB）")
    assert list(uploader.proto.type) == [".csv", ".xlsx", ".xls"]
    captions = [c.value for c in at.caption]
    assert any("「Upload」即选择文件" in c and "「Drag and drop files here」即把文件拖到这里" in c for c in captions)


def test_the_size_limit_said_is_the_one_configured(app_db: Path, monkeypatch):
    from streamlit import config

    monkeypatch.setenv("KAIGONG_DB", str(app_db))
    old = config.get_option("server.maxUploadSize")
    config.set_option("server.maxUploadSize", 20)
    try:
        at = page("pages/submissions.py")
    finally:
        config.set_option("server.maxUploadSize", old)
    [uploader] = at.get("file_uploader")
    assert uploader.proto.label.endswith("每个文件不超过 20 MB）")


def test_the_briefing_page_lists_the_filters_as_the_briefing_prints_them(app_db: Path, monkeypatch):
    from datetime import date

    from pipelines.metrics import Filters
    from pipelines.outputs.briefing import collect
    from pipelines.warehouse.store import Warehouse
    from ui.fmt import md

    monkeypatch.setenv("KAIGONG_DB", str(app_db))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["city"] = "140100"
    at.run()
    at.switch_page("pages/briefing.py").run()
    assert not at.exception, [e.value for e in at.exception]
    expected = [("年度", "2020"), ("报告期截止日", "2020-03-13"), ("层级", "全部"), ("地市", "太原市"), ("县区", "全部"),
                ("行业", "全部"), ("建设状态", "全部"), ("投资规模", "全部")]
    assert "\n".join(f"- {k}：{md(v)}" for k, v in expected) in [m.value for m in at.markdown]
    with Warehouse(app_db).read() as con:
        printed = collect(con, date(2020, 3, 13), year=2020, filters=Filters(cities=("140100",))).filter_lines
    assert printed == expected


def test_annual_plan_has_one_label_in_every_table_and_chart(app_db: Path, monkeypatch):
    from datetime import date

    import polars as pl

    from pipelines.outputs import charts
    from pipelines.views.ledger import LEDGER_SORTS

    monkeypatch.setenv("KAIGONG_DB", str(app_db))
    at = page("pages/projects.py")
    ledger = next(df.value for df in at.dataframe if "项目名称" in df.value.columns)
    assert "年度计划（万元）" in ledger.columns and "本年计划（万元）" not in ledger.columns
    assert "按年度计划从高到低" in LEDGER_SORTS
    reports = pl.DataFrame({"report_date": [date(2020, 3, 6)], "ytd_completed": [1.0], "annual_plan": [2.0]})
    fig = charts.project_history_chart(reports, pl.DataFrame(schema={"a": pl.Date, "b": pl.String, "c": pl.String}), "x")
    assert [t.name for t in fig.data] == ["本年累计完成（万元）", "年度计划（万元）"]


def test_money_and_rates_print_as_before_in_the_cli_briefing_and_pages():
    from pipelines import cli
    from pipelines.outputs import briefing

    shown = [cli._fmt(k, v) for k, v in [("annual_plan", 59_000.0), ("total_investment", 12_345_678.0),
                                         ("completion_rate", 0.17794), ("schedule_gap", -2.34), ("projects", 4),
                                         ("ytd_completed", None)]]
    assert shown == ["5.90", "1,234.57", "17.8%", "-2.3", "4", "—"]
    assert [briefing._yi(181_000.0), briefing._yi(None)] == ["18.1", "—"]
    assert formats.yi(1_234_567.0) == "123.46 亿元" and formats.yi_num(1_234_567.0) == "123.46"
    assert [formats.pct(0.5), formats.pp(3.24), formats.pp_num(-0.04), formats.wan(1234.4)] == [
        "50.0%", "+3.2 个百分点", "-0.0", "1,234 万元"]
    assert formats.to_yi(25_000.0) == 2.5 and formats.to_pct(None) is None


def test_each_view_is_cached_under_its_own_name(app_db: Path, monkeypatch):
    from pipelines.views.options import Options
    from ui import cached

    monkeypatch.setenv("KAIGONG_DB", str(app_db))
    opts = cached.options()  # no arguments, as closed_problems(): the key must still tell them apart
    closed = cached.closed_problems()
    assert isinstance(opts, Options) and opts.years == [2020]
    assert closed.columns == ["project_id", "project_name", "problem", "closed_at", "closed_by", "note"]


def test_a_long_list_sends_its_first_rows_and_downloads_whole(app_db: Path, monkeypatch):
    """A list longer than widgets.TABLE_ROWS shows that many rows, says how many there are, and
    offers them all as CSV (national lists of thousands went to the browser on every view)."""
    from ui import widgets

    monkeypatch.setenv("KAIGONG_DB", str(app_db))
    at = page("pages/problems.py")
    whole = at.dataframe(key="problems_table").value
    assert len(whole) >= 2, "the fixture needs two open problems"
    assert not [c for c in at.caption if "表中列出前" in c.value]
    assert "problems_table_csv" not in [b.key for b in at.get("download_button")]

    monkeypatch.setattr(widgets, "TABLE_ROWS", 1)
    at = page("pages/problems.py")
    shown = at.dataframe(key="problems_table").value
    assert len(shown) == 1
    assert shown.iloc[0].to_dict() == whole.iloc[0].to_dict()  # the first in the list's order (oldest first)
    assert f"共 {len(whole)} 项，表中列出前 1 项；完整名单请下载 CSV。" in [c.value for c in at.caption]
    [button] = [b for b in at.get("download_button") if b.key == "problems_table_csv"]
    assert button.proto.label == "下载完整名单（CSV）"
