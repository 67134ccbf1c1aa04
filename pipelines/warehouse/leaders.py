"""责任领导 per project (issue 31 §2): the 管理员's edits, the only writer of project_leaders.

A 台账 that names each project's 包保领导 / 责任领导, 责任单位 and 联系人 is read into the reports'
`leader`, `lead_unit` and `contact` columns like any other field; a 管理员 may set or correct them
per project here (an audited write). The project's leader in force is the 管理员's latest edit when
there is one, else the latest report that states it (pipelines/views/leaders.py).
"""

from __future__ import annotations

from pipelines import auth
from pipelines.vocab.findings import Refused
from pipelines.warehouse import loop_tables
from pipelines.warehouse.store import Store


class LeaderRefused(Refused):
    """An edit this user may not make (message in Chinese)."""


def _clean(text: str | None) -> str | None:
    t = (text or "").strip()
    return t or None


def set_leader(wh: Store, user: auth.User, project_id: str, leader: str | None, lead_unit: str | None = None,
               contact: str | None = None) -> None:
    """Set a project's 责任领导 / 责任单位 / 联系人 (empty: none), as the signed-in 管理员."""
    if not user.can("admin"):
        raise LeaderRefused(f"{user.name}（{user.role}）无权修改责任领导：需管理员办理")
    project_id = project_id.strip()
    if not project_id:
        raise LeaderRefused("请选择项目")
    values = [_clean(leader), _clean(lead_unit), _clean(contact)]
    detail = f"{project_id}: 责任领导 {values[0] or '（无）'}，责任单位 {values[1] or '（无）'}"
    with wh.write(user.name, "set_leader", detail) as con:
        loop_tables.ensure(con)
        known = con.execute("SELECT count(*) FROM projects WHERE project_id = ?", [project_id]).fetchall()
        if not known or not known[0][0]:
            raise LeaderRefused(f"没有项目 {project_id}")
        con.execute(
            "INSERT INTO project_leaders (project_id, leader, lead_unit, contact, set_at, set_by) "
            "VALUES (?, ?, ?, ?, now()::TIMESTAMP, ?)", [project_id, *values, user.name])
