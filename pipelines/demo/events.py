"""What a project's reports say besides money and stage: why it has not started, its procedures
(审批/用地/规划/环评), the epidemic's hold on it, the problems it asks to have coordinated, and when it
entered the statistics (入统). Day offsets from 2020-01-01; NEVER means not within the year.
"""

from __future__ import annotations

import numpy as np

from pipelines.demo.campaign import CITY_PACE, S_RESERVE
from pipelines.demo.projects import Projects, Run
from pipelines.demo.words import COVID_FACTORS, PROBLEMS, REASON_PROBLEM
from pipelines.demo.year import NEVER
from pipelines.vocab.schema import STATS_THRESHOLD

PROCEDURES = ("approval", "land", "planning", "eia")


def not_started_reasons(run: Run, p: Projects) -> np.ndarray:
    """The project's own not-started reason (1..6); a continuing project has its procedures, so
    only money (2) or equipment (5) can hold up its 复工."""
    rng, n = run.rng, run.n
    return np.where(p.cont, np.where(rng.random(n) < 0.6, 2, 5), rng.integers(1, 7, n))


def procedures(run: Run, p: Projects, actual: np.ndarray, reason: np.ndarray) -> dict[str, np.ndarray]:
    """done_<procedure> and begin_<procedure> days: done before the start; the one named by the
    reason only just before."""
    rng, n, cont, stage0 = run.rng, run.n, p.cont, p.stage0
    started_by = np.minimum(actual, NEVER)
    proc_done: dict[str, np.ndarray] = {}
    for pi, name in enumerate(PROCEDURES):
        earlier = np.where(cont, -400, p.planned - rng.integers(20, 200, n))
        tied = reason == {0: 99, 1: 3, 2: 4, 3: 1}[pi]
        just = np.where(actual < NEVER, actual - rng.integers(0, 14, n), NEVER)
        done = np.where(tied & ~cont, just, np.minimum(earlier, started_by - 1))
        done = np.where((stage0 == S_RESERVE) & (pi > 0), NEVER, done)
        done = np.where((stage0 == S_RESERVE) & (pi == 0) & (rng.random(n) < 0.6), NEVER, done)
        proc_done[name] = done
    proc_begin = {k: v - rng.integers(30, 150, n) for k, v in proc_done.items()}
    return {**{f"done_{k}": v for k, v in proc_done.items()}, **{f"begin_{k}": v for k, v in proc_begin.items()}}


def epidemic(run: Run, p: Projects, actual: np.ndarray) -> dict[str, np.ndarray]:
    """covid (affected at all), covid_end (day it lets go; later in back-loaded cities), covid_factor."""
    rng, n = run.rng, run.n
    gamma_c = np.asarray([g for _, g in CITY_PACE])[p.city]
    covid = (rng.random(n) < np.where(p.stage0 == S_RESERVE, 0.3, 0.88)) & (actual > 21)
    covid_end = 65 + np.round(rng.gamma(2.0, 12.0, n) * np.where(gamma_c > 1.3, 1.6, 1.0)).astype(np.int64)
    covid_factor = rng.integers(0, len(COVID_FACTORS), n)
    return {"covid": covid, "covid_end": covid_end, "covid_factor": covid_factor}


def problems(run: Run, p: Projects, actual: np.ndarray, reason: np.ndarray) -> dict[str, np.ndarray]:
    """prob (index into PROBLEMS, −1 none) reported from p_start to p_end; a late starter whose
    reason points at a problem mostly reports that one until it starts."""
    rng, n = run.rng, run.n
    prob = np.where(rng.random(n) < 0.3, rng.integers(0, len(PROBLEMS), n), -1)
    p_start = rng.integers(40, 300, n)
    p_end = p_start + 7 * rng.integers(3, 20, n)
    tie = (
        (actual > 86) & (p.stage0 != S_RESERVE) & np.isin(reason, list(REASON_PROBLEM)) & (rng.random(n) < 0.7)
    )
    prob = np.where(tie, np.vectorize(lambda r: REASON_PROBLEM.get(int(r), -1))(reason), prob)
    p_start = np.where(tie, np.minimum(p.planned, 40), p_start)
    p_end = np.where(tie, np.minimum(actual, NEVER), p_end)
    return {"prob": prob, "p_start": p_start, "p_end": p_end}


def registrations(run: Run, p: Projects, actual: np.ndarray) -> np.ndarray:
    """Day the project entered the statistics (入统; −1 before 2020), only at or above the threshold."""
    rng, n = run.rng, run.n
    reg_day = np.where(
        p.cont & (rng.random(n) < 0.92), -1, np.where(actual < NEVER, actual + rng.integers(7, 60, n), NEVER)
    )
    return np.where(p.total >= STATS_THRESHOLD, reg_day, NEVER)


def reserve_to_pre(run: Run, p: Projects) -> np.ndarray:
    """Day a 储备 project moves on to 前期 (40 % of them, mid-year)."""
    rng, n = run.rng, run.n
    return np.where((p.stage0 == S_RESERVE) & (rng.random(n) < 0.4), rng.integers(150, 300, n), NEVER)


def report_events(run: Run, p: Projects, actual: np.ndarray) -> dict[str, np.ndarray]:
    """Everything above, drawn in this order, keyed as the weekly frame reads them."""
    reason = not_started_reasons(run, p)
    procs = procedures(run, p, actual, reason)
    covid = epidemic(run, p, actual)
    probs = problems(run, p, actual, reason)
    reg_day = registrations(run, p, actual)
    return {
        "reason": reason, **covid, **probs, "reg_day": reg_day,
        "reserve_to_pre": reserve_to_pre(run, p), **procs,
    }  # fmt: skip
