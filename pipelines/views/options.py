"""The sidebar's choices: the years, report dates, industries and regions the data offers, and
the filters in words (the 简报 page and the briefing print the same lines)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from pipelines import metrics
from pipelines.views import leaders as leaders_view
from pipelines.vocab.labels import FILTER_ZH
from pipelines.vocab.reference import cities, counties_of, home_cities, region_by_code
from pipelines.vocab.states import EACH_STATE_SQL


@dataclass(frozen=True)
class Options:
    """What the sidebar can offer, from the data."""

    years: list[int]
    report_dates: dict[int, list[date]]
    industries: list[str]
    city_codes: list[str]
    leaders: tuple[str, ...] = ()  # the 责任领导 named on projects (views/leaders.py)


def options(con: duckdb.DuckDBPyConnection) -> Options:
    ys = metrics.years(con)
    dates = {y: metrics.report_dates(con, y) for y in ys}
    industries = [
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT coalesce(industry_name, '（未填行业）') FROM {EACH_STATE_SQL} s ORDER BY 1"  # noqa: S608
        ).fetchall()
    ]
    with_data = {r[0] for r in con.execute(
        f"SELECT DISTINCT city_code FROM {EACH_STATE_SQL} s WHERE city_code IS NOT NULL"  # noqa: S608
    ).fetchall()}
    return Options(ys, dates, industries, city_choices(with_data), tuple(leaders_view.leader_names(con)))


def city_choices(with_data: set[str]) -> list[str]:
    """The cities the sidebar offers: the home province's (and Tongling's) and every other city with data,
    in the reference's order (it holds the whole country: all 300-odd cities would bury the few in use)."""
    home = {c.code for c in home_cities()}
    return [c.code for c in cities() if c.code in home or c.code in with_data]


def county_options(city_codes: tuple[str, ...] | list[str],
                   available: tuple[str, ...] | list[str] | None = None) -> list[tuple[str, str]]:
    """(code, label) of the counties the sidebar offers: those of the chosen cities, or of every city
    available (the sidebar's cities; the home cities when not given)."""
    chosen = list(city_codes) or list(available if available is not None else (c.code for c in home_cities()))
    out = []
    for cc in chosen:
        city = region_by_code().get(cc)
        for r in counties_of(cc):
            out.append((r.code, f"{city.name if city else cc}·{r.name}"))
    return out



def filter_lines(year: int, as_of: date, filters: metrics.Filters) -> list[tuple[str, str]]:
    """The view's filters in words, (label, value) each; 「全部」 where a filter is not set."""
    names = region_by_code()

    def joined(values: tuple[str, ...]) -> str:
        return "、".join(values) if values else "全部"

    return [
        ("年度", str(year)),
        ("报告期截止日", as_of.isoformat()),
        *((FILTER_ZH[param], joined(values)) for param, values in (
            ("tier", filters.tiers),
            ("city", tuple(names[c].name if c in names else c for c in filters.cities)),
            ("county", tuple(names[c].name if c in names else c for c in filters.counties)),
            ("industry", filters.industries),
            ("stage", filters.stages),
            ("band", filters.size_bands),
        )),
    ]
