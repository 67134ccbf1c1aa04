"""投资完成: completion against 序时进度 by region and tier with lights, the laggards, the targets."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from pipelines import metrics
from pipelines.metrics import View
from pipelines.views.grouped import Grouped, grouped
from pipelines.views.plans import adjustments_in_view, plan_cuts
from pipelines.vocab import formats


@dataclass
class Completion(Grouped):
    draggers: pl.DataFrame
    targets: pl.DataFrame
    plan_cuts: pl.DataFrame | None = None  # cities whose 年度计划 was cut below their 年初计划 (views/plans.py)
    plan_adjustments: pl.DataFrame | None = None  # every 调整 of a 年度计划 in the view: who, when, old → new


def completion(con: duckdb.DuckDBPyConnection, view: View, *, draggers_per_region: int = 3) -> Completion:
    figures = grouped(con, view, ("tier", "city", "county"), shown_if="annual_plan", yoy=True)
    for items in figures.by.values():
        for it in items:
            it["light"] = metrics.light(it["schedule_gap"])
    return Completion(
        **vars(figures),
        draggers=draggers(con, view, per_region=draggers_per_region),
        targets=metrics.targets_vs_actuals(con, view.as_of, year=view.year, filters=view.filters),
        plan_cuts=plan_cuts(con, view),
        plan_adjustments=adjustments_in_view(con, view),
    )


def yoy_by_city(cp: Completion) -> pl.DataFrame | None:
    """同比 per city (Chinese headers; money in 亿元, changes as fractions), or None when the year
    before has no data."""
    items = cp.by.get("city", [])
    if not items or items[0].get("ytd_completed_prev") is None:
        return None
    return pl.DataFrame(
        [{"地市": it["group"],
          "本年累计完成投资（亿元）": formats.to_yi(it["ytd_completed"]),
          f"{metrics.FIGURE_ZH['ytd_completed_prev']}（亿元）": formats.to_yi(it["ytd_completed_prev"]),
          metrics.FIGURE_ZH["ytd_yoy"]: it["ytd_yoy"],
          metrics.FIGURE_ZH["ytd_yoy_same"]: it["ytd_yoy_same"]} for it in items],
        schema={"地市": pl.String, "本年累计完成投资（亿元）": pl.Float64,
                f"{metrics.FIGURE_ZH['ytd_completed_prev']}（亿元）": pl.Float64,
                metrics.FIGURE_ZH["ytd_yoy"]: pl.Float64, metrics.FIGURE_ZH["ytd_yoy_same"]: pl.Float64},
    )


def draggers(con: duckdb.DuckDBPyConnection, view: View, *, per_region: int = 3) -> pl.DataFrame:
    """The projects furthest behind their pro-rata plan (年度计划 × 序时进度), per city."""
    tp = metrics.time_progress(view.as_of)
    states = metrics.project_states(con, view.as_of, year=view.year, filters=view.filters, columns=(
        "project_id", "project_name", "tier", "city_code", "city_name", "county_name", "annual_plan",
        "ytd_completed",
    ), ordered=False)  # sorted below
    if states.is_empty():
        return pl.DataFrame(schema={"city_name": pl.String, "project_name": pl.String, "shortfall": pl.Float64})
    return (
        states.filter(pl.col("annual_plan").fill_null(0) > 0)
        .with_columns(
            pro_rata=pl.col("annual_plan") * tp,
            ytd=pl.col("ytd_completed").fill_null(0.0),
        )
        .with_columns(shortfall=pl.col("pro_rata") - pl.col("ytd"))
        .filter(pl.col("shortfall") > 0)
        .sort(["city_code", "shortfall", "project_name"], descending=[False, True, False])
        .group_by("city_code", maintain_order=True)
        .head(per_region)
        .select("city_name", "county_name", "project_name", "tier", "annual_plan", "pro_rata", "ytd",
                "shortfall", "project_id")
    )
