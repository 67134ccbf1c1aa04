"""项目台账: every project's current state, searched, ordered and paged."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from pipelines import metrics
from pipelines.metrics import View, lights
from pipelines.views import lights as lights_view
from pipelines.vocab import labels

# The ledger's columns as the page shows and downloads them (field → Chinese header).
LEDGER_COLUMNS: dict[str, str] = labels.columns(
    "project_name", "light", "light_start", "light_progress", "light_stats", "light_reason", "company", "tier", "city_name", "county_name", "industry_name", "stage", "total_investment",
    "annual_plan", "ytd_completed", "planned_start_date", "actual_start_date", "not_started_reason",
    "planned_completion_date", "problem", "last_report_date", "project_id",
)


def ledger(con: duckdb.DuckDBPyConnection, view: View) -> pl.DataFrame:
    """Every project's state as of the view's date, with its lights (metrics.lights) in words."""
    light_cols = [*lights.LIGHTS, "light_reason"]
    states = metrics.project_states(con, view.as_of, year=view.year, filters=view.filters,
                                    columns=[c for c in LEDGER_COLUMNS if c not in light_cols])
    lit = lights_view.shown(lights.project_lights(con, view.as_of, year=view.year, filters=view.filters))
    return states.join(lit.select("project_id", *light_cols), on="project_id", how="left",
                       maintain_order="left").select(list(LEDGER_COLUMNS))


# A page of the ledger, as FineReport's paged reports: a browser table of 200,000 rows is unreadable,
# and sending it costs the server several hundred MiB. 500 rows are ~180 KiB over the websocket
# (2,000 were ~710 KiB, on every view of the page and every filter change).
LEDGER_PAGE_SIZE = 500
# The orders the ledger offers: label → (column, descending); None keeps city, county, name.
LEDGER_SORTS: dict[str, tuple[str, bool] | None] = {
    "按地市、县区、名称": None,
    "按总投资从高到低": ("total_investment", True),
    "按年度计划从高到低": ("annual_plan", True),
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
