"""From an uploaded file to a staged submission: read → validate → (preview). The warehouse loads it
(warehouse.intake). The CLI and the 数据报送 page both go through here, so a file is judged the same way."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

import polars as pl

from pipelines.ingest.reading import reading_lines
from pipelines.ingest.result import Reading, ReadOptions
from pipelines.ingest.submission import Submission
from pipelines.vocab import schema
from pipelines.vocab.findings import Finding

if TYPE_CHECKING:
    from pipelines.ingest.read import ReadResult

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # configurable via KAIGONG_MAX_UPLOAD_MB


def max_upload_bytes() -> int:
    mb = os.environ.get("KAIGONG_MAX_UPLOAD_MB")
    return int(float(mb) * 1024 * 1024) if mb else MAX_UPLOAD_BYTES


@dataclass
class Prepared:
    """A file read and checked, not yet loaded: what the preview shows."""

    file_name: str
    submission: Submission | None
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    layout: str | None = None
    reading: Reading | None = None  # what the reader inferred (None: the file was not read)
    report_date: date | None = None
    frequency: str | None = None
    layout_note: str = ""  # against the unit's confirmed layouts (warehouse/layouts.py): same, changed or new
    questions: list[str] = field(default_factory=list)  # readings to confirm before 确认导入 (inferred, not confirmed)

    @property
    def ok(self) -> bool:
        return self.submission is not None and not self.errors

    def reading_lines(self) -> list[str]:
        """What was inferred, in Chinese lines (pipelines.ingest.reading), for the preview and the CLI."""
        if self.reading is None:
            return []
        lines = reading_lines(self.reading, report_date=self.report_date, frequency=self.frequency)
        return [*lines, f"表式：{self.layout_note}"] if self.layout_note else lines


def size_refusal(raw: bytes, file_name: str) -> Prepared | None:
    """The upload size limit, checked before anything else."""
    limit = max_upload_bytes()
    if len(raw) <= limit:
        return None
    return Prepared(
        file_name, None,
        [Finding(file_name, f"文件大小 {len(raw) / 1048576:.1f} MB 超过上限 {limit / 1048576:.0f} MB，请拆分后再上传")],
    )


def prepare(raw: bytes, file_name: str, opts: ReadOptions = ReadOptions()) -> Prepared:
    """Read one file into a Submission in this process, or say every error found; never raises on bad input.
    (The server and `kaigong ingest` read in a bounded child process: pipelines.ingest.bounded.prepare.)"""
    from pipelines.ingest.read import read_submission

    if (refused := size_refusal(raw, file_name)) is not None:
        return refused
    try:
        result = read_submission(raw, file_name, opts)
    except Exception as exc:  # the reader should say everything itself; this is the last guard
        return Prepared(file_name, None, [Finding(file_name, f"无法读取该文件（{type(exc).__name__}）")])
    return prepared_from(result, raw, file_name, opts)


def prepared_from(result: ReadResult, raw: bytes, file_name: str, opts: ReadOptions) -> Prepared:
    """What the preview shows and the loader takes, from what the reader found."""
    from pipelines.ingest import fill

    fill.apply(result, raw, file_name)  # a prefilled sheet's 本期无变化 column
    # A report table's reading (a 目标任务分解表 has no columns, stage or frequency to say)
    reading, frequency = (result.reading, result.frequency) if result.kind == "reports" else (None, None)
    if result.errors or result.report_date is None:
        errors = list(result.errors) or [Finding(file_name, "缺少报告期截止日")]
        return Prepared(file_name, None, errors, list(result.warnings), result.layout, reading,
                        result.report_date, frequency)
    region_code = None
    if opts.region:
        from pipelines.vocab.reference import find_region

        hit = find_region(opts.region)
        region_code = hit.code if hit else None
    sub = Submission(
        file_name=file_name,
        frame=result.frame,
        report_date=result.report_date,
        raw=raw,
        kind=result.kind,
        frequency=result.frequency,
        present_fields=tuple(result.present_fields),
        layout=result.layout,
        region_code=region_code,
        tier=opts.tier,
        warnings=list(result.warnings),
        reading=reading,
    )
    return Prepared(file_name, sub, [], list(result.warnings), result.layout, reading, result.report_date, frequency)


_PREVIEW_FIELDS = ("project_name", "city_name", "county_name", "tier", "stage",
                   "total_investment", "annual_plan", "ytd_completed")


def preview_rows(sub: Submission, n: int = 50) -> pl.DataFrame:
    """A staged file's first rows as the upload preview shows them: the file's row number and the
    main fields, headed in Chinese (money in 万元, as stored)."""
    cols = [c for c in _PREVIEW_FIELDS if c in sub.frame.columns]
    heads = {c: schema.FIELD[c].zh + ("（万元）" if schema.FIELD[c].kind == "money" else "") for c in cols}
    return sub.frame.head(n).select(pl.col("source_row").alias("行号"), *(pl.col(c).alias(heads[c]) for c in cols))


def layout_zh(layout: str | None) -> str:
    """A layout id as users know the form (the id itself if it has no name)."""
    return schema.LAYOUT_ZH.get(layout or "", layout or "未识别")
