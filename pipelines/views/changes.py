"""本期变动 as the pages and `kaigong changes` read it: the findings stored with each submission (the
change audit, pipelines/warehouse/changes.py, writes them), the ones standing at a report date, and
the findings in words."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import polars as pl

from pipelines.vocab.query import query_frame
from pipelines.vocab.reference import region_names
from pipelines.warehouse import changes
from pipelines.warehouse.changes import _SCHEMA, FINDING_COLUMNS, KIND_ZH, KINDS, Rules
from pipelines.warehouse.load import Submission


def change_share() -> float:
    """The share of 总投资 / 年度计划投资 a change must pass to be flagged (the audit's Rules)."""
    return Rules().change_share


def preview(con: duckdb.DuckDBPyConnection, sub: Submission) -> tuple[pl.DataFrame, list[date]]:
    """The change audit of a staged file against the data as it is now (nothing written), and the
    report dates after the file's (a correction of an earlier week changes their states)."""
    found = changes.preview(con, sub.frame, sub.file_name, sub.report_date, sub.present_fields, sub.region_code)
    return found, later_report_dates(con, sub.report_date)


def later_report_dates(con: duckdb.DuckDBPyConnection, report_date: date) -> list[date]:
    """The report dates of the year after report_date (a correction of that week changes their states)."""
    rows = con.execute("SELECT DISTINCT report_date FROM reports WHERE year = ? AND report_date > ? ORDER BY 1",
                       [report_date.year, report_date]).fetchall()
    return [r[0] for r in rows]


def _table(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        con.execute("SELECT 1 FROM change_findings LIMIT 0").fetchall()
    except duckdb.CatalogException:
        return False
    return True


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema={"submission_id": pl.Int64, "report_date": pl.Date, **_SCHEMA})


def for_submission(con: duckdb.DuckDBPyConnection, submission_id: int) -> pl.DataFrame:
    """The findings stored with one submission, in file order."""
    if not _table(con):
        return _empty()
    return query_frame(
        con,
        f"SELECT submission_id, report_date, {', '.join(FINDING_COLUMNS)} FROM change_findings "
        "WHERE submission_id = $sid ORDER BY source_row NULLS LAST, kind, project_id",
        {"sid": submission_id},
    )


def counts_by_submission(con: duckdb.DuckDBPyConnection, submission_ids: list[int]) -> dict[int, int]:
    """How many findings (new projects left out) each submission has."""
    if not _table(con) or not submission_ids:
        return {}
    rows = con.execute(
        "SELECT submission_id, count(*) FROM change_findings WHERE list_contains($ids, submission_id) "
        "AND kind <> 'new' GROUP BY 1", {"ids": submission_ids}).fetchall()
    return {int(s): int(n) for s, n in rows}


def for_period(con: duckdb.DuckDBPyConnection, as_of: date, regions: tuple[str, ...] = ()) -> pl.DataFrame:
    """本期变动: the findings that stand at the report date in force at as_of, for the regions (city or
    county codes; all when empty). A project's findings come from the submission whose report of it
    stands (a corrected resubmission's replace the first one's); a project reported missing, or
    unconfirmed (a prefilled sheet's unchanged unmarked row, not loaded), stands while no report of it
    at that date came in."""
    if not _table(con):
        return _empty()
    row = con.execute("SELECT max(report_date) FROM submissions WHERE kind = 'reports' AND report_date <= ? "
                      "AND year = ?", [as_of, as_of.year]).fetchall()
    d = row[0][0] if row else None
    if d is None:
        return _empty()
    return query_frame(
        con,
        f"""SELECT f.submission_id, f.report_date, {', '.join('f.' + c for c in FINDING_COLUMNS)}
            FROM change_findings f
            LEFT JOIN reports r ON r.report_date = f.report_date AND r.project_id = f.project_id
            WHERE f.report_date = $d
              AND (len($regions) = 0 OR list_contains($regions, f.city_code) OR list_contains($regions, f.county_code))
              AND CASE WHEN f.kind IN ('missing', 'unconfirmed') THEN r.project_id IS NULL
                          AND f.submission_id = (SELECT max(g.submission_id) FROM change_findings g
                                                 WHERE g.report_date = f.report_date AND g.project_id = f.project_id
                                                   AND g.kind = f.kind)
                       ELSE r.submission_id = f.submission_id END
            ORDER BY f.city_code, f.county_code, f.kind, f.project_name""",
        {"d": d, "regions": list(regions)},
    )


def by_region(findings: pl.DataFrame) -> pl.DataFrame:
    """Counts of findings per city and kind (地市 × 变动类型), the 本期变动 summary."""
    if findings.is_empty():
        return pl.DataFrame(schema={"地市": pl.String, **{KIND_ZH[k]: pl.UInt32 for k in KINDS}})
    wide = (findings.with_columns(region_names("city_code")
                                  .fill_null("（未填地市）").alias("地市"))
            .group_by("地市", "kind").len()
            .pivot(on="kind", index="地市", values="len"))
    for k in KINDS:
        if k not in wide.columns:
            wide = wide.with_columns(pl.lit(0, pl.UInt32).alias(k))
    return wide.select("地市", *(pl.col(k).fill_null(0).alias(KIND_ZH[k]) for k in KINDS)).sort("地市")


def line_zh(f: dict[str, Any]) -> str:
    """One finding in words: 「第 5 行 芯片项目：本年累计完成投资减少，4000 → 3000（上期 2020-03-06）」."""
    where = f"第 {f['source_row']} 行 " if f.get("source_row") is not None else ""
    text = f"{where}{f['project_name'] or f['project_id']}：{KIND_ZH.get(f['kind'], f['kind'])}"
    if f["kind"] != "new":
        text += f"，{f['field']} {f['old_value']} → {f['new_value']}"
    if f.get("prev_report_date") is not None:
        text += f"（上期报告期 {f['prev_report_date']}）"
    if f.get("later_reports"):
        text += f"；更正的是较早报告期，影响其后的报告期 {f['later_reports']}"
    return text


def shown(findings: pl.DataFrame) -> pl.DataFrame:
    """Findings as the pages show them: Chinese headers, kinds in words, regions by name."""
    return findings.select(
        pl.col("source_row").alias("行号"),
        pl.col("project_name").alias("项目名称"),
        region_names("city_code").alias("地市"),
        region_names("county_code").alias("县区"),
        pl.col("kind").replace_strict(KIND_ZH, default=pl.col("kind")).alias("变动"),
        pl.col("field").alias("字段"),
        pl.col("old_value").alias("原值"),
        pl.col("new_value").alias("新值"),
        pl.col("prev_report_date").alias("比较的上期报告期"),
        pl.col("later_reports").alias("影响的后续报告期"),
    )


def to_json(findings: pl.DataFrame) -> list[dict[str, Any]]:
    """Findings for `kaigong changes --json`: dates as ISO text, kinds with their Chinese name."""
    out = []
    for f in findings.iter_rows(named=True):
        out.append({**{k: (v.isoformat() if isinstance(v, date) else v) for k, v in f.items()},
                    "kind_zh": KIND_ZH.get(f["kind"], f["kind"])})
    return out


def log_with_counts(log: pl.DataFrame, counts: dict[int, int]) -> pl.DataFrame:
    """The submission log with each submission's count of findings (new projects left out), 变动提示."""
    return log.with_columns(
        pl.col("submission_id").replace_strict(counts, default=0, return_dtype=pl.Int64).alias("changes"))
