"""What every part of the benchmark shares: where things are, the report date, timing and logging."""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # this checkout's pipelines, not whichever one the venv points at

AS_OF = date(2020, 12, 25)  # the last weekly report of the year
OUT = Path(__file__).resolve().parent / "out"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def median_of(fn, n: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


def _choices(wh):
    with wh.read() as con:
        cities = [r[0] for r in con.execute("SELECT DISTINCT city_code FROM projects ORDER BY 1").fetchall()]
        inds = [r[0] for r in con.execute(
            "SELECT DISTINCT industry_name FROM states WHERE as_of = (SELECT max(as_of) FROM state_dates) "
            "AND industry_name IS NOT NULL ORDER BY 1").fetchall()]
    return cities, inds
