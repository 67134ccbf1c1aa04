"""Chinese labels of fields, one owner for each: the table header a page, an export or a chart shows.

Deliberately different texts live elsewhere, each for its own reason:
- `schema.FIELD[f].zh` (本年计划投资): the column name of the standard template and of the reader's
  error messages, in the words of the provinces' forms;
- `ingest.headers`: every header the reader recognises in a submitted file;
- `metrics.FIGURE_ZH` (年度计划投资): the contract's names of the figures (sums and rates), as the
  cards, the briefing and `kaigong metrics` print them.
"""

from __future__ import annotations

# Field → table header, with the unit where there is one (money is stored in 万元).
COLUMN_ZH: dict[str, str] = {
    "project_name": "项目名称",
    "light": "综合灯",  # the project lights (metrics.lights), in words
    "light_start": "开工灯",
    "light_progress": "进度灯",
    "light_stats": "入统灯",
    "light_reason": "亮灯原因",
    "company": "企业名称",
    "tier": "层级",
    "city_name": "地市",
    "county_name": "县区",
    "industry_name": "行业",
    "stage": "建设状态",
    "total_investment": "总投资（万元）",
    "annual_plan": "年度计划（万元）",
    "ytd_completed": "本年完成（万元）",
    "planned_start_date": "计划开（复）工",
    "actual_start_date": "实际开（复）工",
    "not_started_reason": "未开复工原因",
    "planned_completion_date": "计划竣工",
    "image_progress": "形象进度",
    "problem": "存在问题",
    "problem_department": "建议解决部门",
    "last_report_date": "最近报送",
    "report_date": "报告期",
    "file_name": "文件",
    "project_id": "项目标识",
}


def columns(*fields: str) -> dict[str, str]:
    """The headers of fields, in that order (a rename map for a frame's columns)."""
    return {f: COLUMN_ZH[f] for f in fields}

# The sidebar's filters (URL parameter → label), as the sidebar, its notices and the briefing name them.
FILTER_ZH: dict[str, str] = {
    "tier": "层级", "city": "地市", "county": "县区", "industry": "行业", "stage": "建设状态", "band": "投资规模",
    "leader": "责任领导",
}
