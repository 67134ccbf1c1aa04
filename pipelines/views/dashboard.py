"""What each dashboard page shows, as one call per page over the metrics layer.

Pages are flat scripts: they ask here for a bundle of frames/figures and draw it. Nothing in
this module knows about streamlit; money stays in 万元 and rates are fractions (see metrics.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb
import polars as pl

from pipelines import metrics
from pipelines.metrics import Filters, View
from pipelines.vocab import schema
from pipelines.vocab.reference import cities, counties_of, region_by_code

# Columns of the project ledger as the pages show them (field → Chinese header).
LEDGER_COLUMNS: dict[str, str] = {
    "project_name": "项目名称",
    "company": "企业名称",
    "tier": "层级",
    "city_name": "地市",
    "county_name": "县区",
    "industry_name": "行业",
    "stage": "建设状态",
    "total_investment": "总投资（万元）",
    "annual_plan": "本年计划（万元）",
    "ytd_completed": "本年完成（万元）",
    "planned_start_date": "计划开（复）工",
    "actual_start_date": "实际开（复）工",
    "not_started_reason": "未开复工原因",
    "planned_completion_date": "计划竣工",
    "problem": "存在问题",
    "last_report_date": "最近报送",
    "project_id": "项目标识",
}


@dataclass(frozen=True)
class Options:
    """What the sidebar can offer, from the data."""

    years: list[int]
    report_dates: dict[int, list[date]]
    industries: list[str]
    city_codes: list[str]


def options(con: duckdb.DuckDBPyConnection) -> Options:
    ys = metrics.years(con)
    dates = {y: metrics.report_dates(con, y) for y in ys}
    industries = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT coalesce(industry_name, '（未填行业）') FROM states ORDER BY 1"
        ).fetchall()
    ]
    return Options(ys, dates, industries, [c.code for c in cities()])


def _prev(con: duckdb.DuckDBPyConnection, view: View) -> date | None:
    return metrics.previous_report_date(con, view.as_of)


# ---- 总览 -------------------------------------------------------------------------------------


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
    prev = _prev(con, view)
    now = metrics.figures_by(con, view.as_of, (None, "tier"), year=view.year, filters=view.filters)
    then = metrics.figures_by(con, prev, (None, "tier"), year=view.year, filters=view.filters) if prev else None
    t = now[None][0]
    tb = then[None][0] if then else None
    tiers = [it for it in now["tier"] if it["projects"]]
    before = {it["group"]: it for it in then["tier"]} if then else {}
    return Overview(view.as_of, prev, t, tb, tiers, before, metrics.double_half(view.as_of, t["completion_rate"]))


# ---- 开工 -------------------------------------------------------------------------------------


def _add_month(d: date) -> date:
    y, m = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
    last = (date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)).day
    return date(y, m, min(d.day, last))


@dataclass
class Starts:
    as_of: date
    total: dict[str, Any]
    by: dict[str, list[dict[str, Any]]]
    trend: pl.DataFrame
    overdue: pl.DataFrame
    due_next_month: pl.DataFrame
    next_month_end: date


_LIST_COLS = ["project_id", "project_name", "tier", "city_name", "county_name", "industry_name", "stage",
              "total_investment", "planned_start_date", "actual_start_date", "not_started_reason"]


def starts(con: duckdb.DuckDBPyConnection, view: View) -> Starts:
    groups = metrics.figures_by(con, view.as_of, (None, "tier", "city", "county", "industry"), year=view.year,
                                filters=view.filters)
    by = {g: [it for it in items if it["due"]] for g, items in groups.items() if g is not None}
    end = _add_month(view.as_of)
    cols = list(_LIST_COLS)
    # One read for both lists: an overdue project (due, not started) is one not started.
    not_started = metrics.project_states(
        con, view.as_of, year=view.year, filters=view.filters, columns=[*cols, "is_overdue"], where="not has_started"
    )
    overdue = not_started.filter(pl.col("is_overdue")).select(cols).sort("planned_start_date", nulls_last=True)
    upcoming = not_started.filter(
        ~pl.col("stage").fill_null("").is_in(["储备", *schema.DONE_STAGES])
        & (pl.col("planned_start_date") > view.as_of)
        & (pl.col("planned_start_date") <= end)
    ).select(cols).sort("planned_start_date")
    return Starts(
        view.as_of,
        groups[None][0],
        by,
        metrics.trend(con, view.as_of, year=view.year, filters=view.filters),
        overdue,
        upcoming,
        end,
    )


# ---- 投资完成 ---------------------------------------------------------------------------------


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


# ---- 区域 -------------------------------------------------------------------------------------


@dataclass
class Regions:
    as_of: date
    cities: list[dict[str, Any]]
    city_tiers: pl.DataFrame  # city × tier: projects, total_investment, completion_rate, start_rate
    counties: list[dict[str, Any]]  # of the drilled city (or all counties when none)
    drill_city: str | None
    points: pl.DataFrame  # regions on the map with their centroid and figures
    level: str = "city"
    extra: dict[str, Any] = field(default_factory=dict)


def regions(con: duckdb.DuckDBPyConnection, view: View, drill_city: str | None = None) -> Regions:
    f = view.filters
    city_items = metrics.figures(con, view.as_of, year=view.year, filters=f, by="city")
    rows = []
    for tier in schema.TIERS:
        if f.tiers and tier not in f.tiers:
            continue
        for it in metrics.figures(con, view.as_of, year=view.year, filters=Filters(**{**f.__dict__, "tiers": (tier,)}),
                                  by="city"):
            rows.append({"city": it["group"], "city_code": it.get("group_code"), "tier": tier,
                         "projects": it["projects"], "total_investment": it["total_investment"],
                         "completion_rate": it["completion_rate"], "start_rate": it["start_rate"]})
    city_tiers = pl.DataFrame(rows, schema={
        "city": pl.String, "city_code": pl.String, "tier": pl.String, "projects": pl.Int64,
        "total_investment": pl.Float64, "completion_rate": pl.Float64, "start_rate": pl.Float64,
    })
    cf = Filters(**{**f.__dict__, "cities": (drill_city,)}) if drill_city else f
    county_items = metrics.figures(con, view.as_of, year=view.year, filters=cf, by="county")
    level = "county" if drill_city else "city"
    items = county_items if drill_city else city_items
    return Regions(view.as_of, city_items, city_tiers, county_items, drill_city, region_points(items), level)


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


def county_options(city_codes: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    """(code, label) of the counties the sidebar offers: those of the chosen cities, or all."""
    chosen = list(city_codes) or [c.code for c in cities()]
    out = []
    for cc in chosen:
        city = region_by_code().get(cc)
        for r in counties_of(cc):
            out.append((r.code, f"{city.name if city else cc}·{r.name}"))
    return out


# ---- 项目台账 ---------------------------------------------------------------------------------


def ledger(con: duckdb.DuckDBPyConnection, view: View) -> pl.DataFrame:
    return metrics.project_states(con, view.as_of, year=view.year, filters=view.filters,
                                  columns=list(LEDGER_COLUMNS))


# A page of the ledger, as FineReport's paged reports: a browser table of 200,000 rows is unreadable,
# and sending it costs the server several hundred MiB. 500 rows are ~180 KiB over the websocket
# (2,000 were ~710 KiB, on every view of the page and every filter change).
LEDGER_PAGE_SIZE = 500
# The orders the ledger offers: label → (column, descending); None keeps city, county, name.
LEDGER_SORTS: dict[str, tuple[str, bool] | None] = {
    "按地市、县区、名称": None,
    "按总投资从高到低": ("total_investment", True),
    "按本年计划从高到低": ("annual_plan", True),
    "按本年完成从高到低": ("ytd_completed", True),
    "按最近报送从早到晚": ("last_report_date", False),
}


@dataclass
class LedgerPage:
    rows: pl.DataFrame  # this page's projects, in LEDGER_COLUMNS
    matched: pl.DataFrame  # every project matching the search, in the chosen order (what is downloaded)
    page: int  # 1-based, clamped to the pages there are
    pages: int
    first: int  # the 1-based position of rows' first project among the matched (0 when none)
    total: int = 0  # how many projects match (matched.height, also when matched is left out)


def ledger_page(ledger: pl.DataFrame, *, search: str = "", sort: str = "按地市、县区、名称", page: int = 1,
                size: int = LEDGER_PAGE_SIZE) -> LedgerPage:
    """The ledger's projects whose name or company contains search (literally, any case), in the
    chosen order (a missing value last), page by page."""
    found = ledger
    if needle := search.strip():
        hit = pl.lit(False)
        for col in ("project_name", "company"):
            if col in ledger.columns:
                hit = hit | pl.col(col).fill_null("").str.to_lowercase().str.contains(needle.lower(), literal=True)
        found = ledger.filter(hit)
    order = LEDGER_SORTS.get(sort)
    if order is not None:
        col, desc = order
        found = found.sort(col, descending=desc, nulls_last=True, maintain_order=True)
    pages = max(1, -(-found.height // size))
    page = min(max(1, page), pages)
    rows = found.slice((page - 1) * size, size)
    return LedgerPage(rows, found, page, pages, (page - 1) * size + 1 if rows.height else 0, found.height)
