"""Prepared files into the warehouse: the one step from ingest's staged submissions to a load."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pipelines.ingest import bounded
from pipelines.ingest.prepare import Prepared
from pipelines.vocab.findings import SubmissionRefused
from pipelines.warehouse.store import LoadOutcome, Store


def load_prepared(
    wh: Store, prepared: list[Prepared], *, actor: str = "local", allowed_regions: set[str] | None = None
) -> list[LoadOutcome]:
    """Load every prepared file in one transaction, or refuse them all with every error."""
    errors = [e for p in prepared for e in p.errors]
    if errors or any(p.submission is None for p in prepared):
        raise SubmissionRefused("、".join(p.file_name for p in prepared), errors)
    return wh.load([p.submission for p in prepared if p.submission], actor=actor, allowed_regions=allowed_regions)


def ingest_files(
    wh: Store,
    paths: list[Path],
    *,
    report_date: date | None = None,
    tier: str | None = None,
    region: str | None = None,
    frequency: str | None = None,
    actor: str = "local",
    allowed_regions: set[str] | None = None,
) -> list[LoadOutcome]:
    # each file read in a memory-bounded child, one after the other
    prepared = [
        bounded.prepare(p.read_bytes(), p.name, report_date=report_date, tier=tier, region=region,
                        frequency=frequency)
        for p in paths
    ]
    return load_prepared(wh, prepared, actor=actor, allowed_regions=allowed_regions)
