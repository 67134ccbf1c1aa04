"""Small provinces for the roll-up tests: the bench's generator (pipelines.demo.scale), its Shanxi
region codes moved to another province's prefix, loaded through Warehouse.load as bench/data.py
loads them; and one database holding several provinces' submissions, the roll-up's reference."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from pipelines import demo
from pipelines.warehouse.store import Submission, Warehouse


def submissions(prefix: str, projects: int, weeks: int, seed: int) -> list[Submission]:
    """The ledger and weekly submissions of a province whose region codes start with prefix."""

    def moved(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(
            pl.col("city_code").str.replace(r"^14", prefix),
            pl.col("county_code").str.replace(r"^14", prefix),
            pl.col("project_code").str.replace(r"^(\d{4}-)14", "${1}" + prefix),
        )

    ledger, frames = demo.scale(projects, weeks, seed)
    first = demo.report_dates(weeks)[0]
    out = [Submission(f"{prefix}_台账.xlsx", moved(ledger), first - timedelta(days=1), frequency="week",
                      present_fields=demo.LEDGER_FIELDS, layout="ledger")]
    out += [Submission(f"{prefix}_周报表_{d:%Y%m%d}.xlsx", moved(f), d, frequency="week",
                       present_fields=demo.WEEKLY_FIELDS, layout="shanxi_weekly") for d, f in frames]
    return out


def load(path: Path, subs: list[Submission]) -> Warehouse:
    """A warehouse at path with subs loaded one by one, in date order (several provinces' subs:
    each date's submissions together, as they would arrive in a week)."""
    wh = Warehouse(path)
    wh.init()
    for sub in sorted(subs, key=lambda s: s.report_date):
        wh.load([sub], actor="test")
    return wh


def load_more(src: Path, dst: Path, subs: list[Submission]) -> Warehouse:
    """A copy of the warehouse at src with subs loaded into it too."""
    shutil.copy(src, dst)
    wh = Warehouse(dst)
    for sub in sorted(subs, key=lambda s: s.report_date):
        wh.load([sub], actor="test")
    return wh


def report_dates(weeks: int) -> list[date]:
    return list(demo.report_dates(weeks))
