"""The 数据报送 preview says what the reader inferred before the load (frequency and why, report date and
where from, the stage column, each column's field, rows, the file's totals), and the frequency can be changed."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
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
                 "未读取的列：「序号」（序号）、「备注」（未识别的列）",
                 "行：项目 2 行，小计/合计 1 行，区县标题 1 行",
                 "合计核对：1 个小计/合计行与所列项目相符"):
        assert f"- {md(line)}" in block.splitlines(), (line, block)
    assert md("建设状态列：「项目状态」") in block
    assert md("「建设单位」→企业名称") in block
    assert any("可以导入 · 2 个项目 · 报告期 2022-05-31" in m.value for m in at.markdown)
    # the clerk says it is a weekly report: the file is read again with it
    at.selectbox(key="submissions_frequency").select("week").run()
    assert f"- {md('报送周期：周报（上传时指定）')}" in reading_block(at).splitlines()


def dated(day: str, head: str = "序号,县区,项目名称,建设单位,总投资,年度计划投资,本年累计完成投资,项目状态,备注") -> str:
    """A file of 忻州市 whose title states a day and no frequency word: the frequency is inferred from D."""
    return (f"忻州市2022年工业重点项目进展情况（截至2022年{day}）\n单位：万元\n{head}\n"
            + "1,忻府区,甲项目,甲公司,1000,300,120,在建,\n2,忻府区,乙项目,乙公司,2000,500,200,新开工,\n")


def test_a_confirmed_reading_is_remembered_for_the_units_layout(tmp_path: Path) -> None:
    from pipelines.ingest.prepare import prepare
    from pipelines.ingest.result import ReadOptions
    from pipelines.views.layouts import with_memory
    from pipelines.warehouse.intake import load_prepared
    from pipelines.warehouse.store import Warehouse

    wh = Warehouse(tmp_path / "w.duckdb")
    wh.init()

    def read(name: str, text: str):
        p = prepare(text.encode(), name, ReadOptions(region="忻州市", tier="市级千项"))
        assert p.ok, [e.zh() for e in p.errors]
        with wh.read() as con:
            return with_memory(con, p)

    first = read("5月.csv", dated("5月31日"))
    assert first.frequency == "month" and first.layout_note == "该单位首次以此表式报送，导入即记住此次的读法"
    assert first.questions == ["报送周期：月报（报告期 2022-05-31 为月末（非周五））"]
    load_prepared(wh, [first], actor="xz")
    # the same layout next month: 30 June is a quarter's last day, but the unit confirmed 月报 for it
    second = read("6月.csv", dated("6月30日"))
    assert second.frequency == "month" and second.submission is not None and second.submission.frequency == "month"
    assert second.questions == []
    assert second.layout_note.startswith("与 ") and second.layout_note.endswith(" 确认的表式相同")
    assert second.reading is not None and second.reading.frequency_source.endswith("按当时确认的月报")
    # another unit's file of that layout is not read by 忻州市's confirmation
    other = prepare(dated("6月30日").replace("忻府区", "小店区").encode(), "太原.csv", ReadOptions(region="太原市", tier="市级千项"))
    with wh.read() as con:
        other = with_memory(con, other)
    assert other.frequency == "quarter" and other.questions == ["报送周期：季报（报告期 2022-06-30 为季末）"]
    # a changed layout says how, and asks again
    changed = read("6月新表.csv", dated("6月30日", "序号,县区,项目名称,建设单位,总投资,年度计划投资,本年累计完成投资,"
                                                 "项目状态,存在问题").replace("在建,\n", "在建,无\n"))
    assert changed.layout_note == "与上次确认的表式不同：新增列「存在问题」，缺少列「备注」"
    assert changed.frequency == "quarter" and changed.questions == ["报送周期：季报（报告期 2022-06-30 为季末）"]


def test_confirm_once_then_the_same_layout_asks_nothing(own_db: Path) -> None:
    at = upload(page(), "5月.csv", dated("5月31日"))
    assert any("报送周期：月报" in w.value for w in at.warning)
    assert at.button(key="submissions_commit").disabled
    at.checkbox(key="submissions_confirm_reading").check().run()
    assert not at.button(key="submissions_commit").disabled
    at.button(key="submissions_commit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("5月.csv：已导入 2 个项目" in s.value for s in at.success)
    # the same layout: no question, read as confirmed
    at = upload(at, "6月.csv", dated("6月30日"))
    assert not any(c.key == "submissions_confirm_reading" for c in at.checkbox)
    assert not any("导入前请核对" in w.value for w in at.warning)
    assert not at.button(key="submissions_commit").disabled
    block = reading_block(at)
    assert md("报送周期：月报（与 ") in block and md("确认的表式相同，按当时确认的月报）") in block
    assert md("确认的表式相同") in block
    # a changed layout: the preview says so, and asks again
    at = page()
    at = upload(at, "6月新表.csv", dated("6月30日", "序号,县区,项目名称,建设单位,总投资,年度计划投资,本年累计完成投资,项目状态"))
    assert f"- {md('表式：与上次确认的表式不同：缺少列「备注」')}" in reading_block(at).splitlines()
    assert at.button(key="submissions_commit").disabled
    assert any("导入前请核对" in w.value and "报送周期：季报" in w.value for w in at.warning)
