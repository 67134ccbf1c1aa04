"""The frames a generated world yields: the 台账, and each Friday's 周报 (one row per project that
reported that week), in STAGED_SCHEMA."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import numpy as np
import polars as pl

from pipelines.demo.campaign import S_BUILD, S_DONE, S_NEW, S_PRE, S_PROD, S_RESERVE, STAGE_NAMES
from pipelines.demo.events import PROCEDURES
from pipelines.demo.frames import LEDGER_FIELDS, STATIC_WEEKLY, cat, date_series, pick, staged
from pipelines.demo.words import COVID_FACTORS, NOT_STARTED, PROBLEMS, PROC_STATUS, PROGRESS
from pipelines.demo.world import World
from pipelines.demo.year import JAN1, NEVER


def ledger_frame(world: World) -> pl.DataFrame:
    """The 台账: one row per project, the ledger fields stated, the others null."""
    return staged({c: world.static[c] for c in LEDGER_FIELDS}, world.static.height)


def _image_progress(stage_bucket: np.ndarray, phys: np.ndarray) -> pl.Series:
    """形象进度: the bucket's text, with the share of the works done while under construction."""
    pct = np.clip(np.round(phys * 100), 1, 99).astype(np.int64)
    text = pick(PROGRESS, stage_bucket)
    with_pct = cat([text, "，完成总工程量的", pl.Series(pct).cast(pl.String), "%"])
    return with_pct.zip_with(pl.Series((stage_bucket >= 5) & (stage_bucket <= 8)), text)


def week_frame(world: World, w: int) -> pl.DataFrame:
    """The weekly report of week w: one row per project that reported that week."""
    a = world.a
    t = (world.dates[w] - JAN1).days
    idx = np.flatnonzero(world.present[:, w])
    m = len(idx)

    def g(key: str) -> np.ndarray:
        return a[key][idx]

    cont, stage0, planned, actual = g("cont"), g("stage0"), g("planned"), g("actual")
    started = actual <= t
    completed = g("completion") <= t
    produced = g("production") <= t
    stage = np.select(
        [produced, completed, cont, stage0 == S_NEW, stage0 == S_PRE, g("reserve_to_pre") <= t],
        [S_PROD, S_DONE, S_BUILD, S_NEW, np.where(started, S_NEW, S_PRE), S_PRE],
        S_RESERVE,
    )
    due_now = (stage != S_RESERVE) & (cont | (planned <= t))
    covid_on = g("covid") & (t < g("covid_end")) & ~completed
    none_reason = len(NOT_STARTED)
    reason = np.select([started, stage == S_RESERVE, ~due_now, covid_on], [none_reason, 8, 7, 0], g("reason"))
    prob = g("prob")
    prob_on = (prob >= 0) & (g("p_start") <= t) & (t <= g("p_end")) & ~produced
    prob_i = np.where(prob_on, prob, len(PROBLEMS))

    ytd = world.ytd[idx, w]
    phys = (g("before") + ytd) / g("total")  # physical progress ≈ investment progress
    bucket = np.select(
        [produced, completed, stage == S_RESERVE, ~started & ~due_now, ~started & cont, ~started],
        [10, 9, 0, 1, 2, 3],
        4 + np.searchsorted([0.1, 0.3, 0.55, 0.8], phys, side="right"),
    )

    cols: dict[str, pl.Series] = {c: world.static_weekly[c].gather(idx) for c in STATIC_WEEKLY}
    cols.update(
        stage=pick(STAGE_NAMES, stage),
        ytd_completed=pl.Series(ytd),
        image_progress=_image_progress(bucket, phys),
        actual_start_date=date_series(np.minimum(actual, NEVER), started),
        not_started_reason=pick((*NOT_STARTED, None), reason),
        covid_affected=pl.Series(covid_on),
        covid_factors=pick((*COVID_FACTORS, None), np.where(covid_on, g("covid_factor"), len(COVID_FACTORS))),
        problem=pick((*(p for p, _ in PROBLEMS), None), prob_i),
        problem_department=pick((*(d for _, d in PROBLEMS), None), prob_i),
        stats_registered=pl.Series(started & (g("reg_day") <= t)),
        completion_date=date_series(np.minimum(g("completion"), NEVER), completed),
    )
    for name in PROCEDURES:
        status = np.where(g(f"done_{name}") <= t, 2, np.where(g(f"begin_{name}") <= t, 1, 0))
        cols[f"{name}_status"] = pick(PROC_STATUS, status)
    return staged(cols, m)


def frames(world: World) -> Iterator[tuple[date, pl.DataFrame]]:
    """(report date, staged frame) for each report Friday of the world, generated as it is asked for."""
    for w, d in enumerate(world.dates):
        yield d, week_frame(world, w)
