"""The one vocabulary of Kaigong: staged fields, warehouse tables, accepted values.

Every reader renames at the door into these names; everything downstream speaks them.
Money is in 万元 (10,000 yuan) everywhere in storage; pages show 亿元.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

Kind = Literal["text", "money", "date", "bool", "stage", "tier", "int"]


@dataclass(frozen=True)
class Field:
    name: str
    zh: str  # the Chinese term users see (template header, error messages)
    kind: Kind
    dtype: type[pl.DataType] | pl.DataType


def _f(name: str, zh: str, kind: Kind) -> Field:
    dtype = {
        "text": pl.String,
        "money": pl.Float64,
        "date": pl.Date,
        "bool": pl.Boolean,
        "stage": pl.String,
        "tier": pl.String,
        "int": pl.Int64,
    }[kind]
    return Field(name, zh, kind, dtype)


# A project's report: one row per project per report date, as a submission states it.
# A field a layout does not carry is "absent" (recorded per submission), not "empty".
REPORT_FIELDS: tuple[Field, ...] = (
    _f("project_code", "项目代码", "text"),  # national approval platform code
    _f("project_name", "项目名称", "text"),
    _f("company", "企业名称", "text"),  # 项目单位
    _f("city_code", "地市代码", "text"),  # GB/T 2260
    _f("city_name", "地市", "text"),
    _f("county_code", "县区代码", "text"),
    _f("county_name", "县区", "text"),
    _f("dev_zone", "所在开发区", "text"),  # an attribute, not a region level
    _f("industry_code", "行业代码", "text"),  # GB/T 4754-2017 division, 2 digits
    _f("industry_name", "行业", "text"),  # division name, or the free text as written
    _f("tier", "层级", "tier"),
    _f("category", "项目类别", "text"),
    _f("build_type", "建设性质", "text"),  # 新建/扩建/改建/技术改造 …
    _f("stage", "建设状态", "stage"),
    _f("poverty_county", "是否贫困县项目", "bool"),
    _f("construction_period", "项目建设周期", "text"),
    _f("scale_content", "建设规模及建设内容", "text"),
    _f("total_investment", "总投资", "money"),
    _f("completed_before_year", "截至上年底累计完成投资", "money"),
    _f("annual_plan", "本年计划投资", "money"),
    _f("plan_next_year", "次年计划投资", "money"),
    _f("plan_year_after", "第三年计划投资", "money"),
    _f("ytd_completed", "本年累计完成投资", "money"),
    _f("image_progress", "工程形象进度", "text"),
    _f("planned_start_date", "计划开（复）工时间", "date"),
    _f("actual_start_date", "实际开（复）工时间", "date"),
    _f("not_started_reason", "未开复工原因", "text"),
    _f("start_stated", "开工表述", "bool"),  # the row's own word on starting: true started, false not (re)started, null silent
    _f("planned_completion_date", "计划竣工时间", "date"),
    _f("completion_date", "实际竣工时间", "date"),  # a bare 竣工时间 is read by the date (headers.COMPLETION_TIME)
    _f("approval_status", "立项手续", "text"),
    _f("land_status", "土地手续", "text"),
    _f("planning_status", "规划选址", "text"),
    _f("eia_status", "环评", "text"),
    _f("covid_affected", "是否受疫情影响", "bool"),
    _f("covid_factors", "受疫情影响因素", "text"),
    _f("problem", "存在问题", "text"),  # 需要协调解决的问题
    _f("problem_department", "建议解决部门", "text"),
    _f("stats_registered", "是否入统", "bool"),  # 入统 / 入库
    _f("year_goal", "本年推进目标", "text"),
    _f("progress_note", "项目进展", "text"),
    _f("benefits", "投产效益", "text"),
    _f("highlights", "项目亮点", "text"),
    _f("company_intro", "企业简介", "text"),
    _f("contact", "项目联系人及电话", "text"),
    _f("lead_unit", "牵头协调推进责任单位", "text"),
    _f("leader", "责任领导", "text"),  # 包保领导 / 责任领导: the official answering for the project (issue 31)
)
FIELD = {f.name: f for f in REPORT_FIELDS}
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in REPORT_FIELDS)
MONEY_FIELDS = tuple(f.name for f in REPORT_FIELDS if f.kind == "money")

# Staged frame = REPORT_FIELDS + where each row came from in the file (1-based, as Excel shows it).
STAGED_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "source_row": pl.Int64,
    **{f.name: f.dtype for f in REPORT_FIELDS},
}


# ---- accepted values ---------------------------------------------------------------------

TIERS: tuple[str, ...] = ("省级双百·新兴", "省级双百·技改", "市级千项", "其他")
STAGES: tuple[str, ...] = ("储备", "前期", "新开工", "续建", "在建", "竣工", "投产")
CONTINUING_STAGES = ("续建", "在建")  # under construction before the year: due from 1 January
DONE_STAGES = ("竣工", "投产")
# How far along a stage is, for the change audit (a report whose stage ranks below the project's
# previous one went backwards). 续建 ranks with 在建: both are under construction (a 续建 project
# started before the year), so 在建 ↔ 续建 is a relabelling, not a step back; 新开工 (to start this
# year) ranks below them, so 续建/在建 → 新开工 is a step back, 新开工 → 续建 is not.
STAGE_ORDER: dict[str, int] = {"储备": 0, "前期": 1, "新开工": 2, "续建": 3, "在建": 3, "竣工": 4, "投产": 5}
# The same as an SQL list, for the store's and the metrics' SQL (constants, not user input).
DONE_STAGES_SQL = "(" + ", ".join(f"'{s}'" for s in DONE_STAGES) + ")"
FREQUENCIES = ("week", "month", "quarter")
FREQUENCY_ZH = {"week": "周报", "month": "月报", "quarter": "季报"}
KIND_ZH = {"reports": "项目报送", "targets": "目标任务"}
# The reader's layout ids (ingest.detect.layout_of, and the demo's), as users know the forms.
LAYOUT_ZH = {
    "standard": "标准填报模板",
    "shanxi_weekly": "周报表（两行表头）",
    "flat": "单行表头报表",
    "ledger": "项目台账",
    "tongling_progress": "在建项目进展情况表",
    "tongling_planning": "谋划项目表",
    "tongling_targets": "目标任务分解表",
}

# Size bands on total investment, lower bound inclusive, in 万元.
SIZE_BANDS: tuple[tuple[str, float, float], ...] = (
    ("<1亿", 0.0, 10_000.0),
    ("1–5亿", 10_000.0, 50_000.0),
    ("5–10亿", 50_000.0, 100_000.0),
    ("≥10亿", 100_000.0, float("inf")),
)
STATS_THRESHOLD = 500.0  # 万元: started projects at or above this are due for 入统

# Target metrics a 目标任务分解表 can carry.
TARGET_METRICS: dict[str, str] = {
    "investment_task": "重点项目投资任务",  # 万元
    "new_starts": "新开工重点项目",
    "continuing": "续建重点项目",
    "stats_registrations": "统计入库项目",
    "planned_investment": "谋划项目总投资",  # 万元
    "planned_projects": "谋划项目",
    "planned_1_5": "谋划项目(1-5亿)",
    "planned_5_10": "谋划项目(5-10亿)",
    "planned_10_plus": "谋划项目(10亿以上)",
}

# ---- warehouse tables (DuckDB) -------------------------------------------------------------
# Their DDL and owners: pipelines/warehouse/tables.py (the registry); the reports' field columns are these.

REPORT_COLUMNS_SQL = ",\n    ".join(
    f"{f.name} {({'text': 'VARCHAR', 'money': 'DOUBLE', 'date': 'DATE', 'bool': 'BOOLEAN', 'stage': 'VARCHAR', 'tier': 'VARCHAR', 'int': 'BIGINT'})[f.kind]}"
    for f in REPORT_FIELDS
)

# Fields whose value in "the project's state" comes from the latest report that states them.
FIELD_BIT = {name: 1 << i for i, name in enumerate(FIELD_NAMES)}
ALWAYS_PRESENT = ("project_name", "city_code", "city_name")


def present_mask(fields: tuple[str, ...] | list[str]) -> int:
    """The bitmask (FIELD_BIT) of the fields a file states, with the ones every report states."""
    mask = 0
    for name in (*fields, *ALWAYS_PRESENT):
        mask |= FIELD_BIT[name]
    return mask
