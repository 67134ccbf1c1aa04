"""Pure cell parsers: each takes one cell as a clerk wrote it and returns (value, Chinese error or None).

A cell arrives as str (CSV, or an Excel cell read as text), int/float, bool, date or datetime.
Empty-looking cells (``""``, ``—``, ``-``, ``/``, ``无`` …) are None with no error: "not stated".
Money is returned in 万元 (10,000 yuan).
"""

from __future__ import annotations

import calendar
import math
import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import Any

from pipelines.vocab.schema import STAGES, TIERS

Parsed = tuple[Any, str | None]

# Cells that mean "nothing stated" in every kind of column. `#N/A` is here for text columns only:
# in a money, number, date or yes/no column it is an Excel error value, refused (excel_error below).
EMPTY_TOKENS = frozenset({"", "-", "--", "—", "——", "－", "/", "\\", "无", "暂无", "空", "null", "none", "nan", "n/a", "na", "#n/a"})

# Excel's error values, as a formula cell shows them (and as a CSV exported from Excel writes them).
EXCEL_ERRORS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!")
_EXCEL_ERROR_KEYS = {e.lower(): e for e in EXCEL_ERRORS}

_WS = re.compile(r"\s+")
_EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0 (with the 1900 leap-year bug folded in)
SERIAL_MIN, SERIAL_MAX = 20000, 80000  # serial numbers we accept as dates: 1954-10-03 … 2119-01-10


def clean(value: Any) -> str:
    """A cell as text: NFKC (full-width → half-width), every whitespace removed."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return _WS.sub("", unicodedata.normalize("NFKC", str(value)))


def is_empty(value: Any) -> bool:
    """True for a cell that states nothing (blank, dash, slash, 无)."""
    return clean(value).lower() in EMPTY_TOKENS


def excel_error(value: Any) -> str | None:
    """The Excel error value (`#DIV/0!`, `#REF!`, `#N/A` …) a text cell holds, in Excel's spelling; else None."""
    if not isinstance(value, str):
        return None
    return _EXCEL_ERROR_KEYS.get(clean(value).lower())


def excel_error_message(error: str) -> str:
    return f"单元格为 Excel 错误值 {error}（公式出错），请修正公式或填写数值"


# ---- money (万元) ----------------------------------------------------------------------------

_NUM = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
# Thousands separators (`,`, and `，` after NFKC) group exactly three digits: 12,500 and 1,234,567.5.
_GROUPED = re.compile(r"^[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d*)?$")
_MONEY_UNITS = (("亿元", 10_000.0), ("亿", 10_000.0), ("万元", 1.0), ("万", 1.0), ("元", 0.0001))
_BAD_GROUPING = "千分位逗号位置不对（逗号应每三位数字一个，如 12,500、1,234,567.5）"


def parse_number(value: Any) -> Parsed:
    """A plain number (counts, targets): thousands separators and full-width digits accepted."""
    if isinstance(value, bool):
        return None, "无法识别为数字"
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return None, "无法识别为数字"
        return float(value), None
    if (error := excel_error(value)) is not None:
        return None, excel_error_message(error)
    t = clean(value)
    bare = t.replace(",", "")
    if bare.lower() in EMPTY_TOKENS:
        return None, None
    if not _NUM.match(bare):
        return None, "无法识别为数字"
    if bare != t and not _GROUPED.match(t):
        return None, _BAD_GROUPING
    x = float(bare)
    return (x, None) if math.isfinite(x) else (None, "无法识别为数字")


def parse_money(value: Any, factor: float = 1.0) -> Parsed:
    """Money in 万元; `factor` is the column's unit (10000 for a 亿元 header); an explicit 亿/万 in the cell wins."""
    if isinstance(value, str):
        if (error := excel_error(value)) is not None:
            return None, excel_error_message(error)
        t = clean(value)
        if t.replace(",", "").lower() in EMPTY_TOKENS:
            return None, None
        t = re.sub(r"^(约|共计|共|计|合计)", "", t)
        for unit, unit_factor in _MONEY_UNITS:
            if t.endswith(unit) and len(t) > len(unit):
                t, factor = t[: -len(unit)], unit_factor
                break
        value = t
    x, err = parse_number(value)
    if err or x is None:
        return None, err
    if x < 0:
        return None, "投资额不能为负数"
    return round(x * factor, 6), None


# ---- dates ---------------------------------------------------------------------------------

_TIME_TAIL = re.compile(r"(T|\s)?\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
# A date at the start of a text, and what may follow its month: 份/初 (the month: its first day),
# 底/末 (the month's last day), 上旬/中旬/下旬 (not a date: refused).
_DATE_HEAD = re.compile(r"^(\d{4})[.\-/年](\d{1,2})(?:[.\-/月](\d{1,2})[日号]?|月(份|初|底|末|上旬|中旬|下旬)?)?")
_YEAR_END_HEAD = re.compile(r"^(\d{4})年年?([底末])")  # 2020年底, 2020年末: 31 December
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})?$")
_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")
_MONTH_ONLY = re.compile(r"^\d{1,2}月")
_MONTH_END = ("底", "末")
_TEN_DAYS = ("上旬", "中旬", "下旬")
_BY_END = ("", "前", "以前", "之前")  # 3月底前: by the end of March, the last day still
# Words after a date that make it no date (2020年3月前: before March; 2020年3月以后: some time after).
_VAGUE_AFTER = ("以前", "之前", "以后", "之后", "前后", "左右", "以内", "之内", "前", "后", "中", "内")
TEN_DAYS_MESSAGE = "上旬、中旬、下旬不是确切日期：请填写具体日期（如 2020年3月15日）或月份（如 2020年3月）"
_DATE_FORMATS = "（应为 2020.03、2020年3月15日、2020-03-15 等格式）"


def _make_date(y: int, m: int, d: int | None) -> Parsed:
    try:
        return date(y, m, d or 1), None
    except ValueError:
        return None, "日期无效（月份或日期超出范围）"


def _month_date(y: int, m: int, d: int | None, qualifier: str | None, planned: bool = False) -> Parsed:
    """A date from its parts and the word after the month: 底/末 is the month's last day, 上/中/下旬 no date;
    a month alone (no day, or 份) is its first day, or its last day for a planned date (planned)."""
    if qualifier in _TEN_DAYS:
        return None, TEN_DAYS_MESSAGE
    if qualifier in _MONTH_END or (planned and d is None and qualifier in (None, "份")):
        if not 1 <= m <= 12 or not 1 <= y <= 9999:
            return None, "日期无效（月份或日期超出范围）"
        return date(y, m, calendar.monthrange(y, m)[1]), None
    return _make_date(y, m, d)


def _trailing_message(head: str, rest: str) -> str:
    return f"日期「{head}」后面多了“{rest}”，不是确切日期" + _DATE_FORMATS


def excel_serial_to_date(serial: float) -> date:
    """An Excel serial day number (1900 system) as a date; the fraction (time of day) is dropped."""
    return _EXCEL_EPOCH + timedelta(days=int(serial))


def parse_date(value: Any, planned: bool = False) -> Parsed:
    """A date: 2020.03, 2020年3月15日, 2020-03-15, 20200315, Excel cells and serials; month only → day 1
    (the month's last day for a planned date: 「计划6月」 has the whole month), 2020年3月底/月末 → the
    month's last day, 2020年底/年末 → 31 December; 上旬/中旬/下旬 and other words after a date
    (2020年3月前, 2020年3月以后) are refused."""
    if isinstance(value, datetime):
        return value.date(), None
    if isinstance(value, date):
        return value, None
    if isinstance(value, bool):
        return None, "无法识别为日期"
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return None, "无法识别为日期"
        if SERIAL_MIN <= value <= SERIAL_MAX:
            return excel_serial_to_date(value), None
        # A numeric cell like 2020.03 (typed as a number): read its text. 2020.1 is January —
        # a number cannot say whether the clerk typed 2020.10; the text cell `2020.10` is October.
        value = repr(value) if isinstance(value, float) else str(value)
    if (error := excel_error(value)) is not None:
        return None, excel_error_message(error)
    raw = unicodedata.normalize("NFKC", str(value)).strip()
    t = _TIME_TAIL.sub("", raw).strip()
    t = _WS.sub("", t)
    if t.lower() in EMPTY_TOKENS:
        return None, None
    if _SERIAL.match(t) and SERIAL_MIN <= float(t) <= SERIAL_MAX:
        return excel_serial_to_date(float(t)), None
    m = _DATE_HEAD.match(t)
    if m:
        rest, qualifier = t[m.end() :], m.group(4)
        if qualifier in _MONTH_END and rest in _BY_END:
            rest = ""
        if not rest or qualifier in _TEN_DAYS:
            return _month_date(int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None, qualifier,
                               planned)
        if rest in _VAGUE_AFTER:
            return None, _trailing_message(m.group(0), rest)
    m = _COMPACT.match(t)
    if m:
        return _month_date(int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None, None, planned)
    m = _YEAR_END_HEAD.match(t)
    if m:
        rest = t[m.end() :]
        if rest in _BY_END:
            return _month_date(int(m.group(1)), 12, None, "底")
        if rest in _VAGUE_AFTER:
            return None, _trailing_message(m.group(0), rest)
    if re.fullmatch(r"\d{4}年?", t):
        return None, "只有年份，缺少月份（应为 2020.03、2020年3月 等格式）"
    if _MONTH_ONLY.match(t):
        return None, "缺少年份（应为 2020年3月 等格式）"
    return None, "无法识别为日期" + _DATE_FORMATS


# ---- stages and build types ----------------------------------------------------------------

UNSTARTED = "未开工"  # resolved per row by resolve_unstarted(): the project's planned type

BUILD_TYPES: dict[str, str] = {
    "新建": "新建",
    "扩建": "扩建",
    "改建": "改建",
    "改扩建": "改扩建",
    "技术改造": "技术改造",
    "技改": "技术改造",
    "技术改造项目": "技术改造",
    "迁建": "迁建",
    "搬迁改造": "迁建",
    "新建项目": "新建",
    "扩建项目": "扩建",
    "改建项目": "改建",
    "改扩建项目": "改扩建",
    "技改项目": "技术改造",
    "迁建项目": "迁建",
}

_STAGE_WORDS: dict[str, str] = {
    "储备": "储备",
    "储备项目": "储备",
    "谋划": "储备",
    "谋划项目": "储备",
    "谋划储备": "储备",
    "前期": "前期",
    "前期工作": "前期",
    "前期项目": "前期",
    "前期阶段": "前期",
    "办理前期手续": "前期",
    "新开工": "新开工",
    "新开工项目": "新开工",
    "拟建": "新开工",
    "拟开工": "新开工",
    "计划新开工": "新开工",
    "计划开工": "新开工",
    "新建": "新开工",  # only when the column is a stage column; a 建设类型 column sends it to build_type
    "续建": "续建",
    "续建项目": "续建",
    "在建": "在建",
    "在建项目": "在建",
    "已开工": "在建",
    "已复工": "在建",
    "开工": "在建",
    "复工": "在建",
    "已开复工": "在建",
    "正在建设": "在建",
    "施工中": "在建",
    "建设中": "在建",
    "开工建设": "在建",
    "竣工": "竣工",
    "已竣工": "竣工",
    "完工": "竣工",
    "已完工": "竣工",
    "建成": "竣工",
    "已建成": "竣工",
    "竣工项目": "竣工",
    "投产": "投产",
    "已投产": "投产",
    "部分投产": "投产",
    "试生产": "投产",
    "试运行": "投产",
    "投产项目": "投产",
    "达产": "投产",
    "已达产": "投产",
    "未开工": UNSTARTED,
    "未开复工": UNSTARTED,
    "尚未开工": UNSTARTED,
    "未复工": UNSTARTED,
    "停工": "在建",  # under construction, stopped: not (re)started (the stage rule reads the word too)
    "停建": "在建",
    "竣工投产": "投产",
    "已竣工投产": "投产",
    "建成投产": "投产",
    "已建成投产": "投产",
    "复工复产": "在建",
    "已复工复产": "在建",
    "续建中": "续建",
    "前期推进": "前期",
    "前期准备": "前期",
}

# Longer free text: the first word found decides (negated phrases are handled by 未/尚未 above).
_STAGE_CONTAINS: tuple[tuple[str, str], ...] = (
    ("未开工", UNSTARTED),
    ("试生产", "投产"),
    ("投产", "投产"),
    ("竣工", "竣工"),
    ("完工", "竣工"),
    ("建成", "竣工"),
    ("续建", "续建"),
    ("施工", "在建"),
    ("在建", "在建"),
    ("已开工", "在建"),
    ("新开工", "新开工"),
    ("前期", "前期"),
    ("储备", "储备"),
    ("谋划", "储备"),
)


def parse_stage(value: Any, *, type_column: bool = False) -> tuple[str | None, str | None, str | None]:
    """(stage, build_type, error). In a 建设类型 column (type_column) 新建/扩建/技改… are build types."""
    t = clean(value).replace("·", "")
    if t.lower() in EMPTY_TOKENS:
        return None, None, None
    if type_column and t in BUILD_TYPES:
        return None, BUILD_TYPES[t], None
    if t in STAGES:
        return t, None, None
    if t in _STAGE_WORDS:
        return _STAGE_WORDS[t], None, None
    if t in BUILD_TYPES:  # a stage column holding a build type: still not a stage
        return None, BUILD_TYPES[t], None
    if len(t) <= 12 and not t.startswith(("拟", "计划", "预计")):
        for word, stage in _STAGE_CONTAINS:
            if word in t:
                return stage, None, None
    return None, None, f"无法识别的建设状态（应为 {'/'.join(STAGES)} 之一）"


def is_stage_word(value: Any) -> bool:
    """A cell that is a stage word as written (在建, 已开工, 续建项目, 未开工 …), not a phrase that contains one."""
    t = clean(value).replace("·", "")
    return t in STAGES or t in _STAGE_WORDS


def resolve_unstarted(planned_start: date | None, year: int | None) -> str:
    """`未开工` becomes the planned type: 新开工 when a planned start falls in the year, else 前期."""
    if planned_start is not None and year is not None and planned_start.year == year:
        return "新开工"
    return "前期"


# ---- booleans ------------------------------------------------------------------------------

_TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "✔", "有", "已入统", "已入库", "入统", "入库", "已纳统", "纳统", "已", "对"}
_FALSE = {"否", "n", "no", "false", "0", "×", "✗", "✘", "x", "未入统", "未入库", "不是", "未纳统", "未", "没有", "无"}


def parse_bool(value: Any) -> Parsed:
    """是/否, Y/N, √/×, 有/无, 已入统/未入统, 已入库/未入库 …; 「是（已入库）」 reads its first word."""
    if isinstance(value, bool):
        return value, None
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value), None
    if (error := excel_error(value)) is not None:
        return None, excel_error_message(error)
    t = clean(value).lower().rstrip("。.！!")
    if t in ("无",):
        return False, None
    if t in EMPTY_TOKENS:
        return None, None
    if t in _TRUE:
        return True, None
    if t in _FALSE:
        return False, None
    head = re.split(r"[,，;；(（:：、]", t, maxsplit=1)[0]
    if head in _TRUE:
        return True, None
    if head in _FALSE:
        return False, None
    # 是否受疫情影响 answered in words: 不受影响 / 未受影响 / 无影响 / 没有影响; 受影响 / 有影响 / 影响较大
    if re.fullmatch(r"(不|未|没|无|没有|基本不|基本没有|暂未)(受到?)?(任何)?(影响)(的)?", t):
        return False, None
    if re.fullmatch(r"(已|有|受到?|存在)(一定|较大|较小|严重|轻微)?(的)?影响.{0,8}|影响(较大|较小|严重|轻微|不大)?", t):
        return (False, None) if t == "影响不大" else (True, None)
    if t.startswith(("已入", "已纳")):
        return True, None
    if t.startswith(("未入", "未纳", "尚未")):
        return False, None
    return None, "无法识别为是/否"


# ---- tiers ---------------------------------------------------------------------------------


def parse_tier(value: Any) -> Parsed:
    """A tier of schema.TIERS from 新兴/技改/千项/其他 and their variants; 「省级双百」 alone is ambiguous."""
    t = clean(value).replace("·", "").replace("・", "").replace("•", "").replace(".", "")
    if t.lower() in EMPTY_TOKENS:
        return None, None
    if t in TIERS:
        return t, None
    if "千项" in t or t.startswith("市级") or t in ("市", "市重点"):
        return "市级千项", None
    if "新兴" in t:
        return "省级双百·新兴", None
    if "技改" in t or "技术改造" in t:
        return "省级双百·技改", None
    if t in ("其他", "其它", "一般", "其他项目"):
        return "其他", None
    if "双百" in t or t.startswith("省级"):
        return None, "层级不明确：省级双百项目须注明「新兴」或「技改」"
    return None, f"无法识别的层级（应为 {'/'.join(TIERS)} 之一）"
