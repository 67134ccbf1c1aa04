"""The file's own 小计 / 合计 as a check: a dropped row, a value in the wrong unit or a misread block shows up
as a warning naming the total's row and label, the field, the file's number and the sum."""

from __future__ import annotations

from pipelines.ingest.read import read_submission
from pipelines.ingest.result import ReadOptions, ReadResult

TITLE = "忻州市2022年工业重点项目调度表（截至5月底）\n单位：万元\n"
HEAD = "序号,县区,项目名称,建设单位,总投资,年度计划投资,本年累计完成投资,建设状态\n"
BLOCKS = """一、忻府区,,,,,,,
1,忻府区,甲项目,甲公司,1000,300,120,在建
2,忻府区,乙项目,乙公司,2000,500,200.4,新开工
,小计（2个）,,,3000,800,320.4,
二、原平市,,,,,,,
3,原平市,丙项目,丙公司,500,100,50,续建
,小计（1个）,,,500,100,50,
,合计,,,3500,900,370.4,
"""


def read(body: str, title: str = TITLE) -> ReadResult:
    r = read_submission((title + HEAD + body).encode(), "调度表.csv", ReadOptions(region="忻州市", tier="市级千项"))
    assert not r.errors, [e.zh() for e in r.errors]
    return r


def totals(r: ReadResult) -> list[tuple[int | None, str | None, str]]:
    return [(w.row, w.column, w.message) for w in r.warnings if "其上方" in w.message or "其下方" in w.message]


def test_consistent_blocks_say_nothing_and_are_counted() -> None:
    r = read(BLOCKS)
    assert totals(r) == []
    assert r.frame["project_name"].to_list() == ["甲项目", "乙项目", "丙项目"]
    assert r.reading.rows == {"项目": 3, "区县标题": 2, "小计/合计": 3}  # the headings name counties


def test_rounding_is_no_mismatch() -> None:
    # 320.4 written as 320 (0.4 万元 off): within 0.5 万元
    r = read(BLOCKS.replace(",小计（2个）,,,3000,800,320.4,", ",小计（2个）,,,3000,800,320,"))
    assert totals(r) == []


def test_a_dropped_row() -> None:
    # 乙项目 left out of the file, the clerk's totals still count it
    r = read(BLOCKS.replace("2,忻府区,乙项目,乙公司,2000,500,200.4,新开工\n", ""))
    found = totals(r)
    assert (6, None, "「小计(2个)」的项目数：文件中为 2 个，其上方读取为项目的行为 1 个：请核对是否有行未被读取（或被读作标题、说明），"
            "或项目归错区块") in found
    assert (6, "总投资", "「小计(2个)」的总投资：文件中为 3,000 万元，其上方 1 个项目合计 1,000 万元（相差 2,000 万元）："
            "请核对是否漏行、金额单位（万元/亿元）或项目所属区块") in found
    assert (6, "年度计划投资", "「小计(2个)」的本年计划投资：文件中为 800 万元，其上方 1 个项目合计 300 万元（相差 500 万元）："
            "请核对是否漏行、金额单位（万元/亿元）或项目所属区块") in found
    assert (10, "总投资", "「合计」的总投资：文件中为 3,500 万元，其上方 2 个项目合计 1,500 万元（相差 2,000 万元）："
            "请核对是否漏行、金额单位（万元/亿元）或项目所属区块") in found
    assert len(found) == 7  # 小计: count, 3 fields; 合计: 3 fields (the 原平市 block is right)


def test_a_value_in_the_wrong_unit() -> None:
    # 乙项目's 总投资 typed in 亿元 (0.2) in a 万元 file
    r = read(BLOCKS.replace("乙公司,2000,", "乙公司,0.2,"))
    assert [(row, col) for row, col, _ in totals(r)] == [(7, "总投资"), (11, "总投资")]
    assert "文件中为 3,000 万元，其上方 2 个项目合计 1,000.2 万元（相差 1,999.8 万元）" in totals(r)[0][2]


def test_a_misread_block() -> None:
    # 丙项目 written above 忻府区's 小计: 忻府区 over by it, 原平市 short of it; 合计 still agrees
    body = BLOCKS.replace("3,原平市,丙项目,丙公司,500,100,50,续建\n", "").replace(
        ",小计（2个）", "3,原平市,丙项目,丙公司,500,100,50,续建\n,小计（2个）")
    found = totals(r := read(body))
    assert [(row, col) for row, col, _ in found] == [
        (8, None), (8, "总投资"), (8, "年度计划投资"), (8, "本年累计完成投资"),
        (10, None), (10, "总投资"), (10, "年度计划投资"), (10, "本年累计完成投资")]
    assert "「小计(2个)」的总投资：文件中为 3,000 万元，其上方 3 个项目合计 3,500 万元（相差 -500 万元）" in found[1][2]
    assert "「小计(1个)」的总投资：文件中为 500 万元，其上方 0 个项目合计 0 万元（相差 500 万元）" in found[5][2]
    assert r.frame.height == 3


def test_totals_above_their_blocks_in_yi_yuan() -> None:
    # 亿元 in the title, the 合计 first and each county's 小计 over its block, a count in the 序号 column
    body = """,合计,,,0.35,0.09,0.037,
一、忻府区,,,,,,,
2,忻府区小计,,,0.3,0.08,0.032,
1,忻府区,甲项目,甲公司,0.1,0.03,0.012,在建
2,忻府区,乙项目,乙公司,0.2,0.05,0.02,新开工
二、原平市,,,,,,,
1,原平市小计,,,0.06,0.01,0.005,
1,原平市,丙项目,丙公司,0.05,0.01,0.005,续建
"""
    r = read(body, title="忻州市2022年工业重点项目调度表（截至5月底）\n单位：亿元\n")
    assert r.frame["total_investment"].to_list() == [1000.0, 2000.0, 500.0]
    found = totals(r)
    # 原平市's 小计 says 0.06 亿元 over a 0.05 亿元 project; the 合计 (3,500 万元) agrees
    assert [(row, col) for row, col, _ in found] == [(10, "总投资")]
    assert "「原平市小计」的总投资：文件中为 600 万元，其下方 1 个项目合计 500 万元（相差 100 万元）" in found[0][2]


def test_a_count_in_the_seq_column() -> None:
    # 「3」 beside 原平市小计 in the 序号 column (not the numbering going on): one project below it
    body = """一、忻府区,,,,,,,
1,忻府区,甲项目,甲公司,1000,300,120,在建
2,忻府区,乙项目,乙公司,2000,500,200,新开工
二、原平市,,,,,,,
3,原平市小计,,,500,100,50,
1,原平市,丙项目,丙公司,500,100,50,续建
"""
    found = totals(read(body))
    assert found == [(8, None, "「原平市小计」的项目数：文件中为 3 个，其下方读取为项目的行为 1 个：请核对是否有行未被读取（或被读作标题、说明），"
                               "或项目归错区块")]


def test_other_sums_and_part_rows_are_not_checked() -> None:
    # 「其中：新开工」 is a part of the total above it, not a block
    body = BLOCKS + ",其中：新开工,,,2000,500,200.4,\n"
    r = read(body)
    assert totals(r) == [] and r.reading.totals_checked == 3
