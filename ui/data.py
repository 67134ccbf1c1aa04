"""Cached data calls: the warehouse once per process, every page bundle keyed by view and data version."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import streamlit as st

from pipelines.metrics import lights
from pipelines.outputs import geo
from pipelines.views import dashboard, history, overdue_reports, problems, ranking, submissions
from pipelines.views import supervision as supervision_view
from pipelines.warehouse import changes, review
from pipelines.warehouse.store import Warehouse, default_db_path


def demo_available() -> bool:
    return importlib.util.find_spec("pipelines.demo") is not None


@st.cache_resource(show_spinner="正在准备数据库……")
def _warehouse(path: str) -> Warehouse:
    wh = Warehouse(path)
    if demo_available():  # first start: an empty or missing database gets the demo year
        from pipelines.demo.load import ensure_demo

        ensure_demo(wh.path)
    elif not wh.path.exists():
        wh.init()
    wh.upgrade()  # a database written before the figure cells gets them once, here
    return wh


def warehouse() -> Warehouse:
    """The warehouse at KAIGONG_DB (or data/kaigong.duckdb)."""
    return _warehouse(str(default_db_path()))


_CALLS: dict[str, Callable[..., Any]] = {
    "options": dashboard.options,
    "overview": dashboard.overview,
    "starts": dashboard.starts,
    "completion": dashboard.completion,
    "regions": dashboard.regions,
    "ledger": dashboard.ledger,
    "project_history": history.project_history,
    "open_problems": problems.open_problems,
    "closed_problems": problems.closed_problems,
    "submission_log": submissions.submission_log,
    "reporting_matrix": submissions.reporting_matrix,
    "lights_page": lights.lights_page,
    "light_history": lights.project_light_history,
    "changes_for_period": changes.for_period,
    "changes_for_submission": changes.for_submission,
    "changes_counts": changes.counts_by_submission,
    # the reporting loop (issue 16)
    "review_modes": review.configured_modes,
    "review_awaiting": review.awaiting,
    "review_pending": review.pending_submission,
    "review_listing": lambda con, who, limit: review.listing(con, submitted_by=who, limit=limit),
    "overdue_reports": lambda con, as_of, f: overdue_reports.overdue_reports(con, as_of, filters=f),
    "supervision_orders": supervision_view.visible_orders,
    "supervision_candidates": supervision_view.candidates,
}


@st.cache_data(show_spinner=False, max_entries=512)
def _run(name: str, path: str, version: str, *args: Any) -> Any:
    with _warehouse(path).read() as con:
        return _CALLS[name](con, *args)


def call(name: str, *args: Any) -> Any:
    """One pipelines call over a read connection, cached until the data changes (data_version)."""
    wh = warehouse()
    return _run(name, str(wh.path), wh.data_version(), *args)


@st.cache_data(show_spinner=False)
def _is_demo(path: str, version: str) -> bool:
    return _warehouse(path).is_demo()


def is_demo() -> bool:
    wh = warehouse()
    return _is_demo(str(wh.path), wh.data_version())


@st.cache_resource(show_spinner=False)
def boundaries(level: str) -> dict[str, Any] | None:
    return geo.boundaries(level)


def ranking_table(items: list[dict[str, Any]], weights: dict[str, float]) -> Any:
    return ranking.rank(items, weights)


def changed() -> None:
    """After a write: drop cached results (the data version changed anyway; this frees memory)."""
    _run.clear()
    _is_demo.clear()


def briefing(view: Any, fmt: str, progress: Any = None) -> bytes:
    """The briefing for the view (pipelines.outputs.briefing.build, the same as `kaigong brief`)."""
    from pipelines.outputs.briefing import build

    wh = warehouse()
    demo = is_demo()  # before the read: a read opened inside another can deadlock the gate
    with wh.read() as con:
        return build(con, view.as_of, year=view.year, filters=view.filters, is_demo=demo, fmt=fmt,
                     progress=progress)


def png_unavailable() -> str | None:
    """Why charts cannot be downloaded as images now (pipelines.outputs.png; a few file lookups, not cached)."""
    from pipelines.outputs.png import png_unavailable

    return png_unavailable()


def briefing_unavailable(fmt: str) -> str | None:
    """Why a briefing in fmt cannot be made here (a missing browser, font, Pango or poppler), or None."""
    from pipelines.outputs.png import ExportUnavailable, require_briefing

    try:
        require_briefing(fmt)
    except ExportUnavailable as exc:
        return str(exc)
    return None


def change_preview(sub: Any) -> Any:
    """The change audit of a staged file against the data as it is now (nothing written), and the
    report dates after the file's (a correction of an earlier week changes their states)."""
    from pipelines.warehouse.changes import later_report_dates, preview

    with warehouse().read() as con:
        found = preview(con, sub.frame, sub.file_name, sub.report_date, sub.present_fields, sub.region_code)
        return found, later_report_dates(con, sub.report_date)


def chart_png(fig: Any) -> bytes:
    """A chart at print resolution (kaleido, one browser per process); rendered only on click."""
    import plotly.graph_objects as go

    from pipelines.outputs.png import figure_png

    copy = go.Figure(fig)
    return figure_png(copy, width=1200, height=int(copy.layout.height or 500), scale=2)
