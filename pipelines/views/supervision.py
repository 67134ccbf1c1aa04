"""督办单 page data: the projects an order can be about, and the orders a user may see."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import polars as pl

from pipelines import auth, metrics
from pipelines.metrics import View, lights
from pipelines.views import procedures
from pipelines.views.problems import open_problems
from pipelines.vocab import procedures as P
from pipelines.vocab.reference import region_by_code
from pipelines.warehouse import supervision

_CANDIDATES: dict[str, Any] = {"project_id": pl.String, "project_name": pl.String, "source": pl.String, "why": pl.String,
                               "department": pl.String}


def unit_filters(unit_code: str) -> metrics.Filters:
    region = region_by_code().get(unit_code)
    if region is not None and region.level == "county":
        return metrics.Filters(counties=(unit_code,))
    return metrics.Filters(cities=(unit_code,))


def candidates(con: duckdb.DuckDBPyConnection, view: View, unit_code: str) -> pl.DataFrame:
    """A unit's red projects, overdue projects (逾期未开工) and projects with an open problem at the
    view's date, one row per project and reason (the three lists of the metrics and views layers); an
    overdue project's blocking 前期手续 is said in `why`, its owner in `department` (vocab/procedures.py)."""
    f = unit_filters(unit_code)
    red = lights.lit_list(con, view.as_of, year=view.year, filters=f).filter(pl.col("light") == "red")
    overdue = procedures.overdue_procedures(con, View(view.as_of, view.year, f))
    problems = open_problems(con, View(view.as_of, view.year, f))
    parts = [
        red.select("project_id", "project_name", source=pl.lit("红灯项目"), why=pl.col("light_reason"),
                   department=pl.lit(None, pl.String)),
        overdue.select("project_id", "project_name", source=pl.lit("逾期未开工"), why=pl.concat_str(
            pl.col("not_started_reason").fill_null("未说明原因"),
            pl.lit("；待办手续：") + P.blocking_zh_expr(), ignore_nulls=True),
            department=P.department_expr()),
        problems.select("project_id", "project_name", source=pl.lit("问题未解决"), why=pl.col("problem"),
                        department=pl.lit(None, pl.String)),
    ]
    return pl.concat([p.cast(pl.Schema(_CANDIDATES)) for p in parts]).unique(maintain_order=True)


def visible_orders(con: duckdb.DuckDBPyConnection, user: auth.User, today: date) -> pl.DataFrame:
    """The orders this user may see: a 报送员 their unit's (and its counties'), a city's 审核员 their
    city's, everyone else all."""
    if user.role == "报送员":
        allowed = user.allowed_regions() or set()
        return supervision.orders(con, today, unit_codes=tuple(sorted(allowed)))
    cities = user.visible_cities()
    return supervision.orders(con, today, city_codes=None if cities is None else tuple(sorted(cities)))


HEADERS = {"order_id": "编号", "unit": "单位", "source": "来源", "text": "督办内容", "projects": "涉及项目",
           "deadline": "办理期限", "state": "状态", "issued_by": "下达人", "issued_at": "下达时间",
           "reply": "单位回复", "returned_reason": "退回原因", "closed_at": "办结时间"}


def shown(frame: pl.DataFrame) -> pl.DataFrame:
    names = {c: r.name for c, r in region_by_code().items()}
    return frame.with_columns(
        unit=pl.col("unit_code").replace_strict(names, default=pl.col("unit_code")),
        projects=pl.col("project_names").list.join("、"),
    ).select(list(HEADERS)).rename(HEADERS)


def counts_shown(counts: pl.DataFrame) -> pl.DataFrame:
    return counts.drop("city_code").rename({"region": "地市", "open": "在办", "overdue": "其中逾期", "closed": "已办结"})
