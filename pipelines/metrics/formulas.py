"""The contract's formulas that need no data: 序时进度, a reporting period, 红黄绿灯, 双过半, and the
figures' names and printed formulas (shared metrics.md)."""

from __future__ import annotations

import calendar
import math
import os
from dataclasses import dataclass, field
from datetime import date, timedelta


def setting(name: str, default: float) -> float:
    """A threshold from the environment (the deployment's setting), else the published default; read when
    the process starts. A value that is not a number is refused in Chinese rather than ignored."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"环境变量 {name} 的值「{raw}」不是数字（默认 {default:g}）") from None


@dataclass(frozen=True)
class Thresholds:
    """Traffic lights on schedule_gap, in percentage points (published 红黄绿灯 defaults)."""

    # KAIGONG_LIGHT_YELLOW_BELOW / KAIGONG_LIGHT_RED_BELOW change them for a deployment
    yellow_below: float = field(default_factory=lambda: setting("KAIGONG_LIGHT_YELLOW_BELOW", -10.0))  # gap ≤: yellow
    red_below: float = field(default_factory=lambda: setting("KAIGONG_LIGHT_RED_BELOW", -30.0))  # gap < this: red


FIGURE_KEYS: tuple[str, ...] = (
    "projects", "total_investment", "annual_plan", "ytd_completed", "completion_rate",
    "time_progress", "schedule_gap", "due", "started", "start_rate", "overdue", "completed",
    "planned_completions", "completed_as_planned", "completion_count_rate", "stats_due", "stats_registered", "stats_rate",
    "reporting_base", "reported", "reporting_rate",
)
# 同比 (figures() at one date adds them; trend() does not): the year before at the same month and day
YOY_KEYS: tuple[str, ...] = ("ytd_completed_prev", "ytd_yoy", "ytd_yoy_same")
RATE_KEYS = ("completion_rate", "time_progress", "start_rate", "completion_count_rate", "stats_rate",
             "reporting_rate", "ytd_yoy", "ytd_yoy_same")  # fractions (同比 may be negative)

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
    "completed_as_planned": "按计划竣工项目数",
    "completion_count_rate": "竣工率",
    "stats_due": "应入统项目数",
    "stats_registered": "已入统项目数",
    "stats_rate": "入统率",
    "reporting_base": "应报送项目数",
    "reported": "已报送项目数",
    "reporting_rate": "录入（报送）率",
    "ytd_completed_prev": "上年同期累计完成投资",
    "ytd_yoy": "同比增长（与上年清单同期比）",
    "ytd_yoy_same": "同口径同比",
}

# The formula each chart prints in its footnote (users in different cities use different
# denominators: say which one).
FORMULA_ZH: dict[str, str] = {
    "completion_rate": "投资完成率 = 本年累计完成投资 ÷ 年度计划投资",
    "time_progress": "序时进度 = 报告期截止日在本年的天数 ÷ 本年天数",
    "schedule_gap": "超（滞后）序时进度 = 投资完成率 − 序时进度（百分点）",
    "start_rate": "开（复）工率 = 已开（复）工项目数 ÷ 应开（复）工项目数（非储备且计划开复工时间不晚于截止日；"
                  "续建、在建项目自1月1日起应复工；已开工的项目均应开工）",
    "completion_count_rate": "竣工率 = 按计划竣工项目数 ÷ 计划竣工项目数（计划竣工时间在本年的项目中截止日前已竣工的；"
                             "计划外竣工只计入竣工项目数）",
    "stats_rate": "入统率 = 已入统项目数 ÷ 应入统项目数（已开工且总投资≥500万元）",
    "reporting_rate": "录入（报送）率 = 已报送项目数 ÷ 应报送项目数（应报送：本期开始前尚未竣工（投产）的项目；"
                      "已报送：其中本期有报送的项目）",
    "ytd_completed_prev": "上年同期累计完成投资 = 上年同月同日（2月29日按2月28日）上年清单项目的本年累计完成投资"
                          "（筛选条件相同）；上年在该日前没有报送时不计算同比",
    "ytd_yoy": "同比增长 = 本年累计完成投资 ÷ 上年同期累计完成投资 − 1（上年同月同日、上年清单的项目，筛选条件相同；"
               "两年清单不同）",
    "ytd_yoy_same": "同口径同比 = 两年清单都有的项目本年累计完成投资 ÷ 这些项目上年同期累计完成投资 − 1",
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
