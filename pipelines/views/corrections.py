"""更正说明: the corrections of earlier periods since the previous issued 简报, and their effect on the
figures that had been issued. The 通报 prints them (outputs/briefing.py) and the 数据报送 page shows
them (审核员, 管理员).

The previous issue is the latest issued briefing (reissues left out) of the same filters (the same 通报
series) and a report date before this one's.
A correction is read from the kept versions of the reports (warehouse/load.py keeps every version):
each report of a period that issue covered (report date on or before its as-of) whose newest version
was loaded after the issue is set beside the version the warehouse knew when the issue went out
(warehouse/versions.py, as known at the issue's time), field by field. "Old" is therefore the value as
issued (not the previous period's), and every changed figure-bearing field is listed, a raised 本年累计
as much as a lowered one; a report of such a period that did not exist at the issue is a 补报. Who and
when are the newest version's submission's loaded_by and loaded_at. Descriptive text (形象进度, 存在问题,
进展 …) is left out: it moves no figure.
The effect: each earlier issued briefing of the series whose report date a correction reaches
(its as-of on or after the corrected date, in the same year, issued before the correction) has its
headline figures computed again now and set beside the ones it printed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import duckdb
import polars as pl

from pipelines import metrics
from pipelines.vocab import formats, schema
from pipelines.vocab.reference import region_by_code, region_names
from pipelines.warehouse import issued, loop_tables
from pipelines.warehouse.versions import KNOWN_REPORTS_SQL

# The headline figures compared: (key, name, format).
HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("start_rate", "开（复）工率", "pct"),
    ("completion_rate", "投资完成率", "pct"),
    ("ytd_completed", "本年累计完成投资", "yi"),
)
NO_FILTERS = metrics.Filters()
SCHEMA: dict[str, Any] = {
    "submission_id": pl.Int64, "report_date": pl.Date, "project_id": pl.String, "project_name": pl.String,
    "city_code": pl.String, "county_code": pl.String, "kind": pl.String, "field": pl.String,
    "old_value": pl.String, "new_value": pl.String, "loaded_by": pl.String, "loaded_at": pl.Datetime("us"),
    "file_name": pl.String,
}


@dataclass
class Corrections:
    """The 更正说明 of a briefing: the previous issue it is counted from, the corrections, their effects."""

    since_issue: int | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)  # SCHEMA's columns, oldest load first
    lines: list[str] = field(default_factory=list)  # each correction in words
    effects: list[str] = field(default_factory=list)  # 「第 1 号简报（截至5月31日）开（复）工率由 75.0% 更正为 50.0%」


def filters_json(filters: metrics.Filters) -> str:
    """The filters as a record keeps them (sorted keys, so equal filters give equal text)."""
    return json.dumps({k: list(v) for k, v in asdict(filters).items()}, ensure_ascii=False, sort_keys=True)


def filters_from_json(text: str) -> metrics.Filters:
    return metrics.Filters(**{k: tuple(v) for k, v in json.loads(text).items()})


# What a correction or a 补报 is called (the kind column).
KIND_ZH = {"correction": "更正", "late": "补报"}
KIND_HELP_ZH = {
    "correction": "更正：已通报报告期的报告在简报发出后被修改，逐个字段列出「原值（发出时）→ 新值」、更正人和时间",
    "late": "补报：已通报报告期在简报发出时没有的报告，发出后才报来",
}
# The fields whose change can move a figure: every field but the descriptive text.
_TEXT_LEFT_OUT = {"project_name", "city_name", "county_name", "industry_name", "company", "category",
                  "construction_period", "scale_content", "image_progress", "not_started_reason", "covid_factors",
                  "problem", "problem_department", "year_goal", "progress_note", "benefits", "highlights",
                  "company_intro", "contact", "lead_unit", "approval_status", "land_status", "planning_status",
                  "eia_status", "dev_zone", "project_code"}
COMPARED: tuple[str, ...] = tuple(f for f in schema.FIELD_NAMES if f not in _TEXT_LEFT_OUT)

# The reports of issued periods loaded after the issue (newest versions), beside the versions known at
# the issue. Constant SQL: the version query and the compared columns are the registry's names.
_PAIRS_SQL = f"""
WITH new AS (
  SELECT r.*, s.loaded_by, s.loaded_at, s.file_name
  FROM reports r JOIN submissions s ON s.submission_id = r.submission_id
  LEFT JOIN projects p ON p.project_id = r.project_id
  WHERE s.kind = 'reports' AND s.loaded_at > $t AND r.report_date <= $as_of
    AND (len($tiers) = 0 OR list_contains($tiers, p.tier))
    AND (len($places) = 0 OR list_contains($places, r.city_code) OR list_contains($places, r.county_code))),
old AS ({KNOWN_REPORTS_SQL})
SELECT n.submission_id, n.report_date, n.project_id, n.project_name,
       n.city_code, n.county_code, n.loaded_by, n.loaded_at, n.file_name, o.project_id IS NOT NULL AS was_known,
       {", ".join(f"o.{c} AS old_{c}, n.{c} AS new_{c}" for c in COMPARED)}
FROM new n
LEFT JOIN old o ON o.project_id = n.project_id AND o.report_date = n.report_date
ORDER BY n.loaded_at, n.submission_id, n.city_code, n.county_code, n.project_name"""  # noqa: S608 (constants)


def value_zh(name: str, value: Any) -> str:
    """A stored value as the 更正说明 prints it: money in 万元, dates ISO, yes/no in words, blank as 空."""
    if value is None:
        return "空"
    kind = schema.FIELD[name].kind
    if kind == "money":
        return f"{value:,.2f}".rstrip("0").rstrip(".") + " 万元"
    if kind == "bool":
        return "是" if value else "否"
    return value.isoformat() if isinstance(value, date) else str(value)


def _findings(con: duckdb.DuckDBPyConnection, prev: issued.Issue, filters: metrics.Filters) -> pl.DataFrame:
    if not loop_tables.has(con, "report_versions"):  # a database from before the versions
        return pl.DataFrame(schema=SCHEMA)
    pairs = con.execute(_PAIRS_SQL, {"t": prev.issued_at, "as_of": prev.as_of, "tiers": list(filters.tiers),
                                     "places": [*filters.cities, *filters.counties]}).fetchall()
    names = [d[0] for d in con.description or ()]
    out: list[dict[str, Any]] = []
    for values in pairs:
        r = dict(zip(names, values, strict=True))
        head = {k: r[k] for k in ("submission_id", "report_date", "project_id", "project_name", "city_code",
                                  "county_code", "loaded_by", "loaded_at", "file_name")}
        if not r["was_known"]:
            out.append({**head, "kind": "late", "field": "整条报告", "old_value": "（发出时未报）",
                        "new_value": "补报"})
            continue
        for c in COMPARED:
            old, new = r[f"old_{c}"], r[f"new_{c}"]
            if old != new:
                out.append({**head, "kind": "correction", "field": schema.FIELD[c].zh,
                            "old_value": value_zh(c, old), "new_value": value_zh(c, new)})
    return pl.DataFrame(out, schema=SCHEMA)


def _day(d: date) -> str:
    return f"{d.month}月{d.day}日"


def line_zh(r: dict[str, Any]) -> str:
    """「忻州市原平市 杂粮深加工项目（5月31日报告期）：实际开（复）工时间 2020-03-10 → 2020-06-15（张三 2020-06-02 10:00 更正）」"""
    names = region_by_code()
    unit = "".join(names[c].name for c in (r["city_code"], r["county_code"]) if c and c in names)
    what = KIND_ZH.get(r["kind"], r["kind"])
    when = r["loaded_at"].strftime("%Y-%m-%d %H:%M") if r["loaded_at"] else ""
    return (f"{unit} {r['project_name'] or r['project_id']}（{_day(r['report_date'])}报告期）：{r['field']} "
            f"{r['old_value']} → {r['new_value']}（{r['loaded_by']} {when} {what}）")


def _fmt(kind: str, value: float | None) -> str:
    return formats.pct(value) if kind == "pct" else f"{formats.yi_num(value, 1)}亿元"


def effect_zh(issue: issued.Issue, printed: dict[str, Any], now: dict[str, Any]) -> str:
    """The effect on one issued briefing: each headline figure whose printed text changed, old and new."""
    moved = [f"{name}由 {_fmt(kind, printed.get(key))} 更正为 {_fmt(kind, now.get(key))}"
             for key, name, kind in HEADLINE if _fmt(kind, printed.get(key)) != _fmt(kind, now.get(key))]
    head = f"第 {issue.issue_id} 号简报（截至{_day(issue.as_of)}，{issue.issued_at:%Y-%m-%d} 发出）"
    return head + ("：" + "；".join(moved) if moved else "所列主要指标未受影响")


def _affected(found: pl.DataFrame, issues: list[issued.Issue]) -> list[issued.Issue]:
    """The earlier issues a correction reaches (the latest issue per report date)."""
    out: dict[date, issued.Issue] = {}
    for issue in issues:  # latest issue first
        if issue.as_of in out:
            continue
        reached = found.filter(
            (pl.col("report_date") <= issue.as_of) & (pl.col("report_date").dt.year() == issue.year)
            & (pl.col("loaded_at") > issue.issued_at))
        if reached.height:
            out[issue.as_of] = issue
    return sorted(out.values(), key=lambda i: i.as_of)


def corrections(con: duckdb.DuckDBPyConnection, as_of: date, filters: metrics.Filters = NO_FILTERS) -> Corrections:
    """The 更正说明 for a briefing at as_of with filters (empty when nothing was issued before or corrected)."""
    same = filters_json(filters)  # the same 通报 series: a briefing for other filters is another one
    issues = [i for i in issued.originals_before(con, as_of) if i.filters == same]
    if not issues:
        return Corrections()
    prev = issues[0]
    found = _findings(con, prev, filters)
    out = Corrections(since_issue=prev.issue_id, rows=found.to_dicts())
    out.lines = [line_zh(r) for r in out.rows]
    for issue in _affected(found, issues):
        printed = json.loads(issue.figures).get("total", {})
        now = metrics.figures(con, issue.as_of, year=issue.year, filters=filters, yoy=False)[0]
        out.effects.append(effect_zh(issue, printed, now))
    return out


def shown(c: Corrections) -> pl.DataFrame:
    """The corrections as the 数据报送 page shows them: Chinese headers, regions by name."""
    frame = pl.DataFrame(c.rows, schema=SCHEMA)
    return frame.select(
        pl.col("report_date").alias("报告期"),
        region_names("city_code").alias("地市"),
        region_names("county_code").alias("县区"),
        pl.col("project_name").alias("项目名称"),
        pl.col("field").alias("字段"),
        pl.col("old_value").alias("原值"),
        pl.col("new_value").alias("新值"),
        pl.col("kind").replace_strict(KIND_ZH, default=pl.col("kind")).alias("变动"),
        pl.col("loaded_by").alias("更正人"),
        pl.col("loaded_at").alias("更正时间"),
        pl.col("file_name").alias("文件"),
    )
