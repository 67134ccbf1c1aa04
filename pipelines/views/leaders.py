"""责任领导 per project (issue 31 §2): who answers for each project, their projects, the lists by leader.

The leader in force: the 管理员's latest edit (project_leaders) when there is one, else the latest
report stating one (the 台账's 包保领导 / 责任领导 column, read into reports.leader); the same for
责任单位 and 联系人.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from pipelines import auth
from pipelines.metrics import View
from pipelines.vocab.query import query_frame
from pipelines.warehouse import loop_tables

COLUMNS = ("project_id", "leader", "lead_unit", "contact")
NO_LEADER = "（未明确责任领导）"

# Each project's latest leader, 责任单位 and 联系人 as the reports named them.
_FROM_REPORTS = """r AS (
    SELECT project_id,
           arg_max(leader, report_date) FILTER (WHERE leader IS NOT NULL) AS leader,
           arg_max(lead_unit, report_date) FILTER (WHERE lead_unit IS NOT NULL) AS lead_unit,
           arg_max(contact, report_date) FILTER (WHERE contact IS NOT NULL) AS contact
    FROM reports GROUP BY project_id)"""
_ONLY_REPORTS = "\nWITH " + _FROM_REPORTS + """
SELECT * FROM r WHERE leader IS NOT NULL OR lead_unit IS NOT NULL ORDER BY project_id"""
_WITH_EDITS = "\nWITH " + _FROM_REPORTS + """,
e AS (
    SELECT project_id, arg_max(leader, set_at) AS leader, arg_max(lead_unit, set_at) AS lead_unit,
           arg_max(contact, set_at) AS contact
    FROM project_leaders GROUP BY project_id),
both_ AS (
    SELECT coalesce(e.project_id, r.project_id) AS project_id,
           CASE WHEN e.project_id IS NULL THEN r.leader ELSE e.leader END AS leader,
           CASE WHEN e.project_id IS NULL THEN r.lead_unit ELSE e.lead_unit END AS lead_unit,
           CASE WHEN e.project_id IS NULL THEN r.contact ELSE e.contact END AS contact
    FROM r FULL JOIN e ON e.project_id = r.project_id)
SELECT * FROM both_ WHERE leader IS NOT NULL OR lead_unit IS NOT NULL ORDER BY project_id"""  # noqa: S608 (constants)


def project_leaders(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every project with a leader or 责任单位 in force (COLUMNS)."""
    sql = _WITH_EDITS if loop_tables.has(con, "project_leaders") else _ONLY_REPORTS
    return query_frame(con, sql).select(pl.col(c).cast(pl.String) for c in COLUMNS)


def leader_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The leaders named on any project (the filter's choices)."""
    return sorted(n for n in project_leaders(con)["leader"].unique().to_list() if n)


def with_leaders(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> pl.DataFrame:
    """A frame of projects (project_id) with their leader, 责任单位 and 联系人 (null when none)."""
    known = project_leaders(con)
    drop = [c for c in COLUMNS[1:] if c in frame.columns]
    return frame.drop(drop).join(known, on="project_id", how="left")


def of_leader(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, leaders: list[str] | None) -> pl.DataFrame:
    """The rows of frame whose project's leader is one of leaders (all rows when None): the filter by
    leader, and 「我的项目」 for a 领导 user linked to a name."""
    got = with_leaders(con, frame)
    return got if leaders is None else got.filter(pl.col("leader").is_in(leaders))


def by_leader(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> pl.DataFrame:
    """A list of projects (亮灯清单, 督办单's projects) grouped by leader: the leader first, the rows
    in their order within each leader, projects without one last under NO_LEADER."""
    got = with_leaders(con, frame).with_row_index("_order")
    got = got.with_columns(pl.col("leader").fill_null(NO_LEADER))
    first = got.group_by("leader").agg(pl.col("_order").min().alias("_first"))
    return (got.join(first, on="leader")
            .sort(pl.col("leader") == NO_LEADER, "_first", "_order")
            .drop("_order", "_first")
            .select("leader", *[c for c in got.columns if c not in ("leader", "_order")]))


LEADER_HEADER = "责任领导"


def lit_by_leader(con: duckdb.DuckDBPyConnection, view: View) -> pl.DataFrame:
    """The 亮灯清单 (with each project's blocking procedure) grouped by leader (by_leader)."""
    from pipelines.views import procedures

    return by_leader(con, procedures.lights_page(con, view).lit)


def lit_shown_by_leader(grouped: pl.DataFrame) -> pl.DataFrame:
    """lit_by_leader as the 亮灯清单 shows it, the leader first."""
    from pipelines.views import procedures

    shown = procedures.lit_shown(grouped.drop("leader"))
    return shown.insert_column(0, grouped["leader"].alias(LEADER_HEADER))


def leader_project_ids(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> tuple[str, ...]:
    """The projects whose leader in force is one of names: the filter bar's 责任领导 and 「我的项目」 narrow
    the set S to these (Filters.project_ids; an impossible id when there are none, so S is empty, not all)."""
    known = project_leaders(con).filter(pl.col("leader").is_in(list(names)))
    return tuple(known["project_id"].to_list()) or (NONE_ID,)


NONE_ID = "（无）"


def leader_of(con: duckdb.DuckDBPyConnection, project_id: str) -> dict[str, str | None]:
    """One project's leader, 责任单位 and 联系人 in force (None each when not named)."""
    got = project_leaders(con).filter(pl.col("project_id") == project_id)
    return {c: (got[c][0] if got.height else None) for c in COLUMNS[1:]}


def leader_line(found: dict[str, str | None]) -> str:
    """「责任领导：王副市长；责任单位：市工信局；联系人：…」 (未明确 where none)."""
    return "；".join(f"{zh}：{found.get(c) or '未明确'}" for c, zh in
                    (("leader", "责任领导"), ("lead_unit", "责任单位"), ("contact", "联系人")))


def orders_by_leader(con: duckdb.DuckDBPyConnection, user: auth.User, today: date) -> pl.DataFrame:
    """The 督办单 this user may see (views/supervision.visible_orders) grouped by the leaders of their
    projects, as the list shows them with 责任领导 first: an order about projects of two leaders is listed
    under each, one without any under NO_LEADER."""
    from pipelines.views import supervision as supervision_view

    orders = supervision_view.visible_orders(con, user, today)
    if orders.is_empty() or not loop_tables.has(con, "supervision_orders"):
        return supervision_view.shown(orders).insert_column(0, pl.Series(LEADER_HEADER, [], pl.String))
    ids = query_frame(con, "SELECT order_id, unnest(project_ids) AS project_id FROM supervision_orders")
    led = with_leaders(con, ids.with_columns(pl.col("project_id").cast(pl.String)))
    per_order = (led.group_by("order_id").agg(pl.col("leader").drop_nulls().unique().sort().alias("leaders"))
                 .with_columns(pl.col("order_id").cast(pl.Int64)))
    got = (orders.join(per_order, on="order_id", how="left", maintain_order="left")
           .with_columns(pl.when(pl.col("leaders").list.len() > 0).then(pl.col("leaders"))
                         .otherwise(pl.lit([NO_LEADER])).alias("leaders"))
           .explode("leaders").rename({"leaders": "leader"})
           .with_row_index("_order"))
    got = got.sort(pl.col("leader") == NO_LEADER, "leader", "_order").drop("_order")
    return supervision_view.shown(got).insert_column(0, got["leader"].alias(LEADER_HEADER))
