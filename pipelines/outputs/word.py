"""The 简报 as an editable Word file (.docx), laid out as GB/T 9704-2012 (党政机关公文格式) sets a 公文.

It prints the content model (outputs/brief_content.py) the PDF prints: the 通报 sentences, the cards and
tables as real Word tables, the charts as the same PNG images, the lists' heads, the 督办单, the
更正说明 and the footnoted formulas. Nothing here computes a figure.

The layout, from the standard: A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm; a grid of
22 lines × 28 characters (docGrid); 标题 in 2号 小标宋 (22 pt), centred; body in 3号 仿宋 (16 pt), the
first line indented two characters; 一级标题 「一、」 in 3号 黑体; page numbers in 4号 (14 pt) 半角
「— 1 —」 under the text, odd pages right and even pages left, one character in.

Faces: the standard's faces are named where this machine has them (fc-list); otherwise the Noto CJK
faces the PDF uses (Noto Serif CJK SC for the body, bold Noto Sans CJK SC for the title when no serif is
installed). The eastAsia attribute (w:rFonts w:eastAsia) carries the Chinese face, so Word uses it for
the Chinese text.
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
from typing import Any

from docx import Document as new_docx
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from pipelines.outputs.brief_content import Cards, Document, Figures, Items, Para, Table

PAGE_W, PAGE_H = 210.0, 297.0  # mm, A4
TOP, BOTTOM, LEFT, RIGHT = 37.0, 35.0, 28.0, 26.0  # mm, GB/T 9704-2012 §5.2.1 (版心 156 mm × 225 mm)
LINES, CHARS = 22, 28  # lines per page, characters per line (§5.2.2)
CHAR_PITCH_PT = (PAGE_W - LEFT - RIGHT) / 25.4 * 72 / CHARS  # 15.79 pt
BODY_PT, TITLE_PT, PAGE_NO_PT, TABLE_PT, SMALL_PT = 16.0, 22.0, 14.0, 10.5, 12.0  # 3号, 2号, 4号, 五号, 小四

TITLE_FACES = ("方正小标宋简体", "方正小标宋_GBK", "FZXiaoBiaoSong-B05S", "华文中宋", "STZhongsong")
BODY_FACES = ("仿宋_GB2312", "FangSong_GB2312", "仿宋", "FangSong", "华文仿宋", "STFangsong")
HEADING_FACES = ("黑体", "SimHei", "方正黑体_GBK")
SONG_FACES = ("宋体", "SimSun")  # the page numbers
SERIF, SANS = "Noto Serif CJK SC", "Noto Sans CJK SC"

LIGHT_RGB = {"red": RGBColor(0xC0, 0x00, 0x00), "yellow": RGBColor(0xB0, 0x78, 0x00),
             "green": RGBColor(0x00, 0x70, 0x00)}
MARK_RGB = RGBColor(0xB0, 0x00, 0x00)  # 演示数据, 重印
NOTE_RGB = RGBColor(0x55, 0x55, 0x55)


@functools.cache
def installed_faces() -> frozenset[str]:
    """The font families this machine has (fontconfig), every name a family goes by."""
    if shutil.which("fc-list") is None:
        return frozenset()
    try:
        out = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    return frozenset(name.strip() for line in out.splitlines() for name in line.split(","))


@functools.cache
def faces() -> dict[str, tuple[str, bool]]:
    """The face (and whether to embolden it) of the title, the body, the section headings and the page
    numbers: the standard's where installed, else the Noto CJK face."""
    have = installed_faces()

    def first(names: tuple[str, ...]) -> str | None:
        return next((n for n in names if n in have), None)

    title = first(TITLE_FACES)
    return {
        "title": (title, False) if title else ((SERIF, True) if SERIF in have else (SANS, True)),
        "body": (first(BODY_FACES) or SERIF, False),
        "heading": (first(HEADING_FACES) or SANS, first(HEADING_FACES) is None),
        "number": (first(SONG_FACES) or SERIF, False),
    }


def _font(run_or_style: Any, face: str, size: float | None = None, bold: bool | None = None,
          colour: RGBColor | None = None) -> None:
    """The face for Latin and Chinese text alike (w:eastAsia is what Word uses for Chinese)."""
    font = run_or_style.font
    font.name = face
    rpr = run_or_style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):  # a theme's face wins over a name
        fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), face)
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    if colour is not None:
        font.color.rgb = colour


_PPR_AFTER_SNAP = ("w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
                   "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId",
                   "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")
_RPR_AFTER_SPACING = ("w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect", "w:bdr",
                      "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout",
                      "w:specVanish", "w:oMath")


def _off_grid(paragraph: Any) -> None:
    """Tables, captions and notes keep their own line height rather than one grid line each."""
    ppr = paragraph._p.get_or_add_pPr()
    snap = OxmlElement("w:snapToGrid")
    snap.set(qn("w:val"), "0")
    ppr.insert_element_before(snap, *_PPR_AFTER_SNAP)  # in the schema's order: Word refuses others
    fmt = paragraph.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing = 1.0


def _page_setup(doc: Any) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(PAGE_W), Mm(PAGE_H)
    section.top_margin, section.bottom_margin = Mm(TOP), Mm(BOTTOM)
    section.left_margin, section.right_margin = Mm(LEFT), Mm(RIGHT)
    section.header_distance = Mm(15)
    section.footer_distance = Mm(BOTTOM - 7 - 6)  # the number's line 7 mm under the text (§7.5)
    sect = section._sectPr
    grid = sect.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sect.append(grid)
    text_h_pt = (PAGE_H - TOP - BOTTOM) / 25.4 * 72
    # 22 lines: a line grid of the text height / 22 (579 twips). The 28 characters are made by the body's
    # character spacing (_styles: 156 mm / 28 = 15.79 pt a character, 3号 less 0.25 pt), not by a
    # character grid (linesAndChars): LibreOffice and WPS set each 16 pt character in two cells of a
    # grid narrower than it, and print 14 characters a line
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(int(text_h_pt / LINES * 20)))
    grid.attrib.pop(qn("w:charSpace"), None)


def _styles(doc: Any) -> None:
    body, _ = faces()["body"]
    normal = doc.styles["Normal"]
    _font(normal, body, BODY_PT)
    normal.paragraph_format.space_before = normal.paragraph_format.space_after = Pt(0)
    spacing = OxmlElement("w:spacing")  # 28 characters a line: 16 pt each, 0.25 pt closer (twentieths)
    spacing.set(qn("w:val"), str(-round((BODY_PT - CHAR_PITCH_PT) * 20 + 0.5)))
    normal.element.get_or_add_rPr().insert_element_before(spacing, *_RPR_AFTER_SPACING)
    # the document defaults too: the grid's character pitch is reckoned from them
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr = defaults.find(qn("w:rPrDefault") + "/" + qn("w:rPr"))
        if rpr is not None:
            fonts = rpr.find(qn("w:rFonts"))
            if fonts is not None:
                for attr in list(fonts.attrib):
                    del fonts.attrib[attr]
                for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
                    fonts.set(qn(attr), body)
            for tag in ("w:sz", "w:szCs"):
                el = rpr.find(qn(tag))
                if el is None:
                    el = OxmlElement(tag)
                    rpr.append(el)
                el.set(qn("w:val"), str(int(BODY_PT * 2)))
    heading = doc.styles["Heading 1"]  # 一、二、… (the navigation pane lists them)
    face, bold = faces()["heading"]
    _font(heading, face, BODY_PT, bold, RGBColor(0, 0, 0))
    heading.font.italic = False
    fmt = heading.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.first_line_indent = Pt(2 * BODY_PT)
    fmt.keep_with_next = True


def _page_numbers(doc: Any) -> None:
    """「— 1 —」, a PAGE field: odd pages right, even pages left, one character in (§7.5)."""
    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    face, _ = faces()["number"]
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT), (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        _off_grid(p)
        p.alignment = align
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            p.paragraph_format.right_indent = Pt(PAGE_NO_PT)
        else:
            p.paragraph_format.left_indent = Pt(PAGE_NO_PT)
        _font(p.add_run("— "), face, PAGE_NO_PT)
        for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
            run = p.add_run()
            _font(run, face, PAGE_NO_PT)
            if kind is not None:
                mark = OxmlElement("w:fldChar")
                mark.set(qn("w:fldCharType"), kind)
                run._r.append(mark)
            elif text == " PAGE ":
                instr = OxmlElement("w:instrText")
                instr.set(qn("xml:space"), "preserve")
                instr.text = text
                run._r.append(instr)
            else:
                run.text = text
        _font(p.add_run(" —"), face, PAGE_NO_PT)


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _no_wrap(cell: Any) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    tcpr.append(OxmlElement("w:noWrap"))


def _keep_row(row: Any) -> None:
    """A row is not split across two pages (the PDF's tr { page-break-inside: avoid })."""
    row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


def _repeat_header(row: Any) -> None:
    _keep_row(row)
    trpr = row._tr.get_or_add_trPr()
    mark = OxmlElement("w:tblHeader")  # after cantSplit, as the schema orders them
    mark.set(qn("w:val"), "true")
    trpr.append(mark)


def _shade(cell: Any, fill: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shd)


def _cell_text(cell: Any, text: str, size: float = TABLE_PT, bold: bool = False, colour: RGBColor | None = None,
               align: Any = None) -> None:
    body, _ = faces()["body"]
    p = cell.paragraphs[0]
    _off_grid(p)
    if align is not None:
        p.alignment = align
    _font(p.add_run(text), body, size, bold, colour)


HALF_PT = TABLE_PT * 0.6  # a half-width character's advance in a table, with room (a Chinese one is two)
CELL_PAD_PT = 14.0  # the cell's left and right margins, and some air


def _column_widths(t: Table) -> list[float]:
    """Widths in pt filling the text width: a column of figures, regions or short words as wide as its
    widest text (never wrapped: 太原市 on one line); the rest (names, reasons) share what is left."""
    total = (PAGE_W - LEFT - RIGHT) / 25.4 * 72
    cols = len(t.header)
    longest = [max([min(_width(t.header[j]), 4)] + [_width(r[j].text) for r in t.rows]) for j in range(cols)]
    fixed = {j: longest[j] * HALF_PT + CELL_PAD_PT for j in range(cols)
             if longest[j] <= 10 or any(r[j].kind in ("num", "region") for r in t.rows)}
    free = [j for j in range(cols) if j not in fixed]
    left = total - sum(fixed.values())
    if not free and left >= 0:  # every column short: each as wide as its text, the spare shared out
        return [fixed[j] * total / (total - left) for j in range(cols)]
    if left < 60 * len(free):  # too many fixed columns: every column by its text
        every = [min(n, 24) + 4 for n in longest]
        return [total * n / sum(every) for n in every]
    need = {j: min(longest[j], 24) for j in free}
    return [fixed[j] if j in fixed else left * need[j] / sum(need.values()) for j in range(cols)]


def _table(doc: Any, t: Table) -> None:
    cols = len(t.header)
    table = doc.add_table(rows=1 + len(t.rows), cols=cols)
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    # columns as wide as their widest text (a name column wider than a 「#」 one), filling the text width
    widths = [Pt(w) for w in _column_widths(t)]
    for j, col in enumerate(table.columns):
        col.width = widths[j]
    header = table.rows[0]
    _repeat_header(header)
    for j, text in enumerate(t.header):
        cell = header.cells[j]
        cell.width = widths[j]
        _shade(cell, "EEEEEE")
        _cell_text(cell, text, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    for i, row in enumerate(t.rows, 1):
        _keep_row(table.rows[i])
        cells = table.rows[i].cells
        for j, c in enumerate(row):
            cells[j].width = widths[j]
            if c.kind in ("num", "region"):
                _no_wrap(cells[j])
            _cell_text(cells[j], c.text, bold=c.kind in ("red", "yellow"), colour=LIGHT_RGB.get(c.kind),
                       align=WD_ALIGN_PARAGRAPH.RIGHT if c.kind == "num" else None)


def _cards(doc: Any, cards: Cards) -> None:
    """The nine key figures as a table of three by three: label, value, note."""
    per_row = 3
    rows = [cards.cards[i:i + per_row] for i in range(0, len(cards.cards), per_row)]
    table = doc.add_table(rows=len(rows), cols=per_row)
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    body, _ = faces()["body"]
    for r, row in enumerate(rows):
        for c, (label, value, note) in enumerate(row):
            cell = table.rows[r].cells[c]
            _cell_text(cell, label, size=SMALL_PT, colour=NOTE_RGB)
            p = cell.add_paragraph()
            _off_grid(p)
            _font(p.add_run(value), body, BODY_PT, True)
            p = cell.add_paragraph()
            _off_grid(p)
            _font(p.add_run(note), body, TABLE_PT, colour=NOTE_RGB)


def _figures(doc: Any, figs: Figures[Any]) -> None:
    body, _ = faces()["body"]
    for caption, png in figs.items:
        p = doc.add_paragraph()
        _off_grid(p)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.keep_with_next = True
        p.add_run().add_picture(io.BytesIO(png), width=Mm(PAGE_W - LEFT - RIGHT))
        p = doc.add_paragraph()
        _off_grid(p)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.space_after = Pt(6)
        _font(p.add_run(caption), body, SMALL_PT)


def _paragraph(doc: Any, para: Para) -> None:
    body, _ = faces()["body"]
    p = doc.add_paragraph()
    if para.kind == "more":
        _off_grid(p)
        _font(p.add_run(para.text), body, SMALL_PT, colour=NOTE_RGB)
        return
    p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    p.paragraph_format.first_line_indent = Pt(2 * BODY_PT)
    p.add_run(para.text)


def _items(doc: Any, items: Items) -> None:
    for i, line in enumerate(items.lines, 1):
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        p.paragraph_format.first_line_indent = Pt(2 * BODY_PT)
        p.add_run(f"{i}．{line}" if items.ordered else f"·{line}")


def _gap(doc: Any) -> None:
    """A little air after a table, off the grid."""
    p = doc.add_paragraph()
    _off_grid(p)
    p.paragraph_format.space_after = Pt(3)


def render_docx(content: Document) -> bytes:
    """The briefing as a .docx file's bytes."""
    doc = new_docx()
    _page_setup(doc)
    _styles(doc)
    _page_numbers(doc)
    doc.core_properties.title = content.title
    doc.core_properties.author = "Kaigong"

    title_face, title_bold = faces()["title"]
    body, _ = faces()["body"]
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run(content.title), title_face, TITLE_PT, title_bold)
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run(content.as_of_line)
    if content.is_demo:
        _font(p.add_run("　演示数据"), body, BODY_PT, True, MARK_RGB)
    if content.reissue:
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(p.add_run(content.reissue), body, SMALL_PT, True, MARK_RGB)
    if content.filter_lines:
        p = doc.add_paragraph()
        _off_grid(p)
        p.paragraph_format.space_after = Pt(6)
        _font(p.add_run("；".join(f"{k}：{v}" for k, v in content.filter_lines)), body, SMALL_PT, colour=NOTE_RGB)

    for section in content.sections:
        doc.add_paragraph(f"{section.number}、{section.title}" if section.number else section.title, style="Heading 1")
        for block in section.blocks:
            if isinstance(block, Para):
                _paragraph(doc, block)
            elif isinstance(block, Items):
                _items(doc, block)
            elif isinstance(block, Cards):
                _cards(doc, block)
                _gap(doc)
            elif isinstance(block, Table):
                _table(doc, block)
                _gap(doc)
            elif isinstance(block, Figures):
                _figures(doc, block)

    p = doc.add_paragraph()
    _off_grid(p)
    p.paragraph_format.space_before = Pt(6)
    p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    _font(p.add_run(content.notes), body, TABLE_PT, colour=NOTE_RGB)

    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
