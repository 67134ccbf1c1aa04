"""What a read looks up once (vocab.query.read_once): kept for that read only, never for a writer's
connection, and the next read sees a write made between them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines import metrics
from pipelines.metrics import dates
from pipelines.vocab.query import mark_read, read_once
from pipelines.warehouse.store import Warehouse
from tests.conftest import APP_DATES, _p, build_app_db, load_rows


def test_a_marked_read_makes_once_and_an_unmarked_connection_every_time():
    calls: list[int] = []

    def make() -> int:
        calls.append(1)
        return len(calls)

    con = duckdb.connect()
    assert [read_once(con, "k", make) for _ in range(3)] == [1, 2, 3]  # a writer's: asked every time
    read = con.cursor()
    mark_read(read)
    assert [read_once(read, "k", make) for _ in range(3)] == [4, 4, 4]
    assert read_once(read, "other", make) == 5  # per key
    other = con.cursor()
    mark_read(other)
    assert read_once(other, "k", make) == 6  # per read


def test_the_stored_periods_are_asked_once_per_read_and_a_write_between_reads_shows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    wh = Warehouse(build_app_db(tmp_path / "a.duckdb"))
    asked: list[int] = []
    real = dates._stored_periods

    def counting(con, year):
        asked.append(year)
        return real(con, year)

    monkeypatch.setattr(dates, "_stored_periods", counting)
    d = APP_DATES[-1]
    with wh.read() as con:
        before = metrics.figures(con, d)[0]
        metrics.figures(con, d, by="city")
        metrics.trend(con, d)
    assert sorted(asked) == [d.year - 1, d.year]  # three metric calls, one look-up per year (同比 asks the last)
    load_rows(wh, d, [_p("新增测试项目", ("140900", "忻州市"), ("140902", "忻府区"), "市级千项", stage="在建",
                         industry_name="农副食品加工业", total_investment=1000.0, annual_plan=500.0,
                         ytd_completed=100.0, actual_start_date=date(2020, 3, 1), stats_registered=False)],
              file_name="补报.csv")
    with wh.read() as con:
        after = metrics.figures(con, d)[0]
    assert sorted(asked) == [d.year - 1, d.year - 1, d.year, d.year]  # a new read asks again
    assert after["projects"] == before["projects"] + 1
