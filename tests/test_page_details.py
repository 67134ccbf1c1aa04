"""Small things a leader notices: an unchanged figure reads 持平, the uploader says in Chinese what it takes."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from ui import fmt

APP = str(ROOT / "app.py")


def page(path: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if path:
        at.switch_page(path).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize(("delta", "expected"), [
    (fmt.delta_count(4, 4), "持平"),
    (fmt.delta_count(5, 4), "+1"),
    (fmt.delta_yi(181_000.0, 181_000.0), "持平"),
    (fmt.delta_yi(181_000.4, 181_000.0), "持平"),  # 0.4 万元 is +0.00 亿元 at the card's precision
    (fmt.delta_yi(181_000.0, 181_049.0), "持平"),  # and -0.00 likewise
    (fmt.delta_yi(181_100.0, 181_000.0), "+0.01 亿元"),
    (fmt.delta_pp(0.5, 0.5), "持平"),
    (fmt.delta_pp(0.5004, 0.5), "持平"),
    (fmt.delta_pp(0.45, 0.5), "-5.0 个百分点"),
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
