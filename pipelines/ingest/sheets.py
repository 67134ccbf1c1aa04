"""Bytes → sheets of text cells: CSV (encodings, delimiters), xlsx/xls through calamine, and what calamine
leaves out of an xlsx (merged cells, error cells, fixed-decimal formats, hidden sheets). No domain knowledge."""

from __future__ import annotations

import csv
import html
import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import polars as pl

from pipelines.ingest import guard
from pipelines.ingest import vparse as vp
from pipelines.ingest.result import Ctx, Refuse

MAX_COLUMNS = 500
MAX_ROWS = 200_000
MAX_CELL_CHARS = 20_000  # a page of 企业简介 or 存在问题 is a normal cell; Excel's own limit is 32,767
MAX_BYTES = 100 * 1024 * 1024  # 100 MB: bigger is not a clerk's spreadsheet
HEADER_SCAN_ROWS = 40  # the header is looked for in the first rows only


Grid = list[list[str | None]]


def _column_names(width: int) -> list[str]:
    return [f"c{j}" for j in range(width)]


class Sheet:
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
            return any(any(cell_text(v) for v in r) for r in self.rows)
        if self.frame.width == 0:
            return False
        cells = pl.any_horizontal([vp.strip(pl.col(c)) != "" for c in self.frame.columns]).any()
        # The first rows nearly always answer; the whole sheet only when they are blank.
        return bool(self.frame.head(HEADER_SCAN_ROWS).select(cells).item() or self.frame.select(cells).item())


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
        raise Refuse("无法识别文件编码：请上传 UTF-8 或 GBK 编码的 CSV，或 xlsx/xls 文件") from exc


def _text_grid(data: bytes) -> Grid:
    text = _decode(data)
    sample = text[:20000]
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t") + sample.count("\ufffd")
    if "\x00" in sample or bad > max(5, len(sample) // 100):
        raise Refuse("无法识别的文件格式：不是 CSV 文本，也不是 Excel 文件（请上传 xlsx、xls 或 csv）")
    lines = sample.splitlines()[:50]
    counts = {d: sum(line.count(d) for line in lines) for d in (",", "\t", ";", "|")}
    delim = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    rows: Grid = []
    for rec in csv.reader(io.StringIO(text, newline=""), delimiter=delim):
        rows.append([_unforce(c) if c != "" else None for c in rec])
        if len(rows) > MAX_ROWS + HEADER_SCAN_ROWS:
            raise Refuse(f"文件行数超过上限 {MAX_ROWS:,} 行，请拆分后上传")
    return rows


def _unforce(cell: str) -> str | None:
    """A CSV cell Excel/WPS forced to text (="0123", so that a code keeps its zeros) as its text."""
    if cell.startswith('="') and cell.endswith('"') and len(cell) >= 3:
        cell = cell[2:-1].replace('""', '"')
    return cell if cell != "" else None


def _excel_sheets(data: bytes, fmt: str) -> list[Sheet]:
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
            raise Refuse("Excel 文件已损坏或不完整（无法解压），请重新导出后上传") from zexc
        if bad is not None:
            raise Refuse("Excel 文件已损坏或不完整（无法解压），请重新导出后上传") from exc

    try:
        reader = fastexcel.read_excel(data)
    except Exception as exc:
        refuse_if_broken_zip(exc)
        raise Refuse("无法打开 Excel 文件：文件可能已损坏、不完整或设置了密码") from exc
    book = _Xlsx.of(data) if fmt == "xlsx" else None
    hidden = _hidden_sheets(book, reader)
    out: list[Sheet] = []
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
                raise Refuse(f"工作表「{name}」列数 {width} 超过上限 {MAX_COLUMNS} 列")
        except Refuse:
            raise
        except Exception as exc:
            refuse_if_broken_zip(exc)
            continue
        if df.height > MAX_ROWS + HEADER_SCAN_ROWS:
            raise Refuse(f"工作表「{name}」行数超过上限 {MAX_ROWS:,} 行，请拆分后上传")
        df = df.rename(dict(zip(df.columns, _column_names(df.width), strict=True)))
        if book is not None and (xml := book.sheet_xml(idx)) is not None:
            # calamine's frame starts at the first column holding a value: an empty column A
            # shifts every cell one column left of its letter
            off = _first_value_col(xml)
            df = _put_cells(df, {(r, c - off): v for (r, c), v in _error_cells(xml).items() if c >= off})
            df = _put_cells(df, {(r, c - off): v for (r, c), v in _shown_decimals(xml, book.decimals).items()
                                 if c >= off}, replace=True)
            df = _fill_merged(df, [(r1, c1 - off, r2, c2 - off) for r1, c1, r2, c2 in _merged_ranges(xml) if c1 >= off])
        out.append(Sheet(name, frame=df))
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


def open_sheets(data: bytes) -> list[Sheet]:
    if not data:
        raise Refuse("文件为空")
    if len(data) > MAX_BYTES:
        raise Refuse(f"文件大小超过上限 {MAX_BYTES // 1024 // 1024} MB")
    fmt = _sniff(data)
    if fmt == "html":
        raise Refuse("该文件是网页（HTML）格式的表格，不是真正的 Excel 文件：请在 Excel 中“另存为” xlsx 后上传")
    try:  # what it would unpack to, before anything is decoded
        guard.check(data, fmt, inflate=guard.INFLATE_IN_READER)
    except guard.Refused as exc:
        raise Refuse(str(exc)) from exc
    if fmt in ("xlsx", "xls"):
        return _excel_sheets(data, fmt)
    return [Sheet("", rows=_text_grid(data))]


def cell_text(v: Any) -> str:
    return "" if v is None else str(v).strip()


def check_cells(sheet: Sheet, ctx: Ctx) -> None:
    if sheet.width > MAX_COLUMNS:
        raise Refuse(f"文件列数 {sheet.width} 超过上限 {MAX_COLUMNS} 列")
    if sheet.height > MAX_ROWS + HEADER_SCAN_ROWS:
        raise Refuse(f"文件行数超过上限 {MAX_ROWS:,} 行，请拆分后上传")
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
