"""Another department's list (立项 / 入统 / 签约), read by the project reader: its header detection,
header and value matching, regions, 亿元 conversion and row errors all apply (read.read_submission);
the standard template reads the same way. Only the fields a list is matched on are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import polars as pl

from pipelines.ingest.prepare import size_refusal
from pipelines.ingest.read import read_submission
from pipelines.ingest.reading import reading_lines
from pipelines.ingest.result import ReadOptions
from pipelines.vocab.findings import Finding

# A list carries no tier; the reader asks for one for new projects, so the list is read as 其他 (not kept).
_TIER = "其他"
_NOT_SAID = ("报送周期", "建设状态列")  # a report's readings a list has no use for
FIELDS: tuple[str, ...] = ("source_row", "project_code", "project_name", "city_code", "county_code",
                           "total_investment", "industry_code", "industry_name")


@dataclass
class ReadList:
    file_name: str
    frame: pl.DataFrame | None
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # what the reader inferred, in Chinese (reading.py)

    @property
    def ok(self) -> bool:
        return self.frame is not None and not self.errors


def read_list(raw: bytes, file_name: str, as_of: date, *, region: str | None = None) -> ReadList:
    """One department's list as staged rows (FIELDS), or every error found; never raises on bad input."""
    if (refused := size_refusal(raw, file_name)) is not None:
        return ReadList(file_name, None, refused.errors)
    result = read_submission(raw, file_name, ReadOptions(report_date=as_of, tier=_TIER, region=region))
    lines = [line for line in (reading_lines(result.reading, report_date=as_of, frequency=None)
                               if result.reading else []) if not line.startswith(_NOT_SAID)]
    if result.kind != "reports":
        return ReadList(file_name, None, [Finding(file_name, "这是目标任务分解表，不是项目清单")], [], lines)
    if "project_name" not in result.present_fields:
        return ReadList(file_name, None, [*result.errors, Finding(file_name, "清单缺少「项目名称」列")], [], lines)
    if result.errors:
        return ReadList(file_name, None, list(result.errors), list(result.warnings), lines)
    frame = result.frame.select([c for c in FIELDS if c in result.frame.columns])
    return ReadList(file_name, frame, [], list(result.warnings), lines)
