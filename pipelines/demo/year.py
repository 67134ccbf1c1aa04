"""The demo year 2020: its report Fridays, day offsets from 1 January and the year's site-work curve."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

YEAR = 2020
LEDGER_DATE = date(2020, 2, 6)  # the 台账 is as of the notice; weekly reports follow from 02-14
FIRST_REPORT = date(2020, 2, 14)
LAST_REPORT = date(2020, 12, 25)
Q1_DATE = date(2020, 3, 31)

JAN1 = date(YEAR, 1, 1)
EPOCH = (JAN1 - date(1970, 1, 1)).days  # polars Date = days since 1970-01-01
DAYS = 366  # 2020 is a leap year
NEVER = 100_000  # day offset for "not within the horizon" (never started / never completed)
Q1 = (Q1_DATE - JAN1).days  # 90


def report_dates(weeks: int = 46) -> list[date]:
    """Report Fridays of 2020: from 2020-02-14 for up to 46 weeks, else backwards from 2020-12-25."""
    if not 1 <= weeks <= 52:
        raise ValueError(f"weeks must be within 1..52 (the Fridays of {YEAR}), got {weeks}")
    if weeks <= 46:
        return [FIRST_REPORT + timedelta(days=7 * i) for i in range(weeks)]
    return [LAST_REPORT - timedelta(days=7 * i) for i in reversed(range(weeks))]


def intensity_curve() -> np.ndarray:
    """Cumulative share of a full year's site work done before day d (length 367, Bc[366] = 1).

    Daily intensity: January before the Spring Festival at 0.8 (winter); 23 Jan – 9 Feb nearly
    stopped (festival, then the epidemic lockdown); 10–29 Feb first 复工 at 0.4; March 0.9;
    April–June the catch-up push (1.45, 掀起项目建设高潮); July–September 1.1; October–November
    0.95; December slowed by winter (0.7).
    """
    w = np.full(DAYS, 1.1)
    w[:22] = 0.8
    w[22:40] = 0.02
    w[40:60] = 0.4
    w[60:91] = 0.9
    w[91:182] = 1.45
    w[274:335] = 0.95
    w[335:] = 0.7
    return np.concatenate([[0.0], np.cumsum(w) / w.sum()])
