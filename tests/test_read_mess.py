"""What clerks leave in real Excel files: sign-off footers, fill-in dates, copied titles of another
year, units on a group header, hidden and extra sheets, merged 地市 cells, a 单位 row over targets."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from pipelines.ingest.prepare import Prepared, prepare
from pipelines.ingest.result import ReadOptions

HEAD = ["序号", "地市", "项目名称", "建设类型", "总投资", "2020年计划投资", "2020年截至目前累计完成投资",
        "开复工时间", "未开复工原因"]
ROWS: list[list[Any]] = [[1, "太原市", "甲项目", "在建", 120000, 40000, 6500, "2020.2.24", None],
                         [2, "晋中市", "乙项目", "在建", 80000, 30000, 2000, "2020.3.2", None]]
TITLE = "2020年省级双百工业转型升级重点项目周报表（截至2020年3月27日）"


def write_sheet(ws: Any, title: str = TITLE, unit: str = "单位：万元", head: list[str] = HEAD,
                rows: list[list[Any]] = ROWS) -> None:
    ws.write(0, 0, title)
    ws.write(1, 0, unit)
    ws.write_row(2, 0, head)
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            if v is not None:
                ws.write(3 + i, j, v)


def read(path: Path, **kw: Any) -> Prepared:
    return prepare(path.read_bytes(), path.name, ReadOptions(tier="省级双百·新兴", **kw))


def errors(p: Prepared) -> list[tuple[Any, ...]]:
    return [(e.row, e.column, e.value, e.message) for e in p.errors]


def values(p: Prepared, *cols: str) -> list[tuple[Any, ...]]:
    assert p.submission is not None, errors(p)
    return p.submission.frame.select(cols).rows()


def test_a_sign_off_footer_is_not_a_project(tmp_path):
    path = tmp_path / "footer.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        ws = wb.add_worksheet()
        write_sheet(ws)
        ws.write_row(5, 0, ["填表单位（盖章）：太原市工信局", None, "填表人：张三", None, "联系电话：13912345678",
                            None, None, "填表日期：2020年3月27日"])
        ws.write_row(6, 0, ["报送单位：太原市工信局"] + [None] * 10 + ["报送时间：2020.3.27"])
    p = read(path)
    assert p.ok, errors(p)
    assert values(p, "source_row", "project_name") == [(4, "甲项目"), (5, "乙项目")]


def test_a_fill_in_date_is_not_the_report_date(tmp_path):
    path = tmp_path / "filldate.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        write_sheet(wb.add_worksheet(), title="2020年省级双百工业转型升级重点项目周报表",
                    unit="填报单位：太原市工信局　填报日期：2020年3月30日　单位：万元")
    assert [e.message for e in read(path).errors] == ["缺少报告期截止日：请在上传时填写，或在标题中注明（如“截至2020年3月27日”）"]
    p = read(path, report_date=date(2020, 3, 27))
    assert p.ok and p.submission is not None and p.submission.report_date == date(2020, 3, 27)


def test_a_title_or_columns_of_another_year_are_refused(tmp_path):
    copied = tmp_path / "copied.xlsx"  # last year's title over this year's columns
    with xlsxwriter.Workbook(copied) as wb:
        write_sheet(wb.add_worksheet(), title="2020年省级双百工业转型升级重点项目周报表（截至2019年3月27日）")
    assert errors(read(copied)) == [
        (3, "2020年截至目前累计完成投资", "2020年截至目前累计完成投资",
         "列名中的年份 2020 与报告年度 2019 不一致：请核对报告期截止日（标题中为 2019-03-27）或列名")]
    p = read(copied, report_date=date(2020, 3, 27))
    assert [(e.row, e.message) for e in p.errors] == [
        (1, "文件标题中的日期 2019-03-27 与上传时填写的报告期 2020-03-27 不在同一年度，请核对")]
    assert p.errors[0].value and "截至2019年3月27日" in p.errors[0].value


def test_a_unit_on_the_group_header_converts_its_columns(tmp_path):
    path = tmp_path / "group.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        ws = wb.add_worksheet()
        ws.write(0, 0, TITLE)
        ws.write_row(1, 0, ["序号", "地市", "项目名称", "建设类型", "项目进展情况（亿元）", None, None, "开复工时间"])
        ws.write_row(2, 0, [None, None, None, None, "总投资", "2020年计划投资", "2020年截至目前累计完成投资"])
        ws.write_row(3, 0, [1, "太原市", "甲项目", "在建", 12, 4, 0.65, "2020.2.24"])
    assert values(read(path), "total_investment", "annual_plan", "ytd_completed") == [(120000.0, 40000.0, 6500.0)]


def test_hidden_sheets_are_skipped_and_every_project_sheet_is_read(tmp_path):
    hidden = tmp_path / "hidden.xlsx"  # last week's copy, hidden, before this week's
    with xlsxwriter.Workbook(hidden) as wb:
        old = wb.add_worksheet("3.20")
        write_sheet(old, title=TITLE.replace("3月27日", "3月20日"), rows=[[*r[:6], 1, *r[7:]] for r in ROWS])
        new = wb.add_worksheet("3.27")
        write_sheet(new)
        new.activate()
        old.hide()
    assert values(read(hidden), "project_name", "ytd_completed") == [("甲项目", 6500.0), ("乙项目", 2000.0)]

    two = tmp_path / "two.xlsx"  # 新兴 and 技改 on a sheet each
    with xlsxwriter.Workbook(two) as wb:
        write_sheet(wb.add_worksheet("新兴"), rows=ROWS[:1])
        write_sheet(wb.add_worksheet("技改"), rows=[[1, "大同市", "丙项目", "在建", 50000, 20000, 1000, "2020.3.1"]])
    p = read(two)
    assert values(p, "project_name", "city_name") == [("甲项目", "太原市"), ("丙项目", "大同市")]

    apart = tmp_path / "apart.xlsx"  # sheets of two report dates are not one submission
    with xlsxwriter.Workbook(apart) as wb:
        write_sheet(wb.add_worksheet("新兴"), rows=ROWS[:1])
        write_sheet(wb.add_worksheet("技改"), title=TITLE.replace("3月27日", "3月20日"), rows=ROWS[1:])
    assert errors(read(apart)) == [(None, None, "技改", "工作表「新兴」与「技改」的报告期截止日不同，无法作为一次报送导入："
                                    "请把各工作表分别另存为文件上传，或统一两表的格式")]

    bad = tmp_path / "bad.xlsx"  # an error on the second sheet names it
    with xlsxwriter.Workbook(bad) as wb:
        write_sheet(wb.add_worksheet("新兴"), rows=ROWS[:1])
        write_sheet(wb.add_worksheet("技改"), rows=[[1, "大同市", "丙项目", "在建", "五万", 20000, 1000, "2020.3.1"]])
    (e,) = read(bad).errors
    assert (e.file, e.row, e.column, e.value) == ("bad.xlsx（工作表「技改」）", 4, "总投资", "五万")


def test_a_cell_merged_down_names_every_row_but_an_amount_is_not_copied(tmp_path):
    path = tmp_path / "merged.xlsx"
    rows = [list(r) for r in ROWS]
    rows[1][1] = None
    rows[1][4] = None
    with xlsxwriter.Workbook(path) as wb:
        ws = wb.add_worksheet()
        write_sheet(ws, rows=rows)
        ws.merge_range(3, 1, 4, 1, "太原市")
        ws.merge_range(3, 4, 4, 4, 120000)
    assert values(read(path), "city_name", "total_investment") == [("太原市", 120000.0), ("太原市", None)]


def test_a_tier_not_understood_is_one_error_per_cell(tmp_path):
    path = tmp_path / "tier.csv"
    path.write_text("项目名称,地市,县区,层级,建设状态,总投资,本年计划投资,本年累计完成投资,实际开（复）工时间\n"
                    "甲项目,太原市,小店区,双百,在建,1000,500,100,2020-02-20\n"
                    "乙项目,太原市,小店区,市级千项,在建,1000,500,100,2020-02-20\n", encoding="utf-8")
    p = prepare(path.read_bytes(), path.name, ReadOptions(report_date=date(2020, 3, 27)))
    assert errors(p) == [(2, "层级", "双百", "层级不明确：省级双百项目须注明「新兴」或「技改」")]


@pytest.mark.parametrize(("unit", "factor"), [("单位：亿元、个", 10_000.0), ("单位：万元、个", 1.0)])
def test_a_unit_row_over_targets_converts_money_not_counts(tmp_path, unit, factor):
    path = tmp_path / "targets.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        ws = wb.add_worksheet("附件1")
        for i, r in enumerate([["铜陵市2020年“重大工业项目攻坚年”目标任务分解表"], [unit],
                               ["包保县区园区", "总目标", "经开区", "枞阳县", "郊区", "义安区", "铜官区"],
                               ["重点项目投资任务", 200, 64, 50, 14, 40, 32], ["新开工重点项目", 50, 16, 12, 4, 10, 8]]):
            ws.write_row(i, 0, r)
    p = prepare(path.read_bytes(), path.name)
    assert p.submission is not None, errors(p)
    frame = p.submission.frame
    assert frame.filter(metric="investment_task")["value"].to_list()[:2] == [200 * factor, 64 * factor]
    assert frame.filter(metric="new_starts")["value"].to_list()[:2] == [50.0, 16.0]


def test_a_text_row_longer_than_its_header_is_refused_as_shifted(tmp_path):
    path = tmp_path / "shift.csv"  # 12,500 unquoted: every later cell one column to the right
    path.write_text("项目名称,地市,县区,层级,建设状态,总投资,本年计划投资,本年累计完成投资,实际开（复）工时间\n"
                    "甲项目,太原市,小店区,市级千项,在建,12,500,500,100,2020-02-20\n"
                    "乙项目,太原市,小店区,市级千项,在建,1000,500,100,2020-02-20,\n", encoding="utf-8")
    p = prepare(path.read_bytes(), path.name, ReadOptions(report_date=date(2020, 3, 27)))
    assert errors(p)[0] == (2, None, "2020-02-20", "该行有 10 个单元格，比表头多 1 个，各列已错位：数字中的逗号须加引号"
                                                    "（如 \"12,500\"）或去掉，请核对该行")
    assert [e.row for e in p.errors] == [2, 2]  # and the shifted date's own error; row 3's empty extra cell is fine


def _weekly(tmp_path: Path, name: str, body: list[list[Any]], title: str = TITLE, head: list[str] = HEAD) -> Path:
    path = tmp_path / name
    with xlsxwriter.Workbook(path) as wb:
        write_sheet(wb.add_worksheet(), title=title, head=head, rows=body)
    return path


def test_section_rows_do_not_override_the_tier_given_or_in_the_title(tmp_path):
    body = [["一、新兴产业项目（2个）"], ROWS[0], ["二、传统产业技改项目（1个）"], ROWS[1]]
    qian = _weekly(tmp_path, "qian.xlsx", body, title="2020年太原市千项工业转型升级项目周报表（截至2020年3月27日）")
    p = prepare(qian.read_bytes(), qian.name)  # 千项 in the title: the sections are its own grouping
    assert values(p, "project_name", "tier") == [("甲项目", "市级千项"), ("乙项目", "市级千项")]
    given = _weekly(tmp_path, "given.xlsx", body)  # 省级双百 title, 市级千项 chosen at upload
    p = prepare(given.read_bytes(), given.name, ReadOptions(tier="市级千项"))
    assert values(p, "tier") == [("市级千项",), ("市级千项",)]
    p = prepare(given.read_bytes(), given.name)  # only the sections say it
    assert values(p, "tier") == [("省级双百·新兴",), ("省级双百·技改",)]


@pytest.mark.parametrize("heading", [
    [None, "太原市", "太原市（2个）", None, 200000, 70000, 8500],  # a city heading with its sums
    ["一", None, "新兴产业项目（2个）", None, 200000, 70000, 8500],
    [None, "太原市", "太原市汇总", None, 200000, 70000, 8500],
    [None, None, "太原市（小计）", None, 200000, 70000, 8500],
    [None, None, "汇总", None, 200000, 70000, 8500],
    [None, None, "太原市小计：2个", None, 200000, 70000, 8500],
])
def test_group_and_subtotal_rows_are_never_projects(tmp_path, heading):
    path = _weekly(tmp_path, "groups.xlsx", [heading, ROWS[0], [*ROWS[1][:1], "太原市", *ROWS[1][2:]]])
    p = read(path)
    assert values(p, "project_name", "total_investment") == [("甲项目", 120000.0), ("乙项目", 80000.0)]


def test_a_bare_completion_time_is_actual_up_to_the_report_date_and_planned_after(tmp_path):
    head = [*HEAD[:7], "竣工时间"]
    body = [[*ROWS[0][:7], "2020.3.10"], [*ROWS[1][:7], "2020.10"]]
    p = read(_weekly(tmp_path, "done.xlsx", body, head=head))
    assert values(p, "completion_date", "planned_completion_date") == [
        (date(2020, 3, 10), None), (None, date(2020, 10, 31))]  # planned: the month's last day


def test_a_reserve_list_title_makes_its_projects_reserve(tmp_path):
    p = read(_weekly(tmp_path, "储备库.xlsx", [[*r[:3], None, *r[4:]] for r in ROWS],
                     title="忻州市2020年工业重点项目储备库（截至2020年3月27日）"))
    assert values(p, "stage") == [("储备",), ("储备",)]


def test_a_section_number_beside_a_city_is_a_section_row(tmp_path):
    body = [["（一）", "太原市"], [None, None, *ROWS[0][2:]], ["（二）", "晋中市"], [None, None, *ROWS[1][2:]]]
    p = read(_weekly(tmp_path, "sections.xlsx", body))
    assert values(p, "project_name", "city_name") == [("甲项目", "太原市"), ("乙项目", "晋中市")]


def test_yes_no_in_words(tmp_path):
    head = [*HEAD[:7], "是否受疫情影响"]
    body = [[*ROWS[0][:7], "不受影响"], [*ROWS[1][:7], "受到较大影响。"]]
    assert values(read(_weekly(tmp_path, "covid.xlsx", body, head=head)), "covid_affected") == [(False,), (True,)]


def test_a_page_of_text_in_one_cell_is_read(tmp_path):
    head = [*HEAD[:7], "需要省级层面协调解决的问题"]
    long = "用地指标未落实，" * 400  # 3,200 characters
    p = read(_weekly(tmp_path, "long.xlsx", [[*ROWS[0][:7], long]], head=head))
    assert values(p, "problem") == [(long,)]


def _card(ws: Any, top: int, name: str, total: Any, *, colon: str = "", hint: bool = False) -> None:
    rows = [["项目名称", name], ["项目单位", f"{name[:2]}有限公司"], ["建设地点", "太原市小店区", "行业类别", "专用设备制造业"],
            ["项目类别", "新兴产业", "建设类型", "新建"],
            ["项目建设周期", "2020-2022", "2020 年预计开复工时间", "(格式为: 20XX.XX)" if hint else "2020.05"],
            ["总投资", total, "截至 2019 年底完成投资", 0], ["2020 年计划投资", 10000]]
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            if v is not None:
                ws.write(top + i, j, f"{v}{colon}" if j % 2 == 0 else v)


def test_cards_stacked_on_one_sheet_are_each_read(tmp_path):
    path = tmp_path / "stacked.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        ws = wb.add_worksheet("台账")
        ws.write(0, 0, "山西省工业转型升级重点项目台账")
        ws.write(1, 0, "单位：万元")
        _card(ws, 2, "高端轴承项目", 50000)
        _card(ws, 12, "光伏组件项目", "一万二")
    p = prepare(path.read_bytes(), path.name, ReadOptions(tier="市级千项", report_date=date(2020, 3, 27)))
    (e,) = p.errors  # the second card's 总投资, on its own row
    assert (e.file, e.row, e.column, e.value) == ("stacked.xlsx（工作表「台账」）", 18, "总投资", "一万二")


def test_card_labels_with_a_colon_and_the_forms_hint_left_in(tmp_path):
    path = tmp_path / "colon.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        ws = wb.add_worksheet("项目1")
        ws.write(0, 0, "山西省工业转型升级重点项目台账")
        _card(ws, 1, "高端轴承项目", 50000, colon="：", hint=True)
    p = prepare(path.read_bytes(), path.name, ReadOptions(tier="市级千项", report_date=date(2020, 3, 27)))
    assert values(p, "project_name", "total_investment", "planned_start_date") == [("高端轴承项目", 50000.0, None)]


def test_a_date_typed_as_a_number_reads_as_excel_shows_it(tmp_path):
    path = tmp_path / "numdate.xlsx"  # 附件1 asks for 20XX.XX: 2020.10 typed into a 0.00 cell is stored 2020.1
    with xlsxwriter.Workbook(path) as wb:
        ws = wb.add_worksheet()
        two = wb.add_format({"num_format": "0.00"})
        write_sheet(ws, rows=[[*r[:7]] for r in ROWS])
        ws.write_number(3, 7, 2020.10, two)
        ws.write_number(4, 7, 2020.1)  # no format: Excel shows 2020.1, January
        ws.write_number(3, 4, 120000.5, two)
    assert values(read(path), "total_investment", "planned_start_date", "actual_start_date") == [
        (120000.5, date(2020, 10, 31), None), (80000.0, date(2020, 1, 1), date(2020, 1, 1))]


def test_an_empty_column_a_does_not_shift_what_is_read_from_the_sheet_xml(tmp_path):
    def write(path: Path, *, error: bool) -> Path:  # calamine's frame starts at column B
        with xlsxwriter.Workbook(path) as wb:
            ws = wb.add_worksheet()
            two = wb.add_format({"num_format": "#,##0.00_);(#,##0.00)"})  # built-in 39
            ws.write(0, 1, TITLE)
            ws.write_row(2, 1, HEAD)
            for i, r in enumerate(ROWS):
                ws.write_row(3 + i, 1, [None if (i, j) == (1, 1) else v for j, v in enumerate(r) if v is not None])
            ws.merge_range(3, 2, 4, 2, "太原市")
            ws.write_number(3, 8, 2020.10, two)
            if error:
                ws.write_formula(4, 7, "=1/0", None, "#DIV/0!")
        return path

    p = read(write(tmp_path / "err.xlsx", error=True))
    assert errors(p) == [(5, "2020年截至目前累计完成投资", "#DIV/0!", "单元格为 Excel 错误值 #DIV/0!（公式出错），请修正公式或填写数值")]
    assert values(read(write(tmp_path / "ok.xlsx", error=False)), "city_name", "annual_plan", "planned_start_date") == [
        ("太原市", 40000.0, date(2020, 10, 31)), ("太原市", 30000.0, date(2020, 3, 2))]


def test_csv_cells_forced_to_text_read_as_their_text(tmp_path):
    path = tmp_path / "wps.csv"  # WPS / Excel keep a code's zeros with ="…"
    path.write_bytes(("项目代码,项目名称,地市,县区,层级,建设状态,总投资,本年计划投资,本年累计完成投资,实际开（复）工时间,\r\n"
                      '="2020-140100-39-03-000001",甲项目,太原市,小店区,市级千项,在建,="1000",500,100,2020-02-20,\r\n'
                      '="合计",,,,,,="1000",500,100,,\r\n').encode("gbk"))
    p = prepare(path.read_bytes(), path.name, ReadOptions(report_date=date(2020, 3, 27)))
    assert values(p, "project_code", "total_investment") == [("2020-140100-39-03-000001", 1000.0)]


def test_a_project_on_two_sheets_is_named_with_both_sheets(tmp_path):
    path = tmp_path / "two.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        write_sheet(wb.add_worksheet("新兴"), rows=ROWS[:1])
        write_sheet(wb.add_worksheet("技改"), rows=ROWS[:1])
    assert [e.message for e in read(path).errors] == ["同一项目在文件中出现两次（工作表「新兴」第 4 行与工作表「技改」第 4 行）"]
