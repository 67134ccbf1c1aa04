"""What happens to each project in 2020, week by week: when it (re)starts, which reports it files
(漏报), when it is completed and put into production, and the ytd completed investment it reports.

Day offsets count from 2020-01-01; NEVER means not within the year.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from pipelines.demo.campaign import CITY_PACE, S_NEW, S_PRE
from pipelines.demo.projects import Projects, Run
from pipelines.demo.year import DAYS, NEVER, intensity_curve

# Fridays on which many more reports than usual were missed: the first week, after 端午 and in 国庆.
_WEEK_MISS = {date(2020, 2, 14): 0.15, date(2020, 6, 26): 0.12, date(2020, 10, 2): 0.45}


def first_starts(run: Run, p: Projects) -> np.ndarray:
    """Actual (re)start per project before calibration (day offset): continuing projects resume
    after the festival, new ones start on or after their planned day, some never in 2020."""
    rng, n, cont, stage0, planned = run.rng, run.n, p.cont, p.stage0, p.planned
    never = rng.random(n)
    actual = np.select(
        [cont, stage0 == S_NEW, stage0 == S_PRE],
        [
            np.where(
                rng.random(n) < 0.05,
                rng.integers(0, 10, n),
                40 + np.round(rng.gamma(2.0, 14.0, n)).astype(np.int64),
            ),
            planned + np.where(rng.random(n) < 0.35, 0, np.round(rng.exponential(25.0, n)).astype(np.int64)),
            planned + np.round(rng.exponential(30.0, n)).astype(np.int64),
        ],
        NEVER,
    )
    actual = np.where((stage0 == S_NEW) & (never < 0.05) | (stage0 == S_PRE) & (never < 0.15), NEVER, actual)
    return np.where(actual > 358, NEVER, actual)  # not started by the last report: never in 2020


def reporting(run: Run, p: Projects) -> np.ndarray:
    """(n, W) bool: the project reported that week. Whole-county misses (a clerk did not file) plus
    single-project misses, more in some counties and on some Fridays."""
    rng, n, W = run.rng, run.n, len(run.dates)
    n_counties, county_idx = p.counties.count, p.counties.index
    county_miss = np.where(rng.random(n_counties) < 0.2, rng.uniform(0.12, 0.3, n_counties), 0.01)
    week_miss = np.zeros(W)
    for i, d in enumerate(run.dates):
        week_miss[i] = _WEEK_MISS.get(d, 0.0)
    cw_miss = rng.random((n_counties, W)) < county_miss[:, None] * 0.6
    return ~(
        cw_miss[county_idx]
        | (rng.random((n, W)) < 0.02 + county_miss[county_idx, None] * 0.3 + week_miss[None, :])
    )


def completions(run: Run, p: Projects, actual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(completion, production) day offsets: only projects planned to finish in 2020 do, at least
    120 days after starting; 60 % then go into production."""
    rng, n, pc = run.rng, run.n, p.completion_planned
    completion = np.where(
        (pc < 366) & (actual < NEVER),
        np.maximum(pc + rng.integers(0, 60, n), np.maximum(actual + 120, 121)),
        NEVER,
    )
    completion = np.where(completion > 358, NEVER, completion)  # after the last report
    production = np.where(
        (completion < NEVER) & (rng.random(n) < 0.6), completion + rng.integers(14, 60, n), NEVER
    )
    production = np.where(production > 358, NEVER, production)
    # Production within three weeks of completion is reported with it, as 投产 (建成投产): a
    # project's report of 竣工/投产 is its last (below), so a later 投产 is never reported.
    production = np.where(production - completion < 21, completion, production)
    return completion, production


def reports_until_completion(present: np.ndarray, days: np.ndarray, completion: np.ndarray) -> np.ndarray:
    """present, ending with the week a project reports 竣工/投产 (the first report dated on or after
    its completion; a missed week moves it to the next one it files). Completions are from May on,
    so the first quarter (calibrated) is untouched."""
    W = present.shape[1]
    reports_done = present & (days[None, :] >= completion[:, None])
    last_week = np.where(reports_done.any(axis=1), reports_done.argmax(axis=1), W)
    return present & (np.arange(W)[None, :] <= last_week[:, None])


def _worked(curve: np.ndarray, t: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Share-of-year work done through day t (broadcast over projects × t), paused from lo to hi."""
    t1 = np.minimum(t + 1, DAYS)
    return curve[t1] - (curve[np.minimum(t1, hi[:, None])] - curve[np.minimum(t1, lo[:, None])])


def plan_share_by_report(run: Run, p: Projects, actual: np.ndarray, completion: np.ndarray) -> np.ndarray:
    """(n, W) share of the annual plan done by each report: the city's pace and timing, the year's
    site-work curve, nothing while stopped; a completed project has done its year at completion."""
    rng, n, cont = run.rng, run.n, p.cont
    curve = intensity_curve()
    pace_c = np.asarray([pace for pace, _ in CITY_PACE])[p.city]
    gamma_c = np.asarray([g for _, g in CITY_PACE])[p.city]
    pace = np.clip(pace_c * np.exp(rng.normal(0, 0.12, n)), 0.55, 1.15)
    pace = np.where(completion < NEVER, np.minimum(rng.uniform(0.97, 1.08, n), 1.15), pace)
    gamma = gamma_c * np.exp(rng.normal(0, 0.1, n))
    # Work pauses from lo until the (re)start: continuing projects worked in January, then
    # stopped at the Spring Festival (23 Jan, day 22); new projects do nothing before starting.
    lo = np.where(cont, 22, 0)
    hi = np.maximum(np.minimum(actual, DAYS), lo)
    end = np.minimum(completion, DAYS - 1)
    denom = np.where(actual <= end, _worked(curve, end[:, None], lo, hi)[:, 0], 1.0)
    denom = np.maximum(denom, 1e-6)
    u = np.clip(_worked(curve, np.minimum(run.days[None, :], end[:, None]), lo, hi) / denom[:, None], 0.0, 1.0)
    return pace[:, None] * u ** gamma[:, None]
