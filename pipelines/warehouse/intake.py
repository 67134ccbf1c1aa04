"""Prepared files into the warehouse: the one step from ingest's staged submissions to a load."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pipelines import auth
from pipelines.ingest import bounded
from pipelines.ingest.prepare import Prepared
from pipelines.ingest.result import ReadOptions
from pipelines.vocab.findings import SubmissionRefused
from pipelines.warehouse import deadlines, review
from pipelines.warehouse.store import LoadOutcome, Store, Submission


def staged(prepared: list[Prepared]) -> list[Submission]:
    """The batch's submissions, or the whole batch refused with every error (one file with an error,
    or one that was not read, and none of them is loaded or kept for review)."""
    errors = [e for p in prepared for e in p.errors]
    if errors or any(p.submission is None for p in prepared):
        raise SubmissionRefused("、".join(p.file_name for p in prepared), errors)
    return [p.submission for p in prepared if p.submission]


def load_prepared(
    wh: Store, prepared: list[Prepared], *, actor: str = "local", allowed_regions: set[str] | None = None
) -> list[LoadOutcome]:
    """Load every prepared file in one transaction, or refuse them all with every error."""
    return wh.load(staged(prepared), actor=actor, allowed_regions=allowed_regions)


def commit(wh: Store, prepared: list[Prepared], user: auth.User, modes: dict[str, str],
           now: datetime | None = None) -> list[LoadOutcome] | list[review.PendingOutcome]:
    """The uploaded batch as user: kept for review (待审核, counting once approved) when user's files
    are reviewed under modes (review.reviewed), or when one of them comes after its period closed
    (a 更正: deadlines.py), else loaded in one transaction, limited to user's regions; refused whole
    on any error either way."""
    return commit_staged(wh, staged(prepared), user, modes, now)


def late_files(wh: Store, batch: list[Submission], user: auth.User,
               now: datetime | None = None) -> dict[int, deadlines.Lateness]:
    """The files of a 报送员's batch that come after their period closed (by index in the batch)."""
    unit = user.unit_code()
    if unit is None or not auth.sign_in_required():
        return {}
    with wh.read() as con:
        rules = deadlines.configured(con)
    at = now or datetime.now()
    late = {i: deadlines.lateness(rules, unit, s.report_date, s.frequency, at) for i, s in enumerate(batch)
            if s.kind == "reports"}
    return {i: x for i, x in late.items() if x is not None}


def commit_staged(wh: Store, batch: list[Submission], user: auth.User, modes: dict[str, str],
                  now: datetime | None = None) -> list[LoadOutcome] | list[review.PendingOutcome]:
    late = late_files(wh, batch, user, now)
    if late or review.reviewed(user, modes):
        return review.submit(wh, batch, user, late=late)
    return wh.load(batch, actor=user.name, allowed_regions=user.allowed_regions())


def ingest_files(
    wh: Store,
    paths: list[Path],
    opts: ReadOptions = ReadOptions(),
    *,
    actor: str = "local",
    allowed_regions: set[str] | None = None,
) -> list[LoadOutcome]:
    # each file read in a memory-bounded child, one after the other
    prepared = [bounded.prepare(p.read_bytes(), p.name, opts) for p in paths]
    return load_prepared(wh, prepared, actor=actor, allowed_regions=allowed_regions)
