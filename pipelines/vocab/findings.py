"""Validation findings: errors refuse a file, warnings are shown and kept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["error", "warning"]

_MAX_VALUE_CHARS = 60


@dataclass(frozen=True)
class Finding:
    file: str
    message: str  # Chinese, says the reason
    row: int | None = None  # 1-based, as the spreadsheet shows it
    column: str | None = None  # the column as the file names it
    value: str | None = None
    level: Level = "error"

    def zh(self) -> str:
        """One line naming file, row, column and value: 「文件 a.xlsx 第 12 行「总投资」值「abc」：无法识别为数字」."""
        parts = [f"文件 {self.file}"]
        if self.row is not None:
            parts.append(f"第 {self.row} 行")
        if self.column:
            parts.append(f"「{self.column}」列")
        if self.value is not None:
            v = self.value if len(self.value) <= _MAX_VALUE_CHARS else self.value[:_MAX_VALUE_CHARS] + "…"
            parts.append(f"值「{v}」")
        return " ".join(parts) + f"：{self.message}"


class Refused(Exception):
    """A step this user may not take, or that does not apply now (a 销号, a review, a 督办单 step);
    str() is the Chinese message the page shows."""


class SubmissionRefused(Exception):
    """A file that is not loaded, with every error found."""

    def __init__(self, file: str, errors: list[Finding]):
        self.file = file
        self.errors = errors
        super().__init__(f"文件 {file} 未导入，共 {len(errors)} 处错误：\n" + "\n".join(e.zh() for e in errors))
