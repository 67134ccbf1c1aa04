"""数据报送: the submission log and who has (not) reported at each report date (漏报)."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from pipelines import metrics
from pipelines.metrics import View
from pipelines.vocab import schema
from pipelines.vocab.query import query_frame
from pipelines.vocab.reference import region_by_code
from pipelines.warehouse import deadlines


def submission_log(con: duckdb.DuckDBPyConnection, limit: int = 200, loaded_by: str | None = None) -> pl.DataFrame:
    """The latest submissions, newest first; only one user's own when loaded_by is given."""
    return query_frame(
        con,
        """SELECT submission_id, file_name, kind, layout, rows, report_date, frequency,
                  region_code, tier, loaded_at, loaded_by, is_demo
           FROM submissions WHERE $who IS NULL OR loaded_by = $who
           ORDER BY submission_id DESC LIMIT $limit""",
        {"limit": limit, "who": loaded_by},
    )


_LOG_HEADERS = {
    "submission_id": "编号", "file_name": "文件", "kind": "类型", "layout": "版式", "rows": "项目数",
    "report_date": "报告期", "frequency": "频度", "region_code": "地区", "tier": "层级",
    "loaded_at": "导入时间", "loaded_by": "导入人", "is_demo": "演示",
}


def submission_log_shown(log: pl.DataFrame) -> pl.DataFrame:
    """The submission log as the 数据报送 page shows it: Chinese headers, kinds, layouts,
    frequencies and region names (an id without a name, from an older build, is shown as is)."""
    names = {code: r.name for code, r in region_by_code().items()}

    def zh(col: str, mapping: dict[str, str]) -> pl.Expr:
        return pl.col(col).replace_strict(mapping, default=pl.col(col), return_dtype=pl.String)

    return log.with_columns(
        zh("kind", schema.KIND_ZH), zh("layout", schema.LAYOUT_ZH), zh("frequency", schema.FREQUENCY_ZH),
        zh("region_code", names),
    ).rename(_LOG_HEADERS)


def reporting_matrix(con: duckdb.DuckDBPyConnection, view: View) -> pl.DataFrame:
    """录入率 of each city at each report date of the year up to as_of (report_date, group, its
    应报送 and 已报送 counts, rate)."""
    t = metrics.trend(con, view.as_of, year=view.year, filters=view.filters, by="city")
    if t.is_empty() or "reporting_rate" not in t.columns:
        return pl.DataFrame(schema={"report_date": pl.Date, "group": pl.String, "group_code": pl.String,
                                    "reporting_base": pl.Int64, "reported": pl.Int64, "reporting_rate": pl.Float64,
                                    "late": pl.Boolean})
    frame = t.select("report_date", "group", "group_code", "reporting_base", "reported", "reporting_rate")
    return with_late(con, frame)


def with_late(con: duckdb.DuckDBPyConnection, matrix: pl.DataFrame) -> pl.DataFrame:
    """The matrix with `late`: a file for that city and date came after its period closed (迟报, a 更正
    waiting for 审核 or approved: warehouse/deadlines.py), told apart from 漏报 (nothing reported)."""
    late = deadlines.late_periods(con).select(
        pl.col("city_code").alias("group_code"), "report_date", pl.lit(True).alias("late")).unique()
    return (matrix.join(late, on=["group_code", "report_date"], how="left")
            .with_columns(pl.col("late").fill_null(False)))


def missing_reports(matrix: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Regions with projects to report at as_of of which none reported (漏报)."""
    return matrix.filter(
        (pl.col("report_date") == as_of) & (pl.col("reporting_base") > 0) & (pl.col("reported") == 0)
    ).select("group", "group_code")


def report_deadlines(con: duckdb.DuckDBPyConnection) -> dict[str, deadlines.Rule]:
    """Each level's deadline as the 管理员 set it (warehouse/deadlines.py; empty: periods never close)."""
    return deadlines.configured(con)
