"""What a read is told (the uploader's options) and gives back: the result, the findings as they are made
(per file, per row), the refusal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from pipelines.vocab.findings import Finding, Level


@dataclass(frozen=True)
class ReadOptions:
    """What the uploader (page or `kaigong ingest`) says of a file; None: the reader infers it from the file.
    Frozen: it is pickled to the bounded read's child as it is (pipelines.ingest.bounded)."""

    report_date: date | None = None
    tier: str | None = None  # as chosen (pipelines.vocab.schema.TIERS) or written (parse_tier)
    region: str | None = None  # a region code or name (地市 or 县区)
    frequency: str | None = None  # "week" | "month" | "quarter"


@dataclass
class ColumnReading:
    """How one column of the file was read: the field it went to (None: left unread) and why."""

    column: str  # as the file heads it (a two-row header as 「上 / 下」)
    field: str | None  # a staged field name (vocab.schema), or None when the column was not read
    how: str  # 表头 (by its header), 取值 (inferred from its values), 记忆 (a confirmed layout), or why not read


@dataclass
class Reading:
    """What the reader inferred, for the preview and `kaigong ingest` to say before anything is loaded.

    A clerk must see in ten seconds that the file was read as they meant: each column's field, the stage
    column, the report date and the frequency with where each came from, and how the rows were taken."""

    columns: list[ColumnReading] = field(default_factory=list)
    stage_column: str | None = None  # the column read as 建设状态 (None: none found)
    stage_note: str = ""  # why that column (or why none), in Chinese
    report_date_source: str = ""  # e.g. 「上传时指定」, 「标题「…截至5月底」」, 「文件名」
    frequency_source: str = ""  # e.g. 「上传时指定」, 「标题含“月报”」, 「报告期为月末（非周五）」
    rows: dict[str, int] = field(default_factory=dict)  # 项目 / 小计合计 / 说明 / 区县标题 … → count
    inferred: list[str] = field(default_factory=list)  # readings taken from values, to confirm before 导入
    totals_checked: int = 0  # the file's 小计/合计 rows checked against the rows they cover (ingest/totals.py)
    totals_off: list[str] = field(default_factory=list)  # those that did not agree, in short (each also a warning)


@dataclass
class ReadResult:
    """What one file holds: a staged (or targets) frame, the layout recognised, and findings."""

    file_name: str
    kind: str  # "reports" | "targets"
    layout: str
    report_date: date | None
    year: int | None
    frequency: str  # "week" | "month" | "quarter"
    frame: pl.DataFrame
    present_fields: list[str] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    reading: Reading = field(default_factory=Reading)

    @property
    def ok(self) -> bool:
        """True when the file can be loaded (no errors)."""
        return not self.errors


class Refuse(Exception):
    """A file-level problem: the reader stops and reports it."""


@dataclass
class Ctx:
    file: str
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    def err(self, msg: str, row: int | None = None, col: str | None = None, value: Any = None) -> None:
        self.errors.append(Finding(self.file, msg, row, col, None if value is None else str(value), "error"))

    def warn(self, msg: str, row: int | None = None, col: str | None = None, value: Any = None) -> None:
        self.warnings.append(Finding(self.file, msg, row, col, None if value is None else str(value), "warning"))

    def add(self, found: Found, row: int) -> None:
        """One row's findings, in the order they were made."""
        for level, msg, col, value in found.items:
            (self.errors if level == "error" else self.warnings).append(Finding(self.file, msg, row, col, value, level))


class Found:
    """The findings of one row, or of one combination of cells: (level, message, column, value)."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[tuple[Level, str, str | None, str | None]] = []

    def err(self, msg: str, col: str | None = None, value: Any = None) -> None:
        self.items.append(("error", msg, col, None if value is None else str(value)))

    def warn(self, msg: str, col: str | None = None, value: Any = None) -> None:
        self.items.append(("warning", msg, col, None if value is None else str(value)))

    def n_errors(self) -> int:
        return sum(1 for f in self.items if f[0] == "error")
