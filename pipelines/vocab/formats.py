"""Money, rate and count formats, once for the pages, charts, the briefing and the CLI.

Money is stored in 万元 and shown in 亿元 where figures are summed; rates are fractions shown in %;
a schedule gap is in percentage points (百分点). A missing value shows as 「—」.
"""

from __future__ import annotations

WAN_PER_YI = 10_000.0
MISSING = "—"
FLAT = "持平"  # a change that shows as zero at the card's precision: no arrow, no colour (ui.widgets.metric)


def to_yi(wan: float | None) -> float | None:
    """万元 → 亿元, as a number (a chart's axis)."""
    return None if wan is None else wan / WAN_PER_YI


def to_pct(rate: float | None) -> float | None:
    """A fraction → %, as a number (a chart's axis)."""
    return None if rate is None else rate * 100.0


def yi_num(wan: float | None, digits: int = 2) -> str:
    """万元 → 「12.34」 where the label carries the unit (亿元)."""
    return MISSING if wan is None else f"{wan / WAN_PER_YI:,.{digits}f}"


def yi(wan: float | None, digits: int = 2) -> str:
    """万元 → 「12.34 亿元」."""
    return MISSING if wan is None else f"{yi_num(wan, digits)} 亿元"


def wan(value: float | None) -> str:
    return MISSING if value is None else f"{value:,.0f} 万元"


def pct(rate: float | None, digits: int = 1) -> str:
    """A fraction → 「12.3%」."""
    return MISSING if rate is None else f"{rate * 100:.{digits}f}%"


def pp_num(points: float | None, digits: int = 1) -> str:
    """Percentage points with sign, 「+3.2」, where the label says 百分点."""
    return MISSING if points is None else f"{points:+.{digits}f}"


def pp(points: float | None, digits: int = 1) -> str:
    """Percentage points with sign: 「+3.2 个百分点」."""
    return MISSING if points is None else f"{pp_num(points, digits)} 个百分点"


def pct_signed(rate: float | None, digits: int = 1) -> str:
    """A change as a fraction, with sign: 「+8.7%」, 「−3.2%」 (同比)."""
    return MISSING if rate is None else f"{rate * 100:+.{digits}f}%"


def count(n: int | None, unit: str = "个") -> str:
    return MISSING if n is None else f"{n:,} {unit}"


def delta_count(now: int | None, before: int | None) -> str | None:
    if now is None or before is None:
        return None
    return FLAT if now == before else f"{now - before:+,}"


def delta_yi(now: float | None, before: float | None) -> str | None:
    """Change of an amount in 亿元, to the card's precision."""
    if now is None or before is None:
        return None
    change = round((now - before) / WAN_PER_YI, 2)
    return FLAT if change == 0 else f"{change:+,.2f} 亿元"


def delta_pp(now: float | None, before: float | None) -> str | None:
    """Change of a rate in percentage points."""
    if now is None or before is None:
        return None
    change = round((now - before) * 100, 1)
    return FLAT if change == 0 else f"{change:+.1f} 个百分点"
