"""投资完成: completion against 序时进度 by region and tier with lights, the laggards, the targets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import polars as pl

from pipelines import metrics
from pipelines.metrics import View


@dataclass
class Completion:
    as_of: date
    total: dict[str, Any]
    by: dict[str, list[dict[str, Any]]]
    trend: pl.DataFrame
    draggers: pl.DataFrame
    targets: pl.DataFrame


def completion(con: duckdb.DuckDBPyConnection, view: View, *, draggers_per_region: int = 3) -> Completion:
    groups = metrics.figures_by(con, view.as_of, (None, "tier", "city", "county"), year=view.year,
                                filters=view.filters)
    by = {g: [it for it in items if it["annual_plan"]] for g, items in groups.items() if g is not None}
    for items in by.values():
        for it in items:
            it["light"] = metrics.light(it["schedule_gap"])
    return Completion(
        view.as_of,
        groups[None][0],
        by,
        metrics.trend(con, view.as_of, year=view.year, filters=view.filters),
        draggers(con, view, per_region=draggers_per_region),
        metrics.targets_vs_actuals(con, view.as_of, year=view.year, filters=view.filters),
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
