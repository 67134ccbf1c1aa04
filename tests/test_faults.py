"""A loader killed mid-write changes nothing; the CLI ingests while readers read."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from pipelines import metrics
from pipelines.warehouse.store import Warehouse

ROOT = Path(__file__).resolve().parent.parent
CITIES = [("太原市", "小店区"), ("忻州市", "忻府区"), ("大同市", "平城区"), ("长治市", "潞州区")]


def standard_csv(path: Path, rows: int, tag: str, ytd: float = 100.0) -> Path:
    """A standard-template CSV (headers are the schema's Chinese terms) with many projects."""
    head = "项目名称,地市,县区,层级,建设状态,总投资,本年计划投资,本年累计完成投资,实际开（复）工时间\n"
    lines = [head]
    for i in range(rows):
        city, county = CITIES[i % len(CITIES)]
        lines.append(f"{tag}项目{i:06d},{city},{county},市级千项,在建,{1000 + i},{500 + i % 100},{ytd},2020-02-20\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def fingerprint(db: Path) -> str:
    """A digest of every row of the loaded tables (what 'exactly as it was' means)."""
    h = hashlib.sha256()
    with Warehouse(db).read() as con:
        for table, order in (("submissions", "submission_id"), ("projects", "project_id"),
                             ("reports", "project_id, report_date"), ("state_ranges", "valid_from, project_id"),
                             ("state_dates", "year, as_of")):
            cols = "*" if table != "submissions" else "submission_id, file_name, sha256, rows, report_date"
            for row in con.execute(f"SELECT {cols} FROM {table} ORDER BY {order}").fetchall():
                h.update(repr(row).encode())
    return h.hexdigest()


def cli(db: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", "--db", str(db), *args]


def kill_loads(db: Path, big: Path, report_date: str, seed: int, committed: Callable[[], bool]) -> list[str]:
    """Start `kaigong ingest big` and kill it (SIGKILL) at a random moment, up to five times, until a
    kill lands after the commit (committed() turns true); the outcome of each attempt.

    The moments are fractions of how long the whole load takes on this machine (timed first, on a
    copy of db): the first three between 20 and 60 % of it, before the commit, the later ones after
    it, so a fast machine does not finish every load before the kill (nor a slow one never)."""
    rng = random.Random(seed)
    probe = db.parent / "timing" / db.name
    probe.parent.mkdir()
    shutil.copy(db, probe)
    t = time.monotonic()
    subprocess.run(cli(probe, "ingest", str(big), "--report-date", report_date), cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    whole = time.monotonic() - t
    shutil.rmtree(probe.parent)
    outcomes = []
    for attempt in range(5):
        proc = subprocess.Popen(cli(db, "ingest", str(big), "--report-date", report_date), cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(whole * (rng.uniform(0.2, 0.6) if attempt < 3 else rng.uniform(1.3, 2.0)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if committed():
            outcomes.append("committed")
            break
        outcomes.append("rolled back")
    return outcomes


def test_killed_loader_leaves_database_as_it_was(tmp_path):
    db = tmp_path / "k.duckdb"
    base = standard_csv(tmp_path / "base.csv", 50, "基线")
    assert subprocess.run(cli(db, "ingest", str(base), "--report-date", "2020-03-06"), cwd=ROOT).returncode == 0
    before = fingerprint(db)
    big = standard_csv(tmp_path / "big.csv", 80_000, "大批", ytd=7.0)

    def committed() -> bool:
        if fingerprint(db) == before:
            return False
        # killed after the commit: then the whole file is in, nothing partial
        with Warehouse(db).read() as con:
            n = con.execute("SELECT count(*) FROM reports WHERE report_date = DATE '2020-03-13'").fetchall()[0][0]
        assert n == 80_000
        return True

    outcomes = kill_loads(db, big, "2020-03-13", 20200327, committed)
    assert "rolled back" in outcomes, "no kill landed before the commit: make the file bigger"
    # the next load succeeds (or says the file is already in)
    done = subprocess.run(cli(db, "ingest", str(big), "--report-date", "2020-03-13"), cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with Warehouse(db).read() as con:
        t = metrics.total(con, date(2020, 3, 13))
    assert t["projects"] == 80_050 and t["ytd_completed"] == pytest.approx(80_000 * 7.0 + 50 * 100.0)


def test_cli_ingests_while_the_dashboard_reads(tmp_path):
    db = tmp_path / "c.duckdb"
    base = standard_csv(tmp_path / "base.csv", 20, "基线")
    assert subprocess.run(cli(db, "ingest", str(base), "--report-date", "2020-03-06"), cwd=ROOT).returncode == 0
    wh = Warehouse(db)
    errors: list[BaseException] = []
    seen: list[int] = []
    stop = threading.Event()

    def browse() -> None:
        while not stop.is_set():
            try:
                with wh.read() as con:
                    seen.append(metrics.total(con, date(2020, 3, 31))["projects"])
            except BaseException as exc:  # any failure of a reader is a test failure
                errors.append(exc)
                return

    readers = [threading.Thread(target=browse) for _ in range(3)]
    for r in readers:
        r.start()
    big = standard_csv(tmp_path / "big.csv", 15_000, "新批")
    done = subprocess.run(cli(db, "ingest", str(big), "--report-date", "2020-03-13"), cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ})
    time.sleep(0.5)
    stop.set()
    for r in readers:
        r.join()
    assert done.returncode == 0, done.stderr
    assert not errors, errors
    assert seen[0] == 20 and seen[-1] == 15_020
    assert set(seen) <= {20, 15_020}  # never a half-loaded count
