"""The pages' reads: the warehouse once per process, and one typed function per view of
pipelines.views, each result cached by the view's arguments and the warehouse's data_version."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Concatenate, ParamSpec, TypeVar

import duckdb
import plotly.graph_objects as go
import streamlit as st

from pipelines.ingest.prepare import Prepared
from pipelines.outputs import fill_sheet as fill_sheet_output
from pipelines.outputs import geo
from pipelines.views import changes as changes_view
from pipelines.views import completion as completion_view
from pipelines.views import corrections as corrections_view
from pipelines.views import fill as fill_view
from pipelines.views import history, layouts, problems, review_status, submissions
from pipelines.views import issued as issued_view
from pipelines.views import leaders as leaders_view
from pipelines.views import ledger as ledger_view
from pipelines.views import options as options_view
from pipelines.views import overdue_reports as overdue_reports_view
from pipelines.views import overview as overview_view
from pipelines.views import procedures as procedures_view
from pipelines.views import reconcile as reconcile_view
from pipelines.views import regions as regions_view
from pipelines.views import starts as starts_view
from pipelines.views import supervision as supervision_view
from pipelines.views import yearlist as yearlist_view
from pipelines.warehouse.store import Store, Submission, open_warehouse, store_key

P = ParamSpec("P")
R = TypeVar("R")


@st.cache_resource(show_spinner="正在准备数据库……")
def _warehouse(key: str) -> Store:
    from pipelines.demo.load import ensure_demo

    wh = open_warehouse()
    ensure_demo(wh)  # first start: an empty or missing database gets the demo year
    wh.upgrade()  # a database written before the figure cells gets them once, here
    return wh


def warehouse() -> Store:
    """The configured warehouse (store.open_warehouse): the file at KAIGONG_DB (or data/kaigong.duckdb),
    or the lake KAIGONG_STORE=lake names."""
    return _warehouse(store_key())


@st.cache_data(show_spinner=False, max_entries=512)
def _run(name: str, key: str, version: str, _view: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    # Keyed by the view's name, the store, its data_version and the arguments (_view is not hashed).
    with _warehouse(key).read() as con:
        return _view(con, *args, **kwargs)


def _cached(view: Callable[Concatenate[duckdb.DuckDBPyConnection, P], R]) -> Callable[P, R]:
    """view without its connection: run over a read connection, cached until the data changes."""

    def read(*args: P.args, **kwargs: P.kwargs) -> R:
        wh = warehouse()
        return _run(f"{view.__module__}.{view.__qualname__}", wh.key, wh.data_version(), view, *args, **kwargs)

    read.__doc__ = view.__doc__
    return read


# The views, as the pages call them: cached.overview(view) is views.overview.overview(con, view).
options = _cached(options_view.options)
overview = _cached(overview_view.overview)
starts = _cached(starts_view.starts)
completion = _cached(completion_view.completion)
regions = _cached(regions_view.regions)
ledger = _cached(ledger_view.ledger)
project_history = _cached(history.project_history)
open_problems = _cached(problems.open_problems)
closed_problems = _cached(problems.closed_problems)
submission_log = _cached(submissions.submission_log)
reporting_matrix = _cached(submissions.reporting_matrix)
lights_page = _cached(procedures_view.lights_page)  # the lit list with each project's blocking 前期手续
procedures_matrix = _cached(procedures_view.matrix)
reconcile_page = _cached(reconcile_view.reconcile_page)
yearlist_page = _cached(yearlist_view.yearlist_page)
leader_project_ids = _cached(leaders_view.leader_project_ids)  # 责任领导 (issue 31)
lit_by_leader = _cached(leaders_view.lit_by_leader)
orders_by_leader = _cached(leaders_view.orders_by_leader)
project_leaders = _cached(leaders_view.project_leaders)
leader_of = _cached(leaders_view.leader_of)
report_deadlines = _cached(submissions.report_deadlines)  # each level's deadline (warehouse/deadlines.py)


@st.cache_data(show_spinner=False, max_entries=64)
def _ledger_page(key: str, version: str, view: Any, search: str, sort: str, page: int, size: int) -> Any:
    found = ledger_view.ledger_page(ledger(view), search=search, sort=sort, page=page, size=size)
    return replace(found, matched=found.matched.clear())  # the download reads the matched rows on click


def ledger_page(view: Any, search: str, sort: str, page: int, size: int) -> ledger_view.LedgerPage:
    """One page of the ledger (its `matched` left out: `total` counts it), cached by view, search, order
    and page: a rerun copies out 500 rows, not the whole ledger (200,000 nationally, ~0.1 s a rerun)."""
    wh = warehouse()
    return _ledger_page(wh.key, wh.data_version(), view, search, sort, page, size)


def ledger_csv(view: Any, search: str, sort: str) -> bytes:
    """Every project matching the search, in the chosen order, as the ledger's CSV (built on click)."""
    from pipelines.outputs import csv_safe

    found = ledger_view.ledger_page(ledger(view), search=search, sort=sort)
    return csv_safe.to_csv_bytes(found.matched.drop("project_id").rename(ledger_view.LEDGER_COLUMNS, strict=False))

light_history = _cached(history.light_history)
changes_for_period = _cached(changes_view.for_period)
changes_for_submission = _cached(changes_view.for_submission)
changes_counts = _cached(changes_view.counts_by_submission)
# issue 26: the issued briefings, and the corrections since the last one (更正说明)
issued_briefings = _cached(issued_view.listing)
briefing_deliveries = _cached(issued_view.deliveries)
corrections = _cached(corrections_view.corrections)
# the reporting loop (issue 16): review, 催报, 督办单
review_modes = _cached(review_status.modes)
review_awaiting = _cached(review_status.awaiting)
review_pending = _cached(review_status.pending_submission)
review_listing = _cached(review_status.listing)
overdue_reports = _cached(overdue_reports_view.overdue_reports)
supervision_orders = _cached(supervision_view.visible_orders)
supervision_candidates = _cached(supervision_view.candidates)
# the clerk's side (issue 31): the prefilled sheet and the online grid's rows
fill_sheet = _cached(fill_sheet_output.sheet_of)
fill_grid = _cached(fill_view.fill_grid)


def layout_memory(p: Prepared) -> Prepared:
    """p against its unit's confirmed layouts (pipelines.warehouse.layouts): read as confirmed before, or
    what changed, and what to confirm before the load."""
    with warehouse().read() as con:
        return layouts.with_memory(con, p)


def change_preview(sub: Submission) -> tuple[Any, list[Any]]:
    """The change audit of a staged file against the data as it is now (nothing written), and the
    report dates after the file's (a correction of an earlier week changes their states)."""
    with warehouse().read() as con:
        return changes_view.preview(con, sub)


@st.cache_data(show_spinner=False)
def _is_demo(key: str, version: str) -> bool:
    return _warehouse(key).is_demo()


def is_demo() -> bool:
    wh = warehouse()
    return _is_demo(wh.key, wh.data_version())


@st.cache_resource(show_spinner=False)
def boundaries(level: str, provinces: tuple[str, ...]) -> dict[str, Any] | None:
    """The region map's boundary GeoJSON of those provinces (read once per process and provinces)."""
    return geo.boundaries(level, provinces) if provinces else None


# Built charts, shared by every session (issue 32 §3). Building a plotly figure is most of a page rerun's
# Python (~20-50 ms a chart: plotly validates every property it is given), and fifty sessions on one
# process share one interpreter: the same chart of the same view was built again on every rerun.
FIGURES = 256  # charts kept (a province bar chart ~50-200 KB): the least recently used goes first


class SharedFigure(go.Figure):
    """A built chart that sessions share: its dict (what st.plotly_chart serialises) is made once. The
    Figure's own to_dict() deep-copies every property on every call (~2-4 ms a chart per rerun); this
    hands out the same dict, which Streamlit only reads."""

    def to_dict(self) -> dict[str, Any]:
        if getattr(self, "_shared_dict", None) is None:
            self._shared_dict = super().to_dict()
        return self._shared_dict


@st.cache_resource(show_spinner=False, max_entries=FIGURES)
def _figure(name: str, key: str, version: str, view_key: str, _view: Any, _read: Callable[[Any], Any],
            _build: Callable[[Any], Any]) -> SharedFigure:
    # Keyed by the chart's name, the store, its data_version and the view's repr (a frozen dataclass of
    # dates, strings and tuples: its repr is its value; Streamlit's hashing of the View itself cost ~3 ms a
    # chart). _view, _read and _build are not hashed.
    fig = SharedFigure(_build(_read(_view)))
    fig.to_dict()
    return fig


def figure(name: str, read: Callable[[Any], R], view: Any, build: Callable[[R], go.Figure]) -> SharedFigure:
    """build(read(view)) -- a page's chart from its view's data -- built once per data version and view
    and shared by every session: the same object, not a copy, so nothing may change it (the PNG export
    copies it first). name names the chart in the whole app (the element's key): one name, one builder;
    read is a cached view (cached.starts, ...), called inside so the chart and the data agree. The data
    version is read before the data, so a load committing in between can only file a newer chart under
    the older version (asked no more once the version moves on), never an older chart under the newer."""
    wh = warehouse()
    return _figure(name, wh.key, wh.data_version(), repr(view), view, read, build)


def changed() -> None:
    """After a write: drop cached results (the data version changed anyway; this frees memory)."""
    _run.clear()
    _is_demo.clear()
    _figure.clear()
