"""亮灯清单: the page's data (the counts whole, by city, tier and industry, and the lit list) and the
lights in words, for the page, the ledger, the project page and the briefing. The lights themselves
are computed once, in pipelines/metrics/lights.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl

from pipelines import metrics
from pipelines.metrics.lights import LIGHT_ZH, LIGHTS, counts_by, lit_list


def shown(frame: pl.DataFrame) -> pl.DataFrame:
    """Lights in words (红灯/黄灯/绿灯) under their Chinese names, the other columns as they are."""
    return frame.with_columns(
        pl.col(c).replace_strict(LIGHT_ZH, default=None, return_dtype=pl.String) for c in LIGHTS if c in frame.columns
    )


@dataclass
class LightsPage:
    """What the 亮灯清单 page shows: the counts (whole, by city, tier, industry) and the lit list."""

    total: dict[str, Any]
    by: dict[str | None, list[dict[str, Any]]]
    lit: pl.DataFrame
    # 停滞 (issue 31): 在建 projects whose 本年累计 has not moved for N periods, from the change audit
    # standing at the period (views.changes); a flag beside the lights, which it does not change
    stale: pl.DataFrame = field(default_factory=pl.DataFrame)


def stale_projects(con: duckdb.DuckDBPyConnection, view: metrics.View) -> pl.DataFrame:
    """The change audit's stale findings standing at view.as_of, in the view's regions."""
    from pipelines.views.changes import for_period

    found = for_period(con, view.as_of, (*view.filters.cities, *view.filters.counties))
    return found.filter(pl.col("kind") == "stale").select(
        "project_id", "project_name", "city_code", "county_code",
        pl.col("old_value").alias("stale_since"), pl.col("new_value").alias("ytd_completed"))


def lights_page(con: duckdb.DuckDBPyConnection, view: metrics.View) -> LightsPage:
    by = counts_by(con, view.as_of, (None, "city", "tier", "industry"), year=view.year, filters=view.filters)
    lit = lit_list(con, view.as_of, year=view.year, filters=view.filters)
    stale = stale_projects(con, view)
    flag = stale.select("project_id", pl.concat_str(pl.lit("停滞（本年累计"), "stale_since", pl.lit("）")).alias("stale"))
    lit = lit.join(flag, on="project_id", how="left", maintain_order="left") if lit.height else lit.with_columns(
        stale=pl.lit(None, pl.String))
    return LightsPage(by[None][0], by, lit, stale)


LIT_HEADERS = {
    "light": "综合灯", "light_change": "较上期", "light_before": "上期", "light_since": "亮灯起始报告期",
    "project_name": "项目名称", "city_name": "地市", "county_name": "县区", "tier": "层级", "industry_name": "行业",
    "stage": "建设状态", "light_start": "开工灯", "light_progress": "进度灯", "light_stats": "入统灯",
    "light_reason": "亮灯原因",
}


def lit_shown(lit: pl.DataFrame) -> pl.DataFrame:
    """The lit list as the page and the briefing show it: lights in words, Chinese headers."""
    frame = shown(lit).with_columns(
        pl.col("light_before").replace_strict(LIGHT_ZH, default=None, return_dtype=pl.String))
    frame = frame.select(list(LIT_HEADERS)).rename(LIT_HEADERS)
    if "stale" in lit.columns:  # the 亮灯清单's own list (the briefing's has no such column)
        frame = frame.with_columns(lit["stale"].alias(STALE_HEADER))
    return frame


STALE_HEADER = "停滞提示"


def stale_shown(stale: pl.DataFrame) -> pl.DataFrame:
    """The stale projects as the 亮灯清单 lists them."""
    from pipelines.vocab.reference import region_names

    return stale.select(
        pl.col("project_name").alias("项目名称"), region_names("city_code").alias("地市"),
        region_names("county_code").alias("县区"), pl.col("ytd_completed").alias("本年累计完成投资（万元）"),
        pl.col("stale_since").alias("未变起始"))


def counts_shown(items: list[dict[str, Any]], head: str) -> pl.DataFrame:
    """Counts per group under Chinese headers (groups with no lit project included)."""
    return pl.DataFrame(
        [{head: it["group"], "红灯": it["lights_red"], "黄灯": it["lights_yellow"], "绿灯": it["lights_green"]}
         for it in items],
        schema={head: pl.String, "红灯": pl.Int64, "黄灯": pl.Int64, "绿灯": pl.Int64},
    )


def briefing_sentence(total: dict[str, Any], lit: pl.DataFrame) -> str:
    """The 简报's sentence on the lights: 「亮红灯项目3个、黄灯5个（其中由红转黄1个）……」."""
    text = f"按项目亮灯，红灯项目{total['lights_red']}个、黄灯项目{total['lights_yellow']}个、绿灯项目{total['lights_green']}个"
    caught_up = lit.filter(pl.col("light_change") == "由红转黄").height if lit.height else 0
    new_red = lit.filter(pl.col("light_change").is_in(["新亮红灯", "由黄转红", "由绿转红"])).height if lit.height else 0
    if new_red:
        text += f"；本期新转红灯{new_red}个"
    if caught_up:
        text += f"；由红转黄{caught_up}个"
    return text + ("，红灯项目需重点督办。" if total["lights_red"] else "。")
