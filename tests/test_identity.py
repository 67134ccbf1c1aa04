"""Identity resolution (warehouse.identity.resolve_identity) against the row-by-row rules it replaced.

The loader resolves identities with joins; this file keeps the original loop as the oracle
and compares both on random submissions full of the awkward cases: codes and no codes,
spacing and full-width variants, a code-less project met again with a code, tier clashes,
new projects repeated within a file, missing tiers, duplicate (city, name) pairs.
"""

from __future__ import annotations

import random
from datetime import date

import duckdb
import polars as pl
import pytest

from pipelines.vocab.findings import Finding, SubmissionRefused
from pipelines.vocab.reference import norm_text
from pipelines.warehouse import tables
from pipelines.warehouse.identity import resolve_identity
from pipelines.warehouse.load import conform
from pipelines.warehouse.store import Submission


def _reference_identity(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, file_name: str
) -> tuple[list[str], pl.DataFrame, list[Finding]]:
    """The row-by-row loop the loader used before it was vectorised (known projects in insertion order)."""
    rows = frame.select("source_row", "project_code", "project_name", "city_code", "tier").with_columns(
        name_norm=pl.col("project_name").map_elements(norm_text, return_dtype=pl.String),
        code=pl.col("project_code").str.strip_chars().replace("", None),
    )
    cities = rows["city_code"].unique().drop_nulls().to_list()
    codes = rows["code"].unique().drop_nulls().to_list()
    known = con.sql(
        "SELECT project_id, project_code, city_code, name_norm, tier FROM projects "
        "WHERE list_contains($cities::VARCHAR[], city_code) OR list_contains($codes::VARCHAR[], project_code) "
        "ORDER BY rowid",
        params={"cities": cities, "codes": codes},
    ).pl()
    by_code = {c: (pid, t) for pid, c, t in known.select("project_id", "project_code", "tier").iter_rows() if c}
    by_name = {
        (city, n): (pid, code, t)
        for pid, code, city, n, t in known.select(
            "project_id", "project_code", "city_code", "name_norm", "tier"
        ).iter_rows()
    }
    ids: list[str] = []
    errors: list[Finding] = []
    new: dict[str, dict[str, object]] = {}
    for r, code, city, n, tier in rows.select("source_row", "code", "city_code", "name_norm", "tier").iter_rows():
        hit = by_code.get(code) if code else None
        if hit is None:
            named = by_name.get((city, n))
            if named is not None and (not code or not named[1] or named[1] == code):
                hit = (named[0], named[2])
        if hit is not None:
            pid, known_tier = hit
            if tier is not None and tier != known_tier:
                errors.append(
                    Finding(
                        file_name,
                        f"同一项目已按「{known_tier}」报送，不能再列入「{tier}」（一个项目只能属于一个层级）",
                        r, "层级", tier,
                    )
                )
            ids.append(str(pid))
            continue
        pid = code or f"{city}|{n}"
        if pid in new:
            ids.append(pid)
            continue
        if tier is None:
            errors.append(Finding(file_name, "新项目缺少层级（省级双百·新兴/省级双百·技改/市级千项/其他）", r, "层级", ""))
        new[pid] = {"project_id": pid, "project_code": code, "city_code": city, "name_norm": n, "tier": tier}
        ids.append(pid)
    new_frame = pl.DataFrame(
        list(new.values()),
        schema={"project_id": pl.String, "project_code": pl.String, "city_code": pl.String,
                "name_norm": pl.String, "tier": pl.String},
    )
    return ids, new_frame, errors



CITIES = ("140100", "140900", "140200")
NAMES = ("甲项目", "甲 项目", "甲　项目", "乙项目", "丙项目", "ＡＢ项目", "AB 项目", "丁项目")
CODES = (None, None, "", "  ", "2020-140100-26-03-000001", "2020-140100-26-03-000002", " 2020-140900-26-03-000003 ")
TIERS = (None, "市级千项", "市级千项", "省级双百·新兴")


def _random_rows(rng: random.Random, n: int) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "source_row": i + 2,
                "project_code": rng.choice(CODES),
                "project_name": rng.choice(NAMES),
                "city_code": rng.choice(CITIES),
                "city_name": "某市",
                "tier": rng.choice(TIERS),
            }
            for i in range(n)
        ],
        schema_overrides={"project_code": pl.String, "tier": pl.String},
    )


def _seed_projects(con: duckdb.DuckDBPyConnection, rng: random.Random) -> None:
    """Known projects, inserted directly so that duplicates (city, name) can exist."""
    seen: set[str] = set()
    for k in range(rng.randint(0, 8)):
        code = rng.choice(CODES)
        code = code.strip() if code and code.strip() else None
        city, name = rng.choice(CITIES), norm_text(rng.choice(NAMES))
        pid = code or f"{city}|{name}"
        if pid in seen:
            pid = f"{pid}#{k}"
        seen.add(pid)
        con.execute(
            "INSERT INTO projects VALUES (?, ?, ?, ?, ?, 1)",
            [pid, code, city, name, rng.choice(TIERS[1:])],
        )


@pytest.mark.parametrize("seed", range(200))
def test_vectorised_identity_equals_the_row_loop(tmp_path, seed):
    rng = random.Random(seed)
    con = duckdb.connect(str(tmp_path / "i.duckdb"))
    for ddl in tables.ddl(tables.KEPT):
        con.execute(ddl)
    _seed_projects(con, rng)
    frame = conform(_random_rows(rng, rng.randint(1, 25)))
    ids, new, errors = resolve_identity(con, frame, "f.csv")
    ref_ids, ref_new, ref_errors = _reference_identity(con, frame, "f.csv")
    assert ids == ref_ids
    assert new.to_dicts() == ref_new.to_dicts()
    assert errors == ref_errors
    con.close()


def test_loader_matches_codeless_project_by_name_and_keeps_it(wh):
    base = {"city_code": "140900", "city_name": "忻州市", "tier": "市级千项", "stage": "在建"}
    def load(d: date, rows: list[dict]) -> None:
        wh.load([Submission(f"{d}.csv", pl.DataFrame(rows), d, raw=repr((d, rows)).encode(),
                            present_fields=tuple(rows[0]))])
    load(date(2020, 3, 6), [{**base, "project_name": "甲 项目"}])
    load(date(2020, 3, 13), [{**base, "project_name": "甲项目", "project_code": "2020-140900-26-03-000009"}])
    with wh.read() as con:
        assert con.execute("SELECT project_id, project_code FROM projects").fetchall() == [("140900|甲项目", None)]
    with pytest.raises(SubmissionRefused, match="一个项目只能属于一个层级"):
        load(date(2020, 3, 20), [{**base, "project_name": "甲项目", "tier": "其他"}])


def test_a_code_written_like_another_projects_id_is_refused_not_merged(wh):
    """A new project takes its code as id; a code equal to a codeless project's "<city>|<name>" id
    would give two projects one id. Nothing is written."""
    base = {"city_name": "忻州市", "tier": "市级千项", "stage": "在建"}
    def load(d: date, rows: list[dict]) -> None:
        wh.load([Submission(f"{d}.csv", pl.DataFrame(rows), d, raw=repr((d, rows)).encode(),
                            present_fields=tuple(rows[0]))])
    load(date(2020, 3, 6), [{**base, "city_code": "140900", "project_name": "甲项目"}])
    with pytest.raises(SubmissionRefused) as exc:
        load(date(2020, 3, 13), [{**base, "city_code": "140100", "city_name": "太原市", "project_name": "乙项目",
                                  "project_code": "140900|甲项目"}])
    assert [(e.row, e.column, e.value) for e in exc.value.errors] == [(2, "项目代码", "140900|甲项目")]
    assert "项目代码与已有项目的编号相同" in exc.value.errors[0].message
    with wh.read() as con:
        assert con.execute("SELECT project_id FROM projects").fetchall() == [("140900|甲项目",)]
        assert con.execute("SELECT count(*) FROM reports").fetchall() == [(1,)]
