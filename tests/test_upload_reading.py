"""The 数据报送 preview says what the reader inferred before the load (frequency and why, report date and
where from, the stage column, each column's field, rows, the file's totals), and the frequency can be changed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT, build_app_db
from ui.fmt import md

APP = str(ROOT / "app.py")

XINZHOU = """忻州市2022年工业重点项目调度表（截至5月底）
单位：万元
序号,县区,项目名称,建设单位,总投资,年度计划投资,本年累计完成投资,项目状态,备注
一、忻府区,,,,,,,,
1,忻府区,甲项目,甲公司,1000,300,120,在建,
2,忻府区,乙项目,乙公司,2000,500,200,新开工,
,小计（2个）,,,3000,800,320,,
"""


@pytest.fixture
def own_db(tmp_path: Path) -> Iterator[Path]:
    path = build_app_db(tmp_path / "app.duckdb")
    old = os.environ.get("KAIGONG_DB")
    os.environ["KAIGONG_DB"] = str(path)
    yield path
    if old is None:
        os.environ.pop("KAIGONG_DB", None)
    else:
        os.environ["KAIGONG_DB"] = old


def upload(at: AppTest, name: str, text: str) -> AppTest:
    at.text_input(key="submissions_region").input("忻州市")
    at.selectbox(key="submissions_tier").select("市级千项")
    at.file_uploader[0].set_value((name, text.encode("utf-8"), "text/csv"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/submissions.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def reading_block(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**读取情况**"))


def test_the_preview_says_what_was_read_and_the_frequency_can_be_changed(own_db: Path) -> None:
    at = upload(page(), "忻州调度表.csv", XINZHOU)
    block = reading_block(at)
    for line in ("报告期截止日：2022-05-31（标题“忻州市2022年工业重点项目调度表（截至5月底）”）",
                 "报送周期：月报（标题含“截至5月底”）",
                 "建设状态列：「项目状态」",
                 "未读取的列：「序号」（序号）、「备注」（未识别的列名）",
                 "行：项目 2 行，分组标题 1 行，小计/合计 1 行",
                 "合计核对：1 个小计/合计行与所列项目相符"):
        assert f"- {md(line)}" in block.splitlines(), (line, block)
    assert md("「建设单位」→企业名称") in block
    assert any("可以导入 · 2 个项目 · 报告期 2022-05-31" in m.value for m in at.markdown)
    # the clerk says it is a weekly report: the file is read again with it
    at.selectbox(key="submissions_frequency").select("week").run()
    assert f"- {md('报送周期：周报（上传时指定）')}" in reading_block(at).splitlines()
