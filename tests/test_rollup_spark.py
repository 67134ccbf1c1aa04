"""The roll-up on Spark (#19 §2): the metrics layer's own SQL, transpiled by sqlglot with the named
rule set, gives on a local Spark session the figures DuckDB gives over the same export; and every
SQL text the metrics layer sends transpiles for Spark (the dialect guard)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from pipelines import metrics
from pipelines.metrics import lights
from pipelines.outputs import rollup, spark_sql
from pipelines.warehouse.province_export import export
from tests import rollup_data
from tests.conftest import ROOT
from tests.test_rollup import assert_same

pytestmark = pytest.mark.xdist_group("spark")  # one JVM at a time on a 2-core machine

WEEKS = 4
DATES = rollup_data.report_dates(WEEKS)


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Provinces 61 and 62 exported into one directory, and the first one's database."""
    root = tmp_path_factory.mktemp("spark")
    out = root / "national"
    dbs = {}
    for p, n, seed in (("61", 60, 21), ("62", 45, 22)):
        dbs[p] = rollup_data.load(root / f"p{p}.duckdb", rollup_data.submissions(p, n, WEEKS, seed))
        export(dbs[p], out)
    return {"out": out, "dbs": dbs, "rollup": rollup.Rollup.of([out])}


@pytest.fixture(scope="module")
def spark(national: dict[str, Any]) -> Iterator[tuple[spark_sql.SparkConnection, float]]:
    t = time.perf_counter()
    try:
        session = spark_sql.start_session()
    except spark_sql.SparkUnavailable as exc:
        pytest.fail(str(exc))
    started = time.perf_counter() - t
    try:
        yield spark_sql.register(session, national["rollup"]), started
    finally:
        session.stop()


VIEWS = [  # (report date, groupings, filters): stored cells, fine cells, computed from the states
    pytest.param(DATES[-1], (None, "city", "tier"), metrics.Filters(), id="stored"),
    pytest.param(DATES[1], ("industry", "size_band"), metrics.Filters(cities=("610100", "620200")), id="fine-filtered"),
    pytest.param(DATES[2] + timedelta(days=4), (None, "county"), metrics.Filters(tiers=("市级千项",)), id="computed"),
]


@pytest.mark.parametrize(("as_of", "bys", "filters"), VIEWS)
def test_spark_gives_the_figures_duckdb_gives(
        national: dict[str, Any], spark: tuple[spark_sql.SparkConnection, float],
        as_of: date, bys: tuple[str | None, ...], filters: metrics.Filters) -> None:
    con = rollup.connect(national["rollup"])
    try:
        want = metrics.figures_by(con, as_of, bys, filters=filters)
    finally:
        con.close()
    assert sum(it["projects"] for it in want[bys[0]]) > 0
    got = metrics.figures_by(spark[0], as_of, bys, filters=filters)
    assert_same(got, want)


def test_spark_starts_within_its_bound(spark: tuple[spark_sql.SparkConnection, float]) -> None:
    assert spark[1] < spark_sql.START_SECONDS
    assert spark[0].execute("SELECT count(DISTINCT province) FROM projects").fetchall() == [(2,)]


# ---- the rule set and the dialect guard -----------------------------------------------------------


def test_grouping_bits_gives_duckdbs_multi_column_grouping() -> None:
    sql = """SELECT GROUPING(a, b, c) AS g, GROUPING(b) AS h FROM (SELECT 1 AS a, 2 AS b, 3 AS c)
             GROUP BY GROUPING SETS ((a), (a, b), (c), ()) ORDER BY ALL"""
    rewritten = sqlglot.parse_one(sql, read="duckdb").transform(dict(spark_sql.RULES)["grouping_bits"])
    assert "GROUPING(a, b" not in rewritten.sql(dialect="duckdb")
    con = duckdb.connect()
    assert con.execute(rewritten.sql(dialect="duckdb")).fetchall() == con.execute(sql).fetchall()
    assert sorted(r[0] for r in con.execute(sql).fetchall()) == [0b001, 0b011, 0b110, 0b111]


def _metrics_statements(con: duckdb.DuckDBPyConnection) -> list[tuple[str, Any]]:
    """Every statement the metrics layer sends for every grouping, each kind of filter, both paths
    (a report date: stored cells; a date between two: computed; a project-id filter: computed),
    a trend over several dates, the per-project states and the lights' counts."""
    rec = spark_sql.Recording(con)
    pid = con.execute("SELECT min(project_id) FROM projects").fetchall()[0][0]
    filters = [
        metrics.Filters(), metrics.Filters(tiers=("市级千项",)), metrics.Filters(cities=("610100",)),
        metrics.Filters(counties=("610105",)), metrics.Filters(industries=("专用设备制造业",)),
        metrics.Filters(stages=("在建",)), metrics.Filters(size_bands=("1–5亿",)),
        metrics.Filters(project_ids=(pid,)),
    ]
    bys = (None, *metrics.GROUPINGS)
    for as_of in (DATES[-1], DATES[1] + timedelta(days=2)):
        for f in filters:
            metrics.figures_by(rec, as_of, bys, filters=f)
        for by in bys:
            metrics.figures_by(rec, as_of, (by,))
        metrics.trend(rec, as_of, by="city")
        metrics.trend(rec, as_of, filters=filters[-1])  # several dates, computed: the unnest path
        metrics.project_states(rec, as_of)
        lights.counts_by(rec, as_of, bys)
    return rec.statements


def _rows(rows: list[tuple]) -> list[tuple]:
    """Rows in an order of their own (statements order by date only), sums to 1e-6."""
    return sorted((tuple(round(v, 6) if isinstance(v, float) else v for v in r) for r in rows), key=repr)


def test_every_metrics_statement_transpiles_for_spark(national: dict[str, Any]) -> None:
    """The dialect guard, over a real province database: each text sqlglot writes for Spark without
    an unsupported construct, after the rule set; and with its values inlined it is the same
    statement (DuckDB gives the same rows for it as for the bound one)."""
    with national["dbs"]["61"].read() as con:
        statements = _metrics_statements(con)
        texts = {s for s, _ in statements}
        assert len(texts) >= 20
        assert any("figure_cells_coarse" in s for s in texts) and any("state_ranges" in s for s in texts)
        assert any("GROUPING(" in s for s in texts)
        failures = []
        for sql, params in statements:
            try:
                spark_sql.to_spark(sql, params)
            except sqlglot.errors.SqlglotError as exc:
                failures.append((sql[:200], str(exc)[:300]))
        assert not failures
        distinct = list({s: (s, p) for s, p in reversed(statements)}.values())
        for sql, params in distinct[:80]:  # inlining is faithful (each distinct text, run here)
            inlined = spark_sql.bind(sql, params).sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE)
            bound = con.execute(sql, params).fetchall() if params is not None else con.execute(sql).fetchall()
            assert _rows(con.execute(inlined).fetchall()) == _rows(bound)


# ---- start-up, bounded ----------------------------------------------------------------------------


def test_no_java_is_said_in_chinese(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(spark_sql.SparkUnavailable, match="未找到 Java"):
        spark_sql.start_session()


def test_a_start_up_past_its_bound_gives_up_in_chinese() -> None:
    """The bound holds: a start given 0.5 s gives up, stops the JVM it launched and the process ends."""
    code = "from pipelines.outputs import spark_sql\nspark_sql.start_session(timeout=0.5)\n"
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode != 0
    assert "秒内没有启动完成" in proc.stderr
    assert time.perf_counter() - t < 60
