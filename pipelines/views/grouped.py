"""The figures a rate page starts from (开工, 投资完成): in total, per grouping, and over the year."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import polars as pl

from pipelines import metrics
from pipelines.metrics import View


@dataclass
class Grouped:
    as_of: date
    total: dict[str, Any]
    by: dict[str, list[dict[str, Any]]]  # grouping → its groups with something to show (see grouped)
    trend: pl.DataFrame  # the figures at each report date of the year up to as_of


def grouped(con: duckdb.DuckDBPyConnection, view: View, groupings: tuple[str, ...], shown_if: str,
            *, yoy: bool = False) -> Grouped:
    """The view's figures in total, per grouping (only the groups whose shown_if figure is not 0), and the
    trend; with 同比 (metrics.YOY_KEYS) when yoy."""
    groups = metrics.figures_by(con, view.as_of, (None, *groupings), year=view.year, filters=view.filters, yoy=yoy)
    by = {g: [it for it in items if it[shown_if]] for g, items in groups.items() if g is not None}
    trend = metrics.trend(con, view.as_of, year=view.year, filters=view.filters)
    return Grouped(view.as_of, groups[None][0], by, trend)
