"""A page view (metrics.figures_by, the overview's three groupings) on the file store and on a DuckLake
store holding the same data: the demo province's ledger and first weeks. Starts its own PostgreSQL
(tests/pg.py). Run: .venv/bin/python -m bench.lake_page_view [weeks]"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from pipelines import metrics
from pipelines.demo.load import demo_submissions
from pipelines.warehouse import lake
from pipelines.warehouse.lake import LakeConfig, LakeWarehouse
from pipelines.warehouse.store import Warehouse
from tests.pg import PgServer

BYS = (None, "city", "industry")


def page_view(wh: Warehouse, as_of, n: int = 15) -> tuple[float, float]:
    """(first view, median of the next n) in ms: a read, then figures_by."""
    times = []
    for _ in range(n + 1):
        t = time.perf_counter()
        with wh.read() as con:
            metrics.figures_by(con, as_of, BYS)
        times.append((time.perf_counter() - t) * 1000)
    return times[0], statistics.median(times[1:])


def main(weeks: int = 6) -> None:
    subs = demo_submissions()[: weeks + 1]
    as_of = subs[-1].report_date
    with tempfile.TemporaryDirectory() as tmp, PgServer() as pg:
        fw = Warehouse(Path(tmp) / "f.duckdb")
        lw = LakeWarehouse(LakeConfig(pg.create_database("bench"), Path(tmp) / "lake"))
        for name, wh in (("file", fw), ("lake", lw)):
            t = time.perf_counter()
            wh.load(subs, actor="bench", is_demo=True)
            load_s = time.perf_counter() - t
            first, median = page_view(wh, as_of)
            t = time.perf_counter()
            for _ in range(100):
                wh.data_version()
            poll = (time.perf_counter() - t) * 10  # ms per call
            print(f"{name}: load {len(subs)} files {load_s:.1f} s; page view first {first:.0f} ms, "
                  f"median {median:.0f} ms; data_version {poll:.2f} ms")
        lake.close(lw.cfg)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 6)
