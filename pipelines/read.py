"""Read one uploaded spreadsheet into a typed staged frame plus Chinese findings.

`read_submission` never raises on bad input: every problem becomes a Finding naming the file,
the 1-based row as the spreadsheet shows it, the column header as written, the value and the reason.
Money is converted to 万元 at the door (a 亿元 header, title or unit row multiplies by 10,000).
"""

from __future__ import annotations

import calendar
import csv
import dataclasses
import html
import io
import posixpath
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from pipelines import guard
from pipelines import headers as H
from pipelines import vparse as vp
from pipelines.findings import Finding, Level
from pipelines.parse import (
    BUILD_TYPES,
    UNSTARTED,
    clean,
    is_empty,
    parse_date,
    parse_number,
    parse_stage,
    parse_start_completion,
    parse_tier,
    resolve_unstarted,
)
from pipelines.reference import (
    DEV_ZONE_WORDS,
    Region,
    find_city,
    find_county,
    find_division,
    find_region,
    region_by_code,
)
from pipelines.schema import FIELD, FREQUENCIES, REPORT_FIELDS, STAGED_SCHEMA, TARGET_METRICS, TIERS

MAX_COLUMNS = 500
MAX_ROWS = 200_000
MAX_CELL_CHARS = 20_000  # a page of 企业简介 or 存在问题 is a normal cell; Excel's own limit is 32,767
MAX_BYTES = 100 * 1024 * 1024  # 100 MB: bigger is not a clerk's spreadsheet
HEADER_SCAN_ROWS = 40  # the header is looked for in the first rows only

TARGETS_SCHEMA: dict[str, Any] = {
    "year": pl.Int32,
    "region_code": pl.String,
    "region_name": pl.String,
    "metric": pl.String,
    "value": pl.Float64,
    "leader": pl.String,
    "department": pl.String,
    "source_row": pl.Int64,
}

Grid = list[list[str | None]]


def _column_names(width: int) -> list[str]:
    return [f"c{j}" for j in range(width)]


class _Sheet:
    """One worksheet: a String column per sheet column (None where a cell is empty), a row per sheet row.

    An Excel sheet arrives as a frame. A CSV arrives as rows, which can be ragged: they are kept as
    read, the frame (built when first needed) is padded with None, and lengths() says how many cells
    each row had (a cell past a row's end is absent, not empty).
    """

    def __init__(self, name: str, *, frame: pl.DataFrame | None = None, rows: Grid | None = None):
        assert (frame is None) != (rows is None)
        self.name = name
        self.rows = rows
        if frame is not None:
            self.frame = frame

    @cached_property
    def frame(self) -> pl.DataFrame:
        rows = self.rows or []
        width = self.width
        padded = (r if len(r) == width else r + [None] * (width - len(r)) for r in rows)
        columns = list(zip(*padded, strict=True)) if rows else [() for _ in range(width)]
        return pl.DataFrame(
            [pl.Series(n, c, dtype=pl.String) for n, c in zip(_column_names(width), columns, strict=True)]
        )

    @property
    def width(self) -> int:
        if self.rows is not None:
            return max((len(r) for r in self.rows), default=0)
        return self.frame.width if self.frame.height else 0

    @property
    def height(self) -> int:
        return len(self.rows) if self.rows is not None else self.frame.height

    def grid(self, start: int = 0, stop: int | None = None) -> Grid:
        """Rows start…stop as lists of cells (as they were read)."""
        if self.rows is not None:
            return self.rows[start:stop]
        length = None if stop is None else max(stop - start, 0)
        return [list(r) for r in self.frame.slice(start, length).rows()]

    def lengths(self) -> pl.Series | None:
        """Cells per row where rows are ragged, else None (every row is as wide as the sheet)."""
        if self.rows is None:
            return None
        width = self.width
        if all(len(r) == width for r in self.rows):
            return None
        return pl.Series("_len", [len(r) for r in self.rows], dtype=pl.Int64)

    def has_text(self) -> bool:
        """True when some cell holds more than whitespace."""
        if self.rows is not None:
            return any(any(_cell_text(v) for v in r) for r in self.rows)
        if self.frame.width == 0:
            return False
        cells = pl.any_horizontal([vp.strip(pl.col(c)) != "" for c in self.frame.columns]).any()
        # The first rows nearly always answer; the whole sheet only when they are blank.
        return bool(self.frame.head(HEADER_SCAN_ROWS).select(cells).item() or self.frame.select(cells).item())


@dataclass
class ReadResult:
    """What one file holds: a staged (or targets) frame, the layout recognised, and findings."""

    file_name: str
    kind: str  # "reports" | "targets"
    layout: str
    report_date: date | None
    year: int | None
    frequency: str  # "week" | "month" | "quarter"
    frame: pl.DataFrame
    present_fields: list[str] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file can be loaded (no errors)."""
        return not self.errors


class _Refuse(Exception):
    """A file-level problem: the reader stops and reports it."""


# ---- bytes → grid ----------------------------------------------------------------------------


def _sniff(data: bytes) -> str:
    """xlsx | xls | html | text, from the content (not the extension)."""
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "xls"
    head = data[:2048].lstrip(b"\xef\xbb\xbf").lstrip().lower()
    if head.startswith((b"<html", b"<!doctype", b"<table", b"<?xml")) or b"<table" in head[:512]:
        return "html"
    return "text"


def _decode(data: bytes) -> str:
    """Text in UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 (a superset of GBK)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise _Refuse("无法识别文件编码：请上传 UTF-8 或 GBK 编码的 CSV，或 xlsx/xls 文件") from exc


def _text_grid(data: bytes) -> Grid:
    text = _decode(data)
    sample = text[:20000]
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t") + sample.count("\ufffd")
    if "\x00" in sample or bad > max(5, len(sample) // 100):
        raise _Refuse("无法识别的文件格式：不是 CSV 文本，也不是 Excel 文件（请上传 xlsx、xls 或 csv）")
    lines = sample.splitlines()[:50]
    counts = {d: sum(line.count(d) for line in lines) for d in (",", "\t", ";", "|")}
    delim = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    rows: Grid = []
    for rec in csv.reader(io.StringIO(text, newline=""), delimiter=delim):
        rows.append([_unforce(c) if c != "" else None for c in rec])
        if len(rows) > MAX_ROWS + HEADER_SCAN_ROWS:
            raise _Refuse(f"文件行数超过上限 {MAX_ROWS:,} 行，请拆分后上传")
    return rows


def _unforce(cell: str) -> str | None:
    """A CSV cell Excel/WPS forced to text (="0123", so that a code keeps its zeros) as its text."""
    if cell.startswith('="') and cell.endswith('"') and len(cell) >= 3:
        cell = cell[2:-1].replace('""', '"')
    return cell if cell != "" else None


def _excel_sheets(data: bytes, fmt: str) -> list[_Sheet]:
    import fastexcel

    def refuse_if_broken_zip(exc: Exception) -> None:
        # Checked only when reading failed: a CRC check of every member costs ~0.3 s on a
        # 100,000-row file, and calamine already fails on a member it cannot inflate or whose
        # checksum is wrong; this only picks the message.
        if fmt != "xlsx":
            return
        try:
            bad = zipfile.ZipFile(io.BytesIO(data)).testzip()
        except Exception as zexc:
            raise _Refuse("Excel 文件已损坏或不完整（无法解压），请重新导出后上传") from zexc
        if bad is not None:
            raise _Refuse("Excel 文件已损坏或不完整（无法解压），请重新导出后上传") from exc

    try:
        reader = fastexcel.read_excel(data)
    except Exception as exc:
        refuse_if_broken_zip(exc)
        raise _Refuse("无法打开 Excel 文件：文件可能已损坏、不完整或设置了密码") from exc
    book = _Xlsx.of(data) if fmt == "xlsx" else None
    hidden = _hidden_sheets(book, reader)
    out: list[_Sheet] = []
    for idx, name in enumerate(reader.sheet_names):
        if name in hidden:  # last week's copy hidden before this week's, a lookup list: never read
            continue
        # skip_rows=0 makes row 0 the sheet's first row (not its first non-empty row), so row numbers
        # match what Excel shows. Loaded eagerly (straight to Arrow: the lazy sheet's conversion costs
        # more), and at most one column past the limit, so a too-wide sheet is not converted whole.
        options: dict[str, Any] = {"header_row": None, "dtypes": "string", "skip_rows": 0,
                                   "n_rows": MAX_ROWS + HEADER_SCAN_ROWS + 1}
        try:
            df = pl.from_arrow(reader.load_sheet(idx, eager=True, use_columns=lambda c: c.index <= MAX_COLUMNS, **options))
            assert isinstance(df, pl.DataFrame)
            if df.width > MAX_COLUMNS:
                width = reader.load_sheet(idx, **options).width
                raise _Refuse(f"工作表「{name}」列数 {width} 超过上限 {MAX_COLUMNS} 列")
        except _Refuse:
            raise
        except Exception as exc:
            refuse_if_broken_zip(exc)
            continue
        if df.height > MAX_ROWS + HEADER_SCAN_ROWS:
            raise _Refuse(f"工作表「{name}」行数超过上限 {MAX_ROWS:,} 行，请拆分后上传")
        df = df.rename(dict(zip(df.columns, _column_names(df.width), strict=True)))
        if book is not None and (xml := book.sheet_xml(idx)) is not None:
            # calamine's frame starts at the first column holding a value: an empty column A
            # shifts every cell one column left of its letter
            off = _first_value_col(xml)
            df = _put_cells(df, {(r, c - off): v for (r, c), v in _error_cells(xml).items() if c >= off})
            df = _put_cells(df, {(r, c - off): v for (r, c), v in _shown_decimals(xml, book.decimals).items()
                                 if c >= off}, replace=True)
            df = _fill_merged(df, [(r1, c1 - off, r2, c2 - off) for r1, c1, r2, c2 in _merged_ranges(xml) if c1 >= off])
        out.append(_Sheet(name, frame=df))
    return out


_SHEET_XML_MAX = 20 * 1024 * 1024  # a sheet's XML is inflated for merges, errors, formats only up to this
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


@dataclass
class _Xlsx:
    """What the reader takes from an xlsx workbook's own parts, which calamine does not hand over:
    each sheet's visibility and XML part (xl/workbook.xml and its relationships) and the styles
    that show fixed decimals (xl/styles.xml). Read once per workbook; a part that cannot be read
    leaves out what it would have told."""

    data: bytes
    states: list[tuple[str, str | None]] = field(default_factory=list)  # (sheet name, state) in workbook order
    members: list[str | None] = field(default_factory=list)  # each sheet's XML part
    decimals: dict[int, int] = field(default_factory=dict)  # {cell style index: decimals shown}

    @classmethod
    def of(cls, data: bytes) -> _Xlsx:
        book = cls(data)
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = set(z.namelist())
                workbook, rels, styles = (z.read(n).decode("utf-8", "replace") if n in names else ""
                                          for n in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"))
        except Exception:
            return book
        targets = {_attr(rel, "Id"): _attr(rel, "Target")
                   for rel in re.findall(r"<(?:\w+:)?Relationship\b[^>]*>", rels)}
        for tag in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", workbook):
            book.states.append((_attr(tag, "name") or "", _attr(tag, "state")))
            target = targets.get(_attr(tag, "id"))
            book.members.append(None if target is None else target.lstrip("/") if target.startswith("/")
                                else posixpath.normpath("xl/" + target))
        book.decimals = _fixed_decimals(styles)
        return book

    def sheet_xml(self, idx: int) -> str | None:
        """The idx-th sheet's XML, or None when it is large (machine-written exports neither merge nor
        carry formula errors, and inflating 120 MB costs a third of a second) or cannot be found."""
        member = self.members[idx] if idx < len(self.members) else None
        if member is None:
            return None
        try:
            with zipfile.ZipFile(io.BytesIO(self.data)) as z:
                if z.getinfo(member).file_size > _SHEET_XML_MAX:
                    return None
                return z.read(member).decode("utf-8", "replace")
        except Exception:  # merges and error cells are read where they can be; else the sheet as it is
            return None


_VALUE_CELL_COL = re.compile(
    r"""<(?:\w+:)?c\b[^>]*?\br\s*=\s*["']([A-Z]{1,3})\d+["'][^>]*>\s*<(?:\w+:)?(?:f|v|is)\b""")


def _first_value_col(xml: str) -> int:
    """The sheet's first column with a value (0-based): where calamine's frame starts."""
    cols = {m for m in _VALUE_CELL_COL.findall(xml)}
    return min((_col_index(c) for c in cols), default=0)


def _ref(ref: str) -> tuple[int, int] | None:
    m = _CELL_REF.fullmatch(ref)
    return (int(m.group(2)) - 1, _col_index(m.group(1))) if m else None


def _merged_ranges(xml: str) -> list[tuple[int, int, int, int]]:
    """The merged ranges (first row, first column, last row, last column; 0-based) of a sheet."""
    out = []
    for a, b in re.findall(r"""<(?:\w+:)?mergeCell\b[^>]*\bref\s*=\s*["']([A-Z]+\d+):([A-Z]+\d+)["']""", xml):
        ra, rb = _ref(a), _ref(b)
        if ra and rb:
            out.append((*ra, *rb))
    return out


_ERROR_CELL = re.compile(r"""<(?:\w+:)?c\b(?=[^>]*\bt\s*=\s*["']e["'])([^>]*)>(.*?)</(?:\w+:)?c>""", re.S)


def _error_cells(xml: str) -> dict[tuple[int, int], str]:
    """{(row, column): '#DIV/0!'} of a sheet's cells whose (cached) value is an Excel error: calamine
    hands them over as empty cells, which would read as a missing value without a word."""
    out = {}
    for attrs, inner in _ERROR_CELL.findall(xml):
        v = re.search(r"<(?:\w+:)?v>([^<]*)</", inner)
        ref = _attr(attrs, "r")
        at = _ref(ref) if ref else None
        if at and v:
            out[at] = html.unescape(v.group(1))
    return out


# Excel's built-in number formats that show two decimals: 0.00, #,##0.00, currency and accounting.
_BUILTIN_DECIMALS = {2: 2, 4: 2, 7: 2, 8: 2, 39: 2, 40: 2, 43: 2, 44: 2}


def _fixed_decimals(styles: str) -> dict[int, int]:
    """{cell style index: decimals} of the styles (xl/styles.xml) whose number format shows a fixed
    number of decimals (0.00): {} when there are none."""
    custom: dict[int, int] = {}
    for tag in re.findall(r"<(?:\w+:)?numFmt\b[^>]*>", styles):
        fid, code = _attr(tag, "numFmtId"), _attr(tag, "formatCode")
        if fid is None or code is None or not fid.isdigit():
            continue
        first = re.sub(r'"[^"]*"|\[[^\]]*\]', "", code.split(";")[0])
        m = re.search(r"0\.(0+)", first)
        if m and not re.search(r"[%yYmMdDhHsSeE@]", first):
            custom[int(fid)] = len(m.group(1))
    xfs = re.search(r"<(?:\w+:)?cellXfs\b[^>]*>(.*?)</(?:\w+:)?cellXfs>", styles, re.S)
    out = {}
    for k, xf in enumerate(re.findall(r"<(?:\w+:)?xf\b[^>]*>", xfs.group(1) if xfs else "")):
        fid = _attr(xf, "numFmtId")
        n = (custom.get(int(fid)) or _BUILTIN_DECIMALS.get(int(fid))) if fid and fid.isdigit() else None
        if n:
            out[k] = n
    return out


_NUMBER_CELL = re.compile(r'<(?:\w+:)?c\b([^>]*)>\s*<(?:\w+:)?v>(-?\d+\.\d+)</(?:\w+:)?v>')


def _shown_decimals(xml: str, decimals: dict[int, int]) -> dict[tuple[int, int], str]:
    """{(row, column): text} of number cells shown with more decimals than their value has: 2020.10
    typed into a 0.00 cell (附件1 asks for 开复工时间 as 20XX.XX) is stored as 2020.1, which would read
    as January; the text as Excel shows it keeps October."""
    if not decimals:
        return {}
    out = {}
    for attrs, value in _NUMBER_CELL.findall(xml):
        style, kind, ref = _attr(attrs, "s"), _attr(attrs, "t"), _attr(attrs, "r")
        n = decimals.get(int(style)) if style and style.isdigit() else None
        if not n or not ref or (kind and kind != "n"):
            continue
        frac = value.split(".", 1)[1]
        if len(frac) < n and (at := _ref(ref)):
            out[at] = value + "0" * (n - len(frac))
    return out


def _put_cells(df: pl.DataFrame, cells: dict[tuple[int, int], str], *, replace: bool = False) -> pl.DataFrame:
    """The frame with these cells' text: where calamine left them empty (an error cell's #DIV/0!),
    or, with replace, over what calamine gave (a number as Excel shows it)."""
    by_col: dict[int, list[tuple[int, str]]] = {}
    for (r, c), text in cells.items():
        if r < df.height and c < df.width and (replace or df[r, c] is None):
            by_col.setdefault(c, []).append((r, text))
    if not by_col:
        return df
    return df.with_columns(
        df[:, c].scatter([r for r, _ in cells], [t for _, t in cells]) for c, cells in by_col.items())


_PLAIN_NUMBER = re.compile(r"[\s\d.,，-]*")


def _fill_merged(df: pl.DataFrame, merges: list[tuple[int, int, int, int]]) -> pl.DataFrame:
    """A cell merged down over several rows (地市 over its projects) gives its text to every row it
    covers, as Excel shows it. A number is not copied: a merged amount is one amount, not one per row."""
    fills: dict[int, list[tuple[int, int, str]]] = {}
    for r1, c1, r2, c2 in merges:
        if r2 <= r1 or c1 >= df.width or r1 >= df.height:
            continue
        value = df[r1, c1]
        if value is None or _PLAIN_NUMBER.fullmatch(value):
            continue
        for c in range(c1, min(c2, df.width - 1) + 1):
            fills.setdefault(c, []).append((r1 + 1, min(r2, df.height - 1), value))
    if not fills:
        return df
    cols = []
    for c, spans in fills.items():
        values = df[:, c].to_list()
        for lo, hi, value in spans:
            for r in range(lo, hi + 1):
                if values[r] is None or not str(values[r]).strip():
                    values[r] = value
        cols.append(pl.Series(df.columns[c], values, dtype=pl.String))
    return df.with_columns(cols)


def _attr(tag: str, name: str) -> str | None:
    """An attribute of an XML start tag, however written: a namespace prefix (r:id, d2p1:id), single
    or double quotes, spaces around =."""
    m = re.search(r"""(?:\s|^)(?:[\w.-]+:)?""" + name + r"""\s*=\s*(?:"([^"]*)"|'([^']*)')""", tag)
    return html.unescape(m.group(1) if m.group(1) is not None else m.group(2)) if m else None


def _hidden_sheets(book: _Xlsx | None, reader: Any) -> set[str]:
    """The names of the workbook's hidden sheets, unless every sheet is hidden (then none)."""
    names = list(reader.sheet_names)
    if book is not None:  # from xl/workbook.xml: no sheet is parsed for it
        hidden = {name for name, state in book.states if state in ("hidden", "veryHidden")}
    else:  # .xls files are small: ask calamine for each sheet's visibility
        try:
            hidden = {n for i, n in enumerate(names) if reader.load_sheet(i, n_rows=1, header_row=None).visible != "visible"}
        except Exception:  # visibility is a courtesy: a workbook that hides it is read as it is
            return set()
    return hidden if len(hidden) < len(names) else set()


def _sheets(data: bytes) -> list[_Sheet]:
    if not data:
        raise _Refuse("文件为空")
    if len(data) > MAX_BYTES:
        raise _Refuse(f"文件大小超过上限 {MAX_BYTES // 1024 // 1024} MB")
    fmt = _sniff(data)
    if fmt == "html":
        raise _Refuse("该文件是网页（HTML）格式的表格，不是真正的 Excel 文件：请在 Excel 中“另存为” xlsx 后上传")
    try:  # what it would unpack to, before anything is decoded
        guard.check(data, fmt, inflate=guard.INFLATE_IN_READER)
    except guard.Refused as exc:
        raise _Refuse(str(exc)) from exc
    if fmt in ("xlsx", "xls"):
        return _excel_sheets(data, fmt)
    return [_Sheet("", rows=_text_grid(data))]


# ---- header recognition ------------------------------------------------------------------------


def _cell_text(v: Any) -> str:
    return "" if v is None else str(v).strip()


def _display(v: Any) -> str:
    """A header as written, with whitespace and newlines taken out."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", _cell_text(v)))


def _row_score(row: list[Any]) -> int:
    return sum(1 for v in row if v is not None and len(_cell_text(v)) <= 40 and H.is_headerish(_cell_text(v)))


@dataclass
class _Header:
    top: int  # 0-based index of the first header row
    rows: int  # 1 or 2 header rows
    names: list[str]  # per column: the header as written (sub-header if any)
    groups: list[str | None]  # per column: group header of a two-row header


def _find_header(grid: Grid) -> _Header | None:
    scan = grid[:HEADER_SCAN_ROWS]
    scores = [_row_score(r) for r in scan]
    if not scores or max(scores) < 2:
        return None
    best = max(range(len(scores)), key=lambda i: (scores[i], -i))
    top, rows = best, 1
    if best + 1 < len(scan) and scores[best + 1] >= 2:
        rows = 2
    elif best > 0 and scores[best - 1] >= 2:
        top, rows = best - 1, 2
    width = max((len(r) for r in grid[top : top + rows]), default=0)
    t_row = (grid[top] + [None] * width)[:width]
    s_row = (grid[top + 1] + [None] * width)[:width] if rows == 2 else [None] * width
    names: list[str] = []
    groups: list[str | None] = []
    group: str | None = None
    for j in range(width):
        t, s = _display(t_row[j]), _display(s_row[j])
        if t and s:
            group = t
            names.append(s)
            groups.append(t)
        elif t:
            group = None
            names.append(t)
            groups.append(None)
        elif s:
            names.append(s)
            groups.append(group)
        else:
            names.append("")
            groups.append(None)
    return _Header(top, rows, names, groups)


# ---- report date, year, frequency, tier from the title -------------------------------------------

_FULL_DATE = re.compile(r"(\d{4})\s*[年.\-/]\s*(\d{1,2})\s*[月.\-/]\s*(\d{1,2})\s*[日号]?")
_YEAR_MONTH = re.compile(r"(\d{4})\s*年\s*(?:1?\s*[-—~至]\s*)?(\d{1,2})\s*月(?!\s*\d{1,2}\s*[日号])")
_QUARTER = re.compile(r"(\d{4})\s*年\s*(?:第\s*)?([一二三四1-4])\s*季度")
_HALF = re.compile(r"(\d{4})\s*年\s*(上半年|全年)")
_SIGN_OFF_DATE = re.compile(r"(填报|填表|报送|上报|制表|打印|导出)(日期|时间)\s*[:：]?\s*"
                            r"(\d{4}\s*[年.\-/]\s*\d{1,2}\s*[月.\-/]?\s*(\d{1,2}\s*[日号]?)?)?")
_QNUM = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}


def _month_end(y: int, m: int) -> date | None:
    if not 1 <= m <= 12:
        return None
    return date(y, m, calendar.monthrange(y, m)[1])


def report_date_from_title(text: str) -> tuple[date | None, str | None]:
    """(report date, frequency it implies) from title text: 截至2020年3月27日 / 2020年3月 / 2020年一季度."""
    t = unicodedata.normalize("NFKC", text)
    # The day a form was filled in or sent (填报日期：2020年3月30日) is not the period it reports on.
    t = _SIGN_OFF_DATE.sub(" ", t)
    m = re.search(r"(?:截至|截止|至)\s*" + _FULL_DATE.pattern, t) or _FULL_DATE.search(t)
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))), None
        except ValueError:
            pass
    m = _QUARTER.search(t)
    if m:
        q = _QNUM[m.group(2)]
        return _month_end(int(m.group(1)), q * 3), "quarter"
    m = _HALF.search(t)
    if m:
        return _month_end(int(m.group(1)), 6 if m.group(2) == "上半年" else 12), "month"
    m = _YEAR_MONTH.search(t)
    if m:
        return _month_end(int(m.group(1)), int(m.group(2))), "month"
    return None, None


def _frequency_from_title(text: str) -> str | None:
    t = clean(text)
    if "周报" in t or re.search(r"第\d+周|每周|本周", t):
        return "week"
    if "季报" in t or "季度" in t:
        return "quarter"
    if "月报" in t or "月度" in t or "月份" in t:
        return "month"
    return None


def _year_from_text(text: str) -> int | None:
    m = re.search(r"(20\d{2})\s*年", unicodedata.normalize("NFKC", text))
    return int(m.group(1)) if m else None


def _tier_from_title(text: str) -> tuple[str | None, bool]:
    """(tier, ambiguous): 千项 → 市级千项; 双百+新兴/技改 → that tier; 双百 alone → ambiguous."""
    t = clean(text)
    if "千项" in t:
        return "市级千项", False
    if "双百" in t:
        if "新兴" in t:
            return "省级双百·新兴", False
        if "技改" in t or "技术改造" in t:
            return "省级双百·技改", False
        return None, True
    return None, False


# ---- row classification ------------------------------------------------------------------------

_SUBTOTAL = re.compile(r"^(其中|合计|小计|总计|共计|累计|汇总|全市合计|全省合计)|(合计|小计|总计|汇总)(\(.*\))?$"
                       r"|[(（](合计|小计|总计|汇总)[)）]$|(合计|小计|总计|汇总)[:：]?\s*\d+\s*个(项目)?$")
# A group row in the name column: 「太原市（2个）」, 「新兴产业项目（3个）」: a heading with its count.
_GROUP = re.compile(r"[(（]\s*(共\s*)?\d+\s*个(项目)?\s*[)）]$")
# The sign-off words of a form's footer (填表单位（盖章）：… 填表人：… 联系电话：… 填表日期：…).
_SIGN_OFF = ("填报人", "填表人", "审核人", "制表人", "制表", "负责人", "单位负责人", "统计负责人", "联系人",
             "联系电话", "联系方式", "电话", "手机", "填报单位", "填表单位", "报送单位", "制表单位", "填报日期",
             "填表日期", "报送日期", "报送时间", "填报时间", "制表日期", "分管领导", "主管领导", "审核")
_NOTE = re.compile(
    r"^(注|备注|说明|填表说明|填报说明|附注)[:：\d.、]|^(注|备注)$|^(" + "|".join(_SIGN_OFF)
    + r")([(（][^)）]{0,6}[)）])?[:：]"
)
# Every note word's first character: a vectorised test that lets through all that _NOTE can match.
_NOTE_FIRST = "^[注备说附" + "".join(sorted({w[0] for w in _SIGN_OFF})) + "]"
_SECTION_PREFIX = re.compile(r"^([一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]|\d+[、.．])")


def _is_group(text: str) -> bool:
    return bool(_GROUP.search(text)) and len(_GROUP.sub("", text)) <= 20


def _is_subtotal(text: str) -> bool:
    t = clean(text)
    return bool(t) and len(t) <= 24 and bool(_SUBTOTAL.search(t))


def _section_text(text: str) -> str:
    t = _SECTION_PREFIX.sub("", clean(text))
    return re.sub(r"[(（].*?[)）]$", "", t).removesuffix("项目").removesuffix("类")


# ---- the reader --------------------------------------------------------------------------------


@dataclass
class _Col:
    idx: int
    name: str  # as written
    key: str  # field or reader key
    factor: float  # money unit → 万元


@dataclass
class _Ctx:
    file: str
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    def err(self, msg: str, row: int | None = None, col: str | None = None, value: Any = None) -> None:
        self.errors.append(Finding(self.file, msg, row, col, None if value is None else str(value), "error"))

    def warn(self, msg: str, row: int | None = None, col: str | None = None, value: Any = None) -> None:
        self.warnings.append(Finding(self.file, msg, row, col, None if value is None else str(value), "warning"))

    def add(self, found: _Found, row: int) -> None:
        """One row's findings, in the order they were made."""
        for level, msg, col, value in found.items:
            (self.errors if level == "error" else self.warnings).append(Finding(self.file, msg, row, col, value, level))


def read_submission(
    source: Path | bytes,
    file_name: str,
    *,
    report_date: date | None = None,
    tier: str | None = None,
    region: str | None = None,
    frequency: str | None = None,
) -> ReadResult:
    """Read one submission (CSV/XLSX/XLS bytes or path) into a staged frame and findings; never raises on bad input."""
    ctx = _Ctx(file_name)
    result = ReadResult(file_name, "reports", "unknown", report_date, report_date.year if report_date else None,
                        frequency if frequency in FREQUENCIES else "week", pl.DataFrame(schema=STAGED_SCHEMA))
    try:
        data = source if isinstance(source, bytes | bytearray) else Path(source).read_bytes()
        _read(bytes(data), ctx, result, report_date, tier, region, frequency)
    except _Refuse as exc:
        ctx.err(str(exc))
    except MemoryError:  # the bounded child read (pipelines.bounded) says so with its bound
        raise
    except Exception as exc:  # a reader bug must still come back as a finding, not a traceback
        ctx.err(f"读取文件时出现意外错误（{type(exc).__name__}），请检查文件格式或联系管理员")
    result.errors, result.warnings = ctx.errors, ctx.warnings
    return result


def _read(data: bytes, ctx: _Ctx, res: ReadResult, report_date: date | None, tier: str | None,
          region: str | None, frequency: str | None) -> None:
    sheets = [s for s in _sheets(data) if s.has_text()]
    if not sheets:
        raise _Refuse("文件中没有数据")
    if frequency is not None and frequency not in FREQUENCIES:
        ctx.err(f"报送频率「{frequency}」无效（应为 week/month/quarter）")
    if tier is not None and tier not in TIERS:
        t2, _ = parse_tier(tier)
        if t2 is None:
            ctx.err(f"上传时选择的层级「{tier}」无效（应为 {'/'.join(TIERS)} 之一）")
        tier = t2
    region_obj: Region | None = None
    if region:
        region_obj = region_by_code().get(region.strip()) or find_region(region)
        if region_obj is None or region_obj.level == "province":
            ctx.err(f"上传时选择的地区「{region}」无法识别")
            region_obj = None

    # Targets (目标任务分解表) first: regions across, metrics down.
    for sheet in sheets:
        _check_cells(sheet, ctx)
        tgt = _find_targets(sheet.grid(0, HEADER_SCAN_ROWS + TARGET_SCAN_ROWS))
        if tgt is not None:
            _read_targets(sheet.grid(), tgt, ctx, res, report_date, region_obj)
            return
    cards = [(s, one) for s in sheets if (c := _find_card(s.grid(0, CARD_SCAN_ROWS))) is not None
             for one in _split_cards(c)]
    if cards:  # 附件1 台账 as printed: one project a sheet, label beside value
        _read_cards(cards, ctx, res, report_date, tier, region_obj, frequency)
        return
    scored = [(h, s) for s in sheets if (h := _find_header(s.grid(0, HEADER_SCAN_ROWS + 1))) is not None]
    if not scored:
        raise _Refuse("未找到表头：文件中没有可识别的列名（如「项目名称」「总投资」），请使用报表模板")
    tables = [(h, s) for h, s in scored if any(n and (H.header_key(n) or ("",))[0] == "project_name" for n in h.names)]
    if len(tables) > 1:  # 新兴 and 技改 on two sheets: every sheet is read, or none
        _read_sheets(tables, ctx, res, report_date, tier, region_obj, frequency)
        return
    hdr, sheet = max(scored, key=lambda x: sum(1 for n in x[0].names if n and H.header_key(n)))
    _read_reports(sheet, hdr, ctx, res, report_date, tier, region_obj, frequency)


CARD_SCAN_ROWS = 1_000  # cards are short; several stacked on one sheet are read to the last


@dataclass
class _Card:
    """A project card (附件1 台账 as printed): each field a label with its value beside it."""

    title_rows: Grid  # the rows above the first label (title, 单位：万元)
    fields: list[tuple[str, Any, int]]  # (label as written, value, 1-based sheet row)

    @property
    def name_row(self) -> int | None:
        """The sheet row of the card's 项目名称 (where a finding without its own field goes)."""
        return next((r for label, _, r in self.fields if _is_name_label(label)), None)


def _is_name_label(label: str) -> bool:
    return H.header_key(label) == ("project_name", None)


def _card_label(text: str) -> str:
    """A card's label as a header: without its section number (一、企业简介) or a trailing colon."""
    return _SECTION_PREFIX.sub("", clean(text)).rstrip(":：").strip()


# The blank 附件1's hint left in a cell: 「(格式为: 20XX.XX)」.
_TEMPLATE_HINT = re.compile(r"^[(（]?\s*格式为\s*[:：].*$|^.*20XX.*$", re.I)


def _find_card(grid: Grid) -> _Card | None:
    """The sheet as a project card, or None: a 项目名称 label with its value beside it, at least five
    labels, and no row that reads as a table header (five or more column names)."""
    fields: list[tuple[str, Any, int]] = []
    first_label_row: int | None = None
    for r, row in enumerate(grid):
        in_row = 0
        j = 0
        while j < len(row):
            text = _cell_text(row[j])
            label = _card_label(text) if text else ""
            if not label or H.header_key(label) is None:
                j += 1
                continue
            in_row += 1
            value, k = None, j + 1
            while k < len(row):  # the value: the next filled cell, unless it is the next label
                nxt = _cell_text(row[k])
                if nxt:
                    if H.header_key(_card_label(nxt)) is None:
                        value = row[k]
                        k += 1
                    break
                k += 1
            fields.append((label, value, r + 1))
            first_label_row = r if first_label_row is None else first_label_row
            j = k
        if in_row >= 5:
            return None
    if len(fields) < 5 or first_label_row is None:
        return None
    if not any(_is_name_label(label) and value is not None and _cell_text(value) for label, value, _ in fields):
        return None
    return _Card(grid[:first_label_row], fields)


def _split_cards(card: _Card) -> list[_Card]:
    """Cards stacked on one sheet, one after another: a new card at each 项目名称 label."""
    starts = [k for k, (label, _, _) in enumerate(card.fields) if _is_name_label(label)]
    if len(starts) <= 1:
        return [card]
    starts[0] = 0  # labels above the first 项目名称 belong to the first card
    return [_Card(card.title_rows, card.fields[a:b]) for a, b in zip(starts, [*starts[1:], len(card.fields)], strict=True)]


def _read_cards(cards: list[tuple[_Sheet, _Card]], ctx: _Ctx, res: ReadResult, report_date: date | None,
                tier: str | None, region: Region | None, frequency: str | None) -> None:
    """Project cards (one a sheet) read as a table of one row per card, through the same reader as
    every table: a header of their labels, a row of their values. A finding is then put back on
    the sheet and row where the card has that field."""
    labels: list[str] = []
    for _, card in cards:
        for label, _, _ in card.fields:
            if label not in labels:
                labels.append(label)
    title_rows: list[list[Any]] = [[_cell_text(v) or None for v in row] for row in cards[0][1].title_rows]
    value_rows: list[list[Any]] = []
    for _, card in cards:
        by_label: dict[str, Any] = {}
        for label, value, _ in card.fields:
            if value is not None and _TEMPLATE_HINT.match(_cell_text(value)):
                value = None  # the blank form's hint, left in: not filled in
            by_label.setdefault(label, value)
        value_rows.append([by_label.get(label) for label in labels])
    width = max(len(labels), *(len(r) for r in title_rows)) if title_rows else len(labels)
    rows: list[list[Any]] = [*title_rows, list(labels), *value_rows]
    grid: Grid = [r + [None] * (width - len(r)) for r in rows]
    table = _Sheet(cards[0][0].name, rows=grid)
    hdr = _find_header(table.grid(0, HEADER_SCAN_ROWS + 1))
    if hdr is None or hdr.top != len(title_rows):
        raise _Refuse("项目信息卡的栏目无法识别：请使用每行一个项目的台账表格")
    sub = _Ctx(ctx.file)
    _read_reports(table, hdr, sub, res, report_date, tier, region, frequency)
    first_value_row = len(title_rows) + 2  # 1-based row of the first card's values in the table
    many = len(cards) > 1

    def place(f: Finding) -> Finding:
        k = (f.row or 0) - first_value_row
        if not 0 <= k < len(cards):
            return f
        sheet, card = cards[k]
        rows = {label: r for label, _, r in card.fields}
        return dataclasses.replace(f, file=f"{ctx.file}（工作表「{sheet.name}」）" if many else f.file,
                                   row=rows.get(f.column or "", card.name_row))

    ctx.errors += [place(f) for f in sub.errors]
    ctx.warnings += [place(f) for f in sub.warnings]
    if res.frame.height:
        name_rows = [card.name_row or 0 for _, card in cards]
        res.frame = res.frame.with_columns(
            pl.col("source_row").replace_strict(
                list(range(first_value_row, first_value_row + len(cards))), name_rows, default=pl.col("source_row"),
                return_dtype=res.frame.schema["source_row"]))


def _read_sheets(tables: list[tuple[_Header, _Sheet]], ctx: _Ctx, res: ReadResult, report_date: date | None,
                 tier: str | None, region: Region | None, frequency: str | None) -> None:
    """Several sheets with a project table: each read on its own (its findings name the sheet), then
    one submission when they agree on report date, layout, rhythm and columns; else refused."""
    parts: list[tuple[str, ReadResult]] = []
    for hdr, sheet in tables:
        sctx = _Ctx(f"{ctx.file}（工作表「{sheet.name}」）")
        part = ReadResult(res.file_name, "reports", "unknown", report_date, res.year, res.frequency,
                          pl.DataFrame(schema=STAGED_SCHEMA))
        try:
            _read_reports(sheet, hdr, sctx, part, report_date, tier, region, frequency)
        except _Refuse as exc:
            sctx.err(str(exc))
        ctx.errors += sctx.errors
        ctx.warnings += sctx.warnings
        parts.append((sheet.name, part))
    first_name, first = parts[0]
    for name, part in parts[1:]:
        for what, a, b in (("报告期截止日", first.report_date, part.report_date), ("报表格式", first.layout, part.layout),
                           ("报送频率", first.frequency, part.frequency),
                           ("列", sorted(first.present_fields), sorted(part.present_fields))):
            if a != b:
                ctx.err(f"工作表「{first_name}」与「{name}」的{what}不同，无法作为一次报送导入："
                        "请把各工作表分别另存为文件上传，或统一两表的格式", None, None, name)
                break
    res.kind, res.layout, res.report_date, res.year, res.frequency = (
        first.kind, first.layout, first.report_date, first.year, first.frequency)
    res.present_fields = list(first.present_fields)
    if ctx.errors:
        return
    res.frame = pl.concat([p.frame for _, p in parts], how="vertical_relaxed")
    _identity_checks(res.frame, ctx, [name for name, p in parts for _ in range(p.frame.height)])  # on two sheets


def _check_cells(sheet: _Sheet, ctx: _Ctx) -> None:
    if sheet.width > MAX_COLUMNS:
        raise _Refuse(f"文件列数 {sheet.width} 超过上限 {MAX_COLUMNS} 列")
    if sheet.height > MAX_ROWS + HEADER_SCAN_ROWS:
        raise _Refuse(f"文件行数超过上限 {MAX_ROWS:,} 行，请拆分后上传")
    frame = sheet.frame
    too_long = [pl.col(c).str.len_chars() > MAX_CELL_CHARS for c in frame.columns]
    if not too_long or not frame.select(pl.any_horizontal(too_long).any()).item():
        return
    long: list[tuple[int, int, str]] = []
    for j, name in enumerate(frame.columns):
        col = frame[name]
        for i in (col.str.len_chars() > MAX_CELL_CHARS).arg_true().to_list():
            long.append((i, j, col[i]))
    for i, _j, v in sorted(long):  # in reading order: row by row, left to right
        ctx.err(f"单元格内容超过 {MAX_CELL_CHARS} 个字符", i + 1, None, v[:60])


# ---- reports -----------------------------------------------------------------------------------


def _infer_year(keys: list[tuple[str, int | None]]) -> int | None:
    """The report year from year-bearing headers: the earliest 计划投资 year, or 年底完成 + 1."""
    plans = [y for k, y in keys if k == H.Y_PLAN and y]
    if plans:
        return min(plans)
    for k, y in keys:
        if k in (H.Y_YTD, H.Y_GOAL, H.Y_START) and y:
            return y
        if k == H.Y_COMPLETED and y:
            return y + 1
    return None


def _resolve_year_key(key: str, year: int | None, y: int | None) -> str | None:
    """A year-bearing header's field for report year y, None when its year does not fit."""
    if key == H.Y_START:
        return "planned_start_date"
    if key == H.Y_COMPLETION:
        return "planned_completion_date"
    if y is None or year is None:
        return None
    if key == H.Y_COMPLETED:
        return "completed_before_year" if year == y - 1 else None
    if key == H.Y_PLAN:
        return {y: "annual_plan", y + 1: "plan_next_year", y + 2: "plan_year_after"}.get(year)
    if key == H.Y_YTD:
        return "ytd_completed" if year == y else None
    if key == H.Y_GOAL:
        return "year_goal" if year == y else None
    return None


def _layout(cols: dict[str, _Col], hdr: _Header, title: str) -> str:
    keys = set(cols)
    exact_zh = sum(1 for n in hdr.names if n in {f.zh for f in REPORT_FIELDS})
    if exact_zh >= 12 and "stage" in keys:
        return "standard"
    if H.START_COMPLETION in keys:
        return "tongling_progress"
    if "lead_unit" in keys or ("谋划" in title and "stage" not in keys and H.STAGE_OR_TYPE not in keys):
        return "tongling_planning"
    if keys & {"company_intro", "highlights", "benefits", "plan_next_year", "plan_year_after"}:
        return "ledger"
    if keys & {H.START_TIME, "not_started_reason", "covid_affected"}:
        return "shanxi_weekly" if hdr.rows == 2 else "flat"
    return "generic"


def _read_reports(sheet: _Sheet, hdr: _Header, ctx: _Ctx, res: ReadResult, report_date: date | None,
                  tier_arg: str | None, region: Region | None, frequency: str | None) -> None:
    title_rows = sheet.grid(0, hdr.top)
    title = " ".join(_cell_text(v) for r in title_rows for v in r if v is not None)
    title_and_name = title + " " + Path(ctx.file).stem

    # Report date, year, frequency.
    title_date, title_freq = report_date_from_title(title)
    if title_date is None:
        title_date, title_freq = report_date_from_title(Path(ctx.file).stem)
    d = report_date or title_date
    if report_date and title_date and title_date.year != report_date.year:
        ctx.err(f"文件标题中的日期 {title_date} 与上传时填写的报告期 {report_date} 不在同一年度，请核对",
                1, None, title.strip()[:80] or Path(ctx.file).stem)
    raw_keys = [H.header_key(n) if n else None for n in hdr.names]
    year = d.year if d else (_year_from_text(title) or _infer_year([k for k in raw_keys if k]))
    freq = frequency if frequency in FREQUENCIES else (_frequency_from_title(title_and_name) or title_freq or "week")

    # Units: a 亿元 in the title/unit rows applies to every money column without its own unit.
    title_factor = H.unit_factor_of(title) or 1.0

    cols: dict[str, _Col] = {}
    for j, name in enumerate(hdr.names):
        if not name:
            continue
        hk = raw_keys[j]
        if hk is None and hdr.groups[j]:
            hk = H.header_key((hdr.groups[j] or "") + name)
        norm, unit = H.normalise_header(name)
        if unit is None and hdr.groups[j]:  # 项目进展情况（亿元） over 总投资 / 计划投资 …
            unit = H.normalise_header(hdr.groups[j] or "")[1]
        if hk is None:
            if H.MONEYISH.search(norm):
                ctx.warn("未识别的投资类列，已忽略（请核对列名，如「2020年计划投资」）", hdr.top + hdr.rows, name)
            else:
                ctx.warn("未识别的列，已忽略", hdr.top + hdr.rows, name)
            continue
        key, y_of_col = hk
        if key.startswith("_y_"):
            fkey = _resolve_year_key(key, y_of_col, year)
            if fkey is None and key == H.Y_YTD and year is not None:
                # This year's completed investment of another year: the file is of another year
                # than the report date says (a copied title, a wrong date at upload).
                ctx.err(f"列名中的年份 {y_of_col} 与报告年度 {year} 不一致：请核对报告期截止日"
                        f"（{'上传时填写' if report_date else '标题中'}为 {d}）或列名", hdr.top + hdr.rows, name, name)
                continue
            if fkey is None:
                ctx.warn(f"列名中的年份与报告年度 {year or '（未知）'} 不对应，已忽略", hdr.top + hdr.rows, name)
                continue
            key = fkey
        if key == H.SEQ:
            continue
        if key in cols:
            ctx.warn(f"与「{cols[key].name}」列含义相同，已忽略此列", hdr.top + hdr.rows, name)
            continue
        cols[key] = _Col(j, name, key, unit if unit is not None else title_factor)

    if "project_name" not in cols:
        raise _Refuse("未找到「项目名称」列：无法识别项目，请检查表头")
    layout = _layout(cols, hdr, title)
    res.layout, res.year, res.frequency = layout, year, freq
    res.report_date = d
    if d is None:
        ctx.err("缺少报告期截止日：请在上传时填写，或在标题中注明（如“截至2020年3月27日”）")

    # Tier sources.
    title_tier, title_ambiguous = _tier_from_title(title_and_name)
    default_stage = "储备" if layout == "tongling_planning" or (
        re.search(r"谋划|储备库|储备项目", title) and "stage" not in cols) else None

    res.frame = _report_rows(sheet, hdr, cols, ctx, d, year, tier_arg, title_tier, title_ambiguous, region,
                             default_stage)
    if res.frame.height == 0 and not ctx.errors:
        ctx.err("文件中没有项目数据行")
    _identity_checks(res.frame, ctx)
    res.present_fields = _present_fields(cols, region, default_stage, res.frame)


def _present_fields(cols: dict[str, _Col], region: Region | None, default_stage: str | None,
                    frame: pl.DataFrame) -> list[str]:
    keys = set(cols)
    present = {k for k in keys if k in FIELD}
    if keys & {H.CITY, H.COUNTY, H.LOCATION, H.CITY_CODE, H.COUNTY_CODE} or region is not None:
        present |= {"city_code", "city_name"}
    if keys & {H.COUNTY, H.COUNTY_CODE} or (region is not None and region.level == "county"):
        present |= {"county_code", "county_name"}
    if H.LOCATION in keys and frame.height and frame["county_code"].null_count() < frame.height:
        present |= {"county_code", "county_name"}
    if keys & {H.INDUSTRY, H.INDUSTRY_CODE}:
        present |= {"industry_code", "industry_name"}
    if frame.height and frame["tier"].null_count() < frame.height:
        present.add("tier")
    if keys & {H.STAGE_OR_TYPE, "build_type"}:
        present |= {"stage", "build_type"} & {c for c in frame.columns if frame[c].null_count() < frame.height} or (
            {"stage"} if H.STAGE_OR_TYPE in keys else {"build_type"}
        )
    if default_stage:
        present.add("stage")
    if H.START_TIME in keys:
        present |= {"planned_start_date", "actual_start_date"}
    if H.COMPLETION_TIME in keys:
        present |= {"planned_completion_date", "completion_date"}
    if H.START_COMPLETION in keys:
        present |= {"stage", "planned_start_date", "actual_start_date", "planned_completion_date", "completion_date"}
    return [f.name for f in REPORT_FIELDS if f.name in present]


def _resolve_location(text: str, hint: str | None) -> tuple[Region | None, Region | None]:
    """(city, county) from 建设地点-like text: 忻州市忻府区, 忻府区, 太原市小店区XX路, 经开区."""
    t = clean(text)
    county = find_county(t, hint)
    if county:
        return region_by_code().get(county.parent_code or ""), county
    city = find_city(t)
    rest = t
    if city:
        for prefix in (city.name, city.name.removesuffix("市")):
            if prefix in t:
                rest = t[t.index(prefix) + len(prefix) :]
                break
        hint = city.code
    for k in range(min(len(rest), 12), 1, -1):
        c = find_county(rest[:k], hint)
        if c:
            return region_by_code().get(c.parent_code or "") or city, c
    return city, None


def _report_rows(sheet: _Sheet, hdr: _Header, cols: dict[str, _Col], ctx: _Ctx, d: date | None, year: int | None,
                 tier_arg: str | None, title_tier: str | None, title_ambiguous: bool, region: Region | None,
                 default_stage: str | None) -> pl.DataFrame:
    """The projects of a report table as a staged frame; every finding goes to ctx in reading order.

    Column-wise, with the row-by-row rules kept as the slow path:
    - rows are classified (blank, note, subtotal, section, project) by vectorised tests that send
      only candidates to the exact per-row checks, then one pass over the unusual rows keeps the
      reading state (notes, sections);
    - fields are parsed column by column (vparse);
    - the per-row rules (region, industry, tier, stage and dates, plausibility warnings) run once
      per distinct combination of the cells they read, and their answers are joined back;
    - findings, tagged with row and step, are put in the order a row-by-row reading gives them.
    """
    start = hdr.top + hdr.rows
    body = _body(sheet, start)
    name_col = cols["project_name"]
    key_cols = [c.idx for k, c in cols.items() if k in ("project_name", "company", H.CITY, "project_code")]
    region_city = region if region is not None and region.level == "city" else (
        region_by_code().get(region.parent_code or "") if region is not None else None)
    region_county = region if region is not None and region.level == "county" else None
    events: list[tuple[int, int, int, _Found]] = []  # (row index, step, column order, findings)

    # ---- which rows are projects ----
    cell_names = [c for c in body.columns if c.startswith("c")]
    filled = [pl.col(c) != "" for c in cell_names]
    others = [pl.col(f"c{c.idx}") != "" for k, c in cols.items() if k != "project_name"]
    flags = body.select(
        "_i",
        nfill=pl.sum_horizontal(filled) if filled else pl.lit(0),
        first=pl.coalesce([pl.when(f).then(pl.col(c)) for f, c in zip(filled, cell_names, strict=True)]).fill_null("")
        if filled else pl.lit(""),
        name=pl.col(f"c{name_col.idx}"),
        other=pl.any_horizontal(others) if others else pl.lit(False),
    )
    subtotals = vp.matching([flags["first"], *(body[f"c{j}"] for j in sorted({*key_cols, 0}))], _maybe_subtotal,
                            _is_subtotal)
    notes = vp.matching([flags["first"]], _maybe_note, lambda v: bool(_NOTE.match(clean(v))))
    empty_names = vp.matching([flags["name"]], vp.maybe_empty, is_empty)
    flags = flags.with_columns(
        note=pl.col("first").is_in(notes),
        subtotal=pl.any_horizontal(pl.col("first").is_in(subtotals),
                                   *(body[f"c{j}"].is_in(subtotals) for j in sorted({*key_cols, 0}))),
        no_name=(pl.col("name") == "") | pl.col("name").is_in(empty_names),
        group=pl.col("name").is_in(vp.matching([flags["name"]], lambda v: vp.dense(v).str.contains("个"),
                                               lambda v: _is_group(clean(v)))),
        pos=pl.int_range(pl.len(), dtype=pl.Int64),
    )
    unusual = flags.filter(
        (pl.col("nfill") <= 2) | (pl.col("_i") == start) | pl.col("note") | pl.col("subtotal")
        | ((pl.col("name") == "") & ~pl.col("other")) | pl.col("no_name") | pl.col("group")
    )
    not_projects: list[int] = []
    section: dict[str, Any] = {}
    sections: list[dict[str, Any]] = [{}]
    section_from: list[tuple[int, int]] = []  # (position of a section row, id of the section it opens)
    in_notes = False
    for pos, i, nfill, first, name, other, note, sub, no_name, group in unusual.select(
            "pos", "_i", "nfill", "first", "name", "other", "note", "subtotal", "no_name", "group").iter_rows():
        if nfill == 0:
            not_projects.append(pos)
            continue
        # A row of column numbers under the header (1, 2, 3 …).
        if i == start and nfill >= 3 and all(re.fullmatch(r"\d+", c) for c in body.row(pos)[1:] if isinstance(c, str) and c):
            not_projects.append(pos)
            continue
        if note or (in_notes and nfill <= 2):
            in_notes = True
            not_projects.append(pos)
            continue
        if sub:
            not_projects.append(pos)
            continue
        # A heading with its count in the name column (太原市（2个）, 新兴产业项目（3个）), or a 序号 like
        # （一） beside a 地市 with no name: a section row, its sums never a project.
        section_no = not name and bool(_SECTION_PREFIX.fullmatch(first.strip())) and nfill <= 3
        if group or section_no:
            _section(_GROUP.sub("", name) if group else " ".join(
                c for c in body.row(pos)[1:] if isinstance(c, str) and c), section)
            sections.append(dict(section))
            section_from.append((pos, len(sections) - 1))
            not_projects.append(pos)
            continue
        if nfill == 1 or (not name and not other):
            # A section row (一、新兴产业项目 / 太原市) or a stray note: sets context, never a project.
            _section(first, section)
            sections.append(dict(section))
            section_from.append((pos, len(sections) - 1))
            not_projects.append(pos)
            continue
        if no_name:
            found = _Found()
            found.err("缺少项目名称", name_col.name, "")
            events.append((i, 0, 0, found))
            not_projects.append(pos)
        # Otherwise a project row with few cells filled.
    section_id = pl.Series("_sec", [None] * body.height, dtype=pl.Int64)
    if section_from:
        section_id = section_id.scatter([p for p, _ in section_from], [s for _, s in section_from])
    keep = pl.Series([True] * body.height, dtype=pl.Boolean).scatter(not_projects, False) if not_projects else None
    data = body.with_columns(section_id.forward_fill().fill_null(0))
    if keep is not None:
        data = data.filter(keep)
    rows_i = data["_i"]
    if "_len" in data.columns:  # a text file's row longer than its header: its cells have shifted
        width = max(j for j, n in enumerate(hdr.names) if n) + 1
        beyond = [f"c{j}" for j in range(width, sheet.width)]
        if beyond:
            long_rows = data.filter(pl.any_horizontal([pl.col(c) != "" for c in beyond]))
            for i, n, *extra in long_rows.select("_i", "_len", *beyond).iter_rows():
                found = _Found()
                found.err(f"该行有 {n} 个单元格，比表头多 {n - width} 个，各列已错位：数字中的逗号须加引号"
                          "（如 \"12,500\"）或去掉，请核对该行", None, "，".join(v for v in extra if v))
                events.append((i, 0, -1, found))

    # ---- fields by kind ----
    kinds = ("text", "money", "date", "bool")
    plain = [(order, key, col) for order, (key, col) in enumerate(cols.items())
             if key in FIELD and key != "project_name" and FIELD[key].kind in kinds]
    values, errors = vp.parse(data, [vp.Column(key, f"c{col.idx}", FIELD[key].kind, col.factor) for _, key, col in plain])
    fields: dict[str, pl.Series] = {"project_name": data[f"c{name_col.idx}"], **{k: values[k] for k in values.columns}}
    for order, key, col in plain:
        if key not in errors:
            continue
        at = errors[key].is_not_null().arg_true()
        raw = data[f"c{col.idx}"]
        for i, msg, v in zip(rows_i.gather(at), errors[key].gather(at), raw.gather(at), strict=True):
            found = _Found()
            found.err(msg, col.name, v)
            events.append((i, 1, order, found))

    # ---- the per-row rules, once per distinct combination of what they read ----
    found_lists: list[_Found] = []

    def keep_found(found: _Found) -> int | None:
        if not found.items:
            return None
        found_lists.append(found)
        return len(found_lists) - 1

    def cells_of(keys: tuple[str, ...]) -> list[pl.Expr]:
        """The cells a rule reads, None where the row is too short to have the column."""
        out = []
        for k in keys:
            if k in cols:
                e = pl.col(f"c{cols[k].idx}")
                if "_len" in data.columns:
                    e = pl.when(pl.col("_len") > cols[k].idx).then(e)
                out.append(e.alias(k))
        return out

    def cell_fn(vals: dict[str, Any]) -> _CellFn:
        def cell(key: str) -> tuple[str, _Col] | None:
            v = vals.get(key)
            return None if v is None else (v, cols[key])
        return cell

    def region_rule(vals: dict[str, Any]) -> tuple[Any, ...]:
        found = _Found()
        city, county, missing = _row_region(cell_fn(vals), cols, found, sections[vals["_sec"]], region, region_city,
                                            region_county)
        return (city.code if city else None, city.name if city else None, county.code if county else None,
                county.name if county else None, missing, keep_found(found))

    region_out = _per_combination(
        data, cells_of((H.CITY_CODE, H.CITY, H.COUNTY_CODE, H.COUNTY, H.LOCATION)), region_rule,
        {"city_code": pl.String, "city_name": pl.String, "county_code": pl.String, "county_name": pl.String,
         "_city_missing": pl.Boolean, "_found": pl.Int64})

    def industry_rule(vals: dict[str, Any]) -> tuple[Any, ...]:
        return _row_industry(cell_fn(vals))

    industry_out = _per_combination(data, cells_of((H.INDUSTRY_CODE, H.INDUSTRY)), industry_rule,
                                    {"industry_code": pl.String, "industry_name": pl.String})

    def tier_rule(vals: dict[str, Any]) -> tuple[Any, ...]:
        found = _Found()
        tier = _row_tier(cell_fn(vals), found, sections[vals["_sec"]], tier_arg, title_tier, title_ambiguous)
        return tier, keep_found(found)

    tier_out = _per_combination(data, cells_of(("tier", "category")), tier_rule, {"tier": pl.String, "_found": pl.Int64})

    # The stage rule also reads fields parsed above (the dates it may complete, 未开复工原因 given or not).
    rec_inputs = [k for k in _STAGE_REC_FIELDS if k in fields]
    # Without a column whose text it turns into dates (开复工时间, 竣工时间, 开竣工情况), the rule leaves
    # the dates as parsed and reads only the planned start's year (未开工 → 新开工/前期);
    # whether an actual start is stated; and, when a 未开复工原因 is given and no actual start, the
    # planned start itself (逾期未开工). Keyed on just that, it runs once per stage wording and year
    # instead of once per distinct date, and its dates are not taken back.
    dates_as_parsed = not any(k in cols for k in (H.START_TIME, H.COMPLETION_TIME, H.START_COMPLETION))
    stage_in = data.with_columns(*(fields[k].alias("rec:" + k) for k in rec_inputs))
    if "not_started_reason" in fields:
        stage_in = stage_in.with_columns(fields["not_started_reason"].is_not_null().alias("rec:reason"))
    if dates_as_parsed:
        planned, actual = pl.col("rec:planned_start_date"), pl.col("rec:actual_start_date")
        reduced: list[pl.Expr] = [pl.lit(None, dtype=pl.Date).alias("rec:" + k)
                                  for k in ("completion_date", "planned_completion_date") if k in rec_inputs]
        if "actual_start_date" in rec_inputs:
            reduced.append(pl.when(actual.is_not_null()).then(pl.lit(date(1900, 1, 1))).alias("rec:actual_start_date"))
        if "planned_start_date" in rec_inputs:
            exact = pl.col("rec:reason") if "not_started_reason" in fields else pl.lit(False)
            if "actual_start_date" in rec_inputs:
                exact = exact & actual.is_null()
            reduced.append(pl.when(exact).then(planned).otherwise(pl.date(planned.dt.year(), 1, 1))
                           .alias("rec:planned_start_date"))
        stage_in = stage_in.with_columns(reduced)

    def stage_rule(vals: dict[str, Any]) -> tuple[Any, ...]:
        rec = {k: vals["rec:" + k] for k in rec_inputs}
        rec["not_started_reason"] = "given" if vals.get("rec:reason") else None
        found = _Found()
        _row_stage_dates(rec, cell_fn(vals), found, d, year, sections[vals["_sec"]], default_stage)
        return (*(rec.get(k) for k in _STAGE_OUT_FIELDS), keep_found(found))

    stage_keys = cells_of(("stage", H.STAGE_OR_TYPE, "build_type", H.START_TIME, H.COMPLETION_TIME,
                           H.START_COMPLETION, "planned_start_date"))
    if dates_as_parsed:  # the planned-start cell is read for its column's name only
        stage_keys = [pl.when(e.is_not_null()).then(pl.lit("")).alias("planned_start_date")
                      if e.meta.output_name() == "planned_start_date" else e for e in stage_keys]
    stage_keys += [pl.col(c) for c in stage_in.columns if c.startswith("rec:")]
    stage_out = _per_combination(stage_in, stage_keys, stage_rule,
                                 {**{k: FIELD[k].dtype for k in _STAGE_OUT_FIELDS}, "_found": pl.Int64})
    for k in _STAGE_OUT_FIELDS:
        if not dates_as_parsed or k in ("stage", "build_type"):
            fields[k] = stage_out[k]
    for k in ("city_code", "city_name", "county_code", "county_name"):
        fields[k] = region_out[k]
    for k in ("industry_code", "industry_name"):
        fields[k] = industry_out[k]
    fields["tier"] = tier_out["tier"]
    for step, out in ((2, region_out), (4, tier_out), (5, stage_out)):
        at = out["_found"].is_not_null().arg_true()
        for i, f in zip(rows_i.gather(at), out["_found"].gather(at), strict=True):
            events.append((i, step, 0, found_lists[f]))

    # An actual (re)start date on or before D with a 未开复工原因 beside it: the contract reads a reason
    # given as not started (逾期未开工, flagged), in the template's columns as in the weekly's one.
    if d is not None and "not_started_reason" in fields and "actual_start_date" in fields:
        actual_s, reason_s = fields["actual_start_date"], fields["not_started_reason"]
        clash = (actual_s.is_not_null() & (actual_s <= d) & reason_s.is_not_null()
                 & (reason_s.cast(pl.String).str.strip_chars() != "")).fill_null(False)
        if clash.any():
            at = clash.arg_true()
            actual_col = cols["actual_start_date"].name if "actual_start_date" in cols else None
            for i, v in zip(rows_i.gather(at), actual_s.gather(at), strict=True):
                found = _Found()
                found.warn("填写了实际开（复）工时间，也填写了未开复工原因：按口径计为未开工（逾期未开工），请核对",
                           actual_col, str(v))
                events.append((i, 5, 1, found))
            no_date = pl.Series([None] * data.height, dtype=pl.Date)
            planned_s = fields.get("planned_start_date", no_date)
            # the date becomes the planned start where none is given; the actual start is cleared
            fields["planned_start_date"] = planned_s.zip_with(~(clash & planned_s.is_null()), actual_s)
            fields["actual_start_date"] = actual_s.zip_with(~clash, no_date)

    frame = pl.DataFrame([
        (rows_i + 1).alias("source_row"),
        *(fields[k].alias(k) if k in fields else pl.Series(k, [None] * data.height, dtype=dt)
          for k, dt in STAGED_SCHEMA.items() if k != "source_row"),
    ])

    # ---- plausibility warnings: the rows that can have one, through the per-row rule ----
    money = {k: pl.col(k) for k in ("total_investment", "completed_before_year", "annual_plan", "ytd_completed")}
    total, cby, plan, ytd = money.values()
    stated = cby.is_not_null() | ytd.is_not_null()
    done = cby.fill_null(0) + ytd.fill_null(0)
    suspect = frame.select(
        (ytd.is_not_null() & plan.is_not_null() & (plan != 0) & (ytd > plan * 1.5))
        | (total.is_not_null() & stated & (done > total + 1e-6))
        | ((pl.col("stage") == "竣工") & total.is_not_null() & (total != 0) & stated & (done < total * 0.5))
    )[:, 0].fill_null(False).arg_true()
    for i, rec in zip(rows_i.gather(suspect), frame.select(*money, "stage")[suspect].iter_rows(named=True), strict=True):
        found = _Found()
        _row_warnings(rec, cols, found)
        if found.items:
            events.append((i, 6, 0, found))

    events.sort(key=lambda e: (e[0], e[1], e[2]))
    for i, _step, _order, found in events:
        ctx.add(found, i + 1)

    no_tier = frame["tier"].is_null()
    if "tier" in cols:  # a tier cell that was filled in but not understood has had its own error
        raw_tier = data[f"c{cols['tier'].idx}"]
        no_tier = no_tier & ((raw_tier == "") | raw_tier.is_in(vp.matching([raw_tier], vp.maybe_empty, is_empty)))
    missing_tier_rows = (rows_i.filter(no_tier) + 1).to_list()
    missing_city_rows = (rows_i.filter(region_out["_city_missing"]) + 1).to_list()
    if missing_tier_rows:
        if len(missing_tier_rows) == frame.height:
            msg = ("缺少层级：标题只写“省级双百”，未区分新兴/技改，请在上传时选择层级，或增加「层级」列" if title_ambiguous
                   else "缺少层级：请在上传时选择层级（省级双百·新兴/省级双百·技改/市级千项/其他），或在文件中增加「层级」列")
            ctx.err(msg)
        else:
            for r in missing_tier_rows:
                ctx.err("缺少层级", r, cols["tier"].name if "tier" in cols else None, "")
    if missing_city_rows:
        if len(missing_city_rows) == frame.height and not any(k in cols for k in (H.CITY, H.COUNTY, H.LOCATION)):
            ctx.err("缺少地区：文件中没有地市/县区列，请在上传时选择地区")
        else:
            for r in missing_city_rows:
                ctx.err("缺少地市", r, None, "")
    return frame


# Fields the stage rule reads as parsed, and the ones it decides.
_STAGE_REC_FIELDS = ("build_type", "planned_start_date", "actual_start_date", "completion_date", "planned_completion_date")
_STAGE_OUT_FIELDS = ("stage", *_STAGE_REC_FIELDS)


def _body(sheet: _Sheet, start: int) -> pl.DataFrame:
    """The rows under the header: `_i` (0-based sheet row), every cell stripped ("" when empty), `_len` if ragged."""
    part = sheet.frame.slice(start)
    body = part.select(
        pl.int_range(start, start + part.height, dtype=pl.Int64).alias("_i"),
        *(vp.strip(pl.col(c)).alias(c) for c in part.columns),
    )
    lengths = sheet.lengths()
    if lengths is not None:
        body = body.with_columns(lengths.slice(start))
    return body


def _maybe_subtotal(v: pl.Expr) -> pl.Expr:
    """A vectorised superset of _is_subtotal: every _SUBTOTAL match holds one of these words."""
    dense = vp.dense(v)
    return (v != "") & (~vp.is_safe(v) | ((dense.str.len_chars() <= 24) & dense.str.contains("其中|合计|小计|总计|共计|累计|汇总")))


def _maybe_note(v: pl.Expr) -> pl.Expr:
    """A vectorised superset of _NOTE.match(clean(v)): every note word starts with one of these characters."""
    return ~vp.is_safe(v) | vp.dense(v).str.contains(_NOTE_FIRST)


def _per_combination(frame: pl.DataFrame, keys: list[pl.Expr], rule: Callable[[dict[str, Any]], tuple[Any, ...]],
                     schema: dict[str, Any]) -> pl.DataFrame:
    """rule(key values by name, plus `_sec`) once per distinct combination; its outputs (schema) for every row."""
    keyed = frame.select(*keys, "_sec")
    names = keyed.columns
    distinct = keyed.unique()
    results = [rule(dict(zip(names, r, strict=True))) for r in distinct.iter_rows()]
    outputs = pl.DataFrame(results, schema={"=" + k: v for k, v in schema.items()}, orient="row")
    answers = pl.concat([distinct, outputs], how="horizontal")
    joined = keyed.join(answers, on=names, how="left", nulls_equal=True, maintain_order="left")
    return joined.select(pl.col("=" + k).alias(k) for k in schema)


class _Found:
    """The findings of one row, or of one combination of cells: (level, message, column, value)."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[tuple[Level, str, str | None, str | None]] = []

    def err(self, msg: str, col: str | None = None, value: Any = None) -> None:
        self.items.append(("error", msg, col, None if value is None else str(value)))

    def warn(self, msg: str, col: str | None = None, value: Any = None) -> None:
        self.items.append(("warning", msg, col, None if value is None else str(value)))

    def n_errors(self) -> int:
        return sum(1 for f in self.items if f[0] == "error")


_CellFn = Callable[[str], "tuple[str, _Col] | None"]


def _section(text: str, section: dict[str, Any]) -> None:
    """A one-cell row like 「一、新兴产业项目」 or 「太原市」 sets tier/stage/city for the rows below it."""
    t = _section_text(text)
    if not t or len(t) > 20:
        return
    tier, _ = parse_tier(t)
    if tier and ("新兴" in t or "技改" in t or "千项" in t or "技术改造" in t):
        section["tier"] = tier
    stage, _, err = parse_stage(t)
    if stage and not err and stage != UNSTARTED:
        section["stage"] = stage
    city = find_city(t)
    if city and clean(t) in (city.name, city.name.removesuffix("市")):
        section["city"] = city


def _row_region(cell: _CellFn, cols: dict[str, _Col], out: _Found, section: dict[str, Any], region: Region | None,
                region_city: Region | None, region_county: Region | None) -> tuple[Region | None, Region | None, bool]:
    """(city, county, missing): missing when no city is found and no error already says why."""
    city: Region | None = None
    county: Region | None = None
    n_errors = out.n_errors()

    def get(key: str) -> tuple[str, str] | None:
        c = cell(key)
        if c is None or is_empty(c[0]):
            return None
        return c[0], c[1].name

    if (v := get(H.CITY_CODE)) is not None:
        r = region_by_code().get(clean(v[0]))
        if r is None or r.level != "city":
            out.err("无法识别的地市代码", v[1], v[0])
        else:
            city = r
    if city is None and (v := get(H.CITY)) is not None:
        city = find_city(v[0])
        if city is None:
            c2 = find_county(v[0], region_city.code if region_city else None)
            if c2 is not None:  # a county written in the 地市 column
                county, city = c2, region_by_code().get(c2.parent_code or "")
            else:
                out.err("无法识别的地市", v[1], v[0])
    hint = city.code if city else (region_city.code if region_city else (section["city"].code if "city" in section else None))
    if (v := get(H.COUNTY_CODE)) is not None:
        r = region_by_code().get(clean(v[0]))
        if r is None or r.level != "county":
            out.err("无法识别的县区代码", v[1], v[0])
        else:
            county = r
    if county is None and (v := get(H.COUNTY)) is not None:
        county = find_county(v[0], hint)
        if county is None:
            out.err("无法识别的县区" + ("（请核对所属地市）" if hint else ""), v[1], v[0])
    if county is None and (v := get(H.LOCATION)) is not None:
        c_city, c_county = _resolve_location(v[0], hint)
        if c_county is not None:
            county = c_county
        if city is None and c_city is not None:
            city = c_city
        if c_city is None and c_county is None and city is None and region_city is None:
            out.err("无法识别的地区（应为地市或县区名称）", v[1], v[0])
    if county is not None and city is None:
        city = region_by_code().get(county.parent_code or "")
    if county is not None and city is not None and county.parent_code != city.code:
        out.err(f"县区「{county.name}」不属于地市「{city.name}」", cols[H.COUNTY].name if H.COUNTY in cols else None,
                county.name)
    if city is None:
        city = section.get("city") or region_city
    if county is None and region_county is not None and city is not None and city.code == region_county.parent_code:
        county = region_county
    if region_city is not None and city is not None and city.code != region_city.code:
        col = next((cols[k].name for k in (H.CITY, H.COUNTY, H.LOCATION, H.CITY_CODE) if k in cols), None)
        out.err(f"地市「{city.name}」与上传时选择的地区「{region.name if region else ''}」不一致", col, city.name)
    elif region_county is not None and county is not None and county.code != region_county.code:
        col = next((cols[k].name for k in (H.COUNTY, H.LOCATION, H.COUNTY_CODE) if k in cols), None)
        out.err(f"县区「{county.name}」与上传时选择的地区「{region_county.name}」不一致", col, county.name)
    missing = city is None and out.n_errors() == n_errors  # an unknown city was already reported for this row
    return city, county, missing


def _row_industry(cell: _CellFn) -> tuple[str | None, str | None]:
    """(industry_code, industry_name)."""
    code_cell, text_cell = cell(H.INDUSTRY_CODE), cell(H.INDUSTRY)
    div = None
    if code_cell and not is_empty(code_cell[0]):
        div = find_division(code_cell[0])
    text = text_cell[0].strip() if text_cell and not is_empty(text_cell[0]) else None
    if div is None and text:
        div = find_division(text)
    if div is not None:
        return div.code, div.name
    return None, text  # free text that names no division: kept as written, never dropped


def _row_tier(cell: _CellFn, out: _Found, section: dict[str, Any], tier_arg: str | None, title_tier: str | None,
              title_ambiguous: bool) -> str | None:
    tier: str | None = None
    c = cell("tier")
    if c and not is_empty(c[0]):
        t, e = parse_tier(c[0])
        if e:
            if tier_arg is None:
                out.err(e, c[1].name, c[0])
            else:
                out.warn(f"{e}；按上传时选择的层级「{tier_arg}」处理", c[1].name, c[0])
        elif tier_arg is not None and t != tier_arg:
            out.err(f"层级「{t}」与上传时选择的层级「{tier_arg}」不一致", c[1].name, c[0])
        tier = t
    # The upload's choice, then a title that names one tier (千项 files group their projects under
    # 新兴/传统 section rows that are not the provincial tiers), then a section row.
    if tier is None:
        tier = tier_arg
    if tier is None and not title_ambiguous:
        tier = title_tier
    if tier is None:
        tier = section.get("tier")
    if tier is None and title_ambiguous:
        cat = cell("category")
        if cat and ("新兴" in cat[0] or "技改" in cat[0] or "技术改造" in cat[0]):
            tier, _ = parse_tier(cat[0])
    if tier is None:
        tier = title_tier
    return tier


def _row_stage_dates(rec: dict[str, Any], cell: _CellFn, out: _Found, d: date | None, year: int | None,
                     section: dict[str, Any], default_stage: str | None) -> None:
    stage: str | None = None
    for key, type_col in (("stage", False), (H.STAGE_OR_TYPE, True), ("build_type", True)):
        c = cell(key)
        if not c or is_empty(c[0]):
            continue
        if key == "build_type":
            t = clean(c[0])
            if t in BUILD_TYPES:
                rec["build_type"] = BUILD_TYPES[t]
                continue
            rec["build_type"] = c[0].strip()
        s, bt, e = parse_stage(c[0], type_column=type_col)
        if e and key != "build_type":
            out.err(e, c[1].name, c[0])
        if bt and key != "build_type":
            rec["build_type"] = bt
        if s and stage is None:
            stage = s

    # Weekly 开复工时间 read with 未开复工原因 (contract § Reading submissions).
    c = cell(H.START_TIME)
    if c and not is_empty(c[0]):
        dt, e = parse_date(c[0])
        if e:
            out.err(e, c[1].name, c[0])
        elif dt is not None:
            reason = rec.get("not_started_reason")
            if (d is None or dt <= d) and not reason:
                # Started. The form has one date for "actual if started, else planned": the planned
                # date is unknown, so it is taken as the actual one (the project was due by then).
                rec["actual_start_date"] = dt
                rec["planned_start_date"] = rec.get("planned_start_date") or dt
            else:
                rec["planned_start_date"] = dt
                if d is not None and dt <= d:
                    out.warn("逾期未开工：开复工时间已过报告期截止日，但填写了未开复工原因", c[1].name, c[0])
    c = cell(H.COMPLETION_TIME)
    if c and not is_empty(c[0]):
        dt, e = parse_date(c[0])
        if e:
            out.err(e, c[1].name, c[0])
        elif dt is not None:
            if d is None or dt <= d:
                rec["completion_date"] = dt
            else:
                rec["planned_completion_date"] = dt
    c = cell(H.START_COMPLETION)
    if c and not is_empty(c[0]):
        sc, e = parse_start_completion(c[0], d, year)
        if e:
            out.err(e, c[1].name, c[0])
        else:
            for k in ("actual_start_date", "planned_start_date", "completion_date", "planned_completion_date"):
                if sc.get(k) is not None and rec.get(k) is None:
                    rec[k] = sc[k]
            if sc.get("stage") == "在建" and rec.get("actual_start_date") is None:
                out.warn("只写了已开工、未写开工时间：按口径不计入已开（复）工项目（将列为逾期未开工），"
                         "请补填开工年月（如“2020年3月开工”）", c[1].name, c[0])
            if stage is None:
                stage = sc.get("stage")
    if stage is None:
        stage = section.get("stage") or default_stage
    if stage == UNSTARTED:
        stage = resolve_unstarted(rec.get("planned_start_date"), year)
    rec["stage"] = stage
    # A weekly reason given with a date before D is 逾期未开工 even without the 开复工时间 column rule.
    if (cell(H.START_TIME) is None and d is not None and rec.get("not_started_reason")
            and rec.get("planned_start_date") and rec["planned_start_date"] <= d and rec.get("actual_start_date") is None):
        out.warn("逾期未开工：计划开工时间已过报告期截止日，但填写了未开复工原因",
                 _col_name(cell, "planned_start_date"), str(rec["planned_start_date"]))


def _col_name(cell: _CellFn, key: str) -> str | None:
    c = cell(key)
    return c[1].name if c else None


def _row_warnings(rec: dict[str, Any], cols: dict[str, _Col], out: _Found) -> None:
    total, cby = rec.get("total_investment"), rec.get("completed_before_year")
    plan, ytd = rec.get("annual_plan"), rec.get("ytd_completed")
    name = {k: c.name for k, c in cols.items()}
    if ytd is not None and plan and ytd > plan * 1.5:
        out.warn(f"本年累计完成投资 {ytd:g} 万元超过年度计划投资 {plan:g} 万元的 1.5 倍，请核对",
                 name.get("ytd_completed"), f"{ytd:g}")
    if total is not None and (cby is not None or ytd is not None) and (cby or 0) + (ytd or 0) > total + 1e-6:
        out.warn(f"累计完成投资 {(cby or 0) + (ytd or 0):g} 万元超过总投资 {total:g} 万元，请核对",
                 name.get("total_investment"), f"{total:g}")
    if rec.get("stage") == "竣工" and total and (cby is not None or ytd is not None) and (cby or 0) + (ytd or 0) < total * 0.5:
        out.warn("状态为竣工，但累计完成投资不足总投资的 50%，请核对", name.get("stage") or name.get(H.STAGE_OR_TYPE),
                 "竣工")


def _identity_checks(frame: pl.DataFrame, ctx: _Ctx, sheets: list[str] | None = None) -> None:
    """The same project twice in one file (项目代码, else city + normalised name) is an error, naming both rows
    (and their sheets, when the rows come from several: sheets holds each row's sheet name)."""
    if frame.height == 0:
        return
    has_code = pl.col("project_code").is_not_null() & (pl.col("project_code") != "")
    keys = frame.select(
        pl.when(has_code).then(pl.lit("code\x00") + vp.clean_series(frame["project_code"]))
        .otherwise(pl.lit("name\x00") + pl.col("city_code").fill_null("") + "|"
                   + vp.clean_series(frame["project_name"].fill_null("")))
    )[:, 0]
    twice = keys.is_duplicated()
    if not twice.any():
        return
    # Only rows whose key comes again can be reported; they are walked in file order.
    seen: dict[str, tuple[str, str | None]] = {}
    where = (pl.Series(sheets).filter(twice).to_list() if sheets is not None else [None] * int(twice.sum()))
    for key, r, sheet in zip(keys.filter(twice), frame.filter(twice).iter_rows(named=True), where, strict=True):
        code = r["project_code"]
        place = f"工作表「{sheet}」第 {r['source_row']} 行" if sheet is not None else f"第 {r['source_row']} 行"
        if key in seen:
            first, first_tier = seen[key]
            ctx.err(f"同一项目在文件中出现两次（{first}与{place}）", r["source_row"],
                    "项目代码" if key.startswith("code") else "项目名称", code or r["project_name"])
            if first_tier and r["tier"] and first_tier != r["tier"]:
                ctx.err(f"同一项目填报了两个层级（{first}为「{first_tier}」，{place}为「{r['tier']}」）",
                        r["source_row"], "层级", r["tier"])
        else:
            seen[key] = (place, r["tier"])


# ---- targets (目标任务分解表) -----------------------------------------------------------------------

_TOTAL_WORDS = ("总目标", "合计", "全市", "总计", "全市合计", "总任务", "市级", "全县")
_SPLIT_LABELS = (("1-5亿", "planned_1_5"), ("5-10亿", "planned_5_10"), ("10亿以上", "planned_10_plus"))


def _target_metric(label: str) -> tuple[str | None, float]:
    """(metric key | 'leader' | 'department' | 'split' | None, unit factor) for a row label."""
    t, unit = H.normalise_header(label)
    factor = unit or 1.0
    if t.startswith("其中") and "/" in t:
        return "split", factor
    if re.search(r"包保领导|联系领导|责任领导|分管领导|牵头领导", t):
        return "leader", 1.0
    if re.search(r"责任科室|责任单位|责任部门|牵头科室|责任处室", t):
        return "department", 1.0
    if "谋划" in t and "投资" in t:
        return "planned_investment", factor
    if "谋划" in t:
        return "planned_projects", factor
    if "新开工" in t:
        return "new_starts", factor
    if "续建" in t:
        return "continuing", factor
    if "入库" in t or "入统" in t:
        return "stats_registrations", factor
    if "投资" in t:
        return "investment_task", factor
    return None, factor


def _is_region_label(text: str) -> bool:
    t = clean(text)
    return bool(t) and len(t) <= 16 and (
        t in _TOTAL_WORDS or t in DEV_ZONE_WORDS or find_region(t) is not None
        or bool(re.fullmatch(r".{1,6}(区|县|市|开发区|园区)", t)))


@dataclass
class _Targets:
    header_row: int  # 0-based
    label_col: int
    region_cols: list[int]


TARGET_SCAN_ROWS = 60


def _find_targets(grid: Grid) -> _Targets | None:
    for i, row in enumerate(grid[:HEADER_SCAN_ROWS]):
        cells = [_cell_text(v) for v in row]
        filled = [j for j, c in enumerate(cells) if c]
        if len(filled) < 3:
            continue
        label_col = filled[0]  # the row's own label (包保县区园区), then the regions across
        region_cols = [j for j in filled[1:] if _is_region_label(cells[j])]
        if len(region_cols) < 2:
            continue
        # A 分解表's metric rows sit right under its header; looking further only costs time
        # (a project table's 地市/县区 columns look like region headers on every row).
        below = grid[i + 1 : i + 1 + TARGET_SCAN_ROWS]
        labels = [_cell_text(r[label_col]) if label_col < len(r) else "" for r in below]
        metrics = [lab for lab in labels if lab and _target_metric(lab)[0] not in (None, "leader", "department")]
        if len(metrics) >= 2:
            return _Targets(i, label_col, region_cols)
    return None


def _read_targets(grid: Grid, tgt: _Targets, ctx: _Ctx, res: ReadResult, report_date: date | None,
                  region: Region | None) -> None:
    res.kind, res.layout = "targets", "tongling_targets"
    title = " ".join(_cell_text(v) for r in grid[: tgt.header_row] for v in r
                     if v is not None and _target_metric(_cell_text(v))[0] is None)
    title_and_name = title + " " + Path(ctx.file).stem
    title_date, _ = report_date_from_title(title_and_name)
    year: int | None = _year_from_text(title) or _year_from_text(Path(ctx.file).stem) or (report_date or title_date or date.min).year
    if report_date:
        year = report_date.year if not _year_from_text(title) else year
    if year == date.min.year:
        ctx.err("缺少目标年度：请在标题中注明年份（如“2020年”），或上传时填写报告期")
        year = None
    res.year = year
    res.report_date = report_date or title_date or (date(year, 12, 31) if year else None)
    res.frequency = "month"
    header = [_cell_text(v) for v in grid[tgt.header_row]]
    title_factor = H.unit_factor_of(title) or 1.0

    # City context: the region given at load, a city in the title, or the city most region columns belong to.
    city: Region | None = None
    if region is not None:
        city = region if region.level == "city" else region_by_code().get(region.parent_code or "")
    if city is None:
        city = next((c for w in re.findall(r"[\u4e00-\u9fff]{2,4}市", title) if (c := find_city(w))), None)
    if city is None:
        parents = Counter(c.parent_code for j in tgt.region_cols if (c := find_county(header[j])) is not None)
        if parents:
            city = region_by_code().get(parents.most_common(1)[0][0] or "")
    regions: dict[int, Region] = {}
    for j in tgt.region_cols:
        t = clean(header[j])
        if t in _TOTAL_WORDS:
            if city is None:
                ctx.err("无法确定「总目标」所属地市：请在上传时选择地区", tgt.header_row + 1, header[j], header[j])
                continue
            regions[j] = city
            continue
        r = find_county(t, city.code if city else None) or (find_city(t) if city is None else None)
        if r is None:
            ctx.err("无法识别的地区", tgt.header_row + 1, header[j], header[j])
            continue
        regions[j] = r

    leaders: dict[int, str | None] = {}
    depts: dict[int, str | None] = {}
    out: list[tuple[Any, ...]] = []
    for i, row in enumerate(grid):
        if i == tgt.header_row or tgt.label_col >= len(row):
            continue
        label = _cell_text(row[tgt.label_col])
        if not label:
            continue
        metric, factor = _target_metric(label)
        if metric is None:
            continue
        if metric in ("investment_task", "planned_investment") and H.normalise_header(label)[1] is None:
            factor = title_factor  # 单位：亿元、个 above the table: money in 亿元, counts in 个
        cells = [_cell_text(row[j]) if j < len(row) else "" for j in tgt.region_cols]
        if metric in ("leader", "department"):
            store = leaders if metric == "leader" else depts
            for j, text in zip(tgt.region_cols, cells, strict=True):
                store[j] = text or None
            continue
        if metric == "split":
            parts = [p for p in re.split(r"[/、]", H.normalise_header(label)[0].removeprefix("其中")) if p]
            keys = []
            for p in parts:
                k = next((key for lab, key in _SPLIT_LABELS if clean(p).replace("元", "") == lab), None)
                keys.append(k)
            if None in keys:
                ctx.err("无法识别的分档（应为 1-5亿/5-10亿/10亿以上）", i + 1, label, label)
                continue
            for j, text in zip(tgt.region_cols, cells, strict=True):
                if is_empty(text) or j not in regions:
                    continue
                vals = re.split(r"[/、]", clean(text))
                if len(vals) != len(keys):
                    ctx.err(f"分档数值个数应为 {len(keys)} 个（用“/”分隔）", i + 1, header[j], text)
                    continue
                for k, v in zip(keys, vals, strict=True):
                    x, e = parse_number(v)
                    if e or x is None:
                        ctx.err(e or "无法识别为数字", i + 1, header[j], text)
                        continue
                    out.append((k, regions[j], x, i + 1, j))
            continue
        for j, text in zip(tgt.region_cols, cells, strict=True):
            if is_empty(text) or j not in regions:
                continue
            x, e = parse_number(text)
            if e or x is None:
                ctx.err(e or "无法识别为数字", i + 1, header[j], text)
                continue
            if x < 0:
                ctx.err("目标值不能为负数", i + 1, header[j], text)
                continue
            out.append((metric, regions[j], x * factor, i + 1, j))
    seen: set[tuple[str, str]] = set()
    rows: list[tuple[Any, ...]] = []
    for metric, r, x, rownum, j in out:
        if (r.code, metric) in seen:
            ctx.err(f"地区「{r.name}」的指标「{TARGET_METRICS[metric]}」重复填报", rownum, header[j], f"{x:g}")
            continue
        seen.add((r.code, metric))
        rows.append((year, r.code, r.name, metric, round(x, 6), leaders.get(j), depts.get(j), rownum))
    res.frame = pl.DataFrame(rows, schema=TARGETS_SCHEMA, orient="row") if rows else pl.DataFrame(schema=TARGETS_SCHEMA)
    if not rows and not ctx.errors:
        ctx.err("目标任务分解表中没有可识别的指标")
    res.present_fields = []
