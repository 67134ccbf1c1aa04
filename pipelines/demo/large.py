"""The bench's large synthetic sets: the demo's generator at any size, uncalibrated."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import polars as pl

from pipelines.demo.campaign import DEMO_COUNTS, apportion
from pipelines.demo.weeks import frames, ledger_frame
from pipelines.demo.world import build
from pipelines.demo.year import report_dates


def scale(projects: int, weeks: int, seed: int) -> tuple[pl.DataFrame, Iterator[tuple[date, pl.DataFrame]]]:
    """A larger synthetic set from the same generator (uncalibrated): ledger and weekly frames.

    Projects split over the tiers as the demo does (100 : 100 : 1,040); weeks ≤ 46 start on
    2020-02-14, 47–52 weeks end on 2020-12-25 and so start in January.
    """
    if projects < 3:
        raise ValueError("projects must be at least 3 (one per tier)")
    counts = tuple(int(c) for c in apportion(projects, DEMO_COUNTS))
    world = build((counts[0], counts[1], counts[2]), report_dates(weeks), seed, calibrate=False)
    return ledger_frame(world), frames(world)
