"""Every figure of the metric contract (shared metrics.md), computed once, here.

Pages, the CLI and the briefing exports all call these functions. Money is in 万元; rates
are fractions; schedule_gap is in percentage points.

The project set S as of report date D in year Y is every project with a report (of any
layout) dated on or before D within Y; each project's state is its latest report on or
before D, field by field where a layout does not carry a field (see store.refresh_snapshots).
"""

from __future__ import annotations

import bisect
import calendar
import json
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb
import polars as pl

from . import schema
from .reference import region_by_code
from .store import first

# ---- parameters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The filtered set S: each tuple empty = no restriction."""

    tiers: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()  # GB/T 2260 codes
    counties: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()  # industry names as shown (division name or free text)
    stages: tuple[str, ...] = ()
    size_bands: tuple[str, ...] = ()
    project_ids: tuple[str, ...] = ()

    def params(self) -> dict[str, list[str]]:
        return {
            "f_tiers": list(self.tiers),
            "f_cities": list(self.cities),
            "f_counties": list(self.counties),
            "f_industries": list(self.industries),
            "f_stages": list(self.stages),
            "f_bands": list(self.size_bands),
            "f_projects": list(self.project_ids),
        }


@dataclass(frozen=True)
class Thresholds:
    """Traffic lights on schedule_gap, in percentage points (published 红黄绿灯 defaults)."""

    yellow_below: float = -10.0  # gap ≤ this is yellow (or red)
    red_below: float = -30.0  # gap < this is red


GROUPINGS: dict[str, tuple[str, str | None]] = {
    # key: (name expression, code expression) over the per-project relation
    "city": ("city_code", "city_code"),
    "county": ("county_code", "county_code"),
    "industry": ("coalesce(industry_name, '（未填行业）')", "industry_code"),
    "tier": ("tier", None),
    "stage": ("coalesce(stage, '（未填）')", None),
    "size_band": ("coalesce(size_band, '（未填总投资）')", None),
}
REGION_GROUPINGS = ("city", "county")

FIGURE_KEYS: tuple[str, ...] = (
    "projects", "total_investment", "annual_plan", "ytd_completed", "completion_rate",
    "time_progress", "schedule_gap", "due", "started", "start_rate", "overdue", "completed",
    "planned_completions", "completion_count_rate", "stats_due", "stats_registered", "stats_rate",
    "reported", "reporting_rate",
)
RATE_KEYS = ("completion_rate", "time_progress", "start_rate", "completion_count_rate", "stats_rate",
             "reporting_rate")

FIGURE_ZH: dict[str, str] = {
    "projects": "项目数",
    "total_investment": "总投资",
    "annual_plan": "年度计划投资",
    "ytd_completed": "本年累计完成投资",
    "completion_rate": "投资完成率",
    "time_progress": "序时进度",
    "schedule_gap": "超（滞后）序时进度",
    "due": "应开（复）工项目数",
    "started": "已开（复）工项目数",
    "start_rate": "开（复）工率",
    "overdue": "逾期未开工",
    "completed": "竣工项目数",
    "planned_completions": "计划竣工项目数",
    "completion_count_rate": "竣工率",
    "stats_due": "应入统项目数",
    "stats_registered": "已入统项目数",
    "stats_rate": "入统率",
    "reported": "已报送项目数",
    "reporting_rate": "录入（报送）率",
}

# The formula each chart prints in its footnote (users in different cities use different
# denominators: say which one).
FORMULA_ZH: dict[str, str] = {
    "completion_rate": "投资完成率 = 本年累计完成投资 ÷ 年度计划投资",
    "time_progress": "序时进度 = 报告期截止日在本年的天数 ÷ 本年天数",
    "schedule_gap": "超（滞后）序时进度 = 投资完成率 − 序时进度（百分点）",
    "start_rate": "开（复）工率 = 已开（复）工项目数 ÷ 应开（复）工项目数（非储备且计划开复工时间不晚于截止日；续建、在建项目自1月1日起应复工）",
    "completion_count_rate": "竣工率 = 本年已竣工项目数 ÷ 计划本年竣工项目数",
    "stats_rate": "入统率 = 已入统项目数 ÷ 应入统项目数（已开工且总投资≥500万元）",
    "reporting_rate": "录入率 = 本期已报送的未竣工项目数 ÷ 期初尚未竣工（投产）的项目数（期初已竣工项目的报送不计入分子）",
    "double_half": "双过半：6月30日及以后，投资完成率 ≥ 50%",
    "lights": "红黄绿灯：滞后序时进度不超过10个百分点为绿灯，10～30个百分点为黄灯，超过30个百分点为红灯",
}


def time_progress(as_of: date) -> float:
    """序时进度: day-of-year(D) ÷ days-in-year(Y)."""
    days = 366 if calendar.isleap(as_of.year) else 365
    return as_of.timetuple().tm_yday / days


def period_start(as_of: date, frequency: str) -> date:
    """First day of the reporting period that ends at as_of."""
    if frequency == "week":
        return as_of - timedelta(days=6)
    if frequency == "month":
        return as_of.replace(day=1)
    if frequency == "quarter":
        return date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1)
    raise ValueError(f"unknown frequency {frequency!r}")


def light(gap_pp: float | None, thresholds: Thresholds = Thresholds()) -> str | None:
    """红黄绿灯 on schedule_gap (percentage points): green, yellow or red."""
    if gap_pp is None or (isinstance(gap_pp, float) and math.isnan(gap_pp)):
        return None
    if gap_pp < thresholds.red_below:
        return "red"
    if gap_pp <= thresholds.yellow_below:
        return "yellow"
    return "green"


LIGHT_ZH = {"green": "绿灯", "yellow": "黄灯", "red": "红灯"}


def double_half(as_of: date, completion_rate: float | None) -> bool | None:
    """双过半: from 30 June on, completion_rate ≥ 50 %; None before 30 June."""
    if as_of < date(as_of.year, 6, 30):
        return None
    return completion_rate is not None and completion_rate >= 0.5


# ---- the per-project relation ----------------------------------------------------------------

_BAND_SQL = "CASE " + " ".join(
    f"WHEN s.total_investment >= {lo!r} AND s.total_investment < {hi!r} THEN '{name}'"
    if hi != float("inf")
    else f"WHEN s.total_investment >= {lo!r} THEN '{name}'"
    for name, lo, hi in schema.SIZE_BANDS
) + " END"

_STATE_COLS = ", ".join(f"s.{c}" for c in schema.FIELD_NAMES if c != "tier")

# One row per (report date, project in S as of that date), with the contract's per-project
# flags. The dates come in as two parallel lists: $dates (each report date D) and
# $period_starts (the first day of the reporting period ending at D); figures() passes one
# date, trend() every report date of the year. Each D sees the latest snapshot on or before D,
# and the stage before its period from the latest snapshot before its period start.
_DATES_SQL = """
snaps AS (SELECT DISTINCT as_of FROM snapshots WHERE year = $year),
dd AS (
    SELECT q.report_date, q.period_start,
        (SELECT max(as_of) FROM snaps WHERE as_of <= q.report_date) AS snap,
        (SELECT max(as_of) FROM snaps WHERE as_of < q.period_start) AS prev_snap
    FROM (SELECT unnest($dates) AS report_date, unnest($period_starts) AS period_start) q
)"""

_PROJECTS_SQL = f"""
WITH {_DATES_SQL},
prev AS (
    SELECT dd.report_date, sp.project_id, sp.stage AS stage_before_period
    FROM dd JOIN snapshots sp ON sp.year = $year AND sp.as_of = dd.prev_snap
),
s AS (
    SELECT dd.report_date, dd.period_start,
           s.project_id, s.last_report_date, s.done_date, p.tier, {_STATE_COLS},
           {_BAND_SQL} AS size_band
    FROM dd
    JOIN snapshots s ON s.year = $year AND s.as_of = dd.snap
    JOIN projects p ON p.project_id = s.project_id
)
SELECT
    s.*,
    prev.stage_before_period,
    coalesce(s.completion_date, s.done_date) AS completion_date_eff,
    (coalesce(s.stage, '') <> '储备'
        AND (s.stage IN ('续建', '在建')
             OR least(s.planned_start_date, s.actual_start_date) <= s.report_date)) AS is_due,
    (s.actual_start_date IS NOT NULL AND s.actual_start_date <= s.report_date) AS has_started
FROM s LEFT JOIN prev ON prev.report_date = s.report_date AND prev.project_id = s.project_id
WHERE (len($f_tiers) = 0 OR list_contains($f_tiers, s.tier))
  AND (len($f_cities) = 0 OR list_contains($f_cities, s.city_code))
  AND (len($f_counties) = 0 OR list_contains($f_counties, s.county_code))
  AND (len($f_industries) = 0 OR list_contains($f_industries, coalesce(s.industry_name, '（未填行业）')))
  AND (len($f_stages) = 0 OR list_contains($f_stages, coalesce(s.stage, '（未填）')))
  AND (len($f_bands) = 0 OR list_contains($f_bands, s.size_band))
  AND (len($f_projects) = 0 OR list_contains($f_projects, s.project_id))
"""

_FLAGS_SQL = f"""
SELECT *,
    is_due AND has_started AS is_started,
    is_due AND NOT has_started AS is_overdue,
    (completion_date_eff IS NOT NULL AND year(completion_date_eff) = $year
        AND completion_date_eff <= report_date) AS is_completed,
    (planned_completion_date IS NOT NULL AND year(planned_completion_date) = $year) AS is_planned_completion,
    (is_due AND has_started AND coalesce(total_investment, 0) >= {schema.STATS_THRESHOLD!r}) AS is_stats_due,
    (last_report_date >= period_start) AS is_reported,
    (coalesce(stage_before_period, '') NOT IN ('竣工', '投产')) AS is_active_before_period
FROM ({_PROJECTS_SQL})
"""


def _params(
    con: duckdb.DuckDBPyConnection, as_of: date, year: int | None, filters: Filters, frequency: str | None
) -> tuple[dict[str, Any], date, str]:
    y = year or as_of.year
    d = min(as_of, date(y, 12, 31))
    freq = frequency or _frequency_at(con, y, d)
    params: dict[str, Any] = {
        "year": y,
        "dates": [d],
        "period_starts": [period_start(d, freq)],
        **filters.params(),
    }
    return params, d, freq


def _frequency_at(con: duckdb.DuckDBPyConnection, year: int, as_of: date) -> str:
    """The reporting rhythm of the latest report date on or before as_of (weekly by default)."""
    return _frequencies(con, year, [as_of])[as_of]


def _frequencies(con: duckdb.DuckDBPyConnection, year: int, dates: list[date]) -> dict[date, str]:
    """For each date, the most common frequency among the reports of the latest report date on
    or before it (ties: the first by name); weekly when there is none or it is not a known one."""
    counts: dict[date, dict[str | None, int]] = {}
    for rd, freq, n in con.execute(
        """SELECT report_date, frequency, count(*) FROM submissions
           WHERE kind = 'reports' AND year = ? GROUP BY ALL""",
        [year],
    ).fetchall():
        counts.setdefault(rd, {})[freq] = n
    known = sorted(counts)
    out: dict[date, str] = {}
    for d in dates:
        i = bisect.bisect_right(known, d)
        if not i:
            out[d] = "week"
            continue
        by_freq = counts[known[i - 1]]
        best = min(by_freq, key=lambda f: (-by_freq[f], f is None, f or ""))
        out[d] = best if best in schema.FREQUENCIES else "week"
    return out


def project_states(
    con: duckdb.DuckDBPyConnection,
    as_of: date,
    *,
    year: int | None = None,
    filters: Filters = Filters(),
    frequency: str | None = None,
) -> pl.DataFrame:
    """One row per project in S with its state as of D and the contract's flags (is_due, …)."""
    params, _, _ = _params(con, as_of, year, filters, frequency)
    return con.sql(
        f"SELECT * EXCLUDE (report_date, period_start) FROM ({_FLAGS_SQL})"
        " ORDER BY city_code, county_code, project_name",
        params=params,
    ).pl()


def _aggregate_sql(by: str | None) -> str:
    if by is None:
        name_expr, code_expr = "'全部'", None
    else:
        name_expr, code_expr = GROUPINGS[by]
    code_sel = f"{code_expr}" if code_expr else "NULL"
    # Expressions come from GROUPINGS (code constants), never from the caller's text.
    return f"""
SELECT
    report_date,
    {name_expr} AS group_key,
    {code_sel} AS group_code,
    count(*) AS projects,
    coalesce(sum(total_investment), 0) AS total_investment,
    coalesce(sum(annual_plan), 0) AS annual_plan,
    coalesce(sum(coalesce(ytd_completed, 0)), 0) AS ytd_completed,
    count(*) FILTER (WHERE is_due) AS due,
    count(*) FILTER (WHERE is_started) AS started,
    count(*) FILTER (WHERE is_overdue) AS overdue,
    count(*) FILTER (WHERE is_completed) AS completed,
    count(*) FILTER (WHERE is_planned_completion) AS planned_completions,
    count(*) FILTER (WHERE is_stats_due) AS stats_due,
    count(*) FILTER (WHERE is_stats_due AND coalesce(stats_registered, false)) AS stats_registered,
    count(*) FILTER (WHERE is_reported) AS reported,
    count(*) FILTER (WHERE is_active_before_period) AS reporting_base,
    count(*) FILTER (WHERE is_reported AND is_active_before_period) AS reported_active
FROM ({_FLAGS_SQL})
GROUP BY ALL
ORDER BY report_date
"""


def _ratio(num: float, den: float) -> float | None:
    return None if not den else num / den


def _group_order(by: str | None, key: str, code: str | None) -> tuple[Any, ...]:
    if by == "tier":
        return (schema.TIERS.index(key) if key in schema.TIERS else 99, key)
    if by == "stage":
        return (schema.STAGES.index(key) if key in schema.STAGES else 99, key)
    if by == "size_band":
        names = [b[0] for b in schema.SIZE_BANDS]
        return (names.index(key) if key in names else 99, key)
    return (code is None, code or "", key)


def figures(
    con: duckdb.DuckDBPyConnection,
    as_of: date,
    *,
    year: int | None = None,
    filters: Filters = Filters(),
    by: str | None = None,
    frequency: str | None = None,
) -> list[dict[str, Any]]:
    """The contract's figures over S, one dict per group (a single '全部' group when by is None)."""
    params, d, _ = _params(con, as_of, year, filters, frequency)
    return _figures_at(con, params, by)[d]


def _figures_at(
    con: duckdb.DuckDBPyConnection, params: dict[str, Any], by: str | None
) -> dict[date, list[dict[str, Any]]]:
    """The figures at each of params' dates, in one query: {report date: one dict per group}."""
    if by is not None and by not in GROUPINGS:
        raise ValueError(f"unknown grouping {by!r}; one of {sorted(GROUPINGS)}")
    per_date: dict[date, list[dict[str, Any]]] = {d: [] for d in params["dates"]}
    rows = con.execute(_aggregate_sql(by), params).fetchall()
    if by is None:
        # An empty S still has its '全部' group (an ungrouped aggregate's single row).
        seen = {r[0] for r in rows}
        rows += [(d, "全部", None, 0, 0.0, 0.0, 0.0) + (0,) * 10 for d in per_date if d not in seen]
    for r in rows:
        (d, key, code, projects, total, plan, ytd, due, started, overdue, completed, planned_c,
         stats_due, stats_reg, reported, reporting_base, reported_active) = r
        if by is None and projects == 0:
            key = "全部"
        tp = time_progress(d)
        rate = _ratio(ytd, plan)
        item: dict[str, Any] = {"group": _group_name(by, key)}
        if by in REGION_GROUPINGS:
            item["group_code"] = code
        item.update(
            projects=projects,
            total_investment=float(total),
            annual_plan=float(plan),
            ytd_completed=float(ytd),
            completion_rate=rate,
            time_progress=tp,
            schedule_gap=None if rate is None else (rate - tp) * 100.0,
            due=due,
            started=started,
            start_rate=_ratio(started, due),
            overdue=overdue,
            completed=completed,
            planned_completions=planned_c,
            completion_count_rate=_ratio(completed, planned_c),
            stats_due=stats_due,
            stats_registered=stats_reg,
            stats_rate=_ratio(stats_reg, stats_due),
            reported=reported,
            # Numerator within the denominator's population: a project finished before the
            # period may still report, but it is not in the base (else 录入率 passes 100 %).
            reporting_rate=_ratio(reported_active, reporting_base),
        )
        per_date[d].append(item)
    if by is not None:
        for items in per_date.values():
            items.sort(key=lambda it: _group_order(by, it["group"], it.get("group_code")))
    return per_date


def _group_name(by: str | None, key: str | None) -> str:
    if by in REGION_GROUPINGS:
        if key is None:
            return "（未填县区）" if by == "county" else "（未填地市）"
        region = region_by_code().get(key)
        return region.name if region else key
    return key if key is not None else "（未填）"


def total(
    con: duckdb.DuckDBPyConnection, as_of: date, *, year: int | None = None, filters: Filters = Filters(),
    frequency: str | None = None,
) -> dict[str, Any]:
    """The figures over all of S (the '全部' group)."""
    return figures(con, as_of, year=year, filters=filters, frequency=frequency)[0]


def report_dates(con: duckdb.DuckDBPyConnection, year: int | None = None) -> list[date]:
    """Every report date with a snapshot, newest last (of one year, or of all)."""
    if year is None:
        rows = con.execute("SELECT DISTINCT as_of FROM snapshots ORDER BY 1").fetchall()
    else:
        rows = con.execute(
            "SELECT DISTINCT as_of FROM snapshots WHERE year = ? ORDER BY 1", [year]
        ).fetchall()
    return [r[0] for r in rows]


def years(con: duckdb.DuckDBPyConnection) -> list[int]:
    return [r[0] for r in con.execute("SELECT DISTINCT year FROM snapshots ORDER BY 1").fetchall()]


def previous_report_date(con: duckdb.DuckDBPyConnection, as_of: date) -> date | None:
    """The report date before the one in force at as_of (for 较上期 changes)."""
    row = first(con.execute(
        """SELECT max(as_of) FROM snapshots WHERE year = $y AND as_of < (
               SELECT max(as_of) FROM snapshots WHERE year = $y AND as_of <= $d)""",
        {"y": as_of.year, "d": as_of},
    ))
    return row[0] if row else None


def trend(
    con: duckdb.DuckDBPyConnection,
    as_of: date,
    *,
    year: int | None = None,
    filters: Filters = Filters(),
    by: str | None = None,
) -> pl.DataFrame:
    """The figures at every report date of the year up to as_of (one row per date and group),
    in one query over the snapshots: the same as figures() at each of those dates."""
    y = year or as_of.year
    dates = [d for d in report_dates(con, y) if d <= as_of]
    rows: list[dict[str, Any]] = []
    if dates:
        freqs = _frequencies(con, y, dates)
        params: dict[str, Any] = {
            "year": y,
            "dates": dates,
            "period_starts": [period_start(d, freqs[d]) for d in dates],
            **filters.params(),
        }
        for d, items in _figures_at(con, params, by).items():
            rows.extend({"report_date": d, **item} for item in items)
    if not rows:
        return pl.DataFrame(schema={"report_date": pl.Date, "group": pl.String})
    return pl.DataFrame(rows, infer_schema_length=None)


def targets_vs_actuals(
    con: duckdb.DuckDBPyConnection, as_of: date, *, year: int | None = None, filters: Filters = Filters()
) -> pl.DataFrame:
    """Targets from a loaded 目标任务分解表 beside the actual figures of each region."""
    y = year or as_of.year
    t = con.sql(
        "SELECT region_code, region_name, metric, value FROM targets WHERE year = $y ORDER BY region_code, metric",
        params={"y": y},
    ).pl()
    if t.is_empty():
        return t
    actual: dict[str, dict[str, Any]] = {}
    for by in REGION_GROUPINGS:
        for item in figures(con, as_of, year=y, filters=filters, by=by):
            if item.get("group_code"):
                actual[item["group_code"]] = item
    states = project_states(con, as_of, year=y, filters=filters)
    def _in_region(code: str) -> pl.DataFrame:
        col = "city_code" if code.endswith("00") else "county_code"
        return states.filter(pl.col(col) == code)

    rows = []
    for code, name, metric, value in t.iter_rows():
        a = actual.get(code)
        region = _in_region(code)
        if metric == "investment_task":
            actual_value = a["ytd_completed"] if a else 0.0
        elif metric == "new_starts":
            actual_value = float(region.filter((pl.col("stage") == "新开工") & pl.col("is_started")).height)
        elif metric == "continuing":
            actual_value = float(region.filter(pl.col("stage").is_in(list(schema.CONTINUING_STAGES))).height)
        elif metric == "stats_registrations":
            actual_value = a["stats_registered"] if a else 0.0
        elif metric == "planned_projects":
            actual_value = float(region.filter(pl.col("stage") == "储备").height)
        elif metric == "planned_investment":
            actual_value = float(region.filter(pl.col("stage") == "储备")["total_investment"].sum() or 0.0)
        else:
            actual_value = None
        rows.append({
            "region_code": code, "region_name": name, "metric": metric,
            "metric_zh": schema.TARGET_METRICS.get(metric, metric), "target": value, "actual": actual_value,
            "rate": None if actual_value is None or not value else actual_value / value,
        })
    return pl.DataFrame(rows, infer_schema_length=None)


# ---- machine-readable output --------------------------------------------------------------


def to_json_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """§ Machine-readable output: money in 万元, rates as fractions rounded to 6 decimals."""
    out = []
    for it in items:
        row: dict[str, Any] = {"group": it["group"]}
        if "group_code" in it:
            row["group_code"] = it["group_code"]
        for k in FIGURE_KEYS:
            v = it[k]
            if isinstance(v, float):
                v = round(v, 6)
            row[k] = v
        out.append(row)
    return out


def dumps(items: list[dict[str, Any]]) -> str:
    return json.dumps(to_json_rows(items), ensure_ascii=False, indent=2)


@dataclass(frozen=True)
class View:
    """What a page shows: the report date, year and filters (the URL carries it)."""

    as_of: date
    year: int
    filters: Filters = field(default_factory=Filters)

