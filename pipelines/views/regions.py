"""区域: the tiers city by city, the drill into one city's counties, and the map's points."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import polars as pl

from pipelines import metrics
from pipelines.metrics import Filters, View
from pipelines.vocab import schema
from pipelines.vocab.reference import region_by_code


@dataclass
class Regions:
    as_of: date
    cities: list[dict[str, Any]]
    city_tiers: pl.DataFrame  # city × tier: projects, total_investment, completion_rate, start_rate
    counties: list[dict[str, Any]]  # of the drilled city (or all counties when none)
    drill_city: str | None
    points: pl.DataFrame  # regions on the map with their centroid and figures
    level: str = "city"
    provinces: tuple[str, ...] = ()  # the provinces (two-digit codes) the map draws: those of its points


def regions(con: duckdb.DuckDBPyConnection, view: View, drill_city: str | None = None) -> Regions:
    f = view.filters
    city_items = metrics.figures(con, view.as_of, year=view.year, filters=f, by="city", yoy=False)
    rows = []
    for tier in schema.TIERS:
        if f.tiers and tier not in f.tiers:
            continue
        for it in metrics.figures(con, view.as_of, year=view.year, filters=Filters(**{**f.__dict__, "tiers": (tier,)}),
                                  by="city", yoy=False):
            rows.append({"city": it["group"], "city_code": it.get("group_code"), "tier": tier,
                         "projects": it["projects"], "total_investment": it["total_investment"],
                         "completion_rate": it["completion_rate"], "start_rate": it["start_rate"]})
    city_tiers = pl.DataFrame(rows, schema={
        "city": pl.String, "city_code": pl.String, "tier": pl.String, "projects": pl.Int64,
        "total_investment": pl.Float64, "completion_rate": pl.Float64, "start_rate": pl.Float64,
    })
    cf = Filters(**{**f.__dict__, "cities": (drill_city,)}) if drill_city else f
    county_items = metrics.figures(con, view.as_of, year=view.year, filters=cf, by="county", yoy=False)
    level = "county" if drill_city else "city"
    items = county_items if drill_city else city_items
    points = region_points(items)
    provinces = tuple(sorted({c[:2] for c in points["code"].to_list()}))
    return Regions(view.as_of, city_items, city_tiers, county_items, drill_city, points, level, provinces)


def region_points(items: list[dict[str, Any]]) -> pl.DataFrame:
    """Figures of each region with its centroid (GB/T 2260 reference), for the map."""
    ref = region_by_code()
    rows = []
    for it in items:
        r = ref.get(it.get("group_code") or "")
        if r is None or r.longitude is None:
            continue
        rows.append({
            "code": r.code, "name": r.name, "longitude": r.longitude, "latitude": r.latitude,
            "projects": it["projects"], "total_investment": it["total_investment"],
            "completion_rate": it["completion_rate"], "schedule_gap": it["schedule_gap"],
            "light": metrics.light(it["schedule_gap"]),
        })
    return pl.DataFrame(rows, schema={
        "code": pl.String, "name": pl.String, "longitude": pl.Float64, "latitude": pl.Float64,
        "projects": pl.Int64, "total_investment": pl.Float64, "completion_rate": pl.Float64,
        "schedule_gap": pl.Float64, "light": pl.String,
    })
