"""The 清单核对 page and the 亮灯清单's 前期手续, through AppTest, on the app's fixture with a 统计局 list
loaded (芯片封装测试基地项目, ours 入统, not on it) and procedures stated for the overdue project."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.ingest.reference_list import read_list
from pipelines.warehouse import reference_lists
from pipelines.warehouse.store import Warehouse
from tests.conftest import APP_DATES, load_rows
from tests.test_app import run, table
from tests.test_procedures import _procedure_rows
from tests.test_reconcile import STATS_LIST


@pytest.fixture
def lists_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "lists.duckdb"
    wh = Warehouse(path)
    wh.init()
    for week, d in enumerate(APP_DATES):
        load_rows(wh, d, _procedure_rows(week), file_name=f"周报_{d:%m%d}.csv")
    raw = STATS_LIST.encode()
    got = read_list(raw, "入统清单.csv", APP_DATES[1])
    reference_lists.store_list(wh, "ana", "入统", APP_DATES[1], "入统清单.csv", raw, got.frame)
    monkeypatch.setenv("KAIGONG_DB", str(path))
    yield path


def test_reconcile_page_shows_the_unconfirmed_project(lists_env):
    at = run("pages/reconcile.py")
    assert [t.value for t in at.title] == ["部门清单核对"]
    at.radio(key="reconcile_kind").set_value("入统").run()
    assert not at.exception
    rows = table(at, "核对结果")
    got = dict(zip(rows["项目名称"], rows["核对结果"], strict=True))
    assert got == {"芯片封装测试基地项目": "入统未确认（清单无）", "焦化余热发电技术改造项目": "信息不一致",
                   "新型建材生产线项目": "信息不一致"}
    m = {x.label: x.value for x in at.metric}
    assert m["入统未确认（清单无）"] == "1" and m["漏报（清单有、本系统无）"] == "0"
    assert table(at, "导入人")["文件"].to_list() == ["入统清单.csv"]


def test_reconcile_page_without_a_list_says_so(lists_env):
    at = run("pages/reconcile.py")
    at.radio(key="reconcile_kind").set_value("立项").run()
    assert not at.exception
    assert any("尚未导入" in i.value for i in at.info)


def test_lights_page_names_the_blocking_procedure_and_shows_the_matrix(lists_env):
    at = run("pages/lights.py", date="2020-03-06")
    lit = table(at, "亮灯原因")
    row = lit[lit["项目名称"] == "新型建材生产线项目"].to_dict("records")[0]
    assert row["待办前期手续（主管部门）"] == "规划（自然资源/住建）"
    matrix = table(at, "逾期未开工项目")
    assert matrix[matrix["地区"] == "合计"][["手续", "已办结", "待办理", "不需要", "逾期未开工项目"]].values.tolist() == [
        ["立项", 1, 0, 0, 1], ["土地", 0, 0, 1, 1], ["规划", 0, 1, 0, 1], ["环评", 0, 1, 0, 1]]
