"""Corrections and backdated files by delta on the stored cells (warehouse.cells.note_delta /
refresh_cells_delta, issue 32): after every load, the cells kept by delta equal the cells computed
whole from the snapshots (the full recompute is the checker), on random histories and corrections
(hypothesis) and on each case by name: a project's first report (it enters S from its date), a later
report with blank fields (a blank never erases: the corrected value carries through it), a stage
going back, a correction of the newest date, a year boundary, and the year's list (调度库)."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from unittest import mock

import polars as pl
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from pipelines import auth, metrics
from pipelines.metrics.dates import stored_periods
from pipelines.metrics.flags import MONEY_SUMS
from pipelines.warehouse import cells as stored_cells
from pipelines.warehouse import yearlist
from pipelines.warehouse.store import Submission, Warehouse
from tests.conftest import load_rows
from tests.test_cells import cells, coarse_cells, computed_cells, proj, rolled_up

SUMS = [n for n, _ in metrics.CELL_SUMS]
MONEY = set(MONEY_SUMS)
TY, XZ = ("140100", "太原市"), ("140900", "忻州市")
# Weekly dates across a year boundary: 2020's last three Fridays and 2021's first two.
DATES = (date(2020, 12, 11), date(2020, 12, 18), date(2020, 12, 25), date(2021, 1, 8), date(2021, 1, 15))
NAMES = tuple(f"项目{i}" for i in range(6))
STAGES = ("储备", "前期", "新开工", "续建", "在建", "竣工")
ANALYST = auth.User("分析员甲", "分析员")
FIELDS = ("stage", "total_investment", "annual_plan", "ytd_completed", "planned_start_date", "actual_start_date",
          "completion_date", "planned_completion_date", "stats_registered", "industry_name")


def city(name: str) -> tuple[str, str]:
    return TY if NAMES.index(name) % 2 == 0 else XZ


def row(name: str, values: dict) -> dict:
    return proj(name, city=city(name), tier="市级千项", **values)


def assert_delta_equals_recompute(con) -> int:
    """The stored cells of every year and report date equal the ones computed whole from the snapshots
    (money to float rounding: a delta adds and takes away); the coarse cells are the fine ones rolled up."""
    n = 0
    for year in (2020, 2021):
        periods = stored_periods(con, year)
        assert periods is not None, "cells not current"
        for d, ps in periods.items():
            got, want = cells(con, d), computed_cells(con, year, d, ps)
            assert got.keys() == want.keys(), (d, set(got) ^ set(want))
            for k, w in want.items():
                for s in SUMS:
                    if s in MONEY:
                        assert got[k][s] == pytest.approx(w[s], abs=1e-6), (d, k, s)
                    else:
                        assert got[k][s] == w[s], (d, k, s)
            coarse, rolled = coarse_cells(con, d), rolled_up(want)
            assert coarse.keys() == rolled.keys(), d
            for k, w in rolled.items():
                for s in SUMS:
                    assert coarse[k][s] == pytest.approx(w[s], abs=1e-6), (d, k, s)
            n += 1
    return n


_value = st.fixed_dictionaries({
    "stage": st.sampled_from((None, *STAGES)),
    "total_investment": st.sampled_from((None, 300.0, 8000.0, 150000.0, 0.1)),
    "annual_plan": st.sampled_from((None, 0.0, 500.0, 3000.0)),
    "ytd_completed": st.sampled_from((None, 10.0, 55.5, 0.2)),
    "planned_start_date": st.sampled_from((None, date(2020, 6, 1), date(2020, 12, 20), date(2021, 1, 10))),
    "actual_start_date": st.sampled_from((None, date(2020, 3, 1), date(2020, 12, 15), date(2021, 1, 9))),
    "completion_date": st.sampled_from((None, None, date(2020, 12, 20), date(2021, 1, 12))),
    "planned_completion_date": st.sampled_from((None, date(2020, 12, 31), date(2021, 6, 30))),
    "stats_registered": st.sampled_from((None, True, False)),
    "industry_name": st.sampled_from((None, "医药制造业", "通用设备制造业")),
})
_present = st.sets(st.sampled_from(FIELDS), min_size=1).map(lambda s: tuple(sorted(s)))
_file = st.tuples(
    st.sampled_from(DATES),
    st.lists(st.tuples(st.sampled_from(NAMES), _value), min_size=1, max_size=4, unique_by=lambda t: t[0]),
    st.one_of(st.none(), _present),  # None: every field stated
)


def _load(wh: Warehouse, i: int, d: date, rows: list[tuple[str, dict]], present) -> None:
    """One file (each its own bytes: none is skipped as a duplicate)."""
    fields = FIELDS if present is None else present
    data = [row(n, {f: v[f] for f in fields}) for n, v in rows]
    [outcome] = wh.load([Submission(f"f{i}.csv", pl.DataFrame(data, infer_schema_length=None), d,
                                    raw=f"f{i} {d} {data!r}".encode(), present_fields=fields)])
    assert outcome.status == "loaded", outcome


# a dozen loads per example: few examples, and no shrinking (minutes here); a failure prints its example
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=(Phase.explicit, Phase.reuse, Phase.generate))
@given(history=st.lists(_file, min_size=2, max_size=4), corrections=st.lists(_file, min_size=1, max_size=3),
       listed=st.booleans())
def test_random_corrections_by_delta_equal_the_full_recompute(history, corrections, listed):
    with tempfile.TemporaryDirectory() as tmp:
        wh = Warehouse(Path(tmp) / "t.duckdb")
        wh.init()
        # the history in date order (the weeks as they came), then the corrections of any date
        for i, (d, rows, present) in enumerate(sorted(history, key=lambda f: f[0])):
            _load(wh, i, d, rows, present)
        if listed:  # a project admitted to 2021's list by hand: in S from then, reported or not
            with wh.read() as con:
                known = [r[0] for r in con.execute("SELECT project_id FROM projects ORDER BY 1").fetchall()]
            yearlist.admit(wh, ANALYST, 2021, known[:1], date(2021, 1, 1), "续建结转")
        with mock.patch.object(stored_cells, "apply_delta", wraps=stored_cells.apply_delta) as delta:
            for i, (d, rows, present) in enumerate(corrections):
                _load(wh, 100 + i, d, rows, present)
        assert delta.call_count == len(corrections)  # every correction went by delta
        with wh.read() as con:
            assert assert_delta_equals_recompute(con) >= 1


# ---- the cases by name ---------------------------------------------------------------------------

FULL = {"stage": "在建", "total_investment": 8000.0, "annual_plan": 500.0, "ytd_completed": 10.0,
        "planned_start_date": date(2020, 6, 1), "actual_start_date": date(2020, 3, 1), "completion_date": None,
        "planned_completion_date": date(2021, 6, 30), "stats_registered": True, "industry_name": "医药制造业"}


def _history(wh: Warehouse) -> None:
    """项目0..3 every week, full rows; 项目4 from 12-18; 2021's second week states only ytd (blanks)."""
    for i, d in enumerate(DATES):
        names = NAMES[:4] + ((NAMES[4],) if d >= DATES[1] else ())
        present = ("ytd_completed",) if d == DATES[4] else None
        _load(wh, i, d, [(n, {**FULL, "ytd_completed": 10.0 * (i + 1)}) for n in names], present)


@pytest.mark.parametrize("case", [
    "first_report_backdated", "blank_later_report", "stage_back", "newest_date", "year_boundary", "listed",
    "restated",
])
def test_each_case_by_delta_equals_the_full_recompute(wh, case):
    _history(wh)
    if case == "listed":  # 项目5 (known from a 2020 report) on 2021's list with no 2021 report yet
        load_rows(wh, DATES[0], [row(NAMES[5], FULL)], file_name="p5.csv")
        yearlist.admit(wh, ANALYST, 2021, [f"{XZ[0]}|{NAMES[5]}"], date(2021, 1, 1), "续建结转")
    with wh.read() as con:
        before = {d: cells(con, d) for d in DATES}
    corr: list[tuple[date, list[tuple[str, dict]], tuple[str, ...] | None]] = {
        # 项目5's first report, two weeks back: in S from 12-11 at every later date of 2020
        "first_report_backdated": [(DATES[0], [(NAMES[5], FULL)], None)],
        # 2021-01-08 corrected: the blank 01-15 report (ytd only) carries the corrected stage and total
        "blank_later_report": [(DATES[3], [(NAMES[0], {**FULL, "stage": "竣工", "total_investment": 150000.0,
                                                       "completion_date": date(2021, 1, 8)})], None)],
        # a stage going back at 12-18: 竣工 corrected to 前期, and another project back to 储备
        "stage_back": [(DATES[1], [(NAMES[1], {**FULL, "stage": "竣工", "completion_date": date(2020, 12, 17)})],
                        None),
                       (DATES[1], [(NAMES[1], {**FULL, "stage": "前期"}), (NAMES[2], {**FULL, "stage": "储备"})],
                        ("stage", "completion_date"))],
        "newest_date": [(DATES[4], [(NAMES[3], {**FULL, "ytd_completed": 99.0, "annual_plan": 3000.0})], None)],
        # 12-25 corrected: 2020's cells change, 2021's (another year's states) do not
        "year_boundary": [(DATES[2], [(NAMES[0], {**FULL, "stage": "储备", "annual_plan": 0.0}),
                                      (NAMES[4], {**FULL, "total_investment": 300.0})], None)],
        # the listed project's first 2021 report: its state replaces its admission's fields from 01-15
        "listed": [(DATES[4], [(NAMES[5], {**FULL, "total_investment": 150000.0})], None)],
        # 项目0's 12-25 report restated unchanged (kept as it is, no new version) beside 项目1's correction
        "restated": [(DATES[2], [(NAMES[0], {**FULL, "ytd_completed": 30.0}),
                                 (NAMES[1], {**FULL, "ytd_completed": 31.0})], None)],
    }[case]
    with mock.patch.object(stored_cells, "apply_delta", wraps=stored_cells.apply_delta) as delta:
        for i, (d, rows, present) in enumerate(corr):
            _load(wh, 200 + i, d, rows, present)
    assert delta.call_count == len(corr)
    with wh.read() as con:
        assert assert_delta_equals_recompute(con) == len(DATES)
        after = {d: cells(con, d) for d in DATES}
    changed = [d for d in DATES if after[d] != before[d]]
    first_changed = min(d for d, _, _ in corr)
    assert changed and min(changed) == first_changed  # nothing before the corrected date changes
    if case == "year_boundary":
        assert changed == [DATES[2]]
    if case == "blank_later_report":
        assert changed == [DATES[3], DATES[4]]
        done = ("市级千项", TY[0], None, "医药制造业", None, "竣工", "≥10亿")
        assert after[DATES[4]][done]["projects"] == 1  # carried through the blank report
    if case == "first_report_backdated":
        assert changed == list(DATES[:3])
        assert sum(c["projects"] for c in after[DATES[2]].values()) == 6
    if case == "restated":
        assert changed == [DATES[2]]
        assert sum(c["projects"] for c in after[DATES[2]].values()) == 5
    if case == "newest_date":
        assert changed == [DATES[4]]
