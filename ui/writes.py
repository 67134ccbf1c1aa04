"""The pages' writes: each one a warehouse write made as the signed-in user (never a name typed on a
form), after which the cached reads are dropped."""

from __future__ import annotations

from typing import Any

from pipelines.warehouse import problems
from ui import cached, session


def close_problem(project_id: str, problem: str, handled_by: str, note: str = "") -> None:
    """销号 as the signed-in user; handled_by (the typed 经办人) is the closure's field."""
    problems.close_problem(cached.warehouse(), session.current_user(), project_id, problem, handled_by, note)
    cached.changed()



def load_reference_list(kind: str, as_of: Any, file_name: str, raw: bytes) -> tuple[list[str], list[str], int]:
    """Read a department's list with the project reader and keep it as the signed-in user, whole or nothing
    (warehouse/reference_lists.py): what was read (lines), every error (nothing kept when any), the rows kept."""
    from pipelines.ingest.reference_list import read_list
    from pipelines.vocab.findings import SubmissionRefused
    from pipelines.warehouse import reference_lists

    got = read_list(raw, file_name, as_of)
    if not got.ok or got.frame is None:
        return got.lines, [e.zh() for e in got.errors], 0
    try:
        reference_lists.store_list(cached.warehouse(), session.current_user().name, kind, as_of, file_name, raw,
                                   got.frame)
    except SubmissionRefused as exc:
        return got.lines, [e.zh() for e in exc.errors], 0
    cached.changed()
    return got.lines, [], got.frame.height
