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
from pipelines.vocab.query import query_frame
from pipelines.vocab.reference import region_by_code, region_names
from pipelines.warehouse import loop_tables, supervision

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


_SCHEMA: dict[str, Any] = {
    "order_id": pl.Int64, "unit_code": pl.String, "city_code": pl.String, "source": pl.String, "text": pl.String,
    "deadline": pl.Date, "project_names": pl.List(pl.String), "status": pl.String, "issued_by": pl.String,
    "issued_at": pl.Datetime("us"), "reply": pl.String, "replied_by": pl.String, "replied_at": pl.Datetime("us"),
    "returned_reason": pl.String, "returns": pl.Int32, "closed_by": pl.String, "closed_at": pl.Datetime("us"),
    "overdue": pl.Boolean, "state": pl.String,
}


def orders(con: duckdb.DuckDBPyConnection, today: date, *, city_codes: tuple[str, ...] | None = None,
           unit_codes: tuple[str, ...] | None = None) -> pl.DataFrame:
    """Every 督办单 (newest first) with `overdue` (办理中 past its deadline on today) and `state`
    (办理中 / 逾期 / 已回复 / 已办结); limited to cities or units when given."""
    if not loop_tables.has(con, "supervision_orders"):
        return pl.DataFrame(schema=_SCHEMA)
    return query_frame(
        con,
        """SELECT order_id, unit_code, city_code, source, text, deadline, project_names, status, issued_by,
                  issued_at, reply, replied_by, replied_at, returned_reason, returns, closed_by, closed_at,
                  status = '办理中' AND deadline < $today AS overdue,
                  CASE WHEN status = '办理中' AND deadline < $today THEN '逾期' ELSE status END AS state
           FROM supervision_orders
           WHERE ($cities IS NULL OR list_contains($cities, city_code))
             AND ($units IS NULL OR list_contains($units, unit_code))
           ORDER BY order_id DESC""",
        {"today": today, "cities": None if city_codes is None else list(city_codes),
                "units": None if unit_codes is None else list(unit_codes)},
    )


def counts_by_region(frame: pl.DataFrame) -> pl.DataFrame:
    """Open (办理中 or 已回复, not closed), overdue and closed 督办单 per city, most open first."""
    if frame.is_empty():
        return pl.DataFrame(schema={"city_code": pl.String, "region": pl.String, "open": pl.UInt32,
                                    "overdue": pl.UInt32, "closed": pl.UInt32})
    return (
        frame.group_by("city_code").agg(
            open=(pl.col("status") != "已办结").sum().cast(pl.UInt32),
            overdue=pl.col("overdue").sum().cast(pl.UInt32),
            closed=(pl.col("status") == "已办结").sum().cast(pl.UInt32),
        ).with_columns(region=region_names("city_code"))
        .select("city_code", "region", "open", "overdue", "closed")
        .sort(["open", "overdue", "city_code"], descending=[True, True, False])
    )


def totals(frame: pl.DataFrame) -> dict[str, int]:
    return {"open": int((frame["status"] != "已办结").sum()) if frame.height else 0,
            "overdue": int(frame["overdue"].sum()) if frame.height else 0,
            "closed": int((frame["status"] == "已办结").sum()) if frame.height else 0}


def awaiting(orders: pl.DataFrame, user: auth.User) -> pl.DataFrame:
    """The orders that wait for this user (warehouse/supervision.awaits: a reply, or a decision)."""
    return orders.filter(pl.Series([supervision.awaits(user, o) for o in orders.iter_rows(named=True)],
                                   dtype=pl.Boolean))


def visible_orders(con: duckdb.DuckDBPyConnection, user: auth.User, today: date) -> pl.DataFrame:
    """The orders this user may see: a 报送员 their unit's (and its counties'), a city's 审核员 their
    city's, everyone else all."""
    if user.role == "报送员":
        allowed = user.allowed_regions() or set()
        return orders(con, today, unit_codes=tuple(sorted(allowed)))
    cities = user.visible_cities()
    return orders(con, today, city_codes=None if cities is None else tuple(sorted(cities)))


HEADERS = {"order_id": "编号", "unit": "单位", "source": "来源", "text": "督办内容", "projects": "涉及项目",
           "deadline": "办理期限", "state": "状态", "issued_by": "下达人", "issued_at": "下达时间",
           "reply": "单位回复", "returned_reason": "退回原因", "closed_at": "办结时间"}


def shown(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        unit=region_names("unit_code"),
        projects=pl.col("project_names").list.join("、"),
    ).select(list(HEADERS)).rename(HEADERS)


def counts_shown(counts: pl.DataFrame) -> pl.DataFrame:
    return counts.drop("city_code").rename({"region": "地市", "open": "在办", "overdue": "其中逾期", "closed": "已办结"})
