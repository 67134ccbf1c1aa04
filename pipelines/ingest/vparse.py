"""Column-wise cell parsing: what parse.py answers for each cell, for a whole column at once.

A column is decided in two parts:

- a vectorised path (Polars expressions) for the shapes nearly every real column is made of:
  plain numbers (`12500`, `12,500`, `1.2亿`), dates written `2020-03-15`, `2020.3`, `2020年3月`,
  Excel serial numbers, and text that is plainly not one of the "nothing stated" tokens;
- a slow path: every other distinct value goes through the parse.py function itself, once.

The vectorised path takes a value only where its answer is provably the per-cell one, so the values
and the Chinese error messages are exactly those of parse.py (tests/test_vparse.py checks that the
two agree). Cells arrive as text already stripped of surrounding whitespace, "" for an empty cell.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from pipelines.ingest.parse import (
    _EXCEL_EPOCH,
    EMPTY_TOKENS,
    SERIAL_MAX,
    SERIAL_MIN,
    clean,
    is_empty,
    parse_bool,
    parse_date,
    parse_money,
)

# Python's str.strip()/str.isspace() whitespace (Polars' default strip is Unicode White_Space,
# which lacks \x1c-\x1f).
PY_WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + (
    "\u2028\u2029\u202f\u205f\u3000"
)


def strip(e: pl.Expr) -> pl.Expr:
    """A cell as the reader sees it: surrounding whitespace removed (as str.strip does), "" when empty."""
    return e.str.strip_chars(PY_WHITESPACE).fill_null("")


# ---- characters whose NFKC form is known ----------------------------------------------------------
# A string made only of these normalises character by character: each is its own NFKC form, or
# becomes one ASCII character (full-width forms, the ideographic space). None of them combines
# with a neighbour. So on such a string clean() (NFKC, whitespace removed) is a character map,
# which Polars can do; any other string goes to the slow path.

_SAFE_CANDIDATES = (
    (0x09, 0x0D), (0x20, 0x7E), (0xA0, 0xA0), (0xB7, 0xB7), (0xD7, 0xD7), (0x2014, 0x2014), (0x2018, 0x201D),
    (0x3000, 0x303F), (0x4E00, 0x9FFF), (0xFF01, 0xFF5E),
)


def _safe_map() -> dict[str, str]:
    out: dict[str, str] = {}
    for lo, hi in _SAFE_CANDIDATES:
        for cp in range(lo, hi + 1):
            c = chr(cp)
            n = unicodedata.normalize("NFKC", c)
            if unicodedata.combining(c) or not (n == c or (len(n) == 1 and ord(n) < 128)):
                continue
            out[c] = n
    return out


SAFE_MAP = _safe_map()
_SAFE_SPACE = "".join(c for c, n in SAFE_MAP.items() if n.isspace())  # removed by clean()
_SAFE_FOLD = {c: n for c, n in SAFE_MAP.items() if n != c and not n.isspace()}  # full-width → ASCII


def _char_class(chars: Iterable[str]) -> str:
    """A regex character class (Rust syntax) holding exactly these characters."""
    cps = sorted({ord(c) for c in chars})
    parts: list[str] = []
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"\\x{{{cps[i]:X}}}" + (f"-\\x{{{cps[j]:X}}}" if j > i else ""))
        i = j + 1
    return "[" + "".join(parts) + "]"


_SAFE_ONLY = "^" + _char_class(SAFE_MAP) + "*$"
_SAFE_SPACE_CLASS = _char_class(_SAFE_SPACE)


def is_safe(e: pl.Expr) -> pl.Expr:
    """True where the text is made only of characters whose NFKC form is known."""
    return e.str.contains(_SAFE_ONLY)


def dense(e: pl.Expr) -> pl.Expr:
    """The text with its whitespace removed: on safe text, as long as clean() of it."""
    return e.str.replace_all(_SAFE_SPACE_CLASS, "")


# ---- distinct values: the slow path --------------------------------------------------------------


def matching(columns: Iterable[pl.Series], maybe: Callable[[pl.Expr], pl.Expr], test: Callable[[str], bool]) -> list[str]:
    """The distinct values of these columns for which test(value) holds. `maybe` is a vectorised
    superset of what test accepts: only values it lets through are tested, once each."""
    values = [s.rename("v") for s in columns]
    if not values:
        return []
    # Filtered before made distinct: most cells are names and amounts that `maybe` turns away,
    # and hashing them costs more than testing them.
    candidates = pl.concat(values).to_frame().lazy().filter(maybe(pl.col("v"))).unique().collect()["v"]
    return [v for v in candidates.to_list() if v is not None and test(v)]


_MAX_EMPTY_TOKEN = max(len(t) for t in EMPTY_TOKENS)


def maybe_empty(v: pl.Expr) -> pl.Expr:
    """A vectorised superset of parse.is_empty: every "nothing stated" token is at most 4 characters."""
    return ~is_safe(v) | (dense(v).str.len_chars() <= _MAX_EMPTY_TOKEN)


def clean_series(s: pl.Series) -> pl.Series:
    """parse.clean() of every value (None stays None): a character map on safe text, else per value."""
    frame = s.rename("v").to_frame().with_columns(
        safe=is_safe(pl.col("v")),
        fast=dense(pl.col("v")).str.replace_many(list(_SAFE_FOLD), list(_SAFE_FOLD.values())),
    )
    slow = frame.filter(pl.col("v").is_not_null() & ~pl.col("safe"))["v"].unique().to_list()
    if not slow:
        return frame["fast"].rename(s.name)
    cleaned = pl.col("v").replace_strict(slow, [clean(v) for v in slow], default=None, return_dtype=pl.String)
    return frame.select(pl.when(pl.col("safe")).then(pl.col("fast")).otherwise(cleaned))[:, 0].rename(s.name)


# ---- fields --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A field to parse: `source` is a column of stripped cell text ("" when empty)."""

    name: str
    source: str
    kind: str  # text | money | date | bool
    factor: float = 1.0  # money: the column's unit in 万元 (10000 for a 亿元 header)
    planned: bool = False  # date: a planned date, where a month alone is the month's last day


def parse(frame: pl.DataFrame, columns: list[Column]) -> tuple[pl.DataFrame, dict[str, pl.Series]]:
    """Every column parsed as its per-cell parser would: a frame of values (named by Column.name), and for
    each column with any, its error messages per row (null where none)."""
    text = [c for c in columns if c.kind == "text"]
    empties = matching((frame[c.source] for c in text), maybe_empty, is_empty)
    exprs: list[pl.Expr] = []
    for c in columns:
        src = pl.col(c.source)
        if c.kind == "text":
            exprs.append(pl.when(src.is_in(empties)).then(None).otherwise(src).alias(c.name))
            continue
        if c.kind == "money":
            value, decided, rounding = _money(src, c.factor)
            exprs.append(rounding.alias("round:" + c.name))
        elif c.kind == "date":
            value, decided = _date(src, c.planned)
        elif c.kind == "bool":
            value, decided = pl.lit(None, dtype=pl.Boolean), src == ""
        else:
            raise ValueError(f"unknown kind {c.kind}")
        exprs += [value.alias(c.name), decided.alias("decided:" + c.name)]
    fast = frame.select(exprs)
    errors: dict[str, pl.Series] = {}
    for c in columns:
        if c.kind == "text":
            continue
        if c.kind == "money":
            fast = _round_as_parse_money(fast, c.name)
        if fast["decided:" + c.name].all():
            continue
        slow = _SLOW[c.kind]
        todo = frame.filter(~fast["decided:" + c.name])[c.source].unique().to_list()
        answers = [parse_date(v, c.planned) if c.kind == "date" else slow(v, c.factor) for v in todo]
        dtype = fast.schema[c.name]
        fast = fast.with_columns(
            pl.when(pl.col("decided:" + c.name)).then(pl.col(c.name))
            .otherwise(frame[c.source].replace_strict(todo, [a[0] for a in answers], default=None, return_dtype=dtype))
            .alias(c.name)
        )
        errors[c.name] = pl.select(
            pl.when(fast["decided:" + c.name]).then(None)
            .otherwise(frame[c.source].replace_strict(todo, [a[1] for a in answers], default=None, return_dtype=pl.String))
        )[:, 0].rename(c.name)
    return fast.select(c.name for c in columns), {k: v for k, v in errors.items() if v.null_count() < v.len()}


_SLOW: dict[str, Callable[[str, float], tuple[Any, str | None]]] = {
    "money": parse_money,
    "date": lambda v, _f: parse_date(v),
    "bool": lambda v, _f: parse_bool(v),
}


# ---- money ---------------------------------------------------------------------------------------

# Digits, or digits grouped in threes by thousands commas (12,500; `1,2,3` goes to parse_money, which
# refuses it), with optional decimals, then an optional unit. With the commas taken out the number
# must be at most 15 digits (exact in a double) and 6 decimals.
_MONEY_SHAPE = r"^((?:[0-9]+|[1-9][0-9]{0,2}(?:,[0-9]{3})+)(?:\.[0-9]+)?)(亿元|亿|万元|万|元)?$"
_MONEY_NUMBER = r"^[0-9]{1,15}(?:\.[0-9]{1,6})?$"
_UNIT_FACTOR = {"亿元": 10_000.0, "亿": 10_000.0, "万元": 1.0, "万": 1.0, "元": 0.0001}


def _money(src: pl.Expr, factor: float) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(value, decided, needs rounding) for parse_money(cell, factor)."""
    m = src.str.extract_groups(_MONEY_SHAPE)
    num = m.struct.field("1").str.replace_all(",", "")
    f = m.struct.field("2").replace_strict(_UNIT_FACTOR, default=factor, return_dtype=pl.Float64)
    ok = num.str.contains(_MONEY_NUMBER).fill_null(False)
    value = pl.when(ok).then(num.cast(pl.Float64, strict=False) * f)
    # round(x * f, 6) is x itself when f is 1 and x has at most 6 decimals: only other factors need rounding.
    return value, ok | (src == ""), ok & (f != 1.0)


def _round_as_parse_money(fast: pl.DataFrame, name: str) -> pl.DataFrame:
    at = fast["round:" + name].arg_true()
    if at.len() == 0:
        return fast
    values = fast[name]
    return fast.with_columns(values.scatter(at, [round(x, 6) for x in values.gather(at).to_list()]))


# ---- dates ---------------------------------------------------------------------------------------

_DATE_SHAPES = (
    r"^([0-9]{4})[-./]([0-9]{1,2})(?:[-./]([0-9]{1,2}))?$",  # 2020-03-15, 2020.3, 2020/3/15
    r"^([0-9]{4})年([0-9]{1,2})月(?:([0-9]{1,2})[日号])?$",  # 2020年3月, 2020年3月15日
)
_ISO_SHAPE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_SERIAL_SHAPE = r"^[0-9]{5}(?:\.[0-9]+)?$"
_EPOCH_DAYS = (_EXCEL_EPOCH - date(1970, 1, 1)).days  # Excel's day 0, in days since 1970-01-01


def _date(src: pl.Expr, planned: bool = False) -> tuple[pl.Expr, pl.Expr]:
    """(value, decided) for parse_date(cell, planned): a valid year-month-day or an Excel serial in range
    (a month alone: its first day, its last when planned); an invalid date is left to parse_date, which
    says why."""
    # The commonest shape, 2020-03-15, through strptime (guarded: strptime alone is more lenient).
    iso = src.str.contains(_ISO_SHAPE)
    iso_value = pl.when(iso).then(src).str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    iso_ok = (iso & (iso_value.dt.year() >= 1)).fill_null(False)
    src = pl.when(~iso).then(src)  # the other shapes, on the other cells only
    parts = [src.str.extract_groups(p) for p in _DATE_SHAPES]
    y, m, d = (pl.coalesce([g.struct.field(str(k)) for g in parts]).cast(pl.Int32) for k in (1, 2, 3))
    month_ok = y.is_between(1, 9999) & m.is_between(1, 12)
    y_, m_ = pl.when(month_ok).then(y).otherwise(2000), pl.when(month_ok).then(m).otherwise(1)
    d_ = d.fill_null(1)
    ymd_ok = (month_ok & d_.is_between(1, pl.date(y_, m_, 1).dt.month_end().dt.day())).fill_null(False)
    serial = src.cast(pl.Float64, strict=False)
    serial_ok = (src.str.contains(_SERIAL_SHAPE) & serial.is_between(SERIAL_MIN, SERIAL_MAX)).fill_null(False)
    ymd = pl.date(y_, m_, pl.when(ymd_ok).then(d_).otherwise(1))
    if planned:  # a month alone (2020.06, 2020年6月) is the month's last day
        ymd = pl.when(d.is_null()).then(ymd.dt.month_end()).otherwise(ymd)
    value = (
        pl.when(iso_ok).then(iso_value)
        .when(serial_ok).then((pl.when(serial_ok).then(serial).floor().cast(pl.Int32) + _EPOCH_DAYS).cast(pl.Date))
        .when(ymd_ok).then(ymd)
    )
    return value, iso_ok | serial_ok | ymd_ok | (src == "").fill_null(False)
