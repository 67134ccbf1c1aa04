"""Cached data calls: the warehouse once per process, every page bundle keyed by view and data version."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import streamlit as st

from pipelines.outputs import geo
from pipelines.views import dashboard, history, problems, ranking, submissions
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
}


@st.cache_data(show_spinner=False, max_entries=512)
def _run(name: str, path: str, version: str, *args: Any) -> Any:
    with _warehouse(path).read() as con:
        return _CALLS[name](con, *args)


def call(name: str, *args: Any) -> Any:
    """One pipelines call over a read connection, cached until the data changes (data_version)."""
    wh = warehouse()
    return _run(name, str(wh.path), wh.data_version(), *args)


@st.cache_data(show_spinner=False, max_entries=64)
def _ledger_page(path: str, version: str, view: Any, search: str, sort: str, page: int, size: int) -> Any:
    found = dashboard.ledger_page(_run("ledger", path, version, view), search=search, sort=sort, page=page, size=size)
    return replace(found, matched=found.matched.clear())  # the download reads the matched rows on click


def ledger_page(view: Any, search: str, sort: str, page: int, size: int) -> dashboard.LedgerPage:
    """One page of the ledger (its `matched` left out: `total` counts it), cached by view, search, order
    and page: a rerun copies out 500 rows, not the whole ledger (200,000 nationally, ~0.1 s a rerun)."""
    wh = warehouse()
    return _ledger_page(str(wh.path), wh.data_version(), view, search, sort, page, size)


def ledger_csv(view: Any, search: str, sort: str) -> bytes:
    """Every project matching the search, in the chosen order, as the ledger's CSV (built on click)."""
    from pipelines.outputs import csv_safe

    wh = warehouse()
    found = dashboard.ledger_page(_run("ledger", str(wh.path), wh.data_version(), view), search=search, sort=sort)
    return csv_safe.to_csv_bytes(found.matched.drop("project_id").rename(dashboard.LEDGER_COLUMNS, strict=False))


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


def chart_png(fig: Any) -> bytes:
    """A chart at print resolution (kaleido, one browser per process); rendered only on click."""
    import plotly.graph_objects as go

    from pipelines.outputs.png import figure_png

    copy = go.Figure(fig)
    return figure_png(copy, width=1200, height=int(copy.layout.height or 500), scale=2)
