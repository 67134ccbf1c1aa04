"""督办单: a written order to a unit (city or county) about red, overdue or problem projects.

Lifecycle: a 管理员 or 分析员 issues it (text, deadline, projects) → 办理中; the unit's 报送员
replies in writing → 已回复; the issuer (or a 管理员) closes it (办结 → 已办结) or sends the reply
back with a reason (→ 办理中 again). An order 办理中 past its deadline is overdue (逾期). Each
step is an audited write; issuing (and falling overdue, found by `kaigong notify`) queues a notice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import duckdb

from pipelines import auth
from pipelines.vocab.findings import Refused
from pipelines.vocab.reference import region_by_code, region_name
from pipelines.warehouse import loop_tables
from pipelines.warehouse.review import city_of
from pipelines.warehouse.store import Store

SOURCES = ("红灯项目", "逾期未开工", "问题未解决", "其他")


class SupervisionRefused(Refused):
    """A step this user may not take or that does not apply now; str() is the Chinese message."""


def issue(wh: Store, issuer: auth.User, unit_code: str, text: str, deadline: date, *,
          projects: list[tuple[str, str]] | None = None, source: str = "其他", today: date | None = None,
          department: str | None = None) -> int:
    """Issue a 督办单 to a unit; projects are (project_id, project_name). Returns its number. department:
    the department the order is addressed to within the unit (the blocking 前期手续's owner, 自然资源 …),
    said first in its text and in the notice."""
    if not issuer.can("supervise"):
        raise SupervisionRefused(f"当前角色（{issuer.role}）不能下达督办单")
    if region_by_code().get(unit_code) is None:
        raise SupervisionRefused(f"未知单位：{unit_code}")
    text = text.strip()
    if not text:
        raise SupervisionRefused("督办内容不能为空")
    if source not in SOURCES:
        raise SupervisionRefused(f"督办来源应为 {'/'.join(SOURCES)} 之一")
    if deadline < (today or date.today()):
        raise SupervisionRefused(f"办理期限 {deadline} 早于今天")
    projects = projects or []
    names = [n for _, n in projects]
    if department:
        text = f"主送：{region_name(unit_code)}{department}部门。{text}"
    with wh.write(issuer.name, "supervision_issue", f"{region_name(unit_code)}：{text[:80]}（期限 {deadline}）") as con:
        loop_tables.ensure(con)
        oid = loop_tables.next_id(con, "supervision_orders", "order_id")
        con.execute(
            """INSERT INTO supervision_orders (order_id, unit_code, city_code, source, text, deadline, project_ids,
                   project_names, status, issued_by, issued_at, returns)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, '办理中', ?, now()::TIMESTAMP, 0)""",
            [oid, unit_code, city_of(unit_code), source, text, deadline, [p for p, _ in projects], names, issuer.name])
        about = f"（涉及项目：{'、'.join(names)}）" if names else ""
        loop_tables.enqueue_notice(
            con, f"issue:{oid}", "督办下达", unit_code, f"【开工】督办单第 {oid} 号：请{region_name(unit_code)}于 {deadline} 前书面回复",
            f"{region_name(unit_code)}：{issuer.name}下达督办单第 {oid} 号（{source}）{about}。\n督办内容：{text}\n"
            f"请于 {deadline} 前在开工系统「督办单」页书面回复。")
    return oid


def _order(con: duckdb.DuckDBPyConnection, order_id: int) -> dict:
    if not loop_tables.has(con, "supervision_orders"):
        raise SupervisionRefused(f"没有第 {order_id} 号督办单")
    rows = con.execute("SELECT * FROM supervision_orders WHERE order_id = ?", [order_id]).fetchall()
    if not rows:
        raise SupervisionRefused(f"没有第 {order_id} 号督办单")
    return dict(zip([d[0] for d in con.description or []], rows[0], strict=True))


def reply(wh: Store, user: auth.User, order_id: int, text: str) -> None:
    """The unit's written reply (its 报送员; a reply sent back may be answered again)."""
    text = text.strip()
    if not text:
        raise SupervisionRefused("回复内容不能为空")
    with wh.read() as con:
        o = _order(con, order_id)
    if not may_reply(user, o):
        raise SupervisionRefused(f"第 {order_id} 号督办单下达给{region_name(o['unit_code'])}，只能由该单位的报送员回复")
    if o["status"] != "办理中":
        raise SupervisionRefused(f"第 {order_id} 号督办单当前状态为「{o['status']}」，不能回复")
    with wh.write(user.name, "supervision_reply", f"第 {order_id} 号督办单回复：{text[:80]}") as con:
        con.execute("UPDATE supervision_orders SET status = '已回复', reply = ?, replied_by = ?, "
                    "replied_at = now()::TIMESTAMP WHERE order_id = ?", [text, user.name, order_id])


def may_reply(user: auth.User, order: Mapping[str, Any]) -> bool:
    """Whether user may reply to the order (its unit's 报送员, or a 管理员) while it is 办理中."""
    return user.answers_for(order["unit_code"])


def may_decide(user: auth.User, order: Mapping[str, Any]) -> bool:
    """Whether user may close or send back the order once replied: its issuer, or a 管理员."""
    return user.role == "管理员" or (user.can("supervise") and user.name == order["issued_by"])


def awaits(user: auth.User, order: Mapping[str, Any]) -> bool:
    """Whether the order waits for this user: a reply (办理中), or a decision (已回复)."""
    return ((order["status"] == "办理中" and may_reply(user, order))
            or (order["status"] == "已回复" and may_decide(user, order)))


def _may_decide(user: auth.User, o: dict) -> None:
    if not may_decide(user, o):
        raise SupervisionRefused(f"第 {o['order_id']} 号督办单只能由下达人（{o['issued_by']}）或管理员办结或退回")
    if o["status"] != "已回复":
        raise SupervisionRefused(f"第 {o['order_id']} 号督办单当前状态为「{o['status']}」，需先有单位回复")


def close(wh: Store, user: auth.User, order_id: int) -> None:
    """办结: the issuer accepts the reply."""
    with wh.read() as con:
        o = _order(con, order_id)
    _may_decide(user, o)
    with wh.write(user.name, "supervision_close", f"第 {order_id} 号督办单办结") as con:
        con.execute("UPDATE supervision_orders SET status = '已办结', closed_by = ?, closed_at = now()::TIMESTAMP "
                    "WHERE order_id = ?", [user.name, order_id])


def send_back(wh: Store, user: auth.User, order_id: int, reason: str) -> None:
    """退回: the reply does not settle it; the order is 办理中 again with the reason."""
    reason = reason.strip()
    if not reason:
        raise SupervisionRefused("退回需要填写原因")
    with wh.read() as con:
        o = _order(con, order_id)
    _may_decide(user, o)
    with wh.write(user.name, "supervision_return", f"第 {order_id} 号督办单退回：{reason[:80]}") as con:
        con.execute("UPDATE supervision_orders SET status = '办理中', returned_reason = ?, returns = returns + 1 "
                    "WHERE order_id = ?", [reason, order_id])


# ---- reading ---------------------------------------------------------------------------------

def queue_overdue_notices(con: duckdb.DuckDBPyConnection, today: date) -> int:
    """Inside a write: a notice for each order that has fallen overdue (once per order and deadline)."""
    if not loop_tables.has(con, "supervision_orders"):
        return 0
    rows = con.execute("SELECT order_id, unit_code, deadline, text FROM supervision_orders "
                       "WHERE status = '办理中' AND deadline < ?", [today]).fetchall()
    n = 0
    for oid, unit, deadline, text in rows:
        n += loop_tables.enqueue_notice(
            con, f"overdue:{oid}:{deadline}", "督办逾期", unit, f"【开工】督办单第 {oid} 号已逾期",
            f"{region_name(unit)}：督办单第 {oid} 号办理期限为 {deadline}，截至 {today} 尚未回复，已逾期。\n督办内容：{text}\n"
            "请尽快在开工系统「督办单」页书面回复。")
    return n

