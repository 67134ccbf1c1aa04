"""The demo's previous year (2019), so that 同比 has a year to compare with: the same calibrated
generator (world.build) run with its own seed, moved back one year, with the 2020 list's 续建 projects
on it (the projects on both years' lists, 同口径).

Nothing of the 2020 demo is drawn again or changed: the 2019 world has its own random generator
(PREV_SEED), and the 2020 world is only read (its continuing projects' names and codes). So the
2020 figures (Q1: 82.5 %, 58.6 亿; 79.4 %, 142.5 亿) are the same with or without this year.

How the 2019 year is made from a world built in 2020's day offsets:
  * report Fridays move back 52 weeks (364 days: 2020-02-14 … 2020-12-25 → 2019-02-15 … 2019-12-27,
    still Fridays); every other date moves back one calendar year (29 Feb → 28 Feb), so a planned
    month stays that month and a date on or before a report date stays on or before it;
  * the years written in the 2019 projects' own codes and 建设起止年限 move back one year;
  * each 2020 continuing project (续建, with no code or one approved by 2019) is given to a 2019
    project of the same tier and city that was started or new in 2019 and not completed in it
    (its code, name, company, county and industry): the two years' lists share these projects;
  * 本年累计完成投资 is PREV_YTD_FACTOR of the calibrated figure: the calibration hits the same Q1
    targets in any seed, and a 同比 of exactly 0 at Q1 would be a coincidence no reader believes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import polars as pl

from pipelines.demo.campaign import DEMO_COUNTS, S_CONT, S_NEW
from pipelines.demo.frames import STATIC_WEEKLY
from pipelines.demo.weeks import frames, ledger_frame
from pipelines.demo.world import World, build
from pipelines.demo.year import DAYS, LEDGER_DATE, report_dates

PREV_YEAR = 2019
PREV_SEED = 20190206  # a year before the notice's date (DEMO_SEED)
PREV_YTD_FACTOR = 0.92  # 2019's 本年累计完成投资 against the calibrated figure
REPORT_SHIFT = timedelta(days=364)  # 52 weeks: a Friday stays a Friday
PREV_LEDGER_DATE = date(LEDGER_DATE.year - 1, LEDGER_DATE.month, LEDGER_DATE.day)
# What makes a 2020 continuing project the same project in 2019 (the identity and what describes it).
SHARED = ("project_code", "project_name", "company", "county_code", "county_name", "dev_zone",
          "industry_code", "industry_name", "category", "company_intro", "contact", "lead_unit")


def _year_back(text: str | None) -> str | None:
    return None if text is None else re.sub(r"\b(20\d\d)\b", lambda m: str(int(m.group(1)) - 1), text)


def _pairs(cur: World, prev: World) -> tuple[np.ndarray, np.ndarray]:
    """(2020 index, 2019 index) of the projects on both lists: per tier and city, the 2020 continuing
    projects (no code, or a code approved by 2019) against the 2019 projects new or continuing that
    year and not completed in it, each in project order."""
    code_year = cur.static["project_code"].str.slice(0, 4).cast(pl.Int32, strict=False).fill_null(0).to_numpy()
    carried = cur.a["cont"] & (code_year <= PREV_YEAR)
    open_prev = np.isin(prev.a["stage0"], (S_NEW, S_CONT)) & (prev.a["completion"] >= DAYS)
    ci, pi = [], []
    for tier in np.unique(cur.a["tier"]):
        for city in np.unique(cur.a["city"]):
            c = np.flatnonzero(carried & (cur.a["tier"] == tier) & (cur.a["city"] == city))
            p = np.flatnonzero(open_prev & (prev.a["tier"] == tier) & (prev.a["city"] == city))
            k = min(len(c), len(p))
            ci.append(c[:k])
            pi.append(p[:k])
    return np.concatenate(ci), np.concatenate(pi)


def previous_world(cur: World) -> World:
    """The 2019 world (in 2020's day offsets, dates moved by previous_frames): its own draws, the
    years in its own texts moved back, the shared projects' identity taken from cur."""
    dates = report_dates(len(cur.dates))
    prev = build(DEMO_COUNTS, dates, PREV_SEED, calibrate=True)
    static = prev.static.with_columns(
        pl.Series("project_code", [_year_back(v) for v in prev.static["project_code"]], pl.String),
        pl.Series("construction_period", [_year_back(v) for v in prev.static["construction_period"]], pl.String),
    )
    ci, pi = _pairs(cur, prev)
    shared = cur.static.select(SHARED)[ci]
    static = static.with_columns(static[c].scatter(pi, shared[c]) for c in SHARED)
    return replace(prev, static=static, static_weekly=static.select(STATIC_WEEKLY),
                   ytd=np.round(prev.ytd * PREV_YTD_FACTOR, 1))


def _back(frame: pl.DataFrame) -> pl.DataFrame:
    """Every date of the frame one calendar year earlier (29 Feb → 28 Feb)."""
    return frame.with_columns(pl.col(pl.Date).dt.offset_by("-1y"))


def previous_ledger(prev: World) -> pl.DataFrame:
    return _back(ledger_frame(prev))


def previous_weekly_reports(prev: World) -> Iterator[tuple[date, pl.DataFrame]]:
    """(report date, staged frame) for each 2019 Friday (2019-02-15 … 2019-12-27)."""
    for d, frame in frames(prev):
        yield d - REPORT_SHIFT, _back(frame)
