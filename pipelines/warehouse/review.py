"""审核 / 退回: a 报送员's validated file kept as 待审核 until the 审核员 of its city approves it.

Review mode per level, from configuration (see docs/loop.md):
- `KAIGONG_REVIEW` (environment): `direct` (default: a validated file counts at once, today's
  behaviour) or `review`, or per level, e.g. `city=review,county=direct`;
- the setting `review_mode` in the database's meta table (`kaigong review-mode …`), in the same
  form, wins over the environment when set.
Local mode (no users configured) is always direct, and only a 报送员's files are reviewed.

A file under review is stored whole (its staged rows as Parquet, the raw file under
data/uploads): its rows enter no figure, cell, snapshot or briefing. 通过 runs the normal audited
Store.load of those rows, and marks the submission approved in the same transaction; 退回
keeps the rows out for good, with the reason, and queues a notice. A later file for the same unit
and report date replaces a 待审核 one (已替换); an approved one is replaced only by a new file that
is itself reviewed (the 报送员 has no other way in). Every step is in audit_log with who and when.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import duckdb
import polars as pl

from pipelines import auth
from pipelines.vocab.findings import Finding, Refused, SubmissionRefused
from pipelines.vocab.reference import region_by_code, region_name
from pipelines.warehouse import deadlines, loop_tables
from pipelines.warehouse.connection import first, set_meta
from pipelines.warehouse.load import LoadOutcome, Submission, check_rows, conform
from pipelines.warehouse.store import Store, audit

MODES = ("direct", "review")
LEVELS = ("city", "county")


class ReviewRefused(Refused):
    """A review step this user may not take, or that no longer applies; str() is the Chinese message."""


def parse_mode(spec: str) -> dict[str, str]:
    """`review` / `direct` / `city=review,county=direct` → {level: mode} for city and county."""
    spec = spec.strip()
    if spec in MODES:
        return dict.fromkeys(LEVELS, spec)
    out = dict.fromkeys(LEVELS, "direct")
    for part in filter(None, (p.strip() for p in spec.split(","))):
        level, _, mode = part.partition("=")
        if level.strip() not in LEVELS or mode.strip() not in MODES:
            raise ValueError(f"审核模式应为 direct、review 或 city=review,county=direct 的形式：{spec}")
        out[level.strip()] = mode.strip()
    return out


def configured_modes(con: duckdb.DuckDBPyConnection | None = None) -> dict[str, str]:
    """The review mode of each level: the database's setting, else KAIGONG_REVIEW, else direct."""
    if con is not None:
        row = first(con.execute("SELECT value FROM meta WHERE key = 'review_mode'"))
        if row and row[0]:
            return parse_mode(row[0])
    return parse_mode(os.environ.get("KAIGONG_REVIEW", "direct") or "direct")


def set_mode(wh: Store, spec: str, actor: str) -> dict[str, str]:
    modes = parse_mode(spec)
    with wh.write(actor, "review_mode", spec) as con:
        set_meta(con, "review_mode", spec.strip())
    return modes


def unit_level(unit_code: str | None) -> str | None:
    region = region_by_code().get(unit_code or "")
    return region.level if region else None


def city_of(unit_code: str) -> str:
    region = region_by_code().get(unit_code)
    if region is not None and region.level == "county" and region.parent_code:
        return region.parent_code
    return unit_code


def reviewed(user: auth.User, modes: dict[str, str]) -> bool:
    """Whether this user's validated files wait for an 审核员 under these modes (a 报送员 whose
    level is reviewed, with sign-in on)."""
    unit = user.unit_code()
    if unit is None or not auth.sign_in_required():
        return False
    return modes.get(unit_level(unit) or "city") == "review"


def needs_review(wh: Store, user: auth.User) -> bool:
    if user.unit_code() is None:
        return False
    with wh.read() as con:
        return reviewed(user, configured_modes(con))


# ---- storing a file for review --------------------------------------------------------------


def _frame_bytes(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_parquet(buf)
    return buf.getvalue()


@dataclass
class PendingOutcome:
    file_name: str
    pending_id: int
    report_date: date
    rows: int
    replaced: list[int]
    late: str | None = None  # a 更正 after the period closed: the deadline in words (deadlines.Lateness.zh)
    corrects: tuple[int, ...] = ()  # the issued 简报 of that period it corrects

    def summary_zh(self) -> str:
        text = (f"{self.file_name}：已提交审核（待审核，编号 {self.pending_id}），报告期 {self.report_date}，"
                f"{self.rows} 个项目；审核通过后计入各项指标")
        if self.late:
            text += f"；{self.late}" + (f"，更正已印发的第 {'、'.join(str(i) for i in self.corrects)} 号简报"
                                        if self.corrects else "")
        if self.replaced:
            text += f"；替换了同期未审核的报送 {'、'.join(str(i) for i in self.replaced)} 号"
        return text


def submit(wh: Store, batch: list[Submission], user: auth.User,
           late: dict[int, deadlines.Lateness] | None = None) -> list[PendingOutcome]:
    """Keep validated files as 待审核 (all of them or none): checked as a load would check them,
    the raw files kept, the staged rows stored; nothing enters the figures. late: the files (by index)
    that came after their period closed (deadlines.Lateness), recorded as corrections."""
    late = late or {}
    unit = user.unit_code()
    if unit is None:
        raise ReviewRefused("只有报送员的报送需要审核")
    errors: list[Finding] = []
    for sub in batch:
        if sub.kind == "reports":
            errors += check_rows(conform(sub.frame), sub.file_name, user.allowed_regions())
    if errors:
        raise SubmissionRefused("、".join(s.file_name for s in batch), errors)
    for sub in batch:
        if sub.raw is not None:
            sub.stored_path = wh.keep_raw(sub.raw, sub.digest(), sub.file_name)
    detail = "; ".join(f"{s.file_name} sha256={s.digest()} 报告期 {s.report_date}" for s in batch)
    out: list[PendingOutcome] = []
    with wh.write(user.name, "review_submit", detail) as con:
        loop_tables.ensure(con)
        for index, sub in enumerate(batch):
            replaced = [i for (i,) in con.execute(
                "SELECT pending_id FROM pending_submissions WHERE status = '待审核' AND unit_code = ? "
                "AND report_date = ? AND kind = ? ORDER BY pending_id", [unit, sub.report_date, sub.kind]).fetchall()]
            if replaced:
                con.execute(
                    "UPDATE pending_submissions SET status = '已替换', reviewed_at = now()::TIMESTAMP, reviewed_by = ? "
                    "WHERE list_contains(?, pending_id)", [user.name, replaced])
            pid = loop_tables.next_id(con, "pending_submissions", "pending_id")
            con.execute(
                """INSERT INTO pending_submissions (pending_id, status, unit_code, city_code, file_name, sha256, kind,
                       layout, rows, report_date, frequency, region_code, tier, present_fields, warnings, frame,
                       stored_path, submitted_at, submitted_by)
                   VALUES (?, '待审核', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP, ?)""",
                [pid, unit, city_of(unit), sub.file_name, sub.digest(), sub.kind, sub.layout, sub.frame.height,
                 sub.report_date, sub.frequency, sub.region_code, sub.tier, list(sub.present_fields),
                 json.dumps([asdict(w) for w in sub.warnings], ensure_ascii=False), _frame_bytes(sub.frame),
                 sub.stored_path, user.name],
            )
            outcome = PendingOutcome(sub.file_name, pid, sub.report_date, sub.frame.height, replaced)
            if index in late:
                at = first(con.execute("SELECT submitted_at FROM pending_submissions WHERE pending_id = ?", [pid]))
                issued = deadlines.record(con, pid, unit, sub.report_date, sub.frequency, late[index],
                                         at[0] if at else datetime.now())
                outcome.late, outcome.corrects = late[index].zh(), tuple(issued)
                audit(con, user.name, "late_submission", f"第 {pid} 号报送 {sub.file_name}：{late[index].zh()}")
            out.append(outcome)
    return out


# ---- reading ---------------------------------------------------------------------------------


def _row(con: duckdb.DuckDBPyConnection, pending_id: int) -> dict[str, Any]:
    if not loop_tables.has(con, "pending_submissions"):
        raise ReviewRefused(f"没有第 {pending_id} 号待审核报送")
    rows = con.execute("SELECT * FROM pending_submissions WHERE pending_id = ?", [pending_id]).fetchall()
    if not rows:
        raise ReviewRefused(f"没有第 {pending_id} 号待审核报送")
    cols = [d[0] for d in con.description or []]
    return dict(zip(cols, rows[0], strict=True))


def _submission(row: dict[str, Any]) -> Submission:
    return Submission(
        file_name=row["file_name"], frame=pl.read_parquet(io.BytesIO(row["frame"])), report_date=row["report_date"],
        raw=None, kind=row["kind"], frequency=row["frequency"], present_fields=tuple(row["present_fields"] or ()),
        layout=row["layout"] or "standard", region_code=row["region_code"], tier=row["tier"],
        warnings=[Finding(**w) for w in json.loads(row["warnings"] or "[]")], stored_path=row["stored_path"],
    )


def pending_submission(con: duckdb.DuckDBPyConnection, pending_id: int) -> Submission:
    """The staged file as it was submitted (for the reviewer's preview and change audit)."""
    return _submission(_row(con, pending_id))


def _check(row: dict[str, Any], reviewer: auth.User) -> None:
    if not reviewer.can("review"):
        raise ReviewRefused(f"当前角色（{reviewer.role}）不能审核报送")
    if not reviewer.reviews(row["city_code"]):
        name = region_name(row["city_code"])
        raise ReviewRefused(f"您只能审核本市的报送，第 {row['pending_id']} 号报送属于{name}")
    if row["status"] != "待审核":
        raise ReviewRefused(f"第 {row['pending_id']} 号报送当前状态为「{row['status']}」，不能再审核")


# ---- 通过 / 退回 -------------------------------------------------------------------------------


def approve(wh: Store, pending_id: int, reviewer: auth.User) -> LoadOutcome:
    """通过: load the stored rows through the normal audited load, and mark the submission approved
    in the same transaction (either both happen or neither)."""
    with wh.read() as con:
        row = _row(con, pending_id)
    _check(row, reviewer)
    sub = _submission(row)
    submitter = auth.User(row["submitted_by"], "报送员", row["unit_code"])
    detail = f"第 {pending_id} 号报送 {row['file_name']}（{row['submitted_by']} 提交）审核通过"

    def mark(con: duckdb.DuckDBPyConnection, outcomes: list[LoadOutcome]) -> None:
        now = first(con.execute("SELECT status FROM pending_submissions WHERE pending_id = ?", [pending_id]))
        if not now or now[0] != "待审核":  # approved or replaced meanwhile: undo the load
            raise ReviewRefused(f"第 {pending_id} 号报送已不是待审核状态，未导入")
        con.execute(
            "UPDATE pending_submissions SET status = '已通过', reviewed_at = now()::TIMESTAMP, reviewed_by = ?, "
            "submission_id = ? WHERE pending_id = ?", [reviewer.name, outcomes[0].submission_id, pending_id])
        audit(con, reviewer.name, "review_approve", detail)

    outcome = wh.load([sub], actor=row["submitted_by"], allowed_regions=submitter.allowed_regions(),
                      in_transaction=mark)[0]
    if outcome.status == "duplicate":  # the same file was loaded before: nothing new counts, still approved
        with wh.write(reviewer.name, "review_approve", detail + "（与已导入的报送相同）") as con:
            con.execute(
                "UPDATE pending_submissions SET status = '已通过', reviewed_at = now()::TIMESTAMP, reviewed_by = ?, "
                "submission_id = ? WHERE pending_id = ? AND status = '待审核'",
                [reviewer.name, outcome.submission_id, pending_id])
    return outcome


def send_back(wh: Store, pending_id: int, reviewer: auth.User, reason: str) -> None:
    """退回 with a reason: the rows never count; the 报送员 sees the reason (and is sent a notice)."""
    reason = reason.strip()
    if not reason:
        raise ReviewRefused("退回需要填写原因")
    with wh.read() as con:
        row = _row(con, pending_id)
    _check(row, reviewer)
    unit = region_name(row["unit_code"])
    with wh.write(reviewer.name, "review_return", f"第 {pending_id} 号报送 {row['file_name']} 退回：{reason}") as con:
        changed = con.execute(
            "UPDATE pending_submissions SET status = '已退回', reviewed_at = now()::TIMESTAMP, reviewed_by = ?, "
            "reason = ? WHERE pending_id = ? AND status = '待审核' RETURNING pending_id",
            [reviewer.name, reason, pending_id]).fetchall()
        if not changed:
            raise ReviewRefused(f"第 {pending_id} 号报送已不是待审核状态")
        loop_tables.enqueue_notice(
            con, f"return:{pending_id}", "退回", row["unit_code"],
            f"【开工】{unit}报送被退回：{row['file_name']}",
            f"{unit}于{row['submitted_at']:%Y-%m-%d %H:%M}提交的报送《{row['file_name']}》（报告期 {row['report_date']}，"
            f"{row['rows']} 个项目）已被审核员 {reviewer.name} 退回。\n退回原因：{reason}\n请修改后重新报送。",
        )
