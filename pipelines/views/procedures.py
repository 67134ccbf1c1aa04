"""前期手续 of the due-and-not-started projects (the metrics' is_overdue): each procedure read as done /
pending / not needed / unknown (vocab/procedures.py), the matrix by region and procedure, and the
blocking procedure (the first pending one) for the 亮灯清单, the 简报 and the 督办单."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from pipelines import metrics
from pipelines.metrics import View
from pipelines.views import lights
from pipelines.vocab import procedures as P

_COLUMNS = ("project_id", "project_name", "city_code", "city_name", "county_name", "not_started_reason", *P.FIELDS)
MATRIX_HEADERS = {"region": "地区", "procedure": "手续", **{s: P.STATUS_ZH[s] for s in P.STATUSES},
                  "total": "逾期未开工项目"}


def overdue_procedures(con: duckdb.DuckDBPyConnection, view: View) -> pl.DataFrame:
    """Each overdue project (逾期未开工) with its procedures' texts, their readings (<field>_state) and
    `blocking` (the first pending procedure's field, null when none is pending)."""
    frame = metrics.project_states(con, view.as_of, year=view.year, filters=view.filters, columns=_COLUMNS,
                                   where=metrics.Where("is_overdue"))
    return P.with_statuses(frame)


def matrix(con: duckdb.DuckDBPyConnection, view: View) -> pl.DataFrame:
    """Per region (地市; 县区 when one city is chosen) and procedure: how many overdue projects have it
    done, pending, not needed or unknown; `total` is the region's overdue projects (each row adds up
    to it). A 合计 row per procedure comes last."""
    frame = overdue_procedures(con, view)
    region = "county_name" if len(view.filters.cities) == 1 else "city_name"
    long = pl.concat([
        frame.select(region=pl.col(region).fill_null("未填地区"), procedure=pl.lit(p.zh),
                     order=pl.lit(i), state=pl.col(f"{p.field}_state"))
        for i, p in enumerate(P.PROCEDURES)
    ]) if frame.height else pl.DataFrame(schema={"region": pl.String, "procedure": pl.String, "order": pl.Int32,
                                                 "state": pl.String})
    whole = long.with_columns(region=pl.lit("合计"))

    def counted(f: pl.DataFrame, rank: int) -> pl.DataFrame:
        return f.group_by("region", "procedure", "order").agg(
            *(((pl.col("state") == s).sum().cast(pl.Int64)).alias(s) for s in P.STATUSES),
            total=pl.len().cast(pl.Int64),
        ).with_columns(rank=pl.lit(rank))

    out = pl.concat([counted(long, 0), counted(whole, 1)])
    return out.sort("rank", "region", "order").select("region", "procedure", *P.STATUSES, "total")


MATRIX_NOTE = ("每个逾期未开工项目的立项、土地、规划、环评手续按报表原文归类：已办结/已取得/已完成/已批复为已办结，"
               "正在办理/办理中/未办/待…为待办理，不需要/无需/不涉及为不需要，其余（含未填）为无法识别；"
               "每行四类之和等于该地区逾期未开工项目数。")


def matrix_shown(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.rename(MATRIX_HEADERS)


def blocking_by_project(con: duckdb.DuckDBPyConnection, view: View) -> pl.DataFrame:
    """project_id → the blocking procedure in words (「土地（自然资源）」), for overdue projects with one."""
    frame = overdue_procedures(con, view).filter(pl.col("blocking").is_not_null())
    return frame.select("project_id", blocking_procedure=P.blocking_zh_expr())


def lights_page(con: duckdb.DuckDBPyConnection, view: View) -> lights.LightsPage:
    """The 亮灯清单 page's data (metrics.lights) with each lit project's blocking procedure."""
    page = lights.lights_page(con, view)
    if page.lit.height:
        page.lit = page.lit.join(blocking_by_project(con, view), on="project_id", how="left",
                                 maintain_order="left")
    else:
        page.lit = page.lit.with_columns(blocking_procedure=pl.lit(None, pl.String))
    return page


BLOCKING_HEADER = "待办前期手续（主管部门）"


def lit_shown(lit: pl.DataFrame) -> pl.DataFrame:
    """The lit list as lights.lit_shown shows it, with the blocking procedure (blank: none pending)."""
    shown = lights.lit_shown(lit)
    if "blocking_procedure" in lit.columns:
        shown = shown.with_columns(lit["blocking_procedure"].alias(BLOCKING_HEADER))
    return shown


def department_for(rows: list[dict[str, Any]]) -> str | None:
    """The department a 督办单 about these candidate rows is addressed to: the blocking procedure's
    owner of the first overdue project that has one (None: no procedure pending)."""
    for r in rows:
        if r.get("department"):
            return str(r["department"])
    return None
