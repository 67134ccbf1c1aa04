"""Built-in demo year 2020 for Shanxi's 百千工程: a deterministic, calibrated data generator.

The demo is a 台账 (ledger, one row per project) plus a 周报 every Friday from 2020-02-14 (the
first Friday after 晋工信投资字〔2020〕29号 of 2020-02-06) to 2020-12-25, in STAGED_SCHEMA.

Calibration (metrics.md definitions, D = 2020-03-31, latest report per project on or before D —
no quarter-end report is emitted, so that is the 2020-03-27 report, or an earlier one for a project
that missed that week; every project reports at least once in 2020-03-13…2020-03-27):
  * 省级双百·新兴 total investment 16,420,000 万元, 省级双百·技改 10,680,000 万元 (exact);
  * 双百 ytd completed 586,000 万元 (exact), start rate 132 / 160 = 82.5 % (exact);
  * 市级千项 total 66,360,000 万元 (6,636 亿元), of which category `新兴` 47,800,000 (72.0 %);
    ytd completed 1,425,000 万元 (exact), start rate 540 / 680 = 79.41 % (79.4 % to 0.1 pp).
A 千项 project is "emerging" when its `category` is `新兴` (the 台账's 项目类别), else `技改`.

Annual plans are 15–40 % of total investment, so Q1 completion sits near 11 % of the annual plan,
well below the 24.9 % 序时进度 (as in the press reports of the time): regions are mostly yellow at
end-March; laggards (阳泉, 忻州) fall into red by mid-year and catch up in the fourth quarter.
(A red light at end-March is impossible under the default thresholds: gap < −30 pp would need a
negative completion rate when 序时进度 is 24.9 %.)

Everything is vectorised with numpy/polars and seeded (no wall clock): same seed → same frames.

The generator, module by module (each step draws from one seeded generator in a fixed order):
  year         the year's report Fridays, day offsets, site-work curve
  campaign     tiers, stages, cities and their mix, the published targets
  words        industries and their templates, names, report texts
  projects     who the projects are (tier, city, stage, county, industry, money, plans)
  timeline     starts, which weeks each project reports (漏报), completion, ytd completed
  calibration  how the Q1 figures above are hit exactly
  events       not-started reasons, procedures, epidemic, problems, 入统
  ledger       the 台账's names, codes and texts (vectorised strings)
  world        build(): the steps above in order, for one seed
  frames       the fields each frame states, staged-frame and series helpers
  weeks        the 台账 and weekly frames of a world
  flat         the standard flat layout (Chinese headers) and its CSV
  large        scale(): the bench's larger, uncalibrated sets
  load         the first-start loader (the demo database)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from functools import cache
from pathlib import Path

import polars as pl

from pipelines.demo.campaign import (
    CITY_TOTAL_TARGET,
    DEMO_COUNTS,
    DEMO_SEED,
    START_RATE_Q1,
    TIER_CITY,
    TIER_NEW,
    TIER_TECH,
    TOTAL_TARGET,
    YTD_Q1_TARGET,
)
from pipelines.demo.flat import flat_frame, write_flat_csv
from pipelines.demo.frames import LEDGER_FIELDS, WEEKLY_FIELDS
from pipelines.demo.large import scale
from pipelines.demo.weeks import frames, ledger_frame
from pipelines.demo.world import World, build
from pipelines.demo.year import FIRST_REPORT, LAST_REPORT, LEDGER_DATE, NEVER, Q1_DATE, YEAR, report_dates

__all__ = [
    "CITY_TOTAL_TARGET", "DEMO_COUNTS", "DEMO_SEED", "FIRST_REPORT", "LAST_REPORT", "LEDGER_DATE",
    "LEDGER_FIELDS", "NEVER", "Q1_DATE", "SAMPLE_PATH", "SAMPLE_WEEK", "START_RATE_Q1", "TIER_CITY",
    "TIER_NEW", "TIER_TECH", "TOTAL_TARGET", "WEEKLY_FIELDS", "YEAR", "YTD_Q1_TARGET", "demo_ledger",
    "demo_weekly_reports", "flat_frame", "report_dates", "scale", "write_flat_csv", "write_sample",
]  # fmt: skip


@cache
def _demo_world() -> World:
    return build(DEMO_COUNTS, report_dates(46), DEMO_SEED, calibrate=True)


def demo_ledger() -> pl.DataFrame:
    """The demo 台账: 1,240 projects (100 新兴 + 100 技改 + 1,040 千项) in STAGED_SCHEMA."""
    return ledger_frame(_demo_world())


def demo_weekly_reports() -> Iterator[tuple[date, pl.DataFrame]]:
    """(report date, staged frame) for each of the 46 Fridays 2020-02-14 … 2020-12-25."""
    return frames(_demo_world())


SAMPLE_WEEK = date(2020, 3, 27)
SAMPLE_PATH = Path(__file__).resolve().parents[2] / "data" / "samples" / "demo_week_2020-03-27.csv"


def write_sample(path: Path = SAMPLE_PATH) -> Path:
    """Write the demo week of 2020-03-27 (the Q1 calibration week) for upload demos."""
    frame = next(f for d, f in demo_weekly_reports() if d == SAMPLE_WEEK)
    return write_flat_csv(frame, path)
