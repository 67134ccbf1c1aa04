"""Other departments' lists (立项 from the 行政审批局, 入统 from the 统计局, 签约 from the 商务局), kept as
reference lists to reconcile with ours (pipelines/views/reconcile.py). The only writer of
reference_lists: one audited write per list, whole or nothing; a list of the same kind and date
replaces the earlier one. The list in force at D is the kind's latest list of D's year dated on or
before D.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import duckdb
import polars as pl

from pipelines.ingest import vparse as vp
from pipelines.vocab.findings import Finding, SubmissionRefused
from pipelines.vocab.query import query_frame
from pipelines.warehouse import loop_tables
from pipelines.warehouse.store import Store

KINDS: tuple[str, ...] = ("立项", "入统", "签约")
KIND_SOURCE: dict[str, str] = {"立项": "行政审批局", "入统": "统计局", "签约": "商务局"}
# What a list row carries (staged field names, vocab/schema.py).
LIST_FIELDS: tuple[str, ...] = ("source_row", "project_code", "project_name", "city_code", "county_code",
                                "total_investment", "industry_code", "industry_name")
SCHEMA: dict[str, Any] = {
    "list_id": pl.Int64, "kind": pl.String, "as_of": pl.Date, "year": pl.Int32, "file_name": pl.String,
    "source_row": pl.Int64, "project_code": pl.String, "project_name": pl.String, "name_norm": pl.String,
    "city_code": pl.String, "county_code": pl.String, "total_investment": pl.Float64,
    "industry_code": pl.String, "industry_name": pl.String,
}


def _checked(frame: pl.DataFrame, kind: str, file_name: str) -> list[Finding]:
    errors: list[Finding] = []
    if kind not in KINDS:
        errors.append(Finding(file_name, f"清单类别「{kind}」无效（应为 {'/'.join(KINDS)} 之一）"))
    if frame.is_empty():
        errors.append(Finding(file_name, "清单中没有项目"))
    for row, name, city in frame.select("source_row", "project_name", "city_code").iter_rows():
        if not (name or "").strip():
            errors.append(Finding(file_name, "缺少项目名称", row, "项目名称", ""))
        elif not city:
            errors.append(Finding(file_name, "缺少地市：按名称核对需要项目所在地市", row, "地市", name))
    return errors


def store_list(wh: Store, actor: str, kind: str, as_of: date, file_name: str, raw: bytes,
               frame: pl.DataFrame) -> int:
    """Keep one department's list (the reader's staged rows) as the kind's list at as_of; returns its id.
    Refused whole (SubmissionRefused, every error found) when the kind is unknown or a row has no
    name or city."""
    frame = frame.select([c for c in LIST_FIELDS if c in frame.columns])
    for c in LIST_FIELDS:
        if c not in frame.columns:
            frame = frame.with_columns(pl.lit(None, SCHEMA[c]).alias(c))
    errors = _checked(frame, kind, file_name)
    if errors:
        raise SubmissionRefused(file_name, errors)
    rows = frame.select(*LIST_FIELDS).with_columns(
        project_code=pl.col("project_code").str.strip_chars().replace("", None),
        name_norm=vp.clean_series(frame["project_name"]),  # identity's normalisation (reference.norm_text)
    )
    digest = hashlib.sha256(raw).hexdigest()
    with wh.write(actor, "reference_list", f"{kind}清单 {file_name}（{as_of}，{rows.height} 个项目）sha256={digest}") as con:
        loop_tables.ensure(con)
        con.execute("DELETE FROM reference_lists WHERE kind = ? AND as_of = ?", [kind, as_of])
        got = con.execute("SELECT coalesce(max(list_id), 0) + 1 FROM reference_lists").fetchall()
        list_id = int(got[0][0])
        con.register("_list_rows", rows)
        try:
            con.execute(
                """INSERT INTO reference_lists (list_id, kind, as_of, year, file_name, sha256, loaded_at, loaded_by,
                       source_row, project_code, project_name, name_norm, city_code, county_code, total_investment,
                       industry_code, industry_name)
                   SELECT $id, $kind, $as_of, $year, $file, $sha, now()::TIMESTAMP, $actor, source_row, project_code,
                          project_name, name_norm, city_code, county_code, total_investment, industry_code,
                          industry_name
                   FROM _list_rows""",
                {"id": list_id, "kind": kind, "as_of": as_of, "year": as_of.year, "file": file_name,
                 "sha": digest, "actor": actor})
        finally:
            con.unregister("_list_rows")
    return list_id


def list_in_force(con: duckdb.DuckDBPyConnection, kind: str, as_of: date) -> pl.DataFrame:
    """The kind's latest list of as_of's year dated on or before as_of (empty when none is loaded)."""
    if not loop_tables.has(con, "reference_lists"):
        return pl.DataFrame(schema=SCHEMA)
    return query_frame(
        con,
        """SELECT list_id, kind, as_of, year, file_name, source_row, project_code, project_name, name_norm,
                  city_code, county_code, total_investment, industry_code, industry_name
           FROM reference_lists
           WHERE list_id = (SELECT max(list_id) FROM reference_lists
                            WHERE kind = $kind AND year = $year AND as_of <= $d
                              AND as_of = (SELECT max(as_of) FROM reference_lists
                                           WHERE kind = $kind AND year = $year AND as_of <= $d))
           ORDER BY source_row""",
        {"kind": kind, "year": as_of.year, "d": as_of},
    ).cast(pl.Schema(SCHEMA))


def lists_loaded(con: duckdb.DuckDBPyConnection, year: int) -> pl.DataFrame:
    """The lists of a year: kind, date, file, rows, who and when (newest first)."""
    schema: dict[str, Any] = {"kind": pl.String, "as_of": pl.Date, "file_name": pl.String, "rows": pl.Int64,
              "loaded_by": pl.String, "loaded_at": pl.Datetime("us")}
    if not loop_tables.has(con, "reference_lists"):
        return pl.DataFrame(schema=schema)
    return query_frame(
        con,
        """SELECT kind, as_of, any_value(file_name) AS file_name, count(*) AS rows, any_value(loaded_by) AS loaded_by,
                  any_value(loaded_at) AS loaded_at
           FROM reference_lists WHERE year = $y GROUP BY list_id, kind, as_of ORDER BY as_of DESC, kind""",
        {"y": year},
    ).cast(pl.Schema(schema))
