"""A period that closes (issue 31 §3): each level's deadline per report period, and the late files.

Configured per level (`kaigong deadlines county=mon@12:00+2h,city=tue@12:00`, kept in the meta table
as `report_deadlines`; the 管理员 sets it): a weekly report dated D is due on the first such weekday
after D at that time, a monthly or quarterly one N days after D (`/Nd`, default 5) at that time; the
grace time (`+2h`) is added before the period closes. A level without a rule never closes.

After the period closes, a 报送员's file for it is a correction (更正): it is kept for 审核 whatever
the review mode (review.submit), never refused and never counted before an 审核员 approves it, and
recorded here (late_submissions, the only writer) with the deadline and the 简报 already issued for
that period, which it corrects. 催报 (pipelines/outputs/notify.py) waits for the deadline, and the
录入率 heatmap marks the late periods (迟报) apart from the missing ones (漏报).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import duckdb
import polars as pl

from pipelines.vocab.query import query_frame
from pipelines.vocab.reference import region_by_code
from pipelines.warehouse import loop_tables
from pipelines.warehouse.connection import first, set_meta
from pipelines.warehouse.store import Store

LEVELS = ("city", "county")
LEVEL_ZH = {"city": "地市", "county": "县区"}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_RULE = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)@(\d{1,2}):(\d{2})(?:\+(\d+(?:\.\d+)?)h)?(?:/(\d+)d)?$")
META_KEY = "report_deadlines"


@dataclass(frozen=True)
class Rule:
    weekday: int  # 0 = Monday: a weekly report dated D is due the first such day after D
    at: time
    grace: timedelta = timedelta(0)
    days_after: int = 5  # a monthly or quarterly report dated D is due D + this many days

    def due(self, report_date: date, frequency: str) -> datetime:
        """The deadline of the period ending report_date (grace not included)."""
        if frequency == "week":
            ahead = (self.weekday - report_date.weekday()) % 7 or 7
            day = report_date + timedelta(days=ahead)
        else:
            day = report_date + timedelta(days=self.days_after)
        return datetime.combine(day, self.at)

    def closes(self, report_date: date, frequency: str) -> datetime:
        return self.due(report_date, frequency) + self.grace

    def zh(self) -> str:
        grace = f"，宽限 {self.grace.total_seconds() / 3600:g} 小时" if self.grace else ""
        return (f"周报为报告期后第一个{WEEKDAY_ZH[self.weekday]} {self.at:%H:%M}，月报、季报为报告期后 "
                f"{self.days_after} 天 {self.at:%H:%M}{grace}")


def parse_rule(text: str) -> Rule:
    m = _RULE.match(text.strip().lower())
    if not m:
        raise ValueError(f"截止规则应为 mon@12:00、mon@12:00+2h 或 mon@12:00+2h/5d 的形式：{text}")
    wd, hh, mm, grace, days = m.groups()
    if int(hh) > 23 or int(mm) > 59:
        raise ValueError(f"截止时间不是有效的时刻：{hh}:{mm}")
    return Rule(WEEKDAYS.index(wd), time(int(hh), int(mm)), timedelta(hours=float(grace or 0)),
                int(days) if days else 5)


def parse(spec: str) -> dict[str, Rule]:
    """`mon@12:00+2h` (both levels) or `county=mon@12:00+2h,city=tue@12:00` → {level: Rule}; `off`: none."""
    spec = spec.strip()
    if not spec or spec == "off":
        return {}
    if "=" not in spec:
        rule = parse_rule(spec)
        return dict.fromkeys(LEVELS, rule)
    out: dict[str, Rule] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        level, _, text = part.partition("=")
        if level.strip() not in LEVELS:
            raise ValueError(f"层级应为 city 或 county：{part}")
        if text.strip() != "off":
            out[level.strip()] = parse_rule(text)
    return out


def configured(con: duckdb.DuckDBPyConnection) -> dict[str, Rule]:
    row = first(con.execute("SELECT value FROM meta WHERE key = ?", [META_KEY]))
    return parse(row[0]) if row and row[0] else {}


def configured_zh(rules: dict[str, Rule]) -> str:
    if not rules:
        return "报送截止：未设置（各期不截止）"
    return "报送截止：" + "；".join(f"{LEVEL_ZH[k]}报送 {rules[k].zh()}" for k in LEVELS if k in rules)


def set_rules(wh: Store, spec: str, actor: str) -> dict[str, Rule]:
    """The 管理员 sets the deadlines (an audited write)."""
    rules = parse(spec)
    with wh.write(actor, "report_deadlines", spec.strip() or "off") as con:
        set_meta(con, META_KEY, spec.strip() or None)
    return rules


def level_of(unit_code: str | None) -> str | None:
    region = region_by_code().get(unit_code or "")
    return region.level if region else None


def closes_at(rules: dict[str, Rule], unit_code: str | None, report_date: date, frequency: str) -> datetime | None:
    """When the unit's period closes (deadline + grace), None when its level has no deadline."""
    rule = rules.get(level_of(unit_code) or "")
    return rule.closes(report_date, frequency) if rule else None


@dataclass(frozen=True)
class Lateness:
    due: datetime
    closes: datetime

    def zh(self) -> str:
        grace = f"（宽限至 {self.closes:%Y-%m-%d %H:%M}）" if self.closes != self.due else ""
        return f"本期截止 {self.due:%Y-%m-%d %H:%M}{grace}，已逾期，按更正处理，需审核"


def lateness(rules: dict[str, Rule], unit_code: str | None, report_date: date, frequency: str,
             now: datetime) -> Lateness | None:
    """How late a unit's file for the period is, at now (None: on time, or no deadline)."""
    rule = rules.get(level_of(unit_code) or "")
    if rule is None:
        return None
    closes = rule.closes(report_date, frequency)
    return Lateness(rule.due(report_date, frequency), closes) if now > closes else None


def due_zh(rules: dict[str, Rule], unit_code: str | None, report_date: date, frequency: str, now: datetime) -> str | None:
    """The upload preview's line on the period's deadline (None when the level has none)."""
    rule = rules.get(level_of(unit_code) or "")
    if rule is None:
        return None
    late = lateness(rules, unit_code, report_date, frequency, now)
    if late is not None:
        return late.zh()
    return f"本期截止 {rule.due(report_date, frequency):%Y-%m-%d %H:%M}，按时报送"


def record(con: duckdb.DuckDBPyConnection, pending_id: int, unit_code: str, report_date: date, frequency: str,
           late: Lateness, submitted_at: datetime) -> list[int]:
    """Inside review.submit's write: the file kept for 审核 is a correction of an issued period; the
    issued 简报 of that period or later in its year (issued_briefings) that it corrects."""
    loop_tables.ensure(con)
    issued = [i for (i,) in con.execute(
        "SELECT issue_id FROM issued_briefings WHERE reissue_of IS NULL AND as_of >= ? AND year = ? ORDER BY issue_id",
        [report_date, report_date.year]).fetchall()]
    con.execute(
        "INSERT INTO late_submissions (pending_id, unit_code, report_date, frequency, deadline, submitted_at, issued_ids) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)", [pending_id, unit_code, report_date, frequency, late.closes, submitted_at, issued])
    return issued


def late_periods(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """迟报: (city_code, unit_code, report_date) of each file that came after its period closed and was not
    sent back (waiting for 审核 or approved)."""
    schema = {"city_code": pl.String, "unit_code": pl.String, "report_date": pl.Date}
    if not loop_tables.has(con, "late_submissions"):
        return pl.DataFrame(schema=schema)
    return query_frame(
        con, "SELECT DISTINCT p.city_code, l.unit_code, l.report_date FROM late_submissions l "
        "JOIN pending_submissions p USING (pending_id) WHERE p.status IN ('待审核', '已通过') "
        "ORDER BY p.city_code, l.report_date").cast(schema)  # type: ignore[arg-type]
