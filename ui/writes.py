"""The pages' writes: each one a warehouse write made as the signed-in user (never a name typed on a
form), after which the cached reads are dropped."""

from __future__ import annotations

from pipelines.warehouse import problems
from ui import cached, session


def close_problem(project_id: str, problem: str, handled_by: str, note: str = "") -> None:
    """销号 as the signed-in user; handled_by (the typed 经办人) is the closure's field."""
    problems.close_problem(cached.warehouse(), session.current_user(), project_id, problem, handled_by, note)
    cached.changed()
