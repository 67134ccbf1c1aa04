"""One run of the generator: the projects, their year and their 台账, from one seed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from pipelines.demo.calibration import calibrated_starts, calibrated_ytd, q1_reports, ytd_matrix
from pipelines.demo.campaign import shanxi_cities
from pipelines.demo.events import report_events
from pipelines.demo.frames import STATIC_WEEKLY
from pipelines.demo.ledger import static_frame
from pipelines.demo.projects import Projects, Run, projects
from pipelines.demo.timeline import (
    completions,
    first_starts,
    plan_share_by_report,
    reporting,
    reports_until_completion,
)


@dataclass
class World:
    """Everything generated for one run: project arrays, the static frame, weekly matrices."""

    dates: list[date]
    static: pl.DataFrame  # one row per project, ledger fields
    static_weekly: pl.DataFrame  # the weekly frames' per-project columns
    a: dict[str, np.ndarray]  # per-project parameters (day offsets from 2020-01-01)
    present: np.ndarray  # (n, W) bool: the project reported that week
    ytd: np.ndarray  # (n, W) float 万元: ytd completed as reported that week


def _project_arrays(p: Projects, actual: np.ndarray, completion: np.ndarray, production: np.ndarray,
                    events: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The per-project arrays the weekly frames read, by name."""
    return {
        "tier": p.tier, "city": p.city, "stage0": p.stage0, "cont": p.cont, "planned": p.planned,
        "actual": actual, "completion": completion, "production": production, "total": p.total,
        "before": p.money.before, "plan": p.money.plan, **events,
    }  # fmt: skip


def build(counts: tuple[int, int, int], dates: list[date], seed: int, calibrate: bool) -> World:
    """Generate the projects and their weekly reports; calibrate to the published Q1 figures if asked.

    The steps draw from one generator in this order; reordering them changes the demo year.
    """
    run = Run(rng=np.random.default_rng(seed), counts=counts, dates=dates, calibrate=calibrate)
    p = projects(run, shanxi_cities())
    actual = first_starts(run, p)
    present = reporting(run, p)
    anchor = np.full(run.n, -1)  # each project's latest report week on or before 31 March
    if calibrate:
        present, anchor = q1_reports(run, present)
        actual = calibrated_starts(run, p, actual, anchor)
    completion, production = completions(run, p, actual)
    present = reports_until_completion(present, run.days, completion)
    share = plan_share_by_report(run, p, actual, completion)
    ytd = calibrated_ytd(run, p, share, anchor) if calibrate else ytd_matrix(run.days, p, share, np.ones(run.n))
    ytd = np.maximum.accumulate(ytd, axis=1)  # cumulative figures never fall
    events = report_events(run, p, actual)
    static = static_frame(run.rng, p)
    return World(
        dates=dates, static=static, static_weekly=static.select(STATIC_WEEKLY),
        a=_project_arrays(p, actual, completion, production, events), present=present, ytd=ytd,
    )  # fmt: skip
