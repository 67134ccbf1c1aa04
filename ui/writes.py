"""The pages' writes: each one a warehouse write made as the signed-in user (never a name typed on a
form), after which the cached reads are dropped. A step the user may not take raises
pipelines.vocab.findings.Refused (its message in Chinese), which the page shows."""

from __future__ import annotations

from datetime import date
from typing import Any

from pipelines.warehouse import problems, review, supervision, yearlist
from pipelines.warehouse.load import LoadOutcome
from ui import cached, session


def close_problem(project_id: str, problem: str, handled_by: str, note: str = "") -> None:
    """销号 as the signed-in user; handled_by (the typed 经办人) is the closure's field."""
    problems.close_problem(cached.warehouse(), session.current_user(), project_id, problem, handled_by, note)
    cached.changed()


def approve(pending_id: int) -> LoadOutcome:
    """通过 a submission awaiting review (its rows loaded in the same transaction)."""
    outcome = review.approve(cached.warehouse(), pending_id, session.current_user())
    cached.changed()
    return outcome


def send_back(pending_id: int, reason: str) -> None:
    """退回 a submission awaiting review, with the reason."""
    review.send_back(cached.warehouse(), pending_id, session.current_user(), reason)
    cached.changed()


def issue_order(unit_code: str, text: str, deadline: date, *, projects: list[tuple[str, str]], source: str,
                department: str | None = None) -> int:
    """下达 a 督办单 (addressed to a department of the unit when given: a blocking 前期手续's owner); its number."""
    oid = supervision.issue(cached.warehouse(), session.current_user(), unit_code, text, deadline,
                            projects=projects, source=source, department=department)
    cached.changed()
    return oid


def reply_order(order_id: int, text: str) -> None:
    supervision.reply(cached.warehouse(), session.current_user(), order_id, text)
    cached.changed()


def close_order(order_id: int) -> None:
    supervision.close(cached.warehouse(), session.current_user(), order_id)
    cached.changed()


def send_back_order(order_id: int, reason: str) -> None:
    supervision.send_back(cached.warehouse(), session.current_user(), order_id, reason)
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


def admit_to_year_list(year: int, project_ids: list[str], on: date, reason: str) -> int:
    """纳入 projects to the year's list (调度库) by hand, as the signed-in user; how many were."""
    n = yearlist.admit(cached.warehouse(), session.current_user(), year, project_ids, on, reason)
    cached.changed()
    return n


def admit_to_year_list_by_rules(year: int, on: date) -> dict[str, int]:
    """纳入 by the rules (续建结转, 立项 ≥ the threshold), as the signed-in user."""
    got = yearlist.admit_by_rules(cached.warehouse(), session.current_user(), year, on)
    cached.changed()
    return got


def remove_from_year_list(year: int, project_id: str, on: date, reason: str) -> None:
    """调出 a project from the year's list, with the reason, as the signed-in user."""
    yearlist.remove(cached.warehouse(), session.current_user(), year, project_id, on, reason)
    cached.changed()


def confirm_carried_over(year: int, project_ids: list[str]) -> int:
    """A unit confirms its 续建结转 projects, as the signed-in user."""
    n = yearlist.confirm(cached.warehouse(), session.current_user(), year, project_ids)
    cached.changed()
    return n


def set_project_leader(project_id: str, leader: str, lead_unit: str, contact: str) -> None:
    """A 管理员 sets a project's 责任领导 / 责任单位 / 联系人 (warehouse/leaders.py), as the signed-in user."""
    from pipelines.warehouse import leaders

    leaders.set_leader(cached.warehouse(), session.current_user(), project_id, leader, lead_unit, contact)
    cached.changed()
