"""Benchmark data: province and national databases built through the real loader, cached on disk.

The generator is pipelines.demo.scale (the demo's generator, uncalibrated); each weekly frame
is loaded as one submission with Warehouse.load, exactly as the demo database is built, so the
national database is what an ingest of 52 weekly files would leave. Databases are cached under
bench/.cache/ (git-ignored) and rebuilt when the generator, the schema or the store's DDL change.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache"


@dataclass(frozen=True)
class Scale:
    name: str
    projects: int
    weeks: int
    seed: int


SCALES = {
    "province": Scale("province", 1_240, 52, 2020),
    "national": Scale("national", 200_000, 52, 2020),
}


def fingerprint(scale: Scale) -> str:
    """Changes when anything that shapes the stored data changes."""
    from pipelines import metrics
    from pipelines.warehouse import snapshots, store, tables

    h = hashlib.sha256(json.dumps([scale.projects, scale.weeks, scale.seed]).encode())
    for source in sorted((ROOT / "pipelines" / "demo").glob("*.py")):  # every module of the generator
        h.update(source.name.encode())
        h.update(source.read_bytes())
    h.update("\n".join((*tables.ddl(tables.KEPT), *snapshots.UPGRADE_DDL, *getattr(store, "DERIVED_DDL", ()))).encode())
    h.update(str(getattr(store, "STORE_FORMAT", "")).encode())
    h.update(str(getattr(metrics, "CELLS_FORMULA", "")).encode())  # the stored cells' formulas
    return h.hexdigest()[:16]


def ledger_date(scale: Scale) -> date:
    """The 台账 comes the day before the first weekly report."""
    from pipelines import demo

    return demo.report_dates(scale.weeks)[0] - timedelta(days=1)


def db_path(scale: Scale) -> Path:
    return CACHE / f"{scale.name}.duckdb"


def _remove(path: Path) -> None:
    for suffix in ("", ".wal", ".version", ".turn", ".gate", ".fingerprint"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def ensure_db(scale: Scale, *, rebuild: bool = False, log=print) -> Path:
    """The scale's database, built if missing or stale; returns its path."""
    path = db_path(scale)
    stamp = path.with_name(path.name + ".fingerprint")
    fp = fingerprint(scale)
    if not rebuild and path.exists() and stamp.exists() and stamp.read_text() == fp:
        return path
    build_db(scale, path, log=log)
    stamp.write_text(fp)
    return path


def build_db(scale: Scale, path: Path, *, log=print) -> dict[str, float]:
    """Load the ledger and every weekly frame through Warehouse.load; returns timings (s)."""
    from pipelines import demo
    from pipelines.warehouse.store import Submission, Warehouse

    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".building")
    _remove(tmp)
    wh = Warehouse(tmp)
    wh.init()
    t0 = time.perf_counter()
    ledger, weeks = demo.scale(scale.projects, scale.weeks, scale.seed)
    gen = 0.0
    load = 0.0
    t = time.perf_counter()
    wh.load([Submission(f"{scale.name}_台账.xlsx", ledger, ledger_date(scale), frequency="week",
                        present_fields=demo.LEDGER_FIELDS, layout="ledger")], actor="bench")
    load += time.perf_counter() - t
    log(f"  {scale.name}: ledger {ledger.height:,} rows loaded in {time.perf_counter() - t:.1f} s")
    rows = ledger.height
    while True:
        t = time.perf_counter()
        try:
            d, frame = next(weeks)
        except StopIteration:
            break
        gen += time.perf_counter() - t
        t = time.perf_counter()
        wh.load([Submission(f"{scale.name}_周报表_{d:%Y%m%d}.xlsx", frame, d, frequency="week",
                            present_fields=demo.WEEKLY_FIELDS, layout="shanxi_weekly")], actor="bench")
        load += time.perf_counter() - t
        rows += frame.height
        if scale.projects >= 100_000:
            log(f"  {scale.name}: {d} {frame.height:,} rows loaded in {time.perf_counter() - t:.1f} s")
    _remove(path)
    for suffix in ("", ".wal", ".version"):
        src = tmp.with_name(tmp.name + suffix)
        if src.exists():
            shutil.move(src, path.with_name(path.name + suffix))
    _remove(tmp)
    total = time.perf_counter() - t0
    log(f"  {scale.name}: {rows:,} report rows, built in {total:.0f} s "
        f"(generate {gen:.0f} s, load {load:.0f} s), {path.stat().st_size / 2**20:,.0f} MiB")
    return {"total": total, "generate": gen, "load": load, "rows": rows}


def copy_db(src: Path, dst: Path) -> Path:
    """A throw-away copy (for the ingest measurement, which writes)."""
    _remove(dst)
    shutil.copy(src, dst)
    return dst


if __name__ == "__main__":  # python bench/data.py [province|national] [--rebuild]
    import sys

    sys.path.insert(0, str(ROOT))
    names = [a for a in sys.argv[1:] if not a.startswith("-")] or ["province"]
    for n in names:
        print(ensure_db(SCALES[n], rebuild="--rebuild" in sys.argv))
