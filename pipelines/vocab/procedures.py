"""前期手续: the weekly report's procedure columns, how their free text is read (done / pending / not
needed / unknown), the order in which they block a start, and the department that owns each one.

The one place for these: the 前期手续 matrix, the 亮灯清单, the 简报 and the 督办单 all read it.
"""

from __future__ import annotations

from typing import NamedTuple

import polars as pl


class Procedure(NamedTuple):
    field: str  # the report field (vocab/schema.py)
    zh: str  # the procedure as users name it
    department: str  # the department that owns it: a 督办单 about it is addressed there


# In the order a project goes through them: the first pending one is the one that blocks the start.
PROCEDURES: tuple[Procedure, ...] = (
    Procedure("approval_status", "立项", "行政审批"),
    Procedure("land_status", "土地", "自然资源"),
    Procedure("planning_status", "规划", "自然资源/住建"),
    Procedure("eia_status", "环评", "生态环境"),
)
FIELDS: tuple[str, ...] = tuple(p.field for p in PROCEDURES)
BY_FIELD: dict[str, Procedure] = {p.field: p for p in PROCEDURES}

DONE, PENDING, NOT_NEEDED, UNKNOWN = "done", "pending", "not_needed", "unknown"
STATUSES: tuple[str, ...] = (DONE, PENDING, NOT_NEEDED, UNKNOWN)
STATUS_ZH: dict[str, str] = {DONE: "已办结", PENDING: "待办理", NOT_NEEDED: "不需要", UNKNOWN: "无法识别"}

# Checked in this order: 「无需办理」 is not needed although it says 办理; 「未办结」 is pending although
# it says 办结. Patterns are regular expressions over the text with whitespace removed.
_NOT_NEEDED = r"不需要|无需|不涉及|不需|免于|免办"
_PENDING = r"未办|未取得|未完成|未批复|未开始|正在|办理中|在办|待|尚未|没有|暂无|申报中|审批中|审查中|编制中|公示中"
_DONE = r"已办结|已取得|已完成|已批复|已办理|已备案|已核准|已审批|已出让|已摘牌|已批|办结|完成|取得|批复"


def status_expr(column: str) -> pl.Expr:
    """A procedure column's free text as done / pending / not_needed / unknown (blank: unknown)."""
    text = pl.col(column).cast(pl.String).str.replace_all(r"\s", "")
    return (
        pl.when(text.is_null() | (text == "")).then(pl.lit(UNKNOWN))
        .when(text.str.contains(_NOT_NEEDED)).then(pl.lit(NOT_NEEDED))
        .when(text.str.contains(_PENDING)).then(pl.lit(PENDING))
        .when(text.str.contains(_DONE)).then(pl.lit(DONE))
        .otherwise(pl.lit(UNKNOWN))
    )


def status_of(text: str | None) -> str:
    """One value's reading (the same rules as status_expr)."""
    return str(pl.DataFrame({"v": [text]}, schema={"v": pl.String}).select(status_expr("v")).item())


def with_statuses(frame: pl.DataFrame) -> pl.DataFrame:
    """frame (with the four procedure columns) plus <field>_state for each and `blocking`: the first
    pending procedure in PROCEDURES' order (null when none is pending)."""
    frame = frame.with_columns(status_expr(p.field).alias(f"{p.field}_state") for p in PROCEDURES)
    blocking = pl.lit(None, pl.String)
    for p in reversed(PROCEDURES):
        blocking = pl.when(pl.col(f"{p.field}_state") == PENDING).then(pl.lit(p.field)).otherwise(blocking)
    return frame.with_columns(blocking=blocking)


def blocking_zh(field: str | None) -> str | None:
    """「土地（自然资源）」: the blocking procedure and the department that owns it."""
    if field is None:
        return None
    p = BY_FIELD[field]
    return f"{p.zh}（{p.department}）"


def blocking_zh_expr(column: str = "blocking") -> pl.Expr:
    return pl.col(column).replace_strict({p.field: blocking_zh(p.field) for p in PROCEDURES}, default=None,
                                         return_dtype=pl.String)


def department_of(field: str | None) -> str | None:
    return BY_FIELD[field].department if field is not None else None


def department_expr(column: str = "blocking") -> pl.Expr:
    return pl.col(column).replace_strict({p.field: p.department for p in PROCEDURES}, default=None,
                                         return_dtype=pl.String)
