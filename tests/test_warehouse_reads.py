"""Reads attach the database file to the process's reader instance, and detach it after."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
from datetime import date

import duckdb
import pytest

from pipelines import metrics
from pipelines.warehouse import connection
from pipelines.warehouse.store import Warehouse
from tests.conftest import load_rows

D1 = date(2020, 3, 6)


def rows(n: int) -> list[dict]:
    return [{"project_name": f"项目{i}", "city_code": "140100", "city_name": "太原市", "tier": "市级千项",
             "stage": "在建"} for i in range(n)]


def _attached() -> list[str]:
    cur = connection.READER.open()
    try:
        return [r[0] for r in cur.execute(
            "SELECT database_name FROM duckdb_databases() WHERE database_name LIKE 'kaigong_%'").fetchall()]
    finally:
        cur.close()
        connection.READER.release()


def test_reads_in_threads_share_the_instance_and_leave_nothing_attached(tmp_path):
    dbs = []
    for k in range(2):
        w = Warehouse(tmp_path / f"r{k}.duckdb")
        w.init()
        load_rows(w, D1, rows(k + 2))
        dbs.append(w)
    errors: list[BaseException] = []
    seen: list[tuple[int, int]] = []

    def browse(k: int) -> None:
        try:
            for _ in range(15):
                with dbs[k].read() as con:
                    seen.append((k, metrics.total(con, D1)["projects"]))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=browse, args=(i % 2,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert {n for k, n in seen if k == 0} == {2} and {n for k, n in seen if k == 1} == {3}
    with pytest.raises(duckdb.CatalogException), dbs[0].read() as con:
        con.execute("SELECT * FROM no_such_table")
    with dbs[0].read() as con:
        con.execute("BEGIN TRANSACTION")  # a reader that leaves a transaction open
        con.execute("SELECT count(*) FROM reports").fetchall()
    assert _attached() == []
    # nothing holds the files: a writer in another process opens them at once
    for w in dbs:
        done = subprocess.run(
            [sys.executable, "-c", f"import duckdb; duckdb.connect({str(w.path)!r}).close()"], capture_output=True)
        assert done.returncode == 0, done.stderr


def test_the_reader_instance_is_closed_after_a_read_that_grew_the_process(tmp_path, monkeypatch):
    w = Warehouse(tmp_path / "g.duckdb")
    w.init()
    load_rows(w, D1, rows(3))
    with w.read() as con:
        con.execute("SELECT 1").fetchall()
    first = connection.READER._instance.current()
    assert first is not None
    with w.read() as con:  # a small read: the instance stays
        con.execute("SELECT 1").fetchall()
    assert connection.READER._instance.current() is first
    grown = itertools.count(connection._rss() + 2**30, 2**30)  # as if every read had grown the process by 1 GiB
    monkeypatch.setattr(connection, "_rss", lambda: next(grown))
    entered, leave = threading.Event(), threading.Event()
    seen: list[int] = []

    def long_read() -> None:
        with w.read() as con:
            entered.set()
            leave.wait(10)
            seen.append(metrics.total(con, D1)["projects"])

    t = threading.Thread(target=long_read)
    t.start()
    entered.wait(10)
    with w.read() as con:
        assert metrics.total(con, D1)["projects"] == 3
    assert connection.READER._instance.current() is first  # another read is still in flight: not closed under it
    leave.set()
    t.join()
    assert seen == [3]
    assert connection.READER._instance.current() is None  # closed when the last read ended
    with w.read() as con:
        assert metrics.total(con, D1)["projects"] == 3
    assert _attached() == []


def test_a_database_path_with_a_quote_in_it_is_read(tmp_path):
    """DuckDB 1.5's ATTACH takes the path as a literal: a quote in a directory name must not break it."""
    wh = Warehouse(tmp_path / "张三's data" / "k.duckdb")
    wh.init()
    with wh.write("test", "note") as con:
        con.execute("INSERT INTO meta VALUES ('probe', 'x')")
    with wh.read() as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'probe'").fetchall() == [("x",)]


def test_a_file_from_a_newer_duckdb_is_refused_with_the_way_to_move_it(tmp_path, capsys):
    """A data/kaigong.duckdb written by DuckDB 2.0 (Kaigong before 1.5.5): a Chinese message naming
    backup and restore, from the dashboard's reads and the CLI alike, and the file unchanged."""
    import gzip
    from pathlib import Path

    from pipelines import cli

    # a file DuckDB 2.0 wrote (`CREATE TABLE t AS SELECT 1`), gzipped: 270 KB → a few KB
    fixture = Path(__file__).parent / "data" / "written_by_duckdb_2.0.duckdb.gz"
    path = tmp_path / "kaigong.duckdb"
    path.write_bytes(gzip.decompress(fixture.read_bytes()))
    before = path.read_bytes()
    with pytest.raises(connection.StoreTooNew, match="kaigong backup"), Warehouse(path).read() as con:
        con.execute("SELECT 1")
    assert cli.main(["--db", str(path), "metrics", "--as-of", "2020-03-13"]) == 2
    assert "kaigong restore" in capsys.readouterr().err
    assert path.read_bytes() == before
