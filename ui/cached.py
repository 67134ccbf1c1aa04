"""The pages' reads: the warehouse once per process, and one typed function per view of
pipelines.views, each result cached by the view's arguments and the warehouse's data_version."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

import duckdb
import polars as pl
import streamlit as st

from pipelines.metrics import View
from pipelines.outputs import geo
from pipelines.views import completion as completion_view
from pipelines.views import history, problems, submissions
from pipelines.views import ledger as ledger_view
from pipelines.views import options as options_view
from pipelines.views import overview as overview_view
from pipelines.views import regions as regions_view
from pipelines.views import starts as starts_view
from pipelines.warehouse.store import Warehouse, default_db_path

P = ParamSpec("P")
R = TypeVar("R")


@st.cache_resource(show_spinner="正在准备数据库……")
def _warehouse(path: str) -> Warehouse:
    from pipelines.demo.load import ensure_demo

    wh = Warehouse(path)
    ensure_demo(wh.path)  # first start: an empty or missing database gets the demo year
    wh.upgrade()  # a database written before the figure cells gets them once, here
    return wh


def warehouse() -> Warehouse:
    """The warehouse at KAIGONG_DB (or data/kaigong.duckdb)."""
    return _warehouse(str(default_db_path()))


@st.cache_data(show_spinner=False, max_entries=512)
def _run(name: str, path: str, version: str, _view: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    # Keyed by the view's name, the database, its data_version and the arguments (_view is not hashed).
    with _warehouse(path).read() as con:
        return _view(con, *args, **kwargs)


def _read(view: Callable[Concatenate[duckdb.DuckDBPyConnection, P], R], *args: P.args, **kwargs: P.kwargs) -> R:
    """view over a read connection, cached until the data changes."""
    wh = warehouse()
    return _run(f"{view.__module__}.{view.__qualname__}", str(wh.path), wh.data_version(), view, *args, **kwargs)


def options() -> options_view.Options:
    return _read(options_view.options)


def overview(view: View) -> overview_view.Overview:
    return _read(overview_view.overview, view)


def starts(view: View) -> starts_view.Starts:
    return _read(starts_view.starts, view)


def completion(view: View) -> completion_view.Completion:
    return _read(completion_view.completion, view)


def regions(view: View, drill_city: str | None) -> regions_view.Regions:
    return _read(regions_view.regions, view, drill_city)


def ledger(view: View) -> pl.DataFrame:
    return _read(ledger_view.ledger, view)


def project_history(project_id: str) -> history.ProjectHistory:
    return _read(history.project_history, project_id)


def open_problems(view: View) -> pl.DataFrame:
    return _read(problems.open_problems, view)


def closed_problems() -> pl.DataFrame:
    return _read(problems.closed_problems)


def submission_log(limit: int, loaded_by: str | None) -> pl.DataFrame:
    return _read(submissions.submission_log, limit, loaded_by)


def reporting_matrix(view: View) -> pl.DataFrame:
    return _read(submissions.reporting_matrix, view)


@st.cache_data(show_spinner=False)
def _is_demo(path: str, version: str) -> bool:
    return _warehouse(path).is_demo()


def is_demo() -> bool:
    wh = warehouse()
    return _is_demo(str(wh.path), wh.data_version())


@st.cache_resource(show_spinner=False)
def boundaries(level: str) -> dict[str, Any] | None:
    """The region map's boundary GeoJSON (read once per process)."""
    return geo.boundaries(level)


def changed() -> None:
    """After a write: drop cached results (the data version changed anyway; this frees memory)."""
    _run.clear()
    _is_demo.clear()
