"""Staged frames the demo yields: the fields each frame states, and vectorised series building."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from pipelines.demo.year import EPOCH
from pipelines.vocab.schema import FIELD_NAMES, STAGED_SCHEMA

# Fields each weekly frame states (the loader records them as present); REPORT_FIELDS order.
_WEEKLY = {
    "project_code", "project_name", "company", "city_code", "city_name", "county_code",
    "county_name", "tier", "category", "industry_code", "industry_name", "stage",
    "total_investment", "completed_before_year", "annual_plan", "ytd_completed", "image_progress",
    "planned_start_date", "actual_start_date", "not_started_reason", "approval_status",
    "land_status", "planning_status", "eia_status", "covid_affected", "covid_factors", "problem",
    "problem_department", "contact", "stats_registered", "completion_date",
}  # fmt: skip
WEEKLY_FIELDS: tuple[str, ...] = tuple(n for n in FIELD_NAMES if n in _WEEKLY)
# Fields the 台账 (附件1) states.
_LEDGER = {
    "project_code", "project_name", "company", "city_code", "city_name", "county_code",
    "county_name", "dev_zone", "industry_code", "industry_name", "tier", "category", "build_type",
    "stage", "poverty_county", "construction_period", "scale_content", "total_investment",
    "completed_before_year", "annual_plan", "plan_next_year", "plan_year_after", "image_progress",
    "planned_start_date", "planned_completion_date", "year_goal", "progress_note", "benefits",
    "highlights", "company_intro", "contact", "lead_unit",
}  # fmt: skip
LEDGER_FIELDS: tuple[str, ...] = tuple(n for n in FIELD_NAMES if n in _LEDGER)
# The weekly frames' columns that do not change from week to week (taken from the 台账 once).
STATIC_WEEKLY = tuple(
    f for f in WEEKLY_FIELDS
    if f not in {"stage", "ytd_completed", "image_progress", "actual_start_date", "not_started_reason",
                 "approval_status", "land_status", "planning_status", "eia_status", "covid_affected",
                 "covid_factors", "problem", "problem_department", "stats_registered", "completion_date"}
)  # fmt: skip


def pick(vocab: Sequence[str | None], codes: np.ndarray) -> pl.Series:
    """Strings by index into a small vocabulary (vectorised gather; None entries give nulls)."""
    return pl.Series(values=list(vocab), dtype=pl.String).gather(np.asarray(codes, dtype=np.int64))


def cat(parts: list[pl.Series | pl.Expr | str], separator: str = "") -> pl.Series:
    """Concatenate string series and literals row-wise (null if any part is null)."""
    exprs = [p if isinstance(p, pl.Expr) else pl.lit(p) for p in parts]
    return pl.select(pl.concat_str(exprs, separator=separator).alias("s")).to_series()


def date_series(days: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    """Day offsets from 2020-01-01 as a Date series; null where not valid."""
    s = pl.Series(values=(np.asarray(days, dtype=np.int64) + EPOCH).astype(np.int32)).cast(pl.Date)
    if valid is not None and not valid.all():
        s = s.scatter(np.flatnonzero(~valid), None)
    return s


def staged(cols: dict[str, pl.Series], n: int) -> pl.DataFrame:
    """A frame in STAGED_SCHEMA order: given columns, typed nulls elsewhere, source_row = row + 1."""
    out: list[pl.Series] = [pl.Series("source_row", np.arange(2, n + 2, dtype=np.int64))]
    for name, dtype in STAGED_SCHEMA.items():
        if name == "source_row":
            continue
        s = cols.get(name)
        out.append(s.rename(name).cast(dtype) if s is not None else pl.Series(name, [None] * n, dtype=dtype))
    return pl.DataFrame(out)
