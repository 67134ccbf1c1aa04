"""The prefilled sheet read back (issue 31): its 「本期无变化」 column, per project row.

The reader reads the sheet as the standard template it is; this adds the clerk's per-project statement
as the staged frame's `no_change` column (true: 「是」, 「√」, 「✓」, 「1」, 「无变化」; false otherwise). A file
without such a header is not a prefilled sheet and is left as it is. The loader and the change audit
read the column (pipelines.warehouse.changes): a row that changes nothing and is not marked is not a
report of the period.
"""

from __future__ import annotations

import io

import polars as pl

from pipelines.ingest.result import ReadResult
from pipelines.vocab.findings import Finding

NO_CHANGE_ZH = "本期无变化"
NO_CHANGE = "no_change"
_YES = {"是", "√", "✓", "✔", "1", "y", "yes", "true", "无变化", "本期无变化"}
_HEADER_ROWS = 10  # the header is looked for this far down (a title or two above it)


def marks(raw: bytes, file_name: str) -> dict[int, bool] | None:
    """Per row (as Excel shows it), whether the 本期无变化 cell says yes; None when the file has no such column."""
    if not file_name.lower().endswith(".xlsx"):
        return None
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception:  # the reader has said what is wrong with the file
        return None
    try:
        ws = wb.worksheets[0]
        col = header = None
        for r, row in enumerate(ws.iter_rows(max_row=_HEADER_ROWS, values_only=True), start=1):
            for c, v in enumerate(row):
                if isinstance(v, str) and v.strip() == NO_CHANGE_ZH:
                    col, header = c, r
                    break
            if col is not None:
                break
        if col is None or header is None:
            return None
        out: dict[int, bool] = {}
        for r, row in enumerate(ws.iter_rows(min_row=header + 1, values_only=True), start=header + 1):
            v = row[col] if col < len(row) else None
            out[r] = v is True or (v is not None and str(v).strip().lower() in _YES)
        return out
    finally:
        wb.close()


def apply(result: ReadResult, raw: bytes, file_name: str) -> None:
    """Add the no_change column to a prefilled sheet's staged frame (and drop the reader's 「未识别的列」
    word on it: it is read here)."""
    if result.kind != "reports" or result.frame is None or "source_row" not in result.frame.columns:
        return
    if not any(NO_CHANGE_ZH in (c.column or "") for c in result.reading.columns):
        return  # the reader saw no such header: not a prefilled sheet (opening it again with openpyxl to look
        # cost ~3 s and its shared strings in memory for a 100,000-row file: bench, 2026-12-07)
    found = marks(raw, file_name)
    if found is None:
        return
    result.frame = result.frame.with_columns(
        pl.col("source_row").replace_strict(found, default=False, return_dtype=pl.Boolean).alias(NO_CHANGE))
    result.warnings = [w for w in result.warnings if not _about_the_column(w)]
    for c in result.reading.columns:
        if c.column == NO_CHANGE_ZH:
            c.field, c.how = NO_CHANGE_ZH, "表头"


def _about_the_column(w: Finding) -> bool:
    return w.column == NO_CHANGE_ZH
