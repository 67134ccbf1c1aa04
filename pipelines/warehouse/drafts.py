"""在线填报 drafts (issue 31): a 报送员's grid kept as last edited until it is submitted.

One draft per user, unit and period (table fill_drafts): saving replaces it, submitting deletes it. A
draft is never a report: nothing of it reaches the figures until the grid is submitted through the
normal upload path (validation, change audit, 审核)."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from pipelines.warehouse import loop_tables
from pipelines.warehouse.store import Store


def save(wh: Store, user: str, unit_code: str, report_date: date, rows: pl.DataFrame) -> None:
    """Keep the grid as the user's draft for the unit and period (replacing the one before)."""
    with wh.write(user, "fill_draft_save", f"{unit_code} {report_date}") as con:
        loop_tables.ensure(con)
        con.execute("DELETE FROM fill_drafts WHERE user_name = ? AND unit_code = ? AND report_date = ?",
                    [user, unit_code, report_date])
        con.execute("INSERT INTO fill_drafts VALUES (?, ?, ?, ?, ?)",
                    [user, unit_code, report_date, _encoded(rows), datetime.now()])


def load(wh: Store, user: str, unit_code: str, report_date: date) -> tuple[pl.DataFrame, datetime] | None:
    """The user's draft for the unit and period and when it was saved, or None."""
    with wh.read() as con:
        if not loop_tables.has(con, "fill_drafts"):
            return None
        rows = con.execute("SELECT rows, saved_at FROM fill_drafts WHERE user_name = ? AND unit_code = ? "
                           "AND report_date = ?", [user, unit_code, report_date]).fetchall()
    if not rows:
        return None
    import base64
    import io

    return pl.read_parquet(io.BytesIO(base64.b64decode(rows[0][0]))), rows[0][1]


def discard(wh: Store, user: str, unit_code: str, report_date: date) -> None:
    """Drop the draft (once submitted, or when the user starts again from last period's values)."""
    with wh.write(user, "fill_draft_discard", f"{unit_code} {report_date}") as con:
        loop_tables.ensure(con)
        con.execute("DELETE FROM fill_drafts WHERE user_name = ? AND unit_code = ? AND report_date = ?",
                    [user, unit_code, report_date])


def _encoded(rows: pl.DataFrame) -> str:
    """The grid as text (Parquet in base64: its types kept, dates and all)."""
    import base64
    import io

    buf = io.BytesIO()
    rows.write_parquet(buf)
    return base64.b64encode(buf.getvalue()).decode("ascii")
