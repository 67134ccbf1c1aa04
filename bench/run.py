"""Kaigong benchmark: `make bench` (or `python bench/run.py`); prints every figure beside its target.

Run on purpose, not as a test. Options: --scale province|national|both (default both),
--repeat N (page views per median, default 11), --ingest-repeat N (default 5; the peer's at most 3),
--skip-national, --rebuild (regenerate the cached databases under bench/.cache/),
--only (a subset of the parts; `browser` and `sessions` drive headless Chromium against a real server;
`rollup` exports the DB and runs the national roll-up's views on DuckDB and on a local Spark).
"""


from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's bench and pipelines

from bench import data as bdata
from bench.common import AS_OF, OUT, log
from bench.ingests import bench_correction, bench_county_correction, bench_ingest
from bench.page_views import (
    bench_apptest,
    bench_brief,
    bench_browser,
    bench_memory,
    bench_pages,
    bench_pdf,
    bench_sessions,
)
from bench.stores import bench_lake, bench_rollup
from bench.table import table
from bench.versions import bench_versions
from bench.wire import bench_wire


def _save(results: dict) -> None:
    """bench/out/latest.json, written after every part: a stopped run keeps the parts it finished."""
    OUT.mkdir(exist_ok=True)
    (OUT / "latest.json").write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")


def _parts(args: argparse.Namespace, province_db: Path, national_db: Path | None) -> list[tuple]:
    """The parts in the order they run: (--only name, result key, what the log says, the run)."""
    big = national_db or province_db
    big_name = "national" if national_db else "province"
    parts: list[tuple] = [
        ("pages", "pages", f"page views at {big_name} scale …",
         lambda: {"scale": big_name, **bench_pages(big, args.repeat, with_peer=True)}),
        ("ingest", "ingest", "ingest …", lambda: bench_ingest(province_db, args.ingest_repeat)),
        ("ingest-backdated", "ingest_backdated", "ingest, backdated …",  # at most three
         lambda: bench_ingest(province_db, min(args.ingest_repeat, 3), "backdated")),
        ("correction", "correction", f"correction of week 13 at {big_name} scale …",
         lambda: {"scale": f"{big_name} DB", **bench_correction(big, min(args.ingest_repeat, 3))}),
        # the target is in a province database (issue 32); the national one's beside it when there is one
        ("correction-county", "correction_county", "a county's 30-project correction of last month at province scale …",
         lambda: {"scale": "province DB", **bench_county_correction(province_db, min(args.ingest_repeat, 3))}),
        *([("correction-county", "correction_county_national",
            "a county's 30-project correction of last month at national scale …",
            lambda: {"scale": "national DB", **bench_county_correction(national_db, min(args.ingest_repeat, 3))})]
          if national_db else []),
        ("versions", "versions", "what the kept report versions cost: the ingest's share, the page views …",
         lambda: bench_versions(province_db, min(args.ingest_repeat, 3))),
        ("apptest", "apptest", "AppTest rerun …", lambda: bench_apptest(province_db, args.repeat)),
        ("pdf", "pdf", "PDF briefing …", lambda: bench_pdf(province_db, max(3, args.repeat // 2))),
        ("brief", "brief", "kaigong brief from the command line …", lambda: bench_brief(province_db, 3)),
    ]
    for name, db in (("province", province_db), ("national", national_db)):
        if db is not None:
            parts.append(("browser", f"browser_{name}", f"browser: page switches and filter changes at {name} scale …",
                          lambda db=db: bench_browser(db, rounds=2)))
    return [*parts,
            ("sessions", "sessions", f"browser: {args.sessions} sessions at once at province scale …",
             lambda: bench_sessions(province_db, args.sessions)),
            ("wire", "wire", f"{args.sessions} sessions at the protocol level, and one browser, at province scale …",
             lambda: bench_wire(province_db, bdata.CACHE, count=args.sessions)),
            ("lake", "lake", f"page view on a DuckLake store at {big_name} scale …",
             lambda: bench_lake(big, big_name, args.repeat)),
            ("rollup", "rollup", f"national roll-up over the {big_name} DB's export, on DuckDB and on Spark …",
             lambda: bench_rollup(big, big_name, max(3, args.repeat // 2))),
            ("memory", "memory", f"peak memory at {big_name} scale …",
             lambda: {"scale": big_name, **bench_memory(big)})]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=["province", "national", "both"], default="both")
    ap.add_argument("--repeat", type=int, default=11)
    ap.add_argument("--ingest-repeat", type=int, default=5)
    ap.add_argument("--skip-national", action="store_true")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--sessions", type=int, default=50, help="concurrent sessions for --only sessions")
    ap.add_argument("--only",
                    default="pages,ingest,ingest-backdated,correction,correction-county,versions,apptest,pdf,brief,browser,sessions,wire,memory,lake,rollup",
                    help="comma-separated subset of "
                         "pages,ingest,ingest-backdated,correction,correction-county,versions,apptest,pdf,brief,browser,sessions,wire,memory,lake,rollup")
    args = ap.parse_args()
    only = set(args.only.split(","))
    national = args.scale in ("national", "both") and not args.skip_national
    started = time.perf_counter()
    province_db = bdata.ensure_db(bdata.SCALES["province"], rebuild=args.rebuild, log=log)
    national_db = bdata.ensure_db(bdata.SCALES["national"], rebuild=args.rebuild, log=log) if national else None
    results: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                                f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
                                f"Python {platform.python_version()}",
                     "as_of": str(AS_OF)}
    for part, key, what, run in _parts(args, province_db, national_db):
        if part in only:
            log(what)
            try:
                results[key] = run()
            except Exception as e:  # a part that fails is a row of the table; the run goes on to the next
                results[key] = {"failed": f"{type(e).__name__}: {str(e).splitlines()[0][:300] if str(e) else ''}"}
                log(f"  failed: {results[key]['failed']}")
            _save(results)
    results["wall_s"] = time.perf_counter() - started
    _save(results)
    print(f"Kaigong benchmark — {results['machine']}; as of {AS_OF}; medians of "
          f"{args.repeat} page views / {args.ingest_repeat} ingests")
    print(table(results))
    if "apptest" in results and "skipped" in results["apptest"]:
        print(f"\nAppTest rerun skipped: {results['apptest']['skipped']}")
    print(f"\n(total {results['wall_s']:.0f} s; raw samples in bench/out/latest.json)")


if __name__ == "__main__":
    main()
