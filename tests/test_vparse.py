"""The column-wise parsers (vparse) give what the per-cell parsers (parse.py) give, value for value.

The vectorised path decides the common shapes and hands every other distinct value to parse.py;
these tests mix both kinds in one column and compare every row with the per-cell answer.
Bounded for CI; a longer run: KAIGONG_FUZZ_EXAMPLES=2000 pytest tests/test_vparse.py
"""

from __future__ import annotations

import csv
import io
import os
import sys
import unicodedata
from datetime import date

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.ingest import vparse as vp
from pipelines.ingest.detect import NOTE, is_subtotal, maybe_note, maybe_subtotal
from pipelines.ingest.headers import is_headerish
from pipelines.ingest.parse import clean, is_empty, parse_bool, parse_date, parse_money
from pipelines.ingest.read import read_submission
from pipelines.ingest.result import ReadOptions

EXAMPLES = int(os.environ.get("KAIGONG_FUZZ_EXAMPLES", "60"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

# Cells a clerk writes, and near misses of the shapes the vectorised path takes.
TRICKY = [
    "", "-", "—", "/", "无", "暂无", "NULL", "n/a", "#N/A", " ", "\u3000", "0", "-0", "+5", "1000", "12,500", "1,2,3", ",5",
    "12 500", "１２５００", "１２,５００", "1.2亿", "1.2亿元", "3000万", "3000万元", "500元", "约1000", "共计500", "合计",
    "1e3", "1E-7", "nan", "inf", "-500", "12.5.3", "3.", ".5", "0.1234567", "1.005", "0.145亿", "8.675309亿",
    "123456789012345", "1234567890123456", "99999999999999999", "0.000001", "7.0000001",
    "2020.3", "2020.03", "2020.10", "2020.1", "2020.00", "2020.13", "2020年3月", "2020年3月15日", "2020年3月15号", "2020年3月份",
    "2020年3月底", "2020-03-15", "2020/3/15", "2020.3.15", "20200315", "2020-02-29", "2019-02-29", "2020-02-30",
    "0000-01-01", "9999-12-31", "2020-03-20 00:00:00", "2020-03-20T08:30", "２０２０．３", " 2020.3 ", "2020 .3", "2020",
    "3月中旬", "已开工", "43910", "43910.75", "19999", "20000", "80000", "80000.5", "80001", "4391O",
    "是", "否", "Y", "n", "√", "×", "已入统", "未入统", "是（已入库）", "可能", "1", "0",
    "a\u0301", "ﾃｽﾄ", "⽇", "\u3038", "注：说明", "合 计", "小计（太原）", "x" * 30,
    # Excel error values, thousands separators out of place, month/year ends and vague dates.
    "#DIV/0!", "#REF!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#n/a", "＃Ｎ/Ａ", "#SPILL!", "#", "#1",
    "1,234,567.5", "1,234,567", "12,50", "1,2345", "0,500", "12,500,00", "12,500.", "1,2亿", "1,200万元", "１，２，３",
    "2020年3月末", "2020年2月底", "2020年底", "2020年末", "2020年年底", "2020年底前", "2020年3月底前", "2020年3月上旬",
    "2020年3月中旬", "2020年3月下旬", "2020年3月前", "2020年3月以后", "2020年3月左右", "2020.3前", "2020年3月初",
    "3月底", "2020年13月底",
]
CELL = st.one_of(
    st.sampled_from(TRICKY),
    st.text(alphabet=st.sampled_from("0123456789.,-/年月日号亿万元 \u3000０１２３"), max_size=14),
    st.text(max_size=12),
    st.from_regex(r"[0-9]{1,17}(\.[0-9]{1,8})?(亿元|亿|万元|万|元)?", fullmatch=True),
    st.from_regex(r"[0-9]{1,4}(,[0-9]{2,4}){1,3}(\.[0-9]{0,3})?(亿|万元)?", fullmatch=True),
    st.from_regex(r"[0-9]{4}(年[0-9]{1,2}月(底|末|初|份|上旬|中旬|下旬)?|年年?[底末])(前|以后|左右)?", fullmatch=True),
    st.from_regex(r"[0-9]{4}[-./年][0-9]{1,2}([-./月][0-9]{1,2}[日号]?|月)?", fullmatch=True),
    st.dates().map(lambda d: f"{d.year:04d}-{d.month}-{d.day}"),
    st.floats(min_value=15000, max_value=85000).map(repr),
)


# In a CSV: no delimiter candidates or control characters (they would change how the file is sniffed),
# and no column headers (Hypothesis draws string constants from the source, e.g. 用地手续 from headers.py:
# a row of header words under the header is read as a second header row, a rule of the reader's own).
CSV_CELL = CELL.filter(lambda s: not any(ch in s for ch in "\t;|\ufffd") and all(ord(ch) >= 32 for ch in s)
                       and not is_headerish(s))


def _stripped(values: list[str]) -> list[str]:
    return [v.strip() for v in values]


def test_whitespace_is_pythons():
    assert set(vp.PY_WHITESPACE) == {c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()}


def test_safe_characters_normalise_one_by_one():
    for c, n in vp.SAFE_MAP.items():
        assert unicodedata.normalize("NFKC", c) == n and len(n) == 1


@SETTINGS
@given(st.lists(st.text(alphabet=st.sampled_from(sorted(vp.SAFE_MAP)[:400] + list("合计其中注说明 \u3000ＡＢ（）")), max_size=12)))
def test_clean_on_safe_text_is_a_character_map(values):
    assert vp.clean_series(pl.Series(values, dtype=pl.String)).to_list() == [clean(v) for v in values]


@SETTINGS
@given(st.lists(st.one_of(CELL, st.none()), max_size=20))
def test_clean_series_matches_clean(values):
    assert vp.clean_series(pl.Series(values, dtype=pl.String)).to_list() == [
        None if v is None else clean(v) for v in values
    ]


@SETTINGS
@given(st.lists(CELL, min_size=1, max_size=40), st.sampled_from([1.0, 10_000.0, 0.0001]))
def test_mixed_columns_parse_as_cell_by_cell(values, factor):
    cells = _stripped(values)
    frame = pl.DataFrame({"c": cells}, schema={"c": pl.String})
    kinds = {"money": lambda v: parse_money(v, factor), "date": parse_date, "bool": parse_bool}
    got, errors = vp.parse(frame, [vp.Column(k, "c", k, factor) for k in (*kinds, "text")])
    for kind, per_cell in kinds.items():
        want = [per_cell(v) for v in cells]
        err = errors.get(kind, pl.Series([None] * len(cells), dtype=pl.String))
        assert list(zip(got[kind].to_list(), err.to_list(), strict=True)) == want, kind
    assert got["text"].to_list() == [None if is_empty(v) else v for v in cells]


@SETTINGS
@given(st.lists(st.text(max_size=30), max_size=30))
def test_vectorised_prefilters_never_miss(values):
    """maybe_* let through every value the exact test accepts (they only save work)."""
    frame = pl.DataFrame({"v": _stripped(values)}, schema={"v": pl.String})
    m = frame.select(
        empty=vp.maybe_empty(pl.col("v")), sub=maybe_subtotal(pl.col("v")), note=maybe_note(pl.col("v"))
    )
    for v, empty, sub, note in zip(frame["v"], m["empty"], m["sub"], m["note"], strict=True):
        assert empty or not is_empty(v), v
        assert sub or not is_subtotal(v), v
        assert note or not NOTE.match(clean(v)), v


def test_prefilters_catch_the_words():
    frame = pl.DataFrame({"v": ["合计", "小 计", "其中：新兴", "全省合计", "注：单位万元", "填报人：张三", "—", "ＮＵＬＬ"]})
    m = frame.select(empty=vp.maybe_empty(pl.col("v")), sub=maybe_subtotal(pl.col("v")), note=maybe_note(pl.col("v")))
    assert m["sub"].to_list()[:4] == [True] * 4
    assert m["note"].to_list()[4:6] == [True, True]
    assert m["empty"].to_list()[6:] == [True, True]


@settings(max_examples=max(10, EXAMPLES // 3), deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(CSV_CELL, CSV_CELL, CSV_CELL), min_size=1, max_size=25))
def test_reader_findings_name_row_column_and_value(rows):
    """A whole file: every value and every error is the per-cell parser's, at its row and column."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["项目名称", "地市", "层级", "总投资", "计划开（复）工时间", "是否入统"])
    for k, (money, when, flag) in enumerate(rows):
        w.writerow([f"项目{k}", "太原市", "市级千项", money, when, flag])
    r = read_submission(buf.getvalue().encode(), "mixed.csv", ReadOptions(report_date=date(2020, 3, 27)))
    want_errors = []
    for k, (money, when, flag) in enumerate(rows):
        cells = [c.strip() for c in (money, when, flag)]
        for col, (_value, err) in zip(("总投资", "计划开（复）工时间", "是否入统"),
                                      (parse_money(cells[0]), parse_date(cells[1]), parse_bool(cells[2])), strict=True):
            if err:
                want_errors.append((k + 2, col, cells[("总投资", "计划开（复）工时间", "是否入统").index(col)], err))
    assert [(f.row, f.column, f.value, f.message) for f in r.errors] == want_errors
    if not want_errors:
        assert r.frame["total_investment"].to_list() == [parse_money(m.strip())[0] for m, _, _ in rows]
        assert r.frame["planned_start_date"].to_list() == [parse_date(d.strip(), planned=True)[0] for _, d, _ in rows]
        assert r.frame["stats_registered"].to_list() == [parse_bool(b.strip())[0] for _, _, b in rows]


def test_a_short_csv_row_lacks_its_last_columns_rather_than_leaving_them_empty():
    """A row that ends before 开复工时间 has no such cell: the 计划开工时间 + reason rule applies to it alone."""
    raw = ("项目名称,地市,层级,未开复工原因,计划开（复）工时间,开复工时间\n"
           "甲项目,太原市,市级千项,资金未到位,2020-03-01\n"
           "乙项目,太原市,市级千项,资金未到位,2020-03-01,\n").encode()
    r = read_submission(raw, "short.csv", ReadOptions(report_date=date(2020, 3, 27)))
    assert r.errors == []
    assert [(w.row, w.column, w.value) for w in r.warnings] == [(2, "计划开（复）工时间", "2020-03-01")]


def test_rows_are_classified_in_reading_order():
    """Section rows set context for the rows below; notes end the table for short rows; subtotals are skipped;
    a row without a name is reported where it stands among the other findings."""
    raw = ("项目名称,地市,层级,总投资\n"
           "一、技术改造项目\n"
           "甲项目,太原市,,abc\n"
           "太原市\n"
           ",太原市,,500\n"
           "乙项目,,,1000\n"
           "小计,,,1500\n"
           "注：单位万元\n"
           "丙项目,太原市\n"
           "丁项目,晋中市,其他,200\n").encode()
    r = read_submission(raw, "sections.csv", ReadOptions(report_date=date(2020, 3, 27)))
    assert [(f.row, f.column, f.message) for f in r.errors] == [
        (3, "总投资", "无法识别为数字"), (5, "项目名称", "缺少项目名称"),
    ]
    assert r.frame.select("source_row", "project_name", "city_code", "tier").rows() == [
        (3, "甲项目", "140100", "省级双百·技改"), (6, "乙项目", "140100", "省级双百·技改"), (10, "丁项目", "140700", "其他"),
    ]


def test_columns_refuse_excel_errors_and_misplaced_commas_as_the_cell_parsers_do():
    """Excel error values, thousands commas out of place, 月底/年底 and 上中下旬, column-wise: value and message
    are parse.py's (written out, so a change to either side shows)."""
    cells = ["#DIV/0!", "#n/a", "12,500", "1,2,3", "1,234,567.5", "１２，５００", "2020年3月底", "2020年底", "2020年3月中旬",
             "2020年3月前", ""]
    frame = pl.DataFrame({"c": cells})
    got, errors = vp.parse(frame, [vp.Column(k, "c", k) for k in ("money", "date", "bool")])
    xl = "单元格为 Excel 错误值 {}（公式出错），请修正公式或填写数值".format
    commas = "千分位逗号位置不对（逗号应每三位数字一个，如 12,500、1,234,567.5）"
    assert list(zip(got["money"], errors["money"], strict=True))[:7] == [
        (None, xl("#DIV/0!")), (None, xl("#N/A")), (12500.0, None), (None, commas), (1234567.5, None), (12500.0, None),
        (None, "无法识别为数字"),
    ]
    dates = list(zip(got["date"], errors["date"], strict=True))
    assert dates[:2] + dates[6:] == [
        (None, xl("#DIV/0!")), (None, xl("#N/A")), (date(2020, 3, 31), None), (date(2020, 12, 31), None),
        (None, "上旬、中旬、下旬不是确切日期：请填写具体日期（如 2020年3月15日）或月份（如 2020年3月）"),
        (None, "日期「2020年3月」后面多了“前”，不是确切日期（应为 2020.03、2020年3月15日、2020-03-15 等格式）"),
        (None, None),
    ]
    assert errors["bool"][:2].to_list() == [xl("#DIV/0!"), xl("#N/A")]
    for kind, per_cell in (("money", parse_money), ("date", parse_date), ("bool", parse_bool)):
        assert list(zip(got[kind], errors[kind], strict=True)) == [per_cell(v) for v in cells], kind
