"""The national roll-up (#19 §2): provinces exported as Hive-partitioned Parquet and read together
give, through the same metrics code, the figures of one database holding all their submissions."""

from __future__ import annotations

import json
import math
import os
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipelines import metrics
from pipelines.cli import main
from pipelines.outputs import rollup
from pipelines.warehouse import province_export
from pipelines.warehouse.province_export import SCHEMA_FILE, ExportError, export
from pipelines.warehouse.store import Warehouse
from tests import rollup_data

WEEKS = 5
DATES = rollup_data.report_dates(WEEKS)
BYS: tuple[str | None, ...] = (None, "city", "industry", "tier")


def assert_same(got: dict[str | None, list[dict[str, Any]]], want: dict[str | None, list[dict[str, Any]]]) -> None:
    """Counts and names exact, money and rates within 1e-9 relative."""
    assert got.keys() == want.keys()
    for by in want:
        assert [g["group"] for g in got[by]] == [w["group"] for w in want[by]], by
        for g, w in zip(got[by], want[by], strict=True):
            assert g.keys() == w.keys()
            for k, v in w.items():
                if isinstance(v, float):
                    assert g[k] is not None and math.isclose(g[k], v, rel_tol=1e-9, abs_tol=1e-12), (by, w["group"], k)
                else:
                    assert g[k] == v, (by, w["group"], k)


@pytest.fixture(scope="module")
def provinces(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Provinces 61 and 62 (same report dates), 63 (a week fewer), each in its own database and
    export; the reference databases: 61 + 62, and 61 + 62 + 63."""
    root = tmp_path_factory.mktemp("rollup")
    subs = {
        "61": rollup_data.submissions("61", 90, WEEKS, 11),
        "62": rollup_data.submissions("62", 70, WEEKS, 12),
        "63": rollup_data.submissions("63", 40, WEEKS - 1, 13),
    }
    dbs = {p: rollup_data.load(root / f"p{p}.duckdb", s) for p, s in subs.items()}
    exports = {}
    for p, wh in dbs.items():
        exports[p] = root / f"export_{p}"
        export(wh, exports[p])
    both = rollup_data.load(root / "both.duckdb", subs["61"] + subs["62"])
    three = rollup_data.load_more(root / "both.duckdb", root / "three.duckdb", subs["63"])
    return {"root": root, "dbs": dbs, "exports": exports, "both": both, "three": three}


def _figures(con: Any, as_of: date, **kw: Any) -> dict[str | None, list[dict[str, Any]]]:
    return metrics.figures_by(con, as_of, BYS, **kw)


def _reference(wh: Warehouse, as_of: date, **kw: Any) -> dict[str | None, list[dict[str, Any]]]:
    with wh.read() as con:
        return _figures(con, as_of, **kw)


CASES = [
    pytest.param(DATES[2], metrics.Filters(), id="report-date"),
    pytest.param(DATES[-1], metrics.Filters(), id="last-date"),
    pytest.param(DATES[1] + timedelta(days=3), metrics.Filters(), id="between-dates"),  # computed cells
    pytest.param(DATES[-1], metrics.Filters(tiers=("市级千项",), stages=("在建", "续建")), id="filtered"),
]


@pytest.mark.parametrize(("as_of", "filters"), CASES)
def test_two_provinces_roll_up_to_one_database(provinces: dict[str, Any], as_of: date, filters: metrics.Filters) -> None:
    want = _reference(provinces["both"], as_of, filters=filters)
    assert {it["group_code"][:2] for it in want["city"] if it["projects"]} == {"61", "62"}  # both are in it
    con = rollup.open_rollup([provinces["exports"]["61"], provinces["exports"]["62"]])
    try:
        assert_same(_figures(con, as_of, filters=filters), want)
        # the same report dates: the provinces' stored cells add up, and are read
        assert metrics.dates.At.of(con, as_of, None, None, filters).stored == (as_of in DATES)
    finally:
        con.close()


def test_a_province_that_stopped_reporting_rolls_up_from_the_states(provinces: dict[str, Any]) -> None:
    """63 has no cells at the last date: the roll-up computes every cell from the states instead."""
    dirs = [provinces["exports"][p] for p in ("61", "62", "63")]
    con = rollup.open_rollup(dirs)
    try:
        assert metrics.dates.stored_periods(con, 2020) is None
        for as_of in (DATES[2], DATES[-1]):
            want = _reference(provinces["three"], as_of)
            assert {it["group_code"] for it in want["city"]} >= {"630100", "610100"}  # 西宁市 and 西安市 now have names
            assert_same(_figures(con, as_of), want)
    finally:
        con.close()


def test_one_directory_holds_several_provinces_and_a_re_export_replaces_one(
        provinces: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "national"
    export(provinces["dbs"]["61"], out)
    export(provinces["dbs"]["62"], out)
    kept = {f: f.stat().st_ino for f in (out / "state_ranges" / "province=62").rglob("*.parquet")}
    old_61 = {f.stat().st_ino for f in (out / "state_ranges" / "province=61").rglob("*.parquet")}
    export(provinces["dbs"]["61"], out)  # again: 61's partitions new, 62's the same files
    assert {f: f.stat().st_ino for f in (out / "state_ranges" / "province=62").rglob("*.parquet")} == kept
    assert not old_61 & {f.stat().st_ino for f in (out / "state_ranges" / "province=61").rglob("*.parquet")}
    schema = json.loads((out / SCHEMA_FILE).read_text(encoding="utf-8"))
    assert sorted(schema["provinces"]) == ["61", "62"]
    assert schema["cells_formula"] == metrics.CELLS_FORMULA
    assert schema["tables"]["figure_cells"]["partition_by"] == ["province", "year", "as_of"]
    assert ["total_investment", "DOUBLE"] in schema["tables"]["figure_cells"]["columns"]
    with provinces["dbs"]["61"].read() as con:
        version = con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchall()[0][0]
    assert schema["provinces"]["61"]["data_version"] == version
    assert sorted(p.name for p in (out / "figure_cells" / "province=61" / "year=2020").iterdir()) == [
        f"as_of={d}" for d in [DATES[0] - timedelta(days=1), *DATES]]
    con = rollup.open_rollup([out])
    try:
        assert_same(_figures(con, DATES[-1]), _reference(provinces["both"], DATES[-1]))
    finally:
        con.close()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".national.")  and not p.name.endswith(".lock")]


def test_a_failed_export_leaves_the_directory_as_it_was(
        provinces: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "national"
    export(provinces["dbs"]["62"], out)
    before = sorted((str(p), p.stat().st_ino) for p in out.rglob("*"))

    def broken(src: Path, dst: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(province_export, "_link_tree", broken)  # after 61's files, before the swap
    with pytest.raises(OSError, match="disk full"):
        export(provinces["dbs"]["61"], out)
    assert sorted((str(p), p.stat().st_ino) for p in out.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == ["national"]


def test_a_bad_directory_is_refused_in_chinese(provinces: dict[str, Any], tmp_path: Path) -> None:
    wh = provinces["dbs"]["61"]
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match="不是目录"):
        export(wh, tmp_path / "a_file")
    with pytest.raises(ExportError, match="不是开工的导出目录"):
        export(wh, tmp_path / "other")
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"
    with pytest.raises(ExportError, match="上级目录不存在"):
        export(wh, tmp_path / "missing" / "out")
    with pytest.raises(ExportError, match="数据库不存在"):
        export(Warehouse(tmp_path / "nowhere.duckdb"), tmp_path / "out")
    assert not (tmp_path / "nowhere.duckdb").exists()
    with pytest.raises(ExportError, match="省份代码"):
        export(wh, tmp_path / "out", province="Shanxi")
    with pytest.raises(rollup.RollupError, match="同时出现"):
        rollup.Rollup.of([provinces["exports"]["61"], provinces["exports"]["61"]])
    with pytest.raises(ExportError, match="不是开工的导出目录"):
        rollup.Rollup.of([tmp_path / "other"])
    tampered = tmp_path / "tampered"
    export(wh, tampered)
    schema = json.loads((tampered / SCHEMA_FILE).read_text(encoding="utf-8"))
    schema["tables"]["projects"]["columns"][0][0] = "project_id FROM meta; --"
    (tampered / SCHEMA_FILE).write_text(json.dumps(schema), encoding="utf-8")
    with pytest.raises(rollup.RollupError, match="表结构无法识别"):
        rollup.Rollup.of([tampered])


def test_the_cli_exports_and_rolls_up(provinces: dict[str, Any], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "national"
    for p in ("61", "62"):
        assert main(["--db", str(provinces["dbs"][p].path), "export", "--out", str(out)]) == 0
    assert "已导出到" in capsys.readouterr().out
    assert main(["rollup", str(out), "--as-of", str(DATES[-1]), "--by", "tier", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    with provinces["both"].read() as con:
        want = metrics.to_json_rows(metrics.figures(con, DATES[-1], by="tier"))
    assert got == want
    assert main(["--db", str(provinces["dbs"]["61"].path), "export", "--out", str(tmp_path / "no" / "x")]) == 2
    assert "上级目录不存在" in capsys.readouterr().err
    assert main(["rollup", str(tmp_path / "nowhere"), "--as-of", str(DATES[-1])]) == 2
    assert "导出目录不存在" in capsys.readouterr().err


def test_an_empty_province_cannot_name_itself(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "empty.duckdb")
    wh.init()
    with pytest.raises(ExportError, match="--province"):
        export(wh, tmp_path / "out")
    export(wh, tmp_path / "out", province="14")  # an empty province exports, and rolls up to nothing
    con = rollup.open_rollup([tmp_path / "out"])
    try:
        assert metrics.figures(con, date(2020, 3, 27))[0]["projects"] == 0
    finally:
        con.close()
    assert os.path.isfile(tmp_path / "out" / SCHEMA_FILE)
