"""Each sample layout read whole and compared to its expected staged frame, plus findings checked by hand."""

import io
import zipfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.ingest.read import read_submission
from pipelines.ingest.result import ReadOptions
from pipelines.ingest.sheets import MAX_CELL_CHARS
from pipelines.ingest.template import template_frame, write_template
from pipelines.vocab.schema import STAGED_SCHEMA
from tests.make_samples import flat_csv_bytes

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
EXPECTED = Path(__file__).resolve().parent / "data"


def expected(name: str) -> pl.DataFrame:
    return pl.read_csv(EXPECTED / f"{name}_expected.csv", schema=STAGED_SCHEMA)


def findings(res) -> list[tuple]:
    return [(f.row, f.column, f.value, f.message) for f in res.errors]


def test_shanxi_weekly_xlsx():
    r = read_submission(SAMPLES / "shanxi_weekly.xlsx", "shanxi_weekly.xlsx", ReadOptions(tier="省级双百·新兴"))
    assert (r.kind, r.layout, r.report_date, r.year, r.frequency) == ("reports", "shanxi_weekly", date(2020, 3, 27), 2020, "week")
    assert r.errors == []
    assert_frame_equal(r.frame, expected("shanxi_weekly"))
    row = r.frame.row(0, named=True)  # 太原 → 太原市, 120,000 → 120000, date cell, no reason → actual
    assert (row["city_code"], row["total_investment"], row["actual_start_date"]) == ("140100", 120000.0, date(2020, 2, 24))
    assert r.frame["total_investment"][1] == 80000.0  # full-width ８００００
    assert r.frame["total_investment"][2] == 52000.0  # 5.2亿
    # 吕梁: 2020.03.20 ≤ D with a reason → planned, not started, flagged 逾期未开工.
    assert [(w.row, w.column) for w in r.warnings] == [(10, "开复工时间")]
    assert r.frame["actual_start_date"][5] is None and r.frame["planned_start_date"][5] == date(2020, 3, 20)
    assert "合计" not in r.frame["project_name"].to_list()
    assert {"total_investment", "ytd_completed", "actual_start_date", "problem_department"} <= set(r.present_fields)


def test_shanxi_weekly_xls_needs_and_takes_report_date():
    r = read_submission(SAMPLES / "shanxi_weekly.xls", "shanxi_weekly.xls", ReadOptions(tier="省级双百·新兴"))
    assert [f.message for f in r.errors] == ["缺少报告期截止日：请在上传时填写，或在标题中注明（如“截至2020年3月27日”）"]
    r = read_submission(SAMPLES / "shanxi_weekly.xls", "shanxi_weekly.xls", ReadOptions(tier="省级双百·新兴", report_date=date(2020, 3, 27)))
    assert r.errors == [] and r.layout == "shanxi_weekly"
    assert_frame_equal(r.frame, expected("shanxi_weekly"))


def test_weekly_title_says_shuangbai_without_split_needs_tier():
    r = read_submission(SAMPLES / "shanxi_weekly.xlsx", "shanxi_weekly.xlsx")
    assert len(r.errors) == 1 and r.errors[0].message.startswith("缺少层级：标题只写“省级双百”")


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_flat_in_every_encoding(encoding):
    data = (SAMPLES / "flat_weekly_gbk.csv").read_bytes() if encoding == "gbk" else flat_csv_bytes(encoding)
    r = read_submission(data, f"flat_{encoding}.csv", ReadOptions(tier="新兴"))
    assert (r.layout, r.report_date) == ("flat", date(2020, 3, 27))
    assert r.errors == []
    assert_frame_equal(r.frame, expected("flat_weekly"))
    assert r.frame["ytd_completed"][0] == 6500.0  # 0.65 亿元 → 6500 万元


def test_ledger():
    r = read_submission(SAMPLES / "ledger.xlsx", "ledger.xlsx", ReadOptions(tier="省级双百·技改", report_date=date(2020, 2, 14)))
    assert (r.layout, r.errors, r.warnings) == ("ledger", [], [])
    assert_frame_equal(r.frame, expected("ledger"))
    row = r.frame.row(1, named=True)  # 太原市 万柏林区, 技改 → 技术改造, 2020.10 is October (planned: its last day)
    assert (row["county_code"], row["build_type"], row["planned_start_date"]) == ("140109", "技术改造", date(2020, 10, 31))
    assert r.frame["industry_code"][6] is None and r.frame["industry_name"][6] == "炼焦"  # kept as written
    assert r.frame["plan_year_after"][4] == 5000.0  # 2022年计划投资 with Y = 2020


def test_ledger_cards_read_as_the_ledger():
    """附件1 台账 as printed (a card a sheet, after a cover sheet): the same frame as the one-row ledger
    of the same projects, each row numbered where its card names the project."""
    r = read_submission(SAMPLES / "ledger_cards.xlsx", "ledger_cards.xlsx",
                        ReadOptions(tier="省级双百·技改", report_date=date(2020, 2, 14)))
    assert (r.layout, r.errors, r.warnings) == ("ledger", [], [])
    want = expected("ledger")
    assert_frame_equal(r.frame.drop("source_row"), want.drop("source_row"))
    assert r.frame["source_row"].to_list() == [3] * want.height


def test_a_card_error_names_its_sheet_and_row(tmp_path):
    import openpyxl

    wb = openpyxl.load_workbook(SAMPLES / "ledger_cards.xlsx")
    wb["项目2"]["B13"] = "六万八"  # 总投资 of the second card
    path = tmp_path / "cards.xlsx"
    wb.save(path)
    r = read_submission(path, path.name, ReadOptions(tier="省级双百·技改", report_date=date(2020, 2, 14)))
    assert [(e.file, e.row, e.column, e.value) for e in r.errors] == [("cards.xlsx（工作表「项目2」）", 13, "总投资", "六万八")]


def test_tongling_progress():
    r = read_submission(SAMPLES / "tongling_progress.xlsx", "tongling_progress.xlsx",
                        ReadOptions(tier="其他", region="铜陵市", report_date=date(2020, 5, 25)))
    assert (r.layout, r.errors) == ("tongling_progress", [])
    assert_frame_equal(r.frame, expected("tongling_progress"))
    # 已竣工 with 6800 of 32000 stated this year and nothing before: flagged, not refused; 已开工 with
    # no date: told that it will count as 逾期未开工 (the contract's started needs a date ≤ D).
    assert [(w.row, w.column, w.message[:7]) for w in r.warnings] == [
        (7, None, "状态为竣工，但"), (10, "开竣工情况", "只写了已开工、")]


def test_tongling_progress_without_region_is_refused():
    r = read_submission(SAMPLES / "tongling_progress.xlsx", "p.xlsx", ReadOptions(tier="其他", report_date=date(2020, 5, 25)))
    assert [f.message for f in r.errors] == ["缺少地区：文件中没有地市/县区列，请在上传时选择地区"]


def test_county_region_fills_county_and_city():
    r = read_submission(SAMPLES / "tongling_progress.xlsx", "p.xlsx",
                        ReadOptions(tier="其他", region="枞阳县", report_date=date(2020, 5, 25)))
    assert r.errors == [] and set(r.frame["county_code"]) == {"340722"}  # a county fills county and city
    assert set(r.frame["city_code"]) == {"340700"}


def test_tongling_planning_reserve():
    r = read_submission(SAMPLES / "tongling_planning.csv", "tongling_planning.csv",
                        ReadOptions(tier="其他", region="铜陵市", report_date=date(2020, 5, 25)))
    assert (r.layout, r.errors) == ("tongling_planning", [])
    assert_frame_equal(r.frame, expected("tongling_planning"))
    assert r.frame["county_code"][:2].to_list() == ["340771", "340771"]  # 经开区, 铜陵经开区
    assert set(r.frame["stage"]) == {"储备"}


def test_region_mismatch_names_rows():
    r = read_submission(SAMPLES / "shanxi_weekly.xlsx", "w.xlsx", ReadOptions(tier="新兴", region="太原市"))
    assert len(r.errors) == 9 and r.errors[0].row == 6 and "与上传时选择的地区「太原市」不一致" in r.errors[0].message


def test_tongling_targets():
    r = read_submission(SAMPLES / "tongling_targets.xlsx", "tongling_targets.xlsx")
    assert (r.kind, r.layout, r.year, r.errors) == ("targets", "tongling_targets", 2020, [])
    f = r.frame
    assert f.height == 6 * 9
    def val(code, metric):
        return f.filter((pl.col("region_code") == code) & (pl.col("metric") == metric))["value"].item()
    assert val("340700", "investment_task") == 2_000_000.0  # 200 亿元 → 万元, 总目标 = 铜陵市
    assert val("340771", "planned_investment") == 2_500_000.0  # 经开区 → 340771
    assert (val("340722", "planned_1_5"), val("340722", "planned_5_10"), val("340722", "planned_10_plus")) == (15, 10, 5)
    row = f.filter((pl.col("region_code") == "340705") & (pl.col("metric") == "new_starts")).row(0, named=True)
    assert (row["value"], row["leader"], row["department"], row["source_row"]) == (8.0, "李直刚", "经济运行处、矿管科", 5)
    assert f.schema["year"] == pl.Int32


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_standard_template(fmt, tmp_path):
    r = read_submission(SAMPLES / f"standard_template.{fmt}", f"standard_template.{fmt}", ReadOptions(report_date=date(2020, 3, 27)))
    assert (r.layout, r.errors) == ("standard", [])
    assert r.frame["stage"].to_list() == ["在建", "新开工"]
    assert r.frame["county_code"].to_list() == ["140105", "140981"]
    assert r.frame["tier"].to_list() == ["省级双百·新兴", "省级双百·技改"]
    assert list(template_frame().columns)[:3] == ["项目代码", "项目名称", "企业名称"]
    p = write_template(tmp_path / f"t.{fmt}", fmt)
    assert p.exists()


def test_broken_weekly_exact_findings():
    r = read_submission(SAMPLES / "broken_weekly.csv", "broken_weekly.csv", ReadOptions(tier="省级双百·新兴"))
    assert findings(r) == [
        (3, "总投资", "abc", "无法识别为数字"),
        (4, "地市", "火星市", "无法识别的地市"),
        (5, "建设类型", "停工待定", "无法识别的建设状态（应为 储备/前期/新开工/续建/在建/竣工/投产 之一）"),
        (6, "总投资", "-500", "投资额不能为负数"),
        (8, "开复工时间", "3月中旬", "缺少年份（应为 2020年3月 等格式）"),
        (7, "项目名称", "新型显示材料 项目", "同一项目在文件中出现两次（第 3 行与第 7 行）"),
    ]
    assert r.errors[0].zh() == "文件 broken_weekly.csv 第 3 行 「总投资」列 值「abc」：无法识别为数字"


@pytest.mark.parametrize(
    ("data", "start"),
    [(b"", "文件为空"), (bytes(range(256)) * 40, "无法识别"), (b"PK\x03\x04\x14\x00garbage", "Excel 文件已损坏"),
     (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "无法打开 Excel 文件"), (b"<html><table><tr><td>1</td></tr></table>", "该文件是网页"),
     ("随便写的一段话\n没有表头".encode("gbk"), "未找到表头")],
)
def test_bad_files_are_findings_not_tracebacks(data, start):
    r = read_submission(data, "x.xlsx")
    assert r.errors and r.errors[0].message.startswith(start), r.errors


def test_truncated_xlsx():
    data = (SAMPLES / "shanxi_weekly.xlsx").read_bytes()
    r = read_submission(data[: len(data) // 2], "cut.xlsx")
    assert r.errors and "损坏" in r.errors[0].message


@pytest.mark.parametrize("at", [0.1, 0.5])
def test_a_damaged_sheet_inside_an_intact_zip_is_refused_not_skipped(at):
    """The zip opens but the worksheet's data is damaged: refused as damaged, never read as 'no sheet'."""
    data = bytearray((SAMPLES / "shanxi_weekly.xlsx").read_bytes())
    info = next(i for i in zipfile.ZipFile(io.BytesIO(bytes(data))).infolist() if i.filename.startswith("xl/worksheets/"))
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + int(info.compress_size * at)] ^= 0x55
    r = read_submission(bytes(data), "x.xlsx")
    assert [e.message for e in r.errors] == ["Excel 文件已损坏或不完整（无法解压），请重新导出后上传"]


def test_formula_and_html_are_kept_as_text_and_long_cells_refused():
    csv = ("项目名称,地市,总投资\n=cmd|' /C calc'!A0,太原市,100\n<script>alert(1)</script>,大同市,200\n"
           f"{'长' * (MAX_CELL_CHARS + 1)},忻州市,300\n").encode()
    r = read_submission(csv, "f.csv", ReadOptions(tier="其他", report_date=date(2020, 3, 27)))
    assert r.frame["project_name"][:2].to_list() == ["=cmd|' /C calc'!A0", "<script>alert(1)</script>"]
    assert [(f.row, f.message) for f in r.errors] == [(4, f"单元格内容超过 {MAX_CELL_CHARS} 个字符")]


def test_two_tiers_and_tier_column():
    csv = "项目名称,地市,层级,总投资\n甲项目,太原市,新兴,100\n甲项目,太原,技改,100\n乙项目,大同市,千项,50\n".encode()
    r = read_submission(csv, "t.csv", ReadOptions(report_date=date(2020, 3, 27)))
    assert [f.message for f in r.errors] == [
        "同一项目在文件中出现两次（第 2 行与第 3 行）",
        "同一项目填报了两个层级（第 2 行为「省级双百·新兴」，第 3 行为「省级双百·技改」）",
    ]
    assert r.frame["tier"].to_list() == ["省级双百·新兴", "省级双百·技改", "市级千项"]


def test_unknown_money_column_warns_and_title_units():
    csv = ("2020年3月 重点项目月报\n单位：亿元\n项目名称,县区,总投资,本月完成产值,备注\n甲项目,忻州市忻府区,1.5,2,x\n"
           "小计,,1.5,,\n").encode("gb18030")
    r = read_submission(csv, "m.csv", ReadOptions(tier="市级千项"))
    assert (r.report_date, r.frequency, r.errors) == (date(2020, 3, 31), "month", [])
    assert r.frame.row(0, named=True)["total_investment"] == 15000.0
    assert (r.frame["county_code"][0], r.frame["city_code"][0]) == ("140902", "140900")
    assert [(w.column, w.message[:6]) for w in r.warnings] == [("本月完成产值", "未识别的投资"), ("备注", "未识别的列，")]


def test_separate_date_columns_keep_their_dates_and_flag_overdue_with_a_reason():
    """Without a 开复工时间-style column the stage rule is keyed on stage wording, planned year and
    (only with a reason and no actual start) the planned date: each case worked out by hand."""
    csv = (
        "项目名称,地市,层级,建设状态,计划开工时间,实际开工时间,计划竣工时间,未开复工原因\n"
        "甲,太原市,市级千项,未开工,2020-05-01,,2021-06-30,\n"             # row 2: planned this year → 新开工
        "乙,太原市,市级千项,未开工,2021-02-01,,2022-06-30,\n"             # row 3: planned next year → 前期
        "丙,太原市,市级千项,未开工,2020-03-01,,2020-12-31,环评未批\n"     # row 4: overdue with a reason
        "丁,太原市,市级千项,未开工,2020-03-05,,2020-12-31,环评未批\n"     # row 5: same, another date
        "戊,太原市,市级千项,在建,2020-02-01,2020-02-03,2020-11-30,资金\n"  # row 6: a date with a reason: not started
        "己,太原市,市级千项,未开工,2020-04-01,,2020-12-31,环评未批\n"     # row 7: planned after D: no warning
    ).encode()
    r = read_submission(csv, "separate.csv", ReadOptions(report_date=date(2020, 3, 13)))
    assert not r.errors
    f = r.frame
    assert f["stage"].to_list() == ["新开工", "前期", "新开工", "新开工", "在建", "新开工"]
    assert f["planned_start_date"].to_list() == [date(2020, 5, 1), date(2021, 2, 1), date(2020, 3, 1),
                                                 date(2020, 3, 5), date(2020, 2, 1), date(2020, 4, 1)]
    # 戊: an actual date on or before D with a reason is read as not started (the contract), flagged
    assert f["actual_start_date"].to_list() == [None, None, None, None, None, None]
    assert f["planned_completion_date"].to_list() == [date(2021, 6, 30), date(2022, 6, 30), date(2020, 12, 31),
                                                      date(2020, 12, 31), date(2020, 11, 30), date(2020, 12, 31)]
    assert [(w.row, w.column, w.value) for w in r.warnings] == [
        (4, "计划开工时间", "2020-03-01"), (5, "计划开工时间", "2020-03-05"), (6, "实际开工时间", "2020-02-03")]
    assert all(w.message.startswith("逾期未开工：计划开工时间已过报告期截止日") for w in r.warnings[:2])
    assert r.warnings[2].message.startswith("填写了实际开（复）工时间，也填写了未开复工原因：按口径计为未开工")
