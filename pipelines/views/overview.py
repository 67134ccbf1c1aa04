"""总览: the headline figures, overall and per tier, with those of the previous report date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb

from pipelines import metrics
from pipelines.metrics import View


@dataclass
class Overview:
    as_of: date
    previous: date | None
    total: dict[str, Any]
    total_before: dict[str, Any] | None
    tiers: list[dict[str, Any]]
    tiers_before: dict[str, dict[str, Any]]
    double_half: bool | None


def overview(con: duckdb.DuckDBPyConnection, view: View) -> Overview:
    prev = metrics.previous_report_date(con, view.as_of)
    now = metrics.figures_by(con, view.as_of, (None, "tier"), year=view.year, filters=view.filters)
    then = (metrics.figures_by(con, prev, (None, "tier"), year=view.year, filters=view.filters, yoy=False)
            if prev else None)  # 较上期 changes: 同比 is not compared with the week before
    t = now[None][0]
    tb = then[None][0] if then else None
    tiers = [it for it in now["tier"] if it["projects"]]
    before = {it["group"]: it for it in then["tier"]} if then else {}
    return Overview(view.as_of, prev, t, tb, tiers, before, metrics.double_half(view.as_of, t["completion_rate"]))

