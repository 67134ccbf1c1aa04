"""The reports as the warehouse knew them at a moment (`--as-known-at`): every version of a report is
kept (`reports` holds the newest, `report_versions` the superseded ones, load.py), so the reports known
at T are, per project and report date, the version loaded at or before T and not superseded by then.

The figures at T are computed by the same metrics code, on a scratch in-memory DuckDB built from those
reports (KnownAt): the kept tables as known at T, then the states and cells derived again exactly as a
restore derives them. No figure has a second definition.

What is not versioned is taken as it stands where it has a time (submissions, projects, targets by the
submission that brought them, 销号 by closed_at, the audit log by logged_at) and whole otherwise.
Targets are not versioned (a newer 目标任务分解表 replaces the same cells): a target loaded after T is left
out, so one that replaced an earlier target after T leaves that cell without a target at T.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime

import duckdb

from pipelines.vocab import schema
from pipelines.warehouse import loop_tables, tables
from pipelines.warehouse.base import DERIVED_DDL, Store
from pipelines.warehouse.snapshots import UPGRADE_DDL, rebuild_states

REPORT_COLS = ("project_id", "report_date", "year", "submission_id", "source_row", "present", *schema.FIELD_NAMES)
_COLS = ", ".join(REPORT_COLS)
_KNOWN = "(SELECT submission_id FROM submissions WHERE loaded_at <= $t)"

# The version of each report known at $t: the newest, when loaded by then, else the superseded version
# loaded by then whose successor was not.
KNOWN_REPORTS_SQL = f"""
SELECT {_COLS} FROM reports WHERE submission_id IN {_KNOWN}
UNION ALL
SELECT {_COLS} FROM report_versions
WHERE submission_id IN {_KNOWN} AND superseded_by NOT IN {_KNOWN}"""  # noqa: S608 (constants)
_NEWEST_ONLY_SQL = f"SELECT {_COLS} FROM reports WHERE submission_id IN {_KNOWN}"  # noqa: S608

# Each kept table as known at $t (constant SQL; a table not named here is taken whole).
_AS_KNOWN: dict[str, str] = {
    "submissions": "SELECT * FROM submissions WHERE loaded_at <= $t",
    "projects": f"SELECT * FROM projects WHERE first_submission_id IN {_KNOWN}",  # noqa: S608
    "report_versions": f"SELECT * FROM report_versions WHERE submission_id IN {_KNOWN} AND superseded_by IN {_KNOWN}",  # noqa: S608
    "targets": f"SELECT * FROM targets WHERE submission_id IN {_KNOWN}",  # noqa: S608
    "problem_closures": "SELECT * FROM problem_closures WHERE closed_at <= $t",
    "audit_log": "SELECT * FROM audit_log WHERE logged_at <= $t",
    "change_findings": f"SELECT * FROM change_findings WHERE submission_id IN {_KNOWN}",  # noqa: S608
}


def known_reports_sql(con: duckdb.DuckDBPyConnection) -> str:
    """The query of the reports known at $t (a database from before the versions: the newest only)."""
    return KNOWN_REPORTS_SQL if loop_tables.has(con, "report_versions") else _NEWEST_ONLY_SQL


class KnownAt:
    """The store as it was known at a moment, for reading (the CLI's metrics and brief): an in-memory
    DuckDB holding the kept tables as known then and the states and cells derived from them."""

    def __init__(self, store: Store, at: datetime):
        self.at = at
        self.label = f"{store.label}（截至 {at:%Y-%m-%d %H:%M} 所知）"
        self._demo = store.is_demo()
        self._con = duckdb.connect(":memory:")
        for ddl in (*tables.ddl(tables.KEPT), *DERIVED_DDL, *UPGRADE_DDL):
            self._con.execute(ddl)
        with store.read() as src:
            for name in tables.names(tables.KEPT):
                if not loop_tables.has(src, name):
                    continue
                sql = known_reports_sql(src) if name == "reports" else _AS_KNOWN.get(name, f"SELECT * FROM {name}")  # noqa: S608
                data = src.execute(sql, {"t": at} if "$t" in sql else {}).to_arrow_table()
                self._con.register("known_src", data)
                # By name, the registry's table names (never user text), as a restore fills them.
                self._con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM known_src")  # noqa: S608
                self._con.unregister("known_src")
        self._con.execute("BEGIN TRANSACTION")
        rebuild_states(self._con)
        self._con.execute("COMMIT")

    @contextlib.contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self._con.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def is_demo(self) -> bool:
        return self._demo

    def close(self) -> None:
        self._con.close()


def parse_moment(text: str) -> datetime:
    """A moment as users write it: 2020-06-05T12:00, 2020-06-05 12:00 or a date (its end: 23:59:59.999999)."""
    t = text.strip().replace("T", " ")
    try:
        if len(t) <= 10:
            return datetime.fromisoformat(t).replace(hour=23, minute=59, second=59, microsecond=999999)
        return datetime.fromisoformat(t)
    except ValueError:
        raise ValueError(f"时刻格式应为 YYYY-MM-DDTHH:MM（如 2020-06-05T12:00），现为 {text!r}") from None
