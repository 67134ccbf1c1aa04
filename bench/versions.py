"""What keeping every version of a report costs (issue 26): the ingest's added cost and the page views.

- A load's version work is `load._keep_versions` (leave a restated row alone, move a changed report's earlier
  version to report_versions). It runs only when a file's report date already has reports: a correction, or
  a file sent again; the merge onto those reports and the replacement of the changed ones were there before. Its share of the whole ingest is timed in a fresh
  process per run, for a 150-project correction of week 13 and for the week's 100,000-row file sent again
  unchanged (every row restated, none a new version). Target: ≤ 10 %.
- The page views read `reports` (the newest versions) and never `report_versions`. Measured on the same
  database with 100,000 superseded versions and without them, alternated in one run. Target: unchanged.
"""

from __future__ import annotations

import multiprocessing
import random
import statistics
import time
from pathlib import Path

from bench import data as bdata
from bench.common import AS_OF, ROOT, _choices, log
from bench.ingests import CORRECTION_DATE, correction_xlsx, submission_xlsx


def _load_once(db: str, path: str, d: str, rows: int, before: str | None) -> tuple[float, float]:
    """One timed load of path in this fresh process: (total seconds, of which load._keep_versions). The file
    before (if any) is loaded first, untimed: the same figures, so the timed load restates every row."""
    from datetime import date

    from pipelines.ingest.prepare import prepare
    from pipelines.ingest.result import ReadOptions
    from pipelines.warehouse import load
    from pipelines.warehouse.intake import load_prepared
    from pipelines.warehouse.store import Warehouse

    day = date.fromisoformat(d)
    sample = ROOT / "data" / "samples" / "standard_template.xlsx"  # imports and first use, not timed
    scratch = bdata.CACHE / "versions_warmup.duckdb"
    bdata._remove(scratch)
    load_prepared(Warehouse(scratch, uploads_dir=bdata.CACHE / "versions_uploads"),
                  [prepare(sample.read_bytes(), sample.name, ReadOptions(report_date=day))], actor="bench")
    bdata._remove(scratch)
    copy = bdata.copy_db(Path(db), bdata.CACHE / "versions_copy.duckdb")
    wh = Warehouse(copy, uploads_dir=bdata.CACHE / "versions_uploads")
    raw = Path(path).read_bytes()
    if before is not None:
        first = prepare(Path(before).read_bytes(), Path(before).name, ReadOptions(report_date=day))
        assert load_prepared(wh, [first], actor="bench")[0].status == "loaded"
    spent = [0.0]
    keep = load._keep_versions

    def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        try:
            return keep(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - t

    load._keep_versions = timed  # type: ignore[assignment]
    t = time.perf_counter()
    p = prepare(raw, Path(path).name, ReadOptions(report_date=day))
    out = load_prepared(wh, [p], actor="bench")
    total = time.perf_counter() - t
    assert out[0].status == "loaded" and out[0].rows == rows, out
    return total, spent[0]


def _resaved(path: Path, name: str, raise_ytd: float) -> Path:
    """The file as a clerk sends it again: read and written anew (other bytes, so not a duplicate), with
    every 本年累计 raised by raise_ytd 万元 (0: the same figures)."""
    import polars as pl

    out = bdata.CACHE / name
    if not out.exists():
        frame = pl.read_excel(path, sheet_name="填报模板")
        col = next(c for c in frame.columns if "本年" in c and "完成" in c)
        tmp = out.with_suffix(".part.xlsx")
        frame.with_columns(pl.col(col).cast(pl.Float64, strict=False).fill_null(0) + raise_ytd).write_excel(
            tmp, worksheet="填报模板")
        tmp.replace(out)
    return out


def _with_versions(db: Path) -> tuple[Path, Path]:
    """Two copies of db, each with the week's 100,000-row file loaded; the second also has it sent again
    with every 本年累计 raised, so it holds 100,000 superseded versions more (and equal figures otherwise)."""
    from pipelines.ingest.prepare import prepare
    from pipelines.ingest.result import ReadOptions
    from pipelines.warehouse.intake import load_prepared
    from pipelines.warehouse.store import Warehouse

    week = submission_xlsx(AS_OF)
    raised = _resaved(week, "submission_raised.xlsx", 1.0)
    out = []
    for name, files in (("versions_none", [week]), ("versions_many", [week, raised])):
        copy = bdata.copy_db(db, bdata.CACHE / f"{name}.duckdb")
        wh = Warehouse(copy, uploads_dir=bdata.CACHE / "versions_uploads")
        for f in files:
            p = prepare(f.read_bytes(), f.name, ReadOptions(report_date=AS_OF))
            assert p.ok, p.errors[:3]
            assert load_prepared(wh, [p], actor="bench")[0].status == "loaded"
        out.append(copy)
    return out[0], out[1]


def bench_versions(db: Path, repeat: int) -> dict:
    from bench import pages
    from pipelines.warehouse.store import Warehouse

    spawn = multiprocessing.get_context("spawn")
    shares: dict[str, dict] = {}
    # a province's city has ~180 projects in week 13: its county's correction of 150 of them
    week = submission_xlsx(AS_OF)
    cases = (("correction", correction_xlsx(db, 150), CORRECTION_DATE, 150, None),
             ("resent", _resaved(week, "submission_resaved.xlsx", 0.0), AS_OF, 100_000, str(week)))
    for case, path, d, rows, before in cases:
        totals, spent = [], []
        for i in range(repeat):
            with spawn.Pool(1) as pool:
                total, sup = pool.apply(_load_once, (str(db), str(path), d.isoformat(), rows, before))
            totals.append(total)
            spent.append(sup)
            log(f"  {case} run {i + 1}: {total:.2f} s, of which the versions' statements {sup:.3f} s ({sup / total:.1%})")
        shares[case] = {"total_s": statistics.median(totals), "versions_s": statistics.median(spent),
                        "share": statistics.median(s / t for s, t in zip(spent, totals, strict=True)),
                        "samples": {"total": totals, "versions": spent}}
    none, many = _with_versions(db)
    with Warehouse(many).read() as con:
        n_versions = con.execute("SELECT count(*) FROM report_versions").fetchone()[0]  # type: ignore[index]
    rng = random.Random(20260126)
    cities, inds = _choices(Warehouse(none))
    views = [pages.random_view(rng, cities, inds) for _ in range(repeat)]
    times: dict[str, list[float]] = {"none": [], "many": []}
    for path in (none, many):  # warm-up
        with Warehouse(path).read() as con:
            pages.our_page(con, AS_OF, *views[0], trend=True)
    for f, city in views:  # alternated, so both see the machine alike
        for key, path in (("none", none), ("many", many)):
            t = time.perf_counter()
            with Warehouse(path).read() as con:
                pages.our_page(con, AS_OF, f, city, trend=True)
            times[key].append(time.perf_counter() - t)
    for p in (none, many):
        bdata._remove(p)
    bdata._remove(bdata.CACHE / "versions_copy.duckdb")
    page = {k: statistics.median(v) for k, v in times.items()}
    log(f"  page view: {page['none'] * 1000:.0f} ms without versions, {page['many'] * 1000:.0f} ms with "
        f"{n_versions:,} superseded versions")
    return {**shares, "page_none_s": page["none"], "page_many_s": page["many"], "n_versions": n_versions,
            "page_samples": times}
