"""Shared fixtures: a fresh warehouse per test, and a helper to load hand-written reports."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipelines.store import Submission, Warehouse

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    w = Warehouse(tmp_path / "t.duckdb")
    w.init()
    return w


def load_rows(
    wh: Warehouse, report_date: date, rows: list[dict[str, Any]], *, file_name: str | None = None,
    present: tuple[str, ...] | None = None, frequency: str = "week",
) -> None:
    """Load rows (dicts of schema fields) as one submission dated report_date."""
    frame = pl.DataFrame(rows, infer_schema_length=None)
    fields = present or tuple(c for c in frame.columns if c != "source_row")
    wh.load([
        Submission(
            file_name or f"r{report_date:%m%d}_{len(rows)}.csv", frame, report_date,
            raw=(str(report_date) + repr(rows)).encode(), present_fields=fields, frequency=frequency,
        )
    ])


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo database, built once per test process through the real loader."""
    from pipelines.demo_load import build_demo_database

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo_database(path, force=True)
    return path
