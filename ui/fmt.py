"""Number formatting for the pages: 亿元 for aggregates, 万元 for single projects, % and 百分点."""

from __future__ import annotations

WAN_PER_YI = 10_000.0


def yi(wan: float | None, digits: int = 2) -> str:
    """万元 → 「12.34 亿元」."""
    return "—" if wan is None else f"{wan / WAN_PER_YI:,.{digits}f} 亿元"


def yi_num(wan: float | None, digits: int = 2) -> str:
    """万元 → 「12.34」 for a card whose label carries the unit (亿元)."""
    return "—" if wan is None else f"{wan / WAN_PER_YI:,.{digits}f}"


def pp_num(points: float | None, digits: int = 1) -> str:
    """Percentage points with sign, for a card whose label says 百分点."""
    return "—" if points is None else f"{points:+.{digits}f}"


def wan(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} 万元"


def pct(rate: float | None, digits: int = 1) -> str:
    return "—" if rate is None else f"{rate * 100:.{digits}f}%"


def pp(points: float | None, digits: int = 1) -> str:
    """Percentage points with sign: 「+3.2 个百分点」."""
    return "—" if points is None else f"{points:+.{digits}f} 个百分点"


def count(n: int | None, unit: str = "个") -> str:
    return "—" if n is None else f"{n:,} {unit}"


FLAT = "持平"  # a change that shows as zero at the card's precision: no arrow, no colour (widgets.metric)


def delta_count(now: int | None, before: int | None) -> str | None:
    if now is None or before is None:
        return None
    return FLAT if now == before else f"{now - before:+,}"


def delta_yi(now: float | None, before: float | None) -> str | None:
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


_MD_SPECIAL = set("\\`*_{}[]()#+-.!|<>~:$")


def md(text: object) -> str:
    """User text for st.markdown/st.subheader: markdown, links, colours and LaTeX shown literally."""
    s = "" if text is None else str(text)
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in s).replace("\n", " ")
