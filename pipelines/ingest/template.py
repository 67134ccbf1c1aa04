"""Our own upload template: one header row of the schema's Chinese terms plus two example rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

import polars as pl

from pipelines.ingest.headers import DERIVED_FIELDS
from pipelines.vocab.schema import REPORT_FIELDS

TEMPLATE_FIELDS = tuple(f for f in REPORT_FIELDS if f.name not in DERIVED_FIELDS)  # what a clerk fills in

# Two example rows (money in 万元). Codes are optional: names are enough.
_EXAMPLES: tuple[dict[str, object], ...] = (
    {
        "project_code": "2020-140100-39-03-000001",
        "project_name": "示例：年产10万片硅基芯片生产线项目",
        "company": "示例科技有限公司",
        "city_name": "太原市",
        "county_name": "小店区",
        "dev_zone": "山西转型综合改革示范区",
        "industry_name": "计算机、通信和其他电子设备制造业",
        "tier": "省级双百·新兴",
        "category": "新兴产业",
        "build_type": "新建",
        "stage": "在建",
        "poverty_county": False,
        "construction_period": "2019-2021",
        "scale_content": "新建厂房2万平方米，购置生产设备120台（套）",
        "total_investment": 50000.0,
        "completed_before_year": 12000.0,
        "annual_plan": 20000.0,
        "ytd_completed": 3500.0,
        "image_progress": "主体封顶，设备安装中",
        "planned_start_date": date(2020, 2, 20),
        "actual_start_date": date(2020, 2, 25),
        "stats_registered": True,
        "contact": "张三 0351-0000000",
    },
    {
        "project_name": "示例：焦化余热发电技术改造项目",
        "company": "示例焦化有限公司",
        "city_name": "忻州市",
        "county_name": "原平市",
        "industry_name": "石油、煤炭及其他燃料加工业",
        "tier": "省级双百·技改",
        "build_type": "技术改造",
        "stage": "新开工",
        "total_investment": 8000.0,
        "annual_plan": 6000.0,
        "planned_start_date": date(2020, 5, 1),
        "not_started_reason": "环评手续办理中",
        "stats_registered": False,
    },
)


def template_frame() -> pl.DataFrame:
    """The template as a frame: columns = the fields' Chinese terms, two example rows, all as text."""
    def fmt(v: object) -> str | None:
        if v is None:
            return None
        if isinstance(v, bool):
            return "是" if v else "否"
        if isinstance(v, float):
            return f"{v:g}"
        if isinstance(v, date):
            return v.isoformat()
        return str(v)

    return pl.DataFrame(
        {f.zh: [fmt(ex.get(f.name)) for ex in _EXAMPLES] for f in TEMPLATE_FIELDS},
        schema={f.zh: pl.String for f in TEMPLATE_FIELDS},
    )


def write_template(path: Path, fmt: Literal["csv", "xlsx"] = "csv") -> Path:
    """Write the template (CSV in UTF-8 with BOM so Excel opens it, or XLSX); money columns are in 万元."""
    df = template_frame()
    path = Path(path)
    if fmt == "csv":
        path.write_bytes(b"\xef\xbb\xbf" + df.write_csv().encode("utf-8"))
    elif fmt == "xlsx":
        df.write_excel(path, worksheet="填报模板", autofit=True)
    else:
        raise ValueError(f"unknown template format: {fmt}")
    return path
