"""The DuckLake store (KAIGONG_STORE=lake): the same figures as the file, writers serialised by the
catalog's advisory lock, readers on snapshots. Each test module gets its own throw-away PostgreSQL
(tests/pg.py) and each test its own catalog database and data directory."""

from __future__ import annotations

import itertools
import math
import multiprocessing
import queue
import sys
import time
import types
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import psycopg
import pytest

from pipelines import auth, metrics
from pipelines.demo.load import demo_submissions
from pipelines.metrics import lights
from pipelines.metrics.view import Filters, View
from pipelines.views import ledger as ledger_view
from pipelines.warehouse import lake, problems
from pipelines.warehouse.connection import first
from pipelines.warehouse.lake import LakeConfig, LakeUnavailable, LakeWarehouse
from pipelines.warehouse.store import Submission, Warehouse, open_warehouse
from tests.pg import PgServer

pytestmark = pytest.mark.xdist_group("lake")

_DBS = itertools.count(1)


@pytest.fixture(scope="module")
def pg() -> Any:
    with PgServer() as server:
        yield server


def _lake(pg: PgServer, data: Path) -> LakeWarehouse:
    cfg = LakeConfig(pg.create_database(f"lake_{next(_DBS)}"), data)
    return LakeWarehouse(cfg)


@pytest.fixture
def lw(pg: PgServer, tmp_path: Path) -> Any:
    w = _lake(pg, tmp_path / "lake")
    w.init()
    yield w
    lake.close(w.cfg)


# ---- small hand-made submissions ----------------------------------------------------------------

D = date(2020, 3, 13)
CITIES = (("140100", "太原市"), ("140200", "大同市"), ("140300", "阳泉市"), ("140400", "长治市"))


def _rows(tag: str, n: int, city: tuple[str, str]) -> pl.DataFrame:
    """n new projects of the city, each 总投资 1000 万元, 年度计划 400, 本年完成 100, started."""
    return pl.DataFrame([
        {"project_name": f"项目{tag}-{i}", "city_code": city[0], "city_name": city[1], "tier": "市级千项",
         "industry_name": "冶金", "stage": "在建", "total_investment": 1000.0, "annual_plan": 400.0,
         "ytd_completed": 100.0, "planned_start_date": date(2020, 1, 15), "actual_start_date": date(2020, 1, 20)}
        for i in range(n)
    ])


def _submission(tag: str, n: int = 3, city: tuple[str, str] = CITIES[0], day: date = D) -> Submission:
    frame = _rows(tag, n, city)
    return Submission(f"{tag}.csv", frame, day, raw=f"{tag}|{n}|{city}|{day}".encode(),
                      present_fields=tuple(frame.columns), frequency="week")


# ---- (a) the same figures as the file ----------------------------------------------------------

def _close(a: Any, b: Any, where: str) -> None:
    """Equal, money (floats) within 1e-9 relative, counts and words exactly."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for k in a:
            _close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and not isinstance(b, bool):
        assert isinstance(b, float | int), where
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b)), (where, a, b)
    else:
        assert a == b, (where, a, b)


def _by_group(figs: dict[Any, list[dict[str, Any]]]) -> dict[Any, list[dict[str, Any]]]:
    return {by: sorted(rows, key=lambda r: str(r.get("group"))) for by, rows in figs.items()}


def _views(wh: Warehouse, as_of: date) -> dict[str, Any]:
    with wh.read() as con:
        city = sorted(r[0] for r in con.execute("SELECT DISTINCT city_code FROM projects").fetchall())[0]
        out: dict[str, Any] = {
            "figures": _by_group(metrics.figures_by(con, as_of, (None, "city", "industry"))),
            "filtered": _by_group(metrics.figures_by(con, as_of, (None, "county"), filters=Filters(cities=(city,)))),
            "lights": _by_group(lights.counts_by(con, as_of, (None, "city"))),
            "ledger": ledger_view.ledger(con, View(as_of, as_of.year)).sort("project_id").to_dicts(),
        }
    return out


def test_demo_data_gives_the_file_figures(lw: LakeWarehouse, tmp_path: Path):
    # The demo province's ledger and its first six weekly reports, loaded in the same two batches into
    # a file and a lake (the whole demo year takes ~95 s into a lake: see docs/deployment.md).
    subs = demo_submissions()[:7]
    fw = Warehouse(tmp_path / "f.duckdb")
    fw.init()
    for w in (fw, lw):
        w.load(subs[:4], actor="demo", is_demo=True)
        w.load(subs[4:], actor="demo", is_demo=True)
    dates = (subs[3].report_date, subs[6].report_date)
    assert dates[0] < dates[1]
    for as_of in dates:
        want, got = _views(fw, as_of), _views(lw, as_of)
        assert want["figures"][None][0]["projects"] > 1000  # the demo province, not an empty view
        assert want["lights"][None][0]["lights_red"] + want["lights"][None][0]["lights_green"] > 0
        _close(want, got, str(as_of))
    with fw.read() as fcon, lw.read() as lcon:
        for table in ("submissions", "projects", "reports", "change_findings", "state_ranges"):
            q = f"SELECT count(*) FROM {table}"
            assert first(fcon.execute(q)) == first(lcon.execute(q)), table


# ---- (d) data_version and (e) duplicates -------------------------------------------------------

def test_data_version_moves_with_writes_only(lw: LakeWarehouse):
    v0 = lw.data_version()
    with lw.read() as con:
        assert first(con.execute("SELECT count(*) FROM submissions")) == (0,)
    assert lw.data_version() == v0
    lw.load([_submission("a")])
    v1 = lw.data_version()
    assert v1 != v0 and int(v1) > int(v0)
    for _ in range(3):
        with lw.read() as con:
            metrics.figures_by(con, D, (None,))
        assert lw.data_version() == v1
    problems.close_problem(lw, auth.LOCAL, "x", "用地", "张三")
    assert lw.data_version() not in (v0, v1)


def test_a_resubmitted_file_is_a_duplicate_and_keys_stay_unique(lw: LakeWarehouse):
    first_outcomes = lw.load([_submission("a"), _submission("b", city=CITIES[1])])
    assert [o.status for o in first_outcomes] == ["loaded", "loaded"]
    again = lw.load([_submission("a"), _submission("c", city=CITIES[2])])
    assert [o.status for o in again] == ["duplicate", "loaded"]
    assert again[0].submission_id == first_outcomes[0].submission_id
    # the same file in one batch twice: the second is the duplicate
    twice = lw.load([_submission("d"), _submission("d")])
    assert [o.status for o in twice] == ["loaded", "duplicate"]
    # the same project's report again (a correction of file a with another content): merged, not doubled
    corrected = _submission("a")
    corrected = Submission("a2.csv", corrected.frame.with_columns(ytd_completed=pl.lit(150.0)), D, raw=b"a2",
                           present_fields=corrected.present_fields, frequency="week")
    assert lw.load([corrected])[0].status == "loaded"
    problems.close_problem(lw, auth.LOCAL, "p1", "用地", "张三")
    problems.close_problem(lw, auth.LOCAL, "p1", "用地", "李四", "再次")
    with lw.read() as con:
        ids = [r[0] for r in con.execute("SELECT submission_id FROM submissions ORDER BY 1").fetchall()]
        assert ids == [1, 2, 3, 4, 5]
        assert first(con.execute("SELECT count(*), count(DISTINCT project_id) FROM projects")) == (12, 12)
        assert first(con.execute(
            "SELECT count(*), count(DISTINCT (project_id, report_date)) FROM reports")) == (12, 12)
        assert first(con.execute("SELECT count(*), count(DISTINCT key) FROM meta")) is not None
        keys = con.execute("SELECT key, count(*) FROM meta GROUP BY key HAVING count(*) > 1").fetchall()
        assert keys == []
        assert con.execute("SELECT closed_by, note FROM problem_closures").fetchall() == [("李四", "再次")]
        f = metrics.figures_by(con, D, (None,))[None][0]
    assert f["projects"] == 12 and f["ytd_completed"] == pytest.approx(9 * 100.0 + 3 * 150.0)


# ---- (c) the writer lock's bounded wait ------------------------------------------------------

def test_a_writer_waits_for_the_lock_a_bounded_time_and_says_so(lw: LakeWarehouse):
    lw.lock_wait = 1.0
    holder = psycopg.connect(lw.cfg.dsn, autocommit=True)
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", [lake.WRITER_LOCK_KEY])
        start = time.monotonic()
        with pytest.raises(LakeUnavailable) as caught:
            lw.load([_submission("a")])
        waited = time.monotonic() - start
        assert 1.0 <= waited < 10
        msg = str(caught.value)
        assert "另一个写入占用" in msg and lw.cfg.label in msg and "1 秒" in msg
        assert "password" not in msg
    finally:
        holder.close()
    with lw.read() as con:
        assert first(con.execute("SELECT count(*) FROM submissions")) == (0,)  # nothing written
    assert lw.load([_submission("a")])[0].status == "loaded"  # the lock free again: the write goes


# ---- (b) two readers and two writers at once -------------------------------------------------

N_LOADS = 4  # per writer
PER_FILE = 3  # projects per file


def _writer(catalog: str, data: str, k: int, out: Any) -> None:
    wh = LakeWarehouse(LakeConfig(catalog, Path(data)))
    failures = []
    for i in range(N_LOADS):
        try:
            [o] = wh.load([_submission(f"w{k}-{i}", PER_FILE, CITIES[k])], actor=f"writer{k}")
            assert o.status == "loaded"
        except Exception as exc:  # counted, not raised: the test says how many failed
            failures.append(repr(exc))
    out.put(("writer", k, failures))


def _reader(catalog: str, data: str, k: int, stop: Any, out: Any) -> None:
    wh = LakeWarehouse(LakeConfig(catalog, Path(data)))
    seen, errors = [], []
    deadline = time.monotonic() + 300
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            with wh.read() as con:
                row = first(con.execute("SELECT count(*) FROM submissions"))
                n = row[0] if row else -1
                if n <= 0:  # nothing committed yet: no report date to show figures at
                    seen.append((n, 0, 0.0, 0.0))
                    continue
                f = metrics.figures_by(con, D, (None,))[None][0]
            seen.append((n, f["projects"], f["total_investment"], f["ytd_completed"]))
        except Exception as exc:
            errors.append(repr(exc))
    out.put(("reader", k, (seen, errors)))


def test_two_readers_and_two_writers_at_once(lw: LakeWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # What one committed file adds, from the file store: every committed state is n of them.
    fw = Warehouse(tmp_path / "one.duckdb")
    fw.load([_submission("ref", PER_FILE)])
    with fw.read() as con:
        one = metrics.figures_by(con, D, (None,))[None][0]
    # A spawned child re-runs the parent's __main__; after an AppTest in this worker that is app.py
    # (Streamlit's script runner installs the page as __main__), which dies outside Streamlit.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    ctx = multiprocessing.get_context("spawn")
    out, stop = ctx.Queue(), ctx.Event()
    args = (lw.cfg.catalog, str(lw.cfg.data))
    readers = [ctx.Process(target=_reader, args=(*args, k, stop, out)) for k in (0, 1)]
    writers = [ctx.Process(target=_writer, args=(*args, k, out)) for k in (0, 1)]
    procs = readers + writers
    for p in procs:
        p.start()
    results: dict[tuple[str, int], Any] = {}
    try:
        deadline = time.monotonic() + 300

        def collect(n: int) -> None:
            while len(results) < n and time.monotonic() < deadline:
                try:
                    kind, k, res = out.get(timeout=1.0)
                except queue.Empty:  # a child that died without answering fails the test now, not at 300 s
                    dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
                    assert not dead, f"子进程异常退出：{dead}"
                    continue
                results[(kind, k)] = res

        collect(2)  # the writers' results
        stop.set()
        collect(4)
    finally:
        stop.set()
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
                p.join(timeout=10)
    assert len(results) == 4, f"超时：只收到 {sorted(results)}"
    assert results[("writer", 0)] == [] and results[("writer", 1)] == []  # no failed commit
    with lw.read() as con:
        assert first(con.execute("SELECT count(*) FROM submissions")) == (2 * N_LOADS,)
        final = metrics.figures_by(con, D, (None,))[None][0]
    assert final["projects"] == 2 * N_LOADS * one["projects"]
    reads = 0
    for k in (0, 1):
        seen, errors = results[("reader", k)]
        assert errors == []
        assert seen, "a reader read nothing"
        for n, projects, invest, done in seen:  # every read is a whole number of committed files
            assert 0 <= n <= 2 * N_LOADS
            assert projects == n * one["projects"]
            assert invest == pytest.approx(n * one["total_investment"], rel=1e-9)
            assert done == pytest.approx(n * one["ytd_completed"], rel=1e-9)
        reads += len(seen)
    counts = {n for k in (0, 1) for n, *_ in results[("reader", k)][0]}
    assert reads >= 4 and len(counts) >= 2, counts  # the reads did overlap the writes


# ---- configuration ------------------------------------------------------------------------------

def test_the_store_is_chosen_by_configuration(pg: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KAIGONG_DB", str(tmp_path / "k.duckdb"))
    monkeypatch.delenv("KAIGONG_STORE", raising=False)
    w = open_warehouse()
    assert isinstance(w, Warehouse) and w.path == tmp_path / "k.duckdb"
    monkeypatch.setenv("KAIGONG_STORE", "lake")
    monkeypatch.delenv("KAIGONG_LAKE_CATALOG", raising=False)
    with pytest.raises(LakeUnavailable, match="KAIGONG_LAKE_CATALOG"):
        open_warehouse()
    dsn = pg.create_database(f"lake_{next(_DBS)}")
    monkeypatch.setenv("KAIGONG_LAKE_CATALOG", dsn + " password=secret")
    monkeypatch.setenv("KAIGONG_LAKE_DATA", str(tmp_path / "shared"))
    w = open_warehouse()
    assert isinstance(w, LakeWarehouse)
    assert "secret" not in w.key and "secret" not in w.label
    assert isinstance(open_warehouse(tmp_path / "explicit.duckdb"), Warehouse)  # an explicit file (kaigong --db) stays a file
    # Two servers on one lake: what one loads (the raw file kept under the shared path), the other reads.
    a, b = open_warehouse(), LakeWarehouse(LakeConfig(dsn, tmp_path / "shared"))
    a.load([_submission("s1")])
    assert b.data_version() == a.data_version() != "0"
    with b.read() as con:
        stored = first(con.execute("SELECT stored_path FROM submissions"))
    assert stored is not None and (tmp_path / "shared" / stored[0]).is_file()
    lake.close(a.cfg)


def test_a_lake_exports_for_the_national_roll_up_like_a_file(lw: LakeWarehouse, tmp_path: Path):
    """`kaigong export` from a lake: the roll-up of its export gives the lake's own figures."""
    from pipelines.outputs import rollup
    from pipelines.warehouse.province_export import export

    lw.load([_submission("a", 3, CITIES[0]), _submission("b", 2, CITIES[1])])
    export(lw, tmp_path / "exp", province="14")
    with lw.read() as con:
        want = _by_group(metrics.figures_by(con, D, (None, "city")))
    con = rollup.connect(rollup.Rollup.of([tmp_path / "exp"]))
    try:
        got = _by_group(metrics.figures_by(con, D, (None, "city")))
    finally:
        con.close()
    _close(got, want, "lake export → roll-up")
    assert want[None][0]["projects"] == 5


def test_maintenance_merges_files_expires_snapshots_and_keeps_the_figures(lw: LakeWarehouse):
    """`kaigong maintain` on a lake: after five loads of 60 projects (each past DuckLake's inlining, so each
    writes its own small Parquet files), the small files are merged, every snapshot older than the bound
    expired, the files only they held deleted, and the figures are what they were (300 projects, 本年完成
    30,000 万元); the upkeep is in the audit log and writes go on after it."""
    for k in range(5):
        lw.load([_submission(f"m{k}", 60, CITIES[k % 4], D)], actor="t")
    with lw.read() as con:
        before = metrics.figures(con, D)[0]
    assert (before["projects"], before["ytd_completed"]) == (300, 30000.0)
    files = len(list(lw.cfg.data.rglob("*.parquet")))
    done = lw.maintain("管理员", keep=timedelta(0))
    assert done["merged_files"] > 0 and done["expired_snapshots"] > 5 and done["deleted_files"] > 0
    assert len(list(lw.cfg.data.rglob("*.parquet"))) < files
    with lw.read() as con:
        assert metrics.figures(con, D)[0] == before
        logged = con.execute("SELECT actor, detail FROM audit_log WHERE action = 'maintain'").fetchall()
    assert logged and logged[0][0] == "管理员" and logged[0][1].startswith("湖仓维护：写出内联数据")
    lw.load([_submission("after", 2, CITIES[0], D)], actor="t")
    with lw.read() as con:
        assert metrics.figures(con, D)[0]["projects"] == 302


def test_kaigong_maintain_on_the_configured_lake_and_on_a_file(lw: LakeWarehouse, tmp_path: Path):
    """The cron line `kaigong maintain` on the lake the environment names says what it did; on a DuckDB file
    it says that a file needs none, and changes nothing."""
    import os
    import subprocess

    for k in range(3):
        lw.load([_submission(f"c{k}", 60, CITIES[k], D)], actor="t")
    env = {**os.environ, "KAIGONG_STORE": "lake", "KAIGONG_LAKE_CATALOG": lw.cfg.dsn, "KAIGONG_LAKE_DATA": str(lw.cfg.data)}
    root = Path(__file__).resolve().parent.parent
    run = subprocess.run([sys.executable, "-m", "pipelines.cli", "maintain", "--keep-days", "0", "--user", "夜间维护"],
                         capture_output=True, text=True, env=env, cwd=root, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "合并小文件" in run.stdout and "过期快照" in run.stdout
    with lw.read() as con:
        assert first(con.execute("SELECT actor FROM audit_log WHERE action = 'maintain'")) == ("夜间维护",)
    file_db = tmp_path / "f.duckdb"
    run = subprocess.run([sys.executable, "-m", "pipelines.cli", "--db", str(file_db), "maintain"],
                         capture_output=True, text=True, cwd=root, timeout=300)
    assert run.returncode == 0 and "无需此项维护" in run.stdout
