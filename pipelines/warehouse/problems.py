"""销号: closing a project's problem, the only writer of problem_closures (an audited write).

The audit actor is the signed-in user, always; the 经办人 typed on the form is the closure's own
field (closed_by), which the 已销号 list shows.
"""

from __future__ import annotations

from pipelines import auth
from pipelines.vocab.findings import Refused
from pipelines.warehouse.store import Store


class ClosureRefused(Refused):
    """A 销号 this user may not make, or one without its 经办人 (message in Chinese)."""


def close_problem(wh: Store, user: auth.User, project_id: str, problem: str, handled_by: str,
                  note: str = "") -> None:
    """销号: record that a project's problem is closed, by whom it was handled (handled_by, the typed
    经办人) and how (note); the audit log names user, who made the write."""
    if not user.can("admin"):
        raise ClosureRefused(f"{user.name}（{user.role}）无权销号：销号需管理员办理")
    handled_by = handled_by.strip()
    if not handled_by:
        raise ClosureRefused("销号需要填写经办人")
    with wh.write(user.name, "close_problem", f"{project_id}: {problem}（经办人 {handled_by}）") as con:
        # DELETE then INSERT (DuckLake has no INSERT OR REPLACE): one closure per project and problem.
        con.execute("DELETE FROM problem_closures WHERE project_id = ? AND problem = ?", [project_id, problem])
        con.execute(
            "INSERT INTO problem_closures VALUES (?, ?, now()::TIMESTAMP, ?, ?)",
            [project_id, problem, handled_by, note or None],
        )
