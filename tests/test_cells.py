"""The stored figure cells (warehouse.cells.refresh_cells) agree with the figures computed from the
snapshots: by hand, after loads, resubmissions that replace fields and corrections of earlier
report dates; and they are used only when they hold what is asked."""

from __future__ import annotations

import random
import subprocess
from datetime import date

import duckdb
import polars as pl
import pytest

from pipelines import metrics
from pipelines.metrics.dates import At, Dates, snapshot_dates, stored_periods
from pipelines.metrics.figures import figures_at
from pipelines.metrics.flags import cells_sql
from pipelines.vocab.findings import SubmissionRefused
from pipelines.warehouse import cells as stored_cells
from pipelines.warehouse.store import Submission, Warehouse
from tests.conftest import load_rows
from tests.test_metrics import EARLY_AT_D2, EARLY_D2, assert_figures, load_early_starters_and_late_completions

TY, XZ = ("140100", "太原市"), ("140900", "忻州市")
XD = ("140105", "小店区")
D1, D2 = date(2020, 3, 6), date(2020, 3, 13)
SUMS = [n for n, _ in metrics.CELL_SUMS]
NO_FILTERS = metrics.Filters()


def proj(name: str, city=TY, **kw):
    return {"project_name": name, "city_code": city[0], "city_name": city[1], "tier": "市级千项", **kw}


def week1() -> list[dict]:
    return [
        proj("A项目", county_code=XD[0], county_name=XD[1], industry_name="医药制造业", industry_code="27",
             stage="在建", total_investment=9000.0, annual_plan=10000.0, ytd_completed=100.0,
             actual_start_date=date(2020, 2, 20), stats_registered=True),
        proj("B项目", county_code=XD[0], county_name=XD[1], industry_name="医药制造业", industry_code="27",
             stage="在建", total_investment=3000.0, annual_plan=1000.0, ytd_completed=50.0,
             actual_start_date=None, stats_registered=False),
        proj("C项目", city=XZ, tier="省级双百·新兴", stage="储备", total_investment=100000.0, annual_plan=0.0),
    ]


def cells(con, as_of: date) -> dict[tuple, dict]:
    """The stored cells at as_of: {(tier, city, county, industry, code, stage, band): sums}."""
    frame = con.sql(
        "SELECT * FROM figure_cells WHERE as_of = $d ORDER BY ALL", params={"d": as_of}
    ).pl()
    return {tuple(r[c] for c in metrics.CELL_DIMS): {n: r[n] for n in SUMS} for r in frame.iter_rows(named=True)}


def computed_cells(con, year: int, as_of: date, period_start: date) -> dict[tuple, dict]:
    """The cells at as_of computed from the snapshots (the query figures fall back to)."""
    sql, _ = cells_sql(NO_FILTERS, single=True)
    at = Dates.of(year, [as_of], [period_start], snapshot_dates(con, year, None))
    frame = con.sql(sql, params=at.params()).pl()
    return {tuple(r[c] for c in metrics.CELL_DIMS): {n: r[n] for n in SUMS} for r in frame.iter_rows(named=True)}


def coarse_cells(con, as_of: date) -> dict[tuple, dict]:
    frame = con.sql("SELECT * FROM figure_cells_coarse WHERE as_of = $d", params={"d": as_of}).pl()
    return {tuple(r[c] for c in metrics.COARSE_DIMS): {n: r[n] for n in SUMS} for r in frame.iter_rows(named=True)}


def rolled_up(fine: dict[tuple, dict]) -> dict[tuple, dict]:
    """The fine cells added up over stage and size band."""
    keep = [i for i, c in enumerate(metrics.CELL_DIMS) if c in metrics.COARSE_DIMS]
    out: dict[tuple, dict] = {}
    for key, sums in fine.items():
        k = tuple(key[i] for i in keep)
        acc = out.setdefault(k, dict.fromkeys(SUMS, None))
        for n, v in sums.items():
            acc[n] = v if acc[n] is None else (acc[n] if v is None else acc[n] + v)
    return out


def fallback_figures(con, as_of: date, *, by=None, filters=NO_FILTERS, frequency=None):
    at = At.of(con, as_of, None, frequency, filters)
    return figures_at(con, at.year, [at.day], [at.period_start], filters, (by,), None,
                               stored=False)[by][at.day]


def assert_same_figures(got: list[dict], want: list[dict]) -> None:
    assert [g["group"] for g in got] == [w["group"] for w in want]
    for g, w in zip(got, want, strict=True):
        # 同比 (figures() adds it from the year before, figures_at does not) aside, the same keys
        assert g.keys() - set(metrics.YOY_KEYS) == w.keys() - set(metrics.YOY_KEYS)
        for k in w:
            if isinstance(w[k], float):
                assert g[k] == pytest.approx(w[k], rel=1e-12), (w["group"], k)
            else:
                assert g[k] == w[k], (w["group"], k)


def assert_stored_cells_agree(con) -> int:
    """Every stored report date's cells equal the ones computed from the snapshots now."""
    periods = stored_periods(con, 2020)
    assert periods is not None, "cells not current"
    assert sorted(periods) == [r[0] for r in con.execute(
        "SELECT DISTINCT as_of FROM states WHERE year = 2020 ORDER BY 1").fetchall()]
    for d, ps in periods.items():
        fine = cells(con, d)
        assert fine == computed_cells(con, 2020, d, ps), d
        got = coarse_cells(con, d)
        want = rolled_up(fine)
        assert got.keys() == want.keys(), d
        for k in want:
            assert got[k] == pytest.approx(want[k]), (d, k)
    return len(periods)


BAND_LT1, BAND_GE10 = "<1亿", "≥10亿"
A_CELL = ("市级千项", TY[0], XD[0], "医药制造业", "27", "在建", BAND_LT1)
C_CELL = ("省级双百·新兴", XZ[0], None, None, None, "储备", BAND_GE10)


def zero(**kw) -> dict:
    return {**dict.fromkeys(SUMS, 0), **kw}


def test_stored_cells_by_hand_after_loads_resubmissions_and_corrections(wh):
    load_rows(wh, D1, week1())
    with wh.read() as con:
        got = cells(con, D1)
        periods = stored_periods(con, 2020)
    # A and B share a cell; the weekly period ending 03-06 starts 02-29, nothing before it. B is 在建
    # with no (re)start date and nothing saying otherwise: continuing, so due and started
    assert periods == {D1: date(2020, 2, 29)}
    assert got == {
        A_CELL: zero(projects=2, total_investment=12000.0, annual_plan=11000.0, ytd_completed=150.0, due=2,
                     started=2, overdue=0, stats_due=2, stats_registered=1, reported=2, reporting_base=2),
        C_CELL: zero(projects=1, total_investment=100000.0, annual_plan=0.0, ytd_completed=0.0, reported=1,
                     reporting_base=1),
    }

    # A corrected 03-06 file that states only B's stage and ytd: B moves to a 竣工 cell (completed, so
    # started and due)
    load_rows(wh, D1, [proj("B项目", stage="竣工", ytd_completed=80.0)], file_name="更正.csv",
              present=("stage", "ytd_completed"))
    with wh.read() as con:
        got = cells(con, D1)
    b_cell = ("市级千项", TY[0], XD[0], "医药制造业", "27", "竣工", BAND_LT1)
    assert got == {
        A_CELL: zero(projects=1, total_investment=9000.0, annual_plan=10000.0, ytd_completed=100.0, due=1,
                     started=1, stats_due=1, stats_registered=1, reported=1, reporting_base=1),
        b_cell: zero(projects=1, total_investment=3000.0, annual_plan=1000.0, ytd_completed=80.0,
                     completed=1, due=1, started=1, stats_due=1, reported=1, reporting_base=1),
        C_CELL: zero(projects=1, total_investment=100000.0, annual_plan=0.0, ytd_completed=0.0, reported=1,
                     reporting_base=1),
    }

    # The next week only A reports; B was 竣工 before the period (03-07..03-13): not in the base
    load_rows(wh, D2, [proj("A项目", ytd_completed=300.0)], present=("ytd_completed",))
    with wh.read() as con:
        t = metrics.total(con, D2)
        assert At.of(con, D2, None, None, NO_FILTERS).stored
        assert cells(con, D2)[b_cell] == zero(projects=1, total_investment=3000.0, annual_plan=1000.0,
                                              ytd_completed=80.0, completed=1, due=1, started=1, stats_due=1)
    assert (t["projects"], t["ytd_completed"], t["reported"], t["reporting_rate"]) == (3, 380.0, 1, 0.5)

    # Correct the earlier date once more: C becomes 前期 with a larger total; 03-13 carries it
    load_rows(wh, D1, [proj("C项目", city=XZ, tier="省级双百·新兴", stage="前期", total_investment=200000.0)],
              file_name="更正2.csv", present=("stage", "total_investment"))
    with wh.read() as con:
        later = cells(con, D2)
        assert assert_stored_cells_agree(con) == 2
        t = metrics.total(con, D2)
    c_now = ("省级双百·新兴", XZ[0], None, None, None, "前期", BAND_GE10)
    assert C_CELL not in later
    assert later[c_now] == zero(projects=1, total_investment=200000.0, annual_plan=0.0, ytd_completed=0.0,
                                reporting_base=1)
    assert t["total_investment"] == 9000.0 + 3000.0 + 200000.0


def _varied_history(wh: Warehouse) -> None:
    """Weekly and monthly reports, a late project, a completion, a correction of an early week."""
    rng = random.Random(7)
    cities = [TY, XZ, ("140200", "大同市")]
    stages = ["储备", "前期", "新开工", "续建", "在建", "竣工", "投产"]
    tiers = ["省级双百·新兴", "省级双百·技改", "市级千项", "其他"]
    names = [f"项目{i:02d}" for i in range(24)]
    base = {n: (cities[i % 3], tiers[i % 4]) for i, n in enumerate(names)}

    def rows(k: int, some: list[str]) -> list[dict]:
        out = []
        for n in some:
            city, tier = base[n]
            out.append(proj(
                n, city=city, tier=tier, stage=rng.choice(stages),
                industry_name=rng.choice([None, "医药制造业", "通用设备制造业", "自编行业"]),
                total_investment=rng.choice([None, 300.0, 8000.0, 40000.0, 70000.0, 150000.0]),
                annual_plan=rng.choice([0.0, 500.0, 3000.0]), ytd_completed=rng.choice([None, 10.0 * k, 55.5]),
                planned_start_date=rng.choice([None, date(2020, 2, 1), date(2020, 4, 1)]),
                actual_start_date=rng.choice([None, date(2020, 2, 10), date(2020, 3, 20)]),
                completion_date=rng.choice([None, None, date(2020, 3, 25)]),
                planned_completion_date=rng.choice([None, date(2020, 9, 30), date(2021, 6, 30)]),
                stats_registered=rng.choice([None, True, False]),
            ))
        return out

    load_rows(wh, date(2020, 3, 6), rows(0, names[:16]))
    load_rows(wh, date(2020, 3, 13), rows(1, names[:20:2]))
    load_rows(wh, date(2020, 3, 31), rows(2, names[4:22]), frequency="month")
    load_rows(wh, date(2020, 4, 3), rows(3, names[::3]), present=("ytd_completed", "stage"))
    load_rows(wh, date(2020, 3, 13), rows(4, names[1:24:4]), file_name="更正.csv")  # an earlier week again


FILTERS = [
    metrics.Filters(),
    metrics.Filters(tiers=("市级千项", "其他")),
    metrics.Filters(cities=(XZ[0],)),
    metrics.Filters(industries=("（未填行业）",)),
    metrics.Filters(stages=("在建", "（未填）")),
    metrics.Filters(size_bands=("≥10亿",), tiers=("省级双百·新兴",)),
]


def test_stored_cells_give_the_figures_of_the_snapshots(wh):
    _varied_history(wh)
    with wh.read() as con:
        assert assert_stored_cells_agree(con) == 4
        periods = stored_periods(con, 2020)
        assert periods[date(2020, 3, 31)] == date(2020, 3, 1)  # the monthly report's period
        for d in sorted(periods):
            for f in FILTERS:
                assert At.of(con, d, None, None, f).stored
                for by in (None, *metrics.GROUPINGS):
                    assert_same_figures(metrics.figures(con, d, filters=f, by=by),
                                        fallback_figures(con, d, by=by, filters=f))
        for f in FILTERS[:3]:
            for by in (None, "city", "stage"):
                stored = metrics.trend(con, date(2020, 12, 31), filters=f, by=by)
                dates = sorted(periods)
                fly = [{"report_date": d, **it}
                       for d, items in figures_at(con, 2020, dates, [periods[d] for d in dates], f, (by,),
                                                           None, stored=False)[by].items() for it in items]
                assert stored.height == len(fly)
                for g, w in zip(stored.to_dicts(), fly, strict=True):
                    assert_same_figures([{k: g[k] for k in w}], [w])


def test_other_dates_frequencies_and_project_filters_are_computed_from_the_snapshots(wh):
    load_rows(wh, D1, week1())
    load_rows(wh, D2, [proj("A项目", ytd_completed=300.0)], present=("ytd_completed",))
    with wh.read() as con:
        def stored(d, f=NO_FILTERS, freq=None):
            return At.of(con, d, None, freq, f).stored

        assert stored(D2) and stored(D2, freq="week")
        assert not stored(date(2020, 3, 10))  # between report dates: flags at D, not at the snapshot
        assert not stored(D2, freq="month")  # another period than the cells were computed for
        a_only = metrics.Filters(project_ids=tuple(
            r[0] for r in con.execute("SELECT project_id FROM projects WHERE name_norm = 'A项目'").fetchall()))
        assert not stored(D2, a_only)
        monthly = metrics.total(con, D2, frequency="month")
        weekly = metrics.total(con, D2)
        between = metrics.total(con, date(2020, 3, 10))
        only_a = metrics.total(con, D2, filters=a_only)
    # month to 03-13: everyone reported since 03-01 and nobody was done before it
    assert (monthly["reported"], monthly["reporting_rate"]) == (3, 1.0)
    assert (weekly["reported"], weekly["reporting_rate"]) == (1, 1 / 3)  # only A in 03-07..13
    # 03-10: the 03-06 state, period 03-04..03-10; all three reported on 03-06
    assert (between["ytd_completed"], between["reported"]) == (150.0, 3)
    assert (only_a["projects"], only_a["ytd_completed"]) == (1, 300.0)


def _snapshot_change_behind_the_cells(wh: Warehouse) -> None:
    """What a writer that does not know of the cells does: change the data, bump the version."""
    con = duckdb.connect(str(wh.path))
    try:
        for table in ("state_ranges", "reports"):  # A's first report is its state: it is in reports only
            con.execute(f"UPDATE {table} SET ytd_completed = 999.0 WHERE project_name = 'A项目'")
        con.execute("INSERT OR REPLACE INTO meta VALUES ('data_version', 'old-writer')")
    finally:
        con.close()


def test_cells_left_behind_by_another_writer_are_not_used_until_rebuilt(wh):
    load_rows(wh, D1, week1())
    _snapshot_change_behind_the_cells(wh)
    with wh.read() as con:
        assert not stored_cells.cells_current(con)
        assert metrics.report_dates(con, 2020) == [D1]
        t = metrics.total(con, D1)
        tr = metrics.trend(con, D1)
    assert t["ytd_completed"] == 999.0 + 50.0
    assert tr["ytd_completed"].to_list() == [1049.0]
    wh.init()  # what the app does at start: rebuild and mark current
    with wh.read() as con:
        assert stored_cells.cells_current(con)
        assert metrics.total(con, D1)["ytd_completed"] == 1049.0
        assert assert_stored_cells_agree(con) == 1


def _as_before_the_cells(wh: Warehouse, *, forget_mark: bool = False) -> None:
    """Make the file look like one written before the loader kept cells."""
    con = duckdb.connect(str(wh.path))
    try:
        for table in ("figure_cells", "figure_cells_coarse", "report_periods"):
            con.execute(f"DROP TABLE {table}")
        if forget_mark:
            con.execute("DELETE FROM meta WHERE key = 'figure_cells_of'")
    finally:
        con.close()


def test_a_database_from_before_the_cells_reads_right_and_the_next_load_adds_them(wh):
    load_rows(wh, D1, week1())
    _as_before_the_cells(wh, forget_mark=True)
    with wh.read() as con:
        assert not stored_cells.cells_current(con)
        assert metrics.report_dates(con, 2020) == [D1]
        assert metrics.previous_report_date(con, D1) is None
        t = metrics.total(con, D1)
    assert (t["projects"], t["ytd_completed"]) == (3, 150.0)
    load_rows(wh, D2, [proj("A项目", ytd_completed=300.0)], present=("ytd_completed",))
    with wh.read() as con:
        assert assert_stored_cells_agree(con) == 2  # both dates, not only the one loaded
        assert metrics.previous_report_date(con, D2) == D1
        assert metrics.total(con, D2)["ytd_completed"] == 350.0


def test_the_app_upgrades_a_database_from_before_the_cells_once(wh):
    load_rows(wh, D1, week1())
    _as_before_the_cells(wh)
    wh.upgrade()
    with wh.read() as con:
        assert stored_cells.cells_current(con)
        assert assert_stored_cells_agree(con) == 1
    version = wh.data_version()
    wh.upgrade()  # current: nothing to do, nothing written
    assert wh.data_version() == version


def _as_before_the_formula_version(wh: Warehouse) -> None:
    """Make the file look like one whose cells were computed before CELLS_FORMULA "2" (应开工 by
    the earlier of planned and actual start, 录入率's base by the stage alone), marked current
    the old way: figure_cells_of = data_version, no cells_formula. The stored cells at 03-13 get
    the old formulas' counts: P (started 03-10, planned 05-01) due and started, R (completed in
    2019, first reported on 03-13) in the base; and the tables get the reported_active column the
    cells had before "4" (a rebuild must leave it out: the load writes the cells by name)."""
    con = duckdb.connect(str(wh.path))
    try:
        p_cell = "tier = '市级千项' AND city_code = '140100' AND as_of = $d"
        con.execute(f"UPDATE figure_cells SET due = due + 1, started = started + 1 WHERE {p_cell} "
                    "AND stage = '新开工' AND size_band = '5–10亿'", {"d": EARLY_D2})
        con.execute(f"UPDATE figure_cells_coarse SET due = due + 1, started = started + 1 WHERE {p_cell}",
                    {"d": EARLY_D2})
        r_cell = "city_code = '140900' AND as_of = $d"  # R shares its cells with S (and T, coarse)
        for table, where in (("figure_cells", f"{r_cell} AND stage = '竣工'"), ("figure_cells_coarse", r_cell)):
            con.execute(f"UPDATE {table} SET reporting_base = reporting_base + 1 WHERE {where}", {"d": EARLY_D2})
        for table in ("figure_cells", "figure_cells_coarse"):  # the column the cells had before "4"
            con.execute(f"ALTER TABLE {table} ADD COLUMN reported_active BIGINT DEFAULT 0")  # DuckDB 1.5: no constraint in ADD COLUMN
        con.execute("DELETE FROM meta WHERE key = 'cells_formula'")
        assert con.execute("SELECT count(*) FROM meta WHERE key IN ('data_version', 'figure_cells_of') "
                           "GROUP BY ALL HAVING count(DISTINCT value) = 1").fetchall() == [(2,)]
    finally:
        con.close()


def test_cells_of_an_earlier_formula_are_not_read_and_upgrade_rebuilds_them(wh):
    load_early_starters_and_late_completions(wh)
    with wh.read() as con:  # a database written now carries the formula version
        assert con.execute("SELECT value FROM meta WHERE key = 'cells_formula'").fetchall() == [
            (metrics.CELLS_FORMULA,)]
        assert stored_cells.cells_current(con)
    _as_before_the_formula_version(wh)
    with wh.read() as con:
        stale = con.execute("SELECT sum(due), sum(started), sum(reporting_base) FROM figure_cells_coarse "
                            "WHERE as_of = $d", {"d": EARLY_D2}).fetchall()
        assert stale == [(7, 6, 5)]  # the doctored cells: due and started one more, the base with R
        assert not stored_cells.cells_current(con)
        assert stored_periods(con, 2020) is None
        assert not At.of(con, EARLY_D2, None, None, NO_FILTERS).stored
        assert metrics.report_dates(con, 2020) == [date(2020, 3, 6), EARLY_D2]
        assert_figures(metrics.total(con, EARLY_D2), EARLY_AT_D2)  # from the snapshots, not the cells
        assert_figures(metrics.trend(con, EARLY_D2).to_dicts()[-1], EARLY_AT_D2)
    wh.upgrade()  # what the app and the CLI do before reading
    with wh.read() as con:
        assert stored_cells.cells_current(con)
        assert con.execute("SELECT value FROM meta WHERE key = 'cells_formula'").fetchall() == [
            (metrics.CELLS_FORMULA,)]
        assert assert_stored_cells_agree(con) == 2
        assert At.of(con, EARLY_D2, None, None, NO_FILTERS).stored
        columns = {r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() "
                                             "WHERE table_name = 'figure_cells_coarse'").fetchall()}
        assert "reported_active" not in columns and {"reported", "reporting_base"} <= columns
        assert con.execute("SELECT sum(due), sum(started), sum(reporting_base) FROM figure_cells_coarse "
                           "WHERE as_of = $d", {"d": EARLY_D2}).fetchall() == [(6, 5, 4)]
        assert_figures(metrics.total(con, EARLY_D2), EARLY_AT_D2)
        assert_figures(metrics.trend(con, EARLY_D2).to_dicts()[-1], EARLY_AT_D2)
    version = wh.data_version()
    wh.upgrade()  # current now: nothing written
    assert wh.data_version() == version

    # an old database loaded into before any upgrade: the load rebuilds every cell, not only its date's
    _as_before_the_formula_version(wh)
    load_rows(wh, date(2020, 3, 20), [proj("Q无计划", stage="在建")], present=("stage",))
    with wh.read() as con:
        assert stored_cells.cells_current(con)
        assert assert_stored_cells_agree(con) == 3
        assert_figures(metrics.total(con, EARLY_D2), EARLY_AT_D2)
    # and the next load keeps them current (write() carries both marks forward)
    load_rows(wh, date(2020, 3, 27), [proj("Q无计划", stage="在建")], present=("stage",))
    with wh.read() as con:
        assert stored_cells.cells_current(con)
        assert assert_stored_cells_agree(con) == 4


def test_a_new_database_is_current_and_its_first_load_marks_the_formula(tmp_path):
    wh = Warehouse(tmp_path / "new.duckdb")
    wh.init()
    with wh.read() as con:
        assert stored_cells.cells_current(con)  # nothing written: nothing to derive
        assert con.execute("SELECT count(*) FROM meta").fetchall() == [(0,)]
    version = wh.data_version()
    wh.upgrade()
    assert wh.data_version() == version
    load_rows(wh, D1, week1())
    with wh.read() as con:
        assert stored_cells.cells_current(con)
        assert dict(con.execute("SELECT key, value FROM meta").fetchall())["cells_formula"] == metrics.CELLS_FORMULA
        assert assert_stored_cells_agree(con) == 1


def _derived(wh: Warehouse) -> list:
    with wh.read() as con:
        return [
            con.execute("SELECT * FROM figure_cells ORDER BY ALL").fetchall(),
            con.execute("SELECT * FROM figure_cells_coarse ORDER BY ALL").fetchall(),
            con.execute("SELECT * FROM report_periods ORDER BY ALL").fetchall(),
            con.execute("SELECT value FROM meta WHERE key = 'figure_cells_of'").fetchall(),
        ]


def test_a_refused_load_leaves_the_cells_as_they_were(wh):
    load_rows(wh, D1, week1())
    before = _derived(wh)
    bad = Submission("bad.csv", pl.DataFrame([{**proj("A项目", stage="在建"), "tier": "省级双百·新兴"}]), D2,
                     raw=b"bad", present_fields=("stage",))
    with pytest.raises(SubmissionRefused):
        wh.load([bad])
    assert _derived(wh) == before


def test_killed_loader_leaves_the_cells_as_they_were(tmp_path):
    from tests.test_faults import ROOT, cli, kill_loads, standard_csv

    db = tmp_path / "k.duckdb"
    base = standard_csv(tmp_path / "base.csv", 50, "基线")
    assert subprocess.run(cli(db, "ingest", str(base), "--report-date", "2020-03-06"), cwd=ROOT).returncode == 0
    wh = Warehouse(db)
    before = _derived(wh)
    big = standard_csv(tmp_path / "big.csv", 80_000, "大批", ytd=7.0)

    def committed() -> bool:
        if _derived(wh) == before:
            return False
        with wh.read() as con:  # killed after the commit: then the cells hold the new date
            assert assert_stored_cells_agree(con) == 2
        return True

    outcomes = kill_loads(db, big, "2020-03-13", 20200313, committed)
    assert "rolled back" in outcomes, "no kill landed before the commit: make the file bigger"


# ---- project_states(columns=…, where=…) ------------------------------------------------------


def test_project_states_columns_and_where_narrow_the_full_frame(wh):
    _varied_history(wh)
    with wh.read() as con:
        full = metrics.project_states(con, date(2020, 3, 31))
        assert tuple(full.columns) == metrics.STATE_COLUMNS
        # ordered by city, county and name, nulls last (as DuckDB's ORDER BY did)
        keys = full.select("city_code", "county_code", "project_name").rows()
        assert keys == sorted(keys, key=lambda k: tuple((v is None, v or "") for v in k))
        assert full["county_code"].null_count() > 0
        for cols, where in ((("project_id", "stage", "is_overdue"), None),
                            (("project_name", "city_code", "stage_before_period"), metrics.Where("is_overdue")),
                            (("project_id", "is_active_before_period"), metrics.Where("has_started", "unset")),
                            (("project_id", "total_investment"), metrics.Where("is_reported")),
                            (("project_id", "stage"), metrics.Where("problem", "not null"))):
            got = metrics.project_states(con, date(2020, 3, 31), columns=cols, where=where)
            want = full
            if where is not None:
                want = full.filter({"set": pl.col(where.column), "unset": ~pl.col(where.column),
                                    "not null": pl.col(where.column).is_not_null()}[where.test])
            assert got.to_dicts() == want.select(cols).to_dicts(), (cols, where)
        with pytest.raises(ValueError):
            metrics.project_states(con, date(2020, 3, 31), columns=("project_id", "1; DROP TABLE x"))
    for column, test in (("stage", "set"), ("problem", "unset"), ("is_due OR 1=1", "set"), ("x", "not null"),
                         ("is_due", "is")):
        with pytest.raises(ValueError):
            metrics.Where(column, test)  # type: ignore[arg-type]
