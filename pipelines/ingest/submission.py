"""A submission: one file, read and staged, ready for the warehouse (what ingest hands upward)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from pipelines.ingest.result import Reading
from pipelines.vocab.findings import Finding


@dataclass
class Submission:
    """One file, read and staged, ready to load."""

    file_name: str
    frame: pl.DataFrame  # STAGED_SCHEMA rows (reports) or the targets frame
    report_date: date
    raw: bytes | None = None  # the file exactly as submitted (kept under data/uploads)
    kind: str = "reports"  # reports | targets
    frequency: str = "week"
    present_fields: tuple[str, ...] = ()
    layout: str = "standard"
    region_code: str | None = None
    tier: str | None = None
    warnings: list[Finding] = field(default_factory=list)
    stored_path: str | None = None
    reading: Reading | None = None  # what the reader inferred: remembered for the unit's layout once loaded

    def digest(self) -> str:
        if self.raw is not None:
            return hashlib.sha256(self.raw).hexdigest()
        return _frame_digest(self.frame, self.report_date)


def _frame_digest(frame: pl.DataFrame, report_date: date) -> str:
    h = hashlib.sha256(str(report_date).encode())
    h.update(frame.write_csv().encode("utf-8"))
    return h.hexdigest()
