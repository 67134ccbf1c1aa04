"""What a grid is: its header rows and what each column means, the title's report date, rhythm, tier and year,
the rows that are notes, subtotals or sections, and project cards (附件1 as printed)."""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from pipelines.ingest import headers as H
from pipelines.ingest import vparse as vp
from pipelines.ingest.parse import clean
from pipelines.ingest.sheets import HEADER_SCAN_ROWS, Grid, cell_text
from pipelines.vocab.schema import REPORT_FIELDS

# ---- header recognition ------------------------------------------------------------------------


def _display(v: Any) -> str:
    """A header as written, with whitespace and newlines taken out."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", cell_text(v)))


def _row_score(row: list[Any]) -> int:
    return sum(1 for v in row if v is not None and len(cell_text(v)) <= 40 and H.is_headerish(cell_text(v)))


@dataclass
class Header:
    top: int  # 0-based index of the first header row
    rows: int  # 1 or 2 header rows
    names: list[str]  # per column: the header as written (sub-header if any)
    groups: list[str | None]  # per column: group header of a two-row header


def find_header(grid: Grid) -> Header | None:
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
    return Header(top, rows, names, groups)


# ---- report date, year, frequency, tier from the title -------------------------------------------

# 2020年3月27日, 2020.3.27, 2020-03-27, 2020/3/27: one kind of separator (2022年1-5月 is a period, not 5 January).
_FULL_DATE = re.compile(r"(\d{4})\s*(?:年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?|([.\-/])\s*(\d{1,2})\s*\4\s*(\d{1,2})(?!\d))")
_YEAR_MONTH = re.compile(r"(\d{4})\s*年\s*(?:1?\s*[-—~～至到]\s*)?(\d{1,2})\s*月(?!\s*\d{1,2}\s*[日号])")
_QUARTER = re.compile(r"(\d{4})\s*年\s*(?:第\s*)?([一二三四1-4])\s*季度")
_HALF = re.compile(r"(\d{4})\s*年\s*(上半年|全年)")
_SIGN_OFF_DATE = re.compile(r"(填报|填表|报送|上报|制表|打印|导出)(日期|时间)\s*[:：]?\s*"
                            r"(\d{4}\s*[年.\-/]\s*\d{1,2}\s*[月.\-/]?\s*(\d{1,2}\s*[日号]?)?)?")
_QNUM = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
# The period as clerks write it without its year (the year is elsewhere in the title, or in the file name):
# 截至5月27日 · 截至5月底 / 5月末 / 5月份 / 1-5月 · 第二季度 / 二季度 · 上半年 / 全年.
_MONTH_NO = r"(\d{1,2}|十[一二]?|[一二三四五六七八九])"
_CN_MONTH = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10, "十一": 11,
             "十二": 12}
_DAY_NO_YEAR = re.compile(r"(?:截至|截止|至)\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_MONTH_NO_YEAR = re.compile(
    r"(?:截至|截止)\s*" + _MONTH_NO + r"\s*月\s*(?:底|末|份)?(?!\s*\d)"
    r"|(?<!\d)(?:1|一)\s*[-—~～至到]\s*" + _MONTH_NO + r"\s*月"
    r"|(?<![\d年\-—~～至到])" + _MONTH_NO + r"\s*月\s*(?:份|底|末)")
_QUARTER_NO_YEAR = re.compile(r"(?:第\s*)?([一二三四1-4])\s*季度")
_HALF_NO_YEAR = re.compile(r"上半年|全年")


def _month_end(y: int, m: int) -> date | None:
    if not 1 <= m <= 12:
        return None
    return date(y, m, calendar.monthrange(y, m)[1])


def _month_no(text: str) -> int:
    return int(text) if text.isdigit() else _CN_MONTH.get(text, 0)


def report_date_from_title(text: str, year: int | None = None) -> tuple[date | None, str | None]:
    """(report date, frequency it implies) from title text: 截至2020年3月27日 / 2020年3月 / 2020年一季度; a period
    written without its year (截至5月底, 1-5月, 5月份, 二季度, 上半年) in the text's year, else in `year`."""
    d, freq, _ = report_period_in(text, year)
    return d, freq


def report_period_in(text: str, year: int | None = None) -> tuple[date | None, str | None, str]:
    """report_date_from_title with the words the date was read from ("" when none)."""
    t = unicodedata.normalize("NFKC", text)
    # The day a form was filled in or sent (填报日期：2020年3月30日) is not the period it reports on.
    t = _SIGN_OFF_DATE.sub(" ", t)
    m = re.search(r"(?:截至|截止|至)\s*" + _FULL_DATE.pattern, t) or _FULL_DATE.search(t)
    if m:
        month, day = (m.group(2), m.group(3)) if m.group(2) else (m.group(5), m.group(6))
        try:
            return date(int(m.group(1)), int(month), int(day)), None, m.group(0)
        except ValueError:
            pass
    m = _QUARTER.search(t)
    if m:
        return _month_end(int(m.group(1)), _QNUM[m.group(2)] * 3), "quarter", m.group(0)
    m = _HALF.search(t)
    if m:
        return _month_end(int(m.group(1)), 6 if m.group(2) == "上半年" else 12), None, m.group(0)
    m = _YEAR_MONTH.search(t)
    if m:
        return _month_end(int(m.group(1)), int(m.group(2))), "month", m.group(0)
    y = year_from_text(t) or year
    if y is None:
        return None, None, ""
    m = _DAY_NO_YEAR.search(t)
    if m:
        try:
            return date(y, int(m.group(1)), int(m.group(2))), None, m.group(0)
        except ValueError:
            pass
    m = _QUARTER_NO_YEAR.search(t)
    if m:
        return _month_end(y, _QNUM[m.group(1)] * 3), "quarter", m.group(0)
    m = _MONTH_NO_YEAR.search(t)
    if m:
        month = _month_no(next(g for g in m.groups() if g))
        if (d := _month_end(y, month)) is not None:
            return d, "month", m.group(0)
    m = _HALF_NO_YEAR.search(t)
    if m:
        return _month_end(y, 6 if m.group(0) == "上半年" else 12), None, m.group(0)
    return None, None, ""


_WEEK_WORDS = re.compile(r"周报|第\d+周|第[一二三四五六七八九十]+周|每周|本周")
_QUARTER_WORDS = re.compile(r"季报|季度")
_MONTH_WORDS = re.compile(r"月报|月度|\d{1,2}月份|[一二三四五六七八九十]月份|截[至止]\d{1,2}月(底|末)?(?!\d)"
                          r"|(?<!\d)1[-—~～至到]\d{1,2}月|\d{1,2}月(底|末)|本月")


def frequency_words(text: str) -> tuple[str | None, str]:
    """(frequency, the words that say it) from a title or file name: 周报 / 第N周 → week; 季报 / 季度 → quarter;
    月报 / X月份 / 截至X月底 / 1-X月 / X月末 → month (the contract's order: a weekly report of 1-5月 is weekly)."""
    t = clean(text)
    for freq, words in (("week", _WEEK_WORDS), ("quarter", _QUARTER_WORDS), ("month", _MONTH_WORDS)):
        m = words.search(t)
        if m:
            return freq, m.group(0)
    return None, ""


def frequency_from_title(text: str) -> str | None:
    return frequency_words(text)[0]


def frequency_from_date(d: date) -> tuple[str, str]:
    """(frequency, why) from the report date's place in the calendar: a Friday → week; the last day of a
    quarter's last month → quarter; the last day of any other month → month; else week (the default)."""
    month_end = d.day == calendar.monthrange(d.year, d.month)[1]
    if d.weekday() == 4:
        return "week", f"报告期 {d} 为周五"
    if month_end and d.month % 3 == 0:
        return "quarter", f"报告期 {d} 为季末"
    if month_end:
        return "month", f"报告期 {d} 为月末（非周五）"
    return "week", f"报告期 {d} 既非周五也非月末，按周报"


def year_from_text(text: str) -> int | None:
    m = re.search(r"(20\d{2})\s*年", unicodedata.normalize("NFKC", text))
    return int(m.group(1)) if m else None


def tier_from_title(text: str) -> tuple[str | None, bool]:
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
GROUP = re.compile(r"[(（]\s*(共\s*)?\d+\s*个(项目)?\s*[)）]$")
# The sign-off words of a form's footer (填表单位（盖章）：… 填表人：… 联系电话：… 填表日期：…).
_SIGN_OFF = ("填报人", "填表人", "审核人", "制表人", "制表", "负责人", "单位负责人", "统计负责人", "联系人",
             "联系电话", "联系方式", "电话", "手机", "填报单位", "填表单位", "报送单位", "制表单位", "填报日期",
             "填表日期", "报送日期", "报送时间", "填报时间", "制表日期", "分管领导", "主管领导", "审核")
NOTE = re.compile(
    r"^(注|备注|说明|填表说明|填报说明|附注)[:：\d.、]|^(注|备注)$|^(" + "|".join(_SIGN_OFF)
    + r")([(（][^)）]{0,6}[)）])?[:：]"
)
# Every note word's first character: a vectorised test that lets through all that NOTE can match.
_NOTE_FIRST = "^[注备说附" + "".join(sorted({w[0] for w in _SIGN_OFF})) + "]"
SECTION_PREFIX = re.compile(r"^([一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]|\d+[、.．])")


def is_group(text: str) -> bool:
    return bool(GROUP.search(text)) and len(GROUP.sub("", text)) <= 20


def is_subtotal(text: str) -> bool:
    t = clean(text)
    return bool(t) and len(t) <= 24 and bool(_SUBTOTAL.search(t))


def section_text(text: str) -> str:
    t = SECTION_PREFIX.sub("", clean(text))
    return re.sub(r"[(（].*?[)）]$", "", t).removesuffix("项目").removesuffix("类")


def maybe_subtotal(v: pl.Expr) -> pl.Expr:
    """A vectorised superset of is_subtotal: every _SUBTOTAL match holds one of these words."""
    dense = vp.dense(v)
    return (v != "") & (~vp.is_safe(v) | ((dense.str.len_chars() <= 24) & dense.str.contains("其中|合计|小计|总计|共计|累计|汇总")))


def maybe_note(v: pl.Expr) -> pl.Expr:
    """A vectorised superset of NOTE.match(clean(v)): every note word starts with one of these characters."""
    return ~vp.is_safe(v) | vp.dense(v).str.contains(_NOTE_FIRST)


# ---- columns: what each header means ---------------------------------------------------------


@dataclass
class Col:
    idx: int
    name: str  # as written
    key: str  # field or reader key
    factor: float  # money unit → 万元


def infer_year(keys: list[tuple[str, int | None]]) -> int | None:
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


def resolve_year_key(key: str, year: int | None, y: int | None) -> str | None:
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


def layout_of(cols: dict[str, Col], hdr: Header, title: str) -> str:
    keys = set(cols)
    exact_zh = sum(1 for n in hdr.names if n in {f.zh for f in REPORT_FIELDS})
    if exact_zh >= 12 and "stage" in keys:
        return "standard"
    if H.START_COMPLETION in keys:
        return "tongling_progress"
    # a 台账 may name each project's 责任单位 too (issue 31): its own columns say it is the ledger
    if keys & {"company_intro", "highlights", "benefits", "plan_next_year", "plan_year_after"}:
        return "ledger"
    if "lead_unit" in keys or ("谋划" in title and "stage" not in keys and H.STAGE_OR_TYPE not in keys):
        return "tongling_planning"
    if keys & {H.START_TIME, "not_started_reason", "covid_affected"}:
        return "shanxi_weekly" if hdr.rows == 2 else "flat"
    return "generic"


# ---- project cards (附件1 台账 as printed) ---------------------------------------------------


CARD_SCAN_ROWS = 1_000  # cards are short; several stacked on one sheet are read to the last


@dataclass
class Card:
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
    return SECTION_PREFIX.sub("", clean(text)).rstrip(":：").strip()


# The blank 附件1's hint left in a cell: 「(格式为: 20XX.XX)」.
TEMPLATE_HINT = re.compile(r"^[(（]?\s*格式为\s*[:：].*$|^.*20XX.*$", re.I)


def find_card(grid: Grid) -> Card | None:
    """The sheet as a project card, or None: a 项目名称 label with its value beside it, at least five
    labels, and no row that reads as a table header (five or more column names)."""
    fields: list[tuple[str, Any, int]] = []
    first_label_row: int | None = None
    for r, row in enumerate(grid):
        in_row = 0
        j = 0
        while j < len(row):
            text = cell_text(row[j])
            label = _card_label(text) if text else ""
            if not label or H.header_key(label) is None:
                j += 1
                continue
            in_row += 1
            value, k = None, j + 1
            while k < len(row):  # the value: the next filled cell, unless it is the next label
                nxt = cell_text(row[k])
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
    if not any(_is_name_label(label) and value is not None and cell_text(value) for label, value, _ in fields):
        return None
    return Card(grid[:first_label_row], fields)


def split_cards(card: Card) -> list[Card]:
    """Cards stacked on one sheet, one after another: a new card at each 项目名称 label."""
    starts = [k for k, (label, _, _) in enumerate(card.fields) if _is_name_label(label)]
    if len(starts) <= 1:
        return [card]
    starts[0] = 0  # labels above the first 项目名称 belong to the first card
    return [Card(card.title_rows, card.fields[a:b]) for a, b in zip(starts, [*starts[1:], len(card.fields)], strict=True)]
