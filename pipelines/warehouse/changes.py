"""The change audit: each report against the same project's state before it (本期变动).

A report at date D in year Y is compared with the project's state as of the latest report date
before D in Y (the `states` view), field by field, only for the fields the file carries. The
findings are warnings: they never refuse a file. They are computed in one SQL over the whole file
(the upload preview, before anything is written) and stored with the submission in the load's
transaction (table change_findings), from which `kaigong changes` and the 数据报送 page read (views/changes.py).

Findings (kind → what):
- ytd_down: 本年累计完成投资 went down (an emptied cell counts as 0, as in the figures);
- cumulative_down: 累计完成投资 (截至上年底 + 本年累计) went down while 本年累计 did not (so one
  lowered 本年累计 is one finding, not two);
- stage_back: the stage ranks below the previous one (schema.STAGE_ORDER);
- start_changed / start_cleared: the actual (re)start date differs from, or clears, a date on or
  before the earlier report date (the project had started);
- total_changed / plan_changed: 总投资 / 年度计划投资 differs from the earlier one by more than
  Rules.change_share of it (a value from 0 to anything counts);
- missing: a project the same unit reported at the unit's previous report date, not 竣工/投产
  then, that this file leaves out (project-level 漏报). The unit: the file's region given at
  upload (a city or county), else each city of the file (or, in a file of one city, its one
  county when every row names the same county); only the tiers the file's projects are in;
- new: a project with no report before D in the year;
- stale (停滞): a 在建/续建 project whose 本年累计完成投资 is the same in this report and its N previous reports
  of the year (Rules.stale_periods, KAIGONG_STALE_PERIODS, default 3): no movement for N periods;
- updated / unconfirmed (a prefilled sheet or the online grid only, issue 31: the frame has a no_change
  column): updated names each cell of the period's fields (views.fill.UPDATE_FIELDS) that differs from the
  state before; unconfirmed is a row that changes none of them and is not marked 本期无变化 — the loader
  does not take it as a report of the period (it does not count for 录入率; base.load drops it).
A correction (D before the year's latest report date) is compared with the state before D, and
each finding lists the project's later report dates, whose states it changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import polars as pl

from pipelines.metrics.formulas import setting
from pipelines.vocab import schema
from pipelines.vocab.query import query_frame
from pipelines.vocab.states import EACH_STATE_SQL, states_at
from pipelines.warehouse import tables

KIND_ZH: dict[str, str] = {
    "ytd_down": "本年累计完成投资减少",
    "cumulative_down": "累计完成投资减少",
    "stage_back": "建设状态倒退",
    "start_changed": "已开工项目的实际开（复）工时间被修改",
    "start_cleared": "已开工项目的实际开（复）工时间被清空",
    "total_changed": "总投资变动超过阈值",
    "plan_changed": "年度计划投资变动超过阈值",
    "missing": "本期漏报（上期报送、本期文件中没有）",
    "new": "本期新增项目",
    "stale": "停滞：在建项目连续多期本年累计完成投资未变",
    "updated": "本期填报修改",
    "unconfirmed": "未修改且未标「本期无变化」（不计为本期报送）",
}
KINDS = tuple(KIND_ZH)
CHANGE_SHARE = 0.20  # 总投资 / 年度计划投资 changes above this share of the earlier value are flagged
STALE_PERIODS = 3  # a 在建 project whose 本年累计 has not moved for this many periods is stale (停滞)
# The cells a clerk updates each period (the prefilled sheet's open cells; views.fill reads them here).
UPDATE_FIELDS: tuple[str, ...] = (
    "stage", "ytd_completed", "image_progress", "planned_start_date", "actual_start_date", "not_started_reason",
    "planned_completion_date", "completion_date", "problem", "problem_department", "stats_registered",
)


@dataclass(frozen=True)
class Rules:
    """The audit's thresholds (defaults above)."""

    change_share: float = field(default_factory=lambda: setting("KAIGONG_CHANGE_SHARE", CHANGE_SHARE))
    stale_periods: int = field(default_factory=lambda: int(setting("KAIGONG_STALE_PERIODS", STALE_PERIODS)))


CHANGES_DDL = tables.BY_NAME["change_findings"].ddl
FINDING_COLUMNS: tuple[str, ...] = (
    "project_id", "project_name", "city_code", "county_code", "source_row", "kind", "field",
    "old_value", "new_value", "prev_report_date", "later_reports",
)
_SCHEMA: dict[str, Any] = {
    "project_id": pl.String, "project_name": pl.String, "city_code": pl.String, "county_code": pl.String,
    "source_row": pl.Int64, "kind": pl.String, "field": pl.String, "old_value": pl.String,
    "new_value": pl.String, "prev_report_date": pl.Date, "later_reports": pl.String,
}
# What the audit reads of the incoming report (and of the state before it).
_AUDIT_FIELDS = tuple(dict.fromkeys((
    "project_name", "city_code", "county_code", "tier", "stage", "total_investment", "annual_plan",
    "ytd_completed", "completed_before_year", "actual_start_date", *UPDATE_FIELDS)))


def _bit(name: str) -> int:
    return schema.FIELD_BIT[name]


def _has(name: str) -> str:
    """The incoming report states field name (the file's layout carries it)."""
    return f"(($mask & {_bit(name)}) <> 0)"


def _num(expr: str) -> str:
    """A money value as text: 「4000」, 「1234.5」, 「（空）」 for none."""
    return f"coalesce(regexp_replace(printf('%.2f', {expr}), '\\.?0+$', ''), '（空）')"


def _day(expr: str) -> str:
    return f"coalesce(strftime({expr}, '%Y-%m-%d'), '（空）')"


_RANK = "CASE {} " + " ".join(f"WHEN '{s}' THEN {r}" for s, r in schema.STAGE_ORDER.items()) + " END"
_NEW_CUM = (
    f"coalesce(CASE WHEN {_has('completed_before_year')} THEN n.completed_before_year ELSE p.completed_before_year END, 0)"
    f" + coalesce(CASE WHEN {_has('ytd_completed')} THEN n.ytd_completed ELSE p.ytd_completed END, 0)"
)
_OLD_CUM = "coalesce(p.completed_before_year, 0) + coalesce(p.ytd_completed, 0)"
_YTD_DOWN = f"({_has('ytd_completed')} AND coalesce(n.ytd_completed, 0) < coalesce(p.ytd_completed, 0))"


def _changed(name: str) -> str:
    return (f"({_has(name)} AND n.{name} IS NOT NULL AND p.{name} IS NOT NULL "
            f"AND abs(n.{name} - p.{name}) > $share * abs(p.{name}))")


# One row per finding: (kind, field, condition, old text, new text) over j (the file's rows
# joined to their earlier state p; p.project_id is null for a project new this year).
_RULES: tuple[tuple[str, str, str, str, str], ...] = (
    ("new", "项目", "p.project_id IS NULL", "NULL", "NULL"),
    ("ytd_down", schema.FIELD["ytd_completed"].zh, f"p.project_id IS NOT NULL AND {_YTD_DOWN}",
     _num("p.ytd_completed"), _num("n.ytd_completed")),
    ("cumulative_down", "累计完成投资",
     f"p.project_id IS NOT NULL AND NOT {_YTD_DOWN} AND "
     f"({_has('ytd_completed')} OR {_has('completed_before_year')}) AND ({_NEW_CUM}) < ({_OLD_CUM})",
     _num(_OLD_CUM), _num(_NEW_CUM)),
    ("stage_back", schema.FIELD["stage"].zh,
     f"{_has('stage')} AND {_RANK.format('n.stage')} < {_RANK.format('p.stage')}",
     "p.stage", "n.stage"),
    ("start_changed", schema.FIELD["actual_start_date"].zh,
     f"{_has('actual_start_date')} AND p.actual_start_date <= p.last_report_date "
     "AND n.actual_start_date IS NOT NULL AND n.actual_start_date <> p.actual_start_date",
     _day("p.actual_start_date"), _day("n.actual_start_date")),
    ("start_cleared", schema.FIELD["actual_start_date"].zh,
     f"{_has('actual_start_date')} AND p.actual_start_date <= p.last_report_date AND n.actual_start_date IS NULL",
     _day("p.actual_start_date"), _day("n.actual_start_date")),
    ("total_changed", schema.FIELD["total_investment"].zh, _changed("total_investment"),
     _num("p.total_investment"), _num("n.total_investment")),
    ("plan_changed", "年度计划投资", _changed("annual_plan"), _num("p.annual_plan"), _num("n.annual_plan")),
)


def _text(name: str, side: str) -> str:
    """A field's value as the audit shows it."""
    kind = schema.FIELD[name].kind
    expr = f"{side}.{name}"
    if kind == "money":
        return _num(expr)
    if kind == "date":
        return _day(expr)
    if kind == "bool":
        return f"CASE WHEN {expr} THEN '是' WHEN NOT {expr} THEN '否' ELSE '（空）' END"
    return f"coalesce({expr}::VARCHAR, '（空）')"


def _moved(name: str) -> str:
    return f"({_has(name)} AND n.{name} IS DISTINCT FROM p.{name})"


_ANY_MOVED = "(" + " OR ".join(_moved(c) for c in UPDATE_FIELDS) + ")"
# The prefilled sheet's rules (n.no_change is null for any other file).
_FILL_RULES: tuple[tuple[str, str, str, str, str], ...] = (
    *(("updated", schema.FIELD[c].zh, f"n.no_change IS NOT NULL AND p.project_id IS NOT NULL AND {_moved(c)}",
       _text(c, "p"), _text(c, "n")) for c in UPDATE_FIELDS),
    ("unconfirmed", "本期无变化", f"n.no_change IS NOT NULL AND p.project_id IS NOT NULL AND NOT n.no_change "
     f"AND NOT {_ANY_MOVED}", "'未标'", "'未修改'"),
)



def _on_j(expr: str) -> str:
    """A rule's expression over n (the report) and p (the state before) as one over j's columns."""
    return expr.replace("n.", "n_").replace("p.", "p_")


def _audit_sql(rules: tuple[tuple[str, str, str, str, str], ...]) -> str:
    """The audit's SQL with these row rules (a prefilled sheet's added only for one: the rest skip them)."""
    return f"""
WITH n AS (SELECT * FROM audit_new),
p AS (SELECT * FROM {states_at('$year', '$prev_snap::DATE')} s   -- the file's projects only: the join below
      WHERE s.project_id IN (SELECT project_id FROM audit_new)),    -- reads no other (a semi join prunes the scan)
j AS (
    SELECT n.project_id AS pid, n.source_row, n.no_change AS n_no_change, n.project_name AS name, n.city_code AS city, n.county_code AS county,
           p.last_report_date AS prev_date, {", ".join(f"n.{c} AS n_{c}, p.{c} AS p_{c}" for c in _AUDIT_FIELDS)},
           p.project_id AS p_project_id, p.last_report_date AS p_last_report_date
    FROM n LEFT JOIN p ON p.project_id = n.project_id
),
scope AS (   -- the unit: a city, or one county of it
    SELECT city_code,
           CASE WHEN $region_is_city THEN NULL
                WHEN (SELECT count(DISTINCT city_code) FROM n) = 1
                     AND count(county_code) = count(*) AND count(DISTINCT county_code) = 1 THEN min(county_code)
           END AS county_code
    FROM n GROUP BY city_code
),
tiers AS (
    SELECT DISTINCT coalesce(pr.tier, n.tier) AS tier FROM n LEFT JOIN projects pr USING (project_id)
),
unit_last AS (   -- the unit's previous report date (a unit that skipped a period: its own last one)
    SELECT sc.city_code, sc.county_code, max(r.report_date) AS last_date
    FROM scope sc
    JOIN reports r ON r.year = $year AND r.report_date < $d AND r.city_code = sc.city_code
        AND (sc.county_code IS NULL OR r.county_code = sc.county_code)
    JOIN projects pr ON pr.project_id = r.project_id
    WHERE pr.tier IN (SELECT tier FROM tiers)
    GROUP BY ALL
),
missing AS (
    SELECT s.project_id AS pid, s.project_name AS name, s.city_code AS city, s.county_code AS county,
           s.last_report_date AS prev_date
    FROM unit_last u
    JOIN {EACH_STATE_SQL} s ON s.year = $year AND s.last_report_date = u.last_date
        AND s.city_code = u.city_code AND (u.county_code IS NULL OR s.county_code = u.county_code)
    JOIN projects pr ON pr.project_id = s.project_id
    WHERE pr.tier IN (SELECT tier FROM tiers)
      AND coalesce(s.stage, '') NOT IN {schema.DONE_STAGES_SQL}
      AND s.project_id NOT IN (SELECT project_id FROM n)
      AND s.project_id NOT IN (SELECT project_id FROM reports WHERE year = $year AND report_date = $d)
),
hist AS (   -- the projects' previous reports of the year, latest first
    SELECT r.project_id AS pid, r.report_date, r.ytd_completed, (r.present & {_bit('ytd_completed')}) <> 0 AS has_ytd,
           row_number() OVER (PARTITION BY r.project_id ORDER BY r.report_date DESC) AS k
    FROM reports r
    WHERE r.year = $year AND r.report_date < $d AND $stale_n > 0 AND r.project_id IN (
        -- only the 在建 projects whose 本年累计 did not move since their state before (most did: not read)
        SELECT pid FROM j WHERE coalesce(n_stage, p_stage) IN ('在建', '续建')
            AND coalesce(n_ytd_completed, 0) = coalesce(p_ytd_completed, 0))
),
stale AS (   -- 在建 and 本年累计 unchanged in this report and the N before it
    SELECT j.pid, strftime(min(h.report_date), '%Y-%m-%d') || ' 起未变' AS since
    FROM j JOIN hist h ON h.pid = j.pid AND h.k <= $stale_n
    WHERE $stale_n > 0 AND {_has('ytd_completed')} AND coalesce(j.n_stage, j.p_stage) IN ('在建', '续建')
    GROUP BY j.pid, j.n_ytd_completed
    HAVING count(*) = $stale_n AND bool_and(h.has_ytd AND coalesce(h.ytd_completed, 0) = coalesce(j.n_ytd_completed, 0))
),
f AS (
    {" UNION ALL ".join(
        f"SELECT pid, name, city, county, source_row, '{kind}' AS kind, '{zh}' AS field, "
        f"{_on_j(old)}::VARCHAR AS old_value, {_on_j(new)}::VARCHAR AS new_value, prev_date FROM j "
        f"WHERE {_on_j(cond)}"
        for kind, zh, cond, old, new in rules
    )}
    UNION ALL
    SELECT j.pid, j.name, j.city, j.county, j.source_row, 'stale', '{schema.FIELD["ytd_completed"].zh}',
           stale.since, {_on_j(_num("n.ytd_completed"))}, j.prev_date
    FROM j JOIN stale ON stale.pid = j.pid
    UNION ALL
    SELECT pid, name, city, county, NULL, 'missing', '项目', '已报送', '未报送', prev_date FROM missing
),
later AS (
    SELECT project_id AS pid, string_agg(strftime(report_date, '%Y-%m-%d'), '、' ORDER BY report_date) AS later_reports
    FROM reports
    WHERE year = $year AND report_date > $d AND project_id IN (SELECT pid FROM f)
    GROUP BY 1
)
SELECT f.pid AS project_id, f.name AS project_name, f.city AS city_code, f.county AS county_code, f.source_row,
       f.kind, f.field, f.old_value, f.new_value, f.prev_date AS prev_report_date, later.later_reports
FROM f LEFT JOIN later USING (pid)
ORDER BY f.source_row NULLS LAST, f.kind, f.pid
"""


_AUDIT_SQL = _audit_sql(_RULES)
_AUDIT_FILL_SQL = _audit_sql((*_RULES, *_FILL_RULES))


def _params(con: duckdb.DuckDBPyConnection, report_date: date, mask: int, region_code: str | None,
            rules: Rules) -> dict[str, Any]:
    from pipelines.vocab.reference import region_by_code

    y = report_date.year
    row = con.execute("SELECT max(as_of) FROM state_dates WHERE year = ? AND as_of < ?", [y, report_date]).fetchall()
    region = region_by_code().get(region_code or "")
    return {"year": y, "d": report_date, "prev_snap": row[0][0] if row else None, "mask": mask,
            "share": rules.change_share, "region_is_city": bool(region and region.level == "city"),
            "stale_n": rules.stale_periods}


def audit(con: duckdb.DuckDBPyConnection, new: pl.DataFrame, report_date: date, mask: int,
          region_code: str | None = None, rules: Rules = Rules()) -> pl.DataFrame:
    """The findings of a report (rows: project_id, source_row and the audited fields) at report_date,
    whose file carries the fields in mask (schema.FIELD_BIT), against the states before it."""
    cols = ["project_id", "source_row", *_AUDIT_FIELDS]
    fill = "no_change" if "no_change" in new.columns else None  # a prefilled sheet: its rules too
    if fill is None:
        new = new.with_columns(no_change=pl.lit(None, pl.Boolean))
    con.register("audit_new", new.select(*cols, pl.col("no_change").cast(pl.Boolean)))
    try:
        sql = _AUDIT_SQL if fill is None else _AUDIT_FILL_SQL
        return query_frame(con, sql, _params(con, report_date, mask, region_code, rules))
    finally:
        con.unregister("audit_new")


def record(con: duckdb.DuckDBPyConnection, submission_id: int, report_date: date, present_fields: tuple[str, ...],
           region_code: str | None = None, rules: Rules = Rules(), fill: pl.DataFrame | None = None) -> int:
    """Audit a loaded submission (inside the load's transaction, after the snapshots are refreshed)
    and store its findings; returns how many. fill, for a prefilled sheet: every row of the file
    (project_id, source_row, no_change and the audited fields), the rows not loaded (unconfirmed) too."""
    con.execute(CHANGES_DDL)  # a database from before the audit gets its table here
    cols = ", ".join(("project_id", "source_row", *_AUDIT_FIELDS))
    # The load's rows of this submission, as the audit's incoming relation (a view in the transaction).
    # A row that restated its report unchanged left it as it was (load.py: no new version): it is the
    # file's row all the same.
    con.execute("CREATE TEMP TABLE IF NOT EXISTS restated (submission_id BIGINT, project_id VARCHAR)")
    new = query_frame(con, f"SELECT {cols} FROM reports WHERE report_date = $d AND (submission_id = $sid "
                           "OR project_id IN (SELECT project_id FROM restated WHERE submission_id = $sid))",
                      {"d": report_date, "sid": submission_id})
    if fill is not None:  # a prefilled sheet: its marks, and the rows the loader did not take
        cols_n = [*new.columns, "no_change"]
        rest = fill.filter(~pl.col("project_id").is_in(new["project_id"].implode())).select(cols_n)
        new = pl.concat([new.join(fill.select("project_id", "no_change"), on="project_id", how="left").select(cols_n),
                         rest], how="vertical_relaxed")
    found = audit(con, new, report_date, schema.present_mask(present_fields), region_code, rules)
    if found.is_empty():
        return 0
    con.register("audit_found", found.with_columns(
        submission_id=pl.lit(submission_id, pl.Int64), report_date=pl.lit(report_date, pl.Date),
        year=pl.lit(report_date.year, pl.Int32)))
    try:
        con.execute("INSERT INTO change_findings BY NAME SELECT * FROM audit_found")
    finally:
        con.unregister("audit_found")
    return found.height


def placed(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, file_name: str) -> pl.DataFrame:
    """A staged file's rows with their project ids (conformed; a prefilled sheet's no_change kept); a row
    the identity rules cannot place (the loader would refuse it) is left out."""
    from pipelines.warehouse.identity import resolve_identity
    from pipelines.warehouse.load import conform

    staged = conform(frame)
    if "no_change" in frame.columns:
        staged = staged.with_columns(no_change=frame["no_change"].cast(pl.Boolean))
    ids, _, _ = resolve_identity(con, staged, file_name)
    new = staged.with_columns(project_id=pl.Series(ids, dtype=pl.String)).filter(pl.col("project_id").is_not_null())
    return new.with_columns(pl.col("tier").cast(pl.String))


def preview(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, file_name: str, report_date: date,
            present_fields: tuple[str, ...], region_code: str | None = None, rules: Rules = Rules()) -> pl.DataFrame:
    """The findings a staged file would have if loaded now (a read connection: nothing is written).
    A row the identity rules cannot place (the loader would refuse it) is left out."""
    new = placed(con, frame, file_name)
    return audit(con, new, report_date, schema.present_mask(present_fields), region_code, rules)


def unconfirmed(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, file_name: str, report_date: date,
                present_fields: tuple[str, ...], region_code: str | None = None,
                rules: Rules = Rules()) -> tuple[pl.DataFrame, set[int]] | None:
    """For a prefilled sheet (frame has no_change; None for any other file): its placed rows and the
    source rows that change nothing of the period's fields and are not marked 本期无变化 (not a report
    of the period: the loader leaves them out)."""
    if "no_change" not in frame.columns:
        return None
    new = placed(con, frame, file_name)
    found = audit(con, new, report_date, schema.present_mask(present_fields), region_code, rules)
    rows = set(found.filter(pl.col("kind") == "unconfirmed")["source_row"].to_list())
    return new, rows
