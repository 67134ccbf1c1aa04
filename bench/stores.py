"""The other stores: the same page view on a DuckLake store, the national roll-up on DuckDB and Spark."""

from __future__ import annotations

import datetime
import json
import random
import statistics
import time
from datetime import date
from pathlib import Path

from bench import data as bdata
from bench.common import AS_OF, _choices, log, median_of


def _alternated(fw: object, lw: object, views: list,
                parts: dict[str, dict[str, list[float]]] | None = None) -> dict[str, list[float]]:
    """The views on the file and on the lake, alternated so both see the same minutes: seconds each;
    with parts, each metric call's seconds by store (bench/pages.our_page)."""
    from bench import pages

    times: dict[str, list[float]] = {"file": [], "lake": []}
    for f, city in views:
        for key, wh in (("file", fw), ("lake", lw)):
            t = time.perf_counter()
            with wh.read() as con:  # type: ignore[attr-defined]
                pages.our_page(con, AS_OF, f, city, trend=True,
                               parts=None if parts is None else parts.setdefault(key, {}))
            times[key].append(time.perf_counter() - t)
    return times


# ---- national roll-up ------------------------------------------------------------------------------

ROLLUP_VIEWS = (  # (label, report date, groupings, filters): stored cells, fine cells, computed cells
    ("whole + city + tier", AS_OF, (None, "city", "tier"), {}),
    ("industry, 市级千项 under construction", AS_OF, ("industry",), {"tiers": ("市级千项",), "stages": ("在建",)}),
    ("whole + county, between report dates (computed from the states)", date(2020, 12, 23), (None, "county"), {}),
)


def bench_lake(db: Path, name: str, repeat: int) -> dict:
    """The page view (bench_pages' views, trend included) on the DuckDB file and on a DuckLake store
    holding the same tables (copied into the lake in one write: loading 52 weeks again would take
    minutes and give the same rows), in the same minutes; a throw-away PostgreSQL (tests/pg.py)."""
    import tempfile

    from bench import pages
    from pipelines.warehouse import lake
    from pipelines.warehouse.connection import sql_literal
    from pipelines.warehouse.lake import LakeConfig, LakeWarehouse
    from pipelines.warehouse.store import Warehouse
    from tests.pg import PgServer

    fw = Warehouse(db)
    cities, inds = _choices(fw)
    rng = random.Random(20200206)
    views = [pages.random_view(rng, cities, inds) for _ in range(repeat)]
    out: dict = {"scale": name}
    with tempfile.TemporaryDirectory(dir=bdata.CACHE) as tmp, PgServer() as pg:
        lw = LakeWarehouse(LakeConfig(pg.create_database("bench"), Path(tmp) / "lake"))
        t = time.perf_counter()
        lw.init()
        with fw.read() as fcon:
            tables = [r[0] for r in fcon.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
                "AND schema_name = 'main' ORDER BY 1").fetchall()]
        with lw.write("bench", "copy", str(db)) as con:
            # bench-only: the bench's own file, attached by its path (no bound parameter in ATTACH)
            con.execute(f"ATTACH {sql_literal(str(db))} AS bench_src (READ_ONLY)")
            for table in tables:
                con.execute(f"DELETE FROM {table}")  # noqa: S608 (table names from the file's catalog)
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM bench_src.{table}")  # noqa: S608
        detach = lake._lake(lw.cfg).cursor()
        detach.execute("DETACH bench_src")
        detach.close()
        out["copy_s"] = time.perf_counter() - t
        log(f"  {name} tables copied into a lake in {out['copy_s']:.0f} s")
        for wh in (fw, lw):  # warm-up: the lake's ATTACH (~0.3 s) and the OS cache
            with wh.read() as con:
                pages.our_page(con, AS_OF, *views[0], trend=True)
        written = _alternated(fw, lw, views)  # as the copy left it: small tables inlined in the catalog
        t = time.perf_counter()
        # the nightly `kaigong maintain`: inlined rows written out to Parquet, small files merged
        out["maintain"] = lw.maintain("bench", datetime.timedelta(0))
        out["maintain_s"] = time.perf_counter() - t
        log(f"  maintained in {out['maintain_s']:.1f} s: {out['maintain']}")
        parts: dict[str, dict[str, list[float]]] = {}
        times = _alternated(fw, lw, views, parts)
        out["parts_s"] = {store: {name: statistics.median(v) for name, v in by.items()} for store, by in parts.items()}
        out["written_lake_s"] = statistics.median(written["lake"])
        out["written_file_s"] = statistics.median(written["file"])
        t = time.perf_counter()
        for _ in range(100):
            lw.data_version()
        out["data_version_s"] = (time.perf_counter() - t) / 100
        lake.close(lw.cfg)
    out["file_s"] = statistics.median(times["file"])
    out["written_samples"] = written
    out["lake_s"] = statistics.median(times["lake"])
    out["samples"] = times
    return out


def _same_figures(a: dict, b: dict) -> bool:
    import math

    for by in b:
        if [g["group"] for g in a[by]] != [g["group"] for g in b[by]]:
            return False
        for x, y in zip(a[by], b[by], strict=True):
            for k, v in y.items():
                if isinstance(v, float) and not (x[k] is not None and math.isclose(x[k], v, rel_tol=1e-9)):
                    return False
                if not isinstance(v, float) and x[k] != v:
                    return False
    return True


def bench_rollup(db: Path, name: str, repeat: int) -> dict:
    """Export the database (cached while its data_version holds), then the same views over the export
    on DuckDB (median of repeat) and on Spark (local[2]; a cold and a warm run), and on the file."""
    from pipelines import metrics
    from pipelines.outputs import rollup, spark_sql
    from pipelines.warehouse.province_export import SCHEMA_FILE, export
    from pipelines.warehouse.store import Warehouse

    wh = Warehouse(db)
    out_dir = bdata.CACHE / f"export_{name}"
    with wh.read() as con:
        version = con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchall()[0][0]
    res: dict = {"scale": name}
    schema_path = out_dir / SCHEMA_FILE
    cached = schema_path.exists() and version in {
        e["data_version"] for e in json.loads(schema_path.read_text(encoding="utf-8"))["provinces"].values()}
    if not cached:
        t = time.perf_counter()
        export(wh, out_dir)
        res["export_s"] = time.perf_counter() - t
    views = [(label, d, bys, metrics.Filters(**f)) for label, d, bys, f in ROLLUP_VIEWS]

    def run(con) -> list:
        return [metrics.figures_by(con, d, bys, filters=f) for _, d, bys, f in views]

    with wh.read() as con:
        res["file_s"], _ = median_of(lambda: run(con), repeat)
    r = rollup.Rollup.of([out_dir])
    t = time.perf_counter()
    duck = rollup.connect(r)
    res["open_s"] = time.perf_counter() - t
    try:
        res["duckdb_s"], res["duckdb_samples"] = median_of(lambda: run(duck), repeat)
        want = run(duck)
    finally:
        duck.close()
    t = time.perf_counter()
    spark = spark_sql.start_session()
    res["spark_start_s"] = time.perf_counter() - t
    try:
        t = time.perf_counter()
        sc = spark_sql.register(spark, r)
        res["spark_register_s"] = time.perf_counter() - t
        t = time.perf_counter()
        got = run(sc)
        res["spark_cold_s"] = time.perf_counter() - t
        t = time.perf_counter()
        run(sc)
        res["spark_s"] = time.perf_counter() - t
    finally:
        spark.stop()
    res["equal"] = all(_same_figures(g, w) for g, w in zip(got, want, strict=True))
    res["views"] = [label for label, *_ in views]
    return res
