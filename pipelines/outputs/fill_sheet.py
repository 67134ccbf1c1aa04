"""The prefilled sheet (本期填报表, issue 31): the standard template with a unit's projects as last reported.

The cells to update this period (views.fill.UPDATE_FIELDS) are highlighted and unlocked; every other cell
is locked (sheet protection, no password: it guards against slips, not against a determined clerk); a
「本期无变化」 column lets the clerk state, per project, that nothing moved. The title names the report
date the sheet is for, so the reader takes it from the file. It loads back through the normal upload
(pipelines.ingest.fill reads the 本期无变化 column).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import xlsxwriter

from pipelines.views.fill import (
    NO_CHANGE,
    NO_CHANGE_ZH,
    SHEET_FIELDS,
    UPDATE_FIELDS,
    FillGrid,
    fill_grid,
)
from pipelines.vocab import schema
from pipelines.warehouse.store import Store

SHEET_NAME = "本期填报"
HIGHLIGHT = "#FFF2CC"  # the cells to update: light yellow
TITLE_ROW = 0  # the title (with the report date), then the header, then one row per project
HEADER_ROW = 1


@dataclass(frozen=True)
class FillSheet:
    unit_name: str
    last_report_date: date | None
    report_date: date  # the period the sheet is for
    frequency: str
    rows: int
    content: bytes

    def summary_zh(self) -> str:
        since = f"上期（{self.last_report_date}）" if self.last_report_date else "（本年尚无报送）"
        return (f"{self.unit_name} 本期填报表：{self.rows} 个项目，按{since}数据预填，报告期 {self.report_date}"
                f"（{schema.FREQUENCY_ZH.get(self.frequency, self.frequency)}）；黄色单元格为本期需更新的内容，其余已锁定")


def title_zh(unit_name: str, report_date: date, frequency: str) -> str:
    kind = schema.FREQUENCY_ZH.get(frequency, "周报")
    return f"{unit_name}重点项目{kind}表（截至{report_date.year}年{report_date.month}月{report_date.day}日）"


def sheet_bytes(frame: pl.DataFrame, unit_name: str, report_date: date, frequency: str) -> bytes:
    """The workbook: title, header (the template's Chinese terms and 本期无变化), the rows prefilled."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    # the same grid gives the same bytes (the upload path keys its reading and duplicates on them)
    wb.set_properties({"created": datetime(report_date.year, report_date.month, report_date.day)})
    ws = wb.add_worksheet(SHEET_NAME)
    locked = wb.add_format({"locked": True})
    head = wb.add_format({"bold": True, "locked": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True})
    head_upd = wb.add_format({"bold": True, "locked": True, "bg_color": "#FFD966", "border": 1, "text_wrap": True})
    open_cell = wb.add_format({"locked": False, "bg_color": HIGHLIGHT, "border": 1})
    open_date = wb.add_format({"locked": False, "bg_color": HIGHLIGHT, "border": 1, "num_format": "yyyy-mm-dd"})
    locked_date = wb.add_format({"locked": True, "num_format": "yyyy-mm-dd"})
    ws.write(TITLE_ROW, 0, title_zh(unit_name, report_date, frequency), wb.add_format({"bold": True, "font_size": 14}))
    columns = [*SHEET_FIELDS, NO_CHANGE_ZH]
    for c, name in enumerate(columns):
        zh = name if name == NO_CHANGE_ZH else schema.FIELD[name].zh
        ws.write(HEADER_ROW, c, zh, head_upd if name in UPDATE_FIELDS or name == NO_CHANGE_ZH else head)
        ws.set_column(c, c, 18 if name in ("project_name", "company", "scale_content", "problem") else 12)
    for r, row in enumerate(frame.iter_rows(named=True), start=HEADER_ROW + 1):
        for c, name in enumerate(SHEET_FIELDS):
            editable = name in UPDATE_FIELDS
            v = row[name]
            kind = schema.FIELD[name].kind
            if kind == "date":
                fmt = open_date if editable else locked_date
            else:
                fmt = open_cell if editable else locked
            if v is None:
                ws.write_blank(r, c, None, fmt)
            elif kind == "bool":
                ws.write_string(r, c, "是" if v else "否", fmt)
            elif kind == "date":
                ws.write_datetime(r, c, v, fmt)
            elif kind == "money":
                ws.write_number(r, c, float(v), fmt)
            else:
                ws.write_string(r, c, str(v), fmt)
        if row.get(NO_CHANGE):  # the online grid's tick
            ws.write_string(r, len(SHEET_FIELDS), "是", open_cell)
        else:
            ws.write_blank(r, len(SHEET_FIELDS), None, open_cell)
    if frame.height:
        last_row = HEADER_ROW + frame.height
        for c, name in enumerate(columns):
            if name == NO_CHANGE_ZH or (schema.FIELD[name].kind == "bool" and name in UPDATE_FIELDS):
                ws.data_validation(HEADER_ROW + 1, c, last_row, c, {"validate": "list", "source": ["是", "否"]})
            elif name == "stage":
                ws.data_validation(HEADER_ROW + 1, c, last_row, c, {"validate": "list", "source": list(schema.STAGES)})
    ws.freeze_panes(HEADER_ROW + 1, 2)
    ws.protect("", {"format_columns": True, "format_rows": True, "select_locked_cells": True,
                    "select_unlocked_cells": True, "autofilter": True})
    note = wb.add_worksheet("填报说明")
    for i, line in enumerate((
        "1. 黄色单元格为本期需更新的内容（本年累计完成投资、开（复）工与竣工时间、建设状态、是否入统、存在问题等），其余单元格已锁定。",
        "2. 某个项目本期确无变化时，在「本期无变化」列填「是」；未作修改又未填「是」的项目不计入本期录入率。",
        "3. 请勿修改表头和标题（标题中的日期为本期报告期截止日）；填好后在「数据报送」页上传即可。",
    )):
        note.write(i, 0, line)
    note.protect()
    wb.close()
    return buf.getvalue()


def sheet_of(con: duckdb.DuckDBPyConnection, unit: str, as_of: date, report_date: date | None = None) -> FillSheet:
    """The unit's prefilled sheet from its last report on or before as_of, for the next period
    (or report_date when given)."""
    grid = fill_grid(con, unit, as_of, report_date)
    content = sheet_bytes(grid.frame, grid.unit_name, grid.report_date, grid.frequency)
    return FillSheet(grid.unit_name, grid.last_report_date, grid.report_date, grid.frequency, grid.frame.height,
                     content)


def fill_sheet(wh: Store, unit: str, as_of: date, report_date: date | None = None) -> FillSheet:
    with wh.read() as con:
        return sheet_of(con, unit, as_of, report_date)


def grid_file(grid: FillGrid, rows: pl.DataFrame) -> tuple[str, bytes]:
    """The online grid as the file it stands for (the same sheet, 本期无变化 ticks written): its name and
    bytes, for the normal upload path (the reader's rules, the change audit, 审核)."""
    name = f"{grid.unit_name}_在线填报_{grid.report_date:%Y%m%d}.xlsx"
    return name, sheet_bytes(rows, grid.unit_name, grid.report_date, grid.frequency)


def write_fill_sheet(wh: Store, unit: str, as_of: date, out: Path, report_date: date | None = None) -> FillSheet:
    sheet = fill_sheet(wh, unit, as_of, report_date)
    Path(out).write_bytes(sheet.content)
    return sheet
