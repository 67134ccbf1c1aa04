"""The year's list (调度库): which projects are on year Y's list, from when, by whom and why, and the
ones 调出 (removed, with a reason); and a project's tier across years. The only writer of year_list
and project_tiers.

A project is on the list at D when its latest admission of the year dated on or before D has no
调出 dated on or before D. S (metrics/flags.py) holds every listed project from its admission on,
whether or not it has reported since, and no longer holds a project from its 调出 on; a project with
no admission in the year is in S as before (by its own rows). Admissions come from:
- a 台账 (layout ledger) loaded: its projects, from its report date (in the load's transaction);
- the rules (admit_by_rules): 立项 done and 总投资 ≥ KAIGONG_ADMIT_THRESHOLD 万元 (default 500) among
  the year's projects, and the 续建 projects carried over from Y−1 (on the list on 1 January; each
  unit confirms them, confirm());
- by hand (admit), with a reason.
Every write is audited (Store.write) and keeps the stored figure cells current.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from pipelines import auth
from pipelines.metrics.formulas import setting
from pipelines.vocab import procedures, schema
from pipelines.vocab.findings import Refused
from pipelines.vocab.query import query_frame
from pipelines.vocab.states import states_at
from pipelines.warehouse import cells

if TYPE_CHECKING:  # the store's load calls admit_ledgers: no import cycle at run time
    from pipelines.warehouse.base import Store

THRESHOLD_ENV = "KAIGONG_ADMIT_THRESHOLD"
HOW = ("台账", "立项≥门槛", "续建结转", "手动")
EDITORS = ("管理员", "分析员")  # who may admit and 调出 by hand (a unit confirms its own 续建结转)


class YearListRefused(Refused):
    """An admission or 调出 that does not apply (its message in Chinese)."""


def admission_threshold() -> float:
    """总投资 (万元) from which a project with 立项 done is admitted by the rule."""
    return setting(THRESHOLD_ENV, 500.0)


# The project's fields as known on or before a date: its latest report of any year up to then.
_KNOWN_SQL = """
SELECT p.project_id, r.project_name, p.city_code, r.county_code, r.industry_code, r.industry_name,
       r.total_investment
FROM projects p
LEFT JOIN (SELECT * FROM reports WHERE report_date <= $on
           QUALIFY row_number() OVER (PARTITION BY project_id ORDER BY report_date DESC) = 1) r
  ON r.project_id = p.project_id
WHERE list_contains($ids, p.project_id)
"""

_INSERT_SQL = """
INSERT INTO year_list (year, project_id, admitted_on, admitted_by, admitted_at, how, reason, submission_id,
                       project_name, city_code, county_code, industry_code, industry_name, total_investment)
SELECT $year, k.project_id, $on, $actor, now()::TIMESTAMP, $how, $reason, $sub,
       k.project_name, k.city_code, k.county_code, k.industry_code, k.industry_name, k.total_investment
FROM ({known}) k
WHERE NOT EXISTS (SELECT 1 FROM year_list y WHERE y.year = $year AND y.project_id = k.project_id
                  AND y.admitted_on <= $on AND (y.removed_on IS NULL OR y.removed_on > $on))
  AND NOT EXISTS (SELECT 1 FROM year_list y WHERE y.year = $year AND y.project_id = k.project_id
                  AND y.admitted_on > $on)
"""


def _admit(con: duckdb.DuckDBPyConnection, year: int, ids: list[str], on: date, actor: str, how: str,
           reason: str | None, submission_id: int | None = None) -> int:
    """Admit the projects not on the list at on (nor admitted later); how many were."""
    before = _count(con, year)
    con.execute(_INSERT_SQL.format(known=_KNOWN_SQL), {
        "year": year, "ids": ids, "on": on, "actor": actor, "how": how, "reason": reason, "sub": submission_id,
    })
    return _count(con, year) - before


def _count(con: duckdb.DuckDBPyConnection, year: int) -> int:
    rows = con.execute("SELECT count(*) FROM year_list WHERE year = ?", [year]).fetchall()
    return int(rows[0][0]) if rows else 0


def _refresh(con: duckdb.DuckDBPyConnection, year: int, since: date) -> None:
    """The stored cells of year from since on, recomputed (S changed there); part of the write."""
    if cells.cells_current(con):
        cells.refresh_cells(con, year, since)


def _check_editor(user: auth.User) -> None:
    if user.role not in EDITORS:
        raise YearListRefused(f"当前角色（{user.role}）不能调整调度库（需{'或'.join(EDITORS)}）")


def _check_year(year: int, on: date) -> None:
    if on.year != year:
        raise YearListRefused(f"日期 {on} 不在 {year} 年内")


def admit(wh: Store, user: auth.User, year: int, project_ids: list[str], on: date, reason: str) -> int:
    """Admit projects to year's list by hand from on, as user (管理员/分析员), with a reason; how many
    were admitted (a project already on the list at on is left as it is)."""
    _check_editor(user)
    _check_year(year, on)
    if not reason.strip():
        raise YearListRefused("纳入调度库须填写理由")
    with wh.read() as con:
        known = {r[0] for r in con.execute(
            "SELECT project_id FROM projects WHERE list_contains(?, project_id)", [project_ids]).fetchall()}
    missing = [p for p in project_ids if p not in known]
    if missing:
        raise YearListRefused(f"没有这些项目：{'、'.join(missing)}")
    with wh.write(user.name, "yearlist_admit", f"{year} 年调度库纳入 {len(project_ids)} 个项目（{on}）：{reason}") as con:
        n = _admit(con, year, project_ids, on, user.name, "手动", reason.strip())
        _refresh(con, year, on)
    return n


def remove(wh: Store, user: auth.User, year: int, project_id: str, on: date, reason: str) -> None:
    """调出 a project from year's list from on (out of S from that date; its admission and reports kept)."""
    _check_editor(user)
    _check_year(year, on)
    if not reason.strip():
        raise YearListRefused("调出须填写原因")
    with wh.write(user.name, "yearlist_remove", f"{year} 年调度库调出 {project_id}（{on}）：{reason}") as con:
        row = con.execute(
            """SELECT admitted_on, removed_on FROM year_list WHERE year = $y AND project_id = $p
               AND admitted_on <= $on ORDER BY admitted_on DESC LIMIT 1""",
            {"y": year, "p": project_id, "on": on}).fetchall()
        if not row:
            raise YearListRefused(f"项目 {project_id} 在 {on} 不在 {year} 年调度库中")
        admitted_on, removed_on = row[0]
        if removed_on is not None and removed_on <= on:
            raise YearListRefused(f"项目 {project_id} 已于 {removed_on} 调出")
        con.execute(
            """UPDATE year_list SET removed_on = $on, removed_by = $by, removed_at = now()::TIMESTAMP,
                   removed_reason = $reason
               WHERE year = $y AND project_id = $p AND admitted_on = $a""",
            {"on": on, "by": user.name, "reason": reason.strip(), "y": year, "p": project_id, "a": admitted_on})
        _refresh(con, year, on)


def confirm(wh: Store, user: auth.User, year: int, project_ids: list[str]) -> int:
    """A unit confirms its 续建结转 projects (a 报送员 only its own city's or county's); how many."""
    with wh.write(user.name, "yearlist_confirm", f"{year} 年续建结转确认 {len(project_ids)} 个项目") as con:
        rows = con.execute(
            """SELECT project_id, city_code, county_code FROM year_list
               WHERE year = $y AND how = '续建结转' AND confirmed_by IS NULL AND list_contains($ids, project_id)""",
            {"y": year, "ids": project_ids}).fetchall()
        mine = [p for p, city, county in rows
                if user.role in EDITORS or user.answers_for(county or "") or user.answers_for(city or "")]
        con.execute(
            """UPDATE year_list SET confirmed_by = $by, confirmed_at = now()::TIMESTAMP
               WHERE year = $y AND how = '续建结转' AND list_contains($ids, project_id)""",
            {"by": user.name, "y": year, "ids": mine})
    return len(mine)


def admit_by_rules(wh: Store, user: auth.User, year: int, on: date) -> dict[str, int]:
    """The rules: the 续建 projects carried over from year − 1 (on the list from 1 January) and the
    year's projects with 立项 done and 总投资 ≥ the threshold (from on); how many each admitted."""
    _check_editor(user)
    _check_year(year, on)
    threshold = admission_threshold()
    with wh.read() as con:
        carried = _carried_over(con, year)
        approved = _approved(con, year, on, threshold)
    with wh.write(user.name, "yearlist_rules",
                  f"{year} 年调度库按规则纳入（{on}；立项且总投资≥{threshold:g}万元；续建结转）") as con:
        n_carried = _admit(con, year, carried, date(year, 1, 1), user.name, "续建结转", f"{year - 1} 年续建结转")
        n_approved = _admit(con, year, approved, on, user.name, "立项≥门槛",
                            f"已完成立项且总投资≥{threshold:g}万元")
        _refresh(con, year, date(year, 1, 1))
    return {"续建结转": n_carried, "立项≥门槛": n_approved}


def _carried_over(con: duckdb.DuckDBPyConnection, year: int) -> list[str]:
    """The projects of year − 1's S at its end not completed by then (by their state on 31 December)."""
    at = states_at("$prev", "$end::DATE", ("stage", "completion_date"))
    rows = con.execute(
        f"""SELECT project_id FROM {at} x
            WHERE coalesce(stage, '') NOT IN {schema.DONE_STAGES_SQL} AND coalesce(stage, '') <> '储备'
              AND coalesce(completion_date, done_date) IS NULL
            ORDER BY project_id""",  # noqa: S608 (SQL of constants)
        {"prev": year - 1, "end": date(year - 1, 12, 31)}).fetchall()
    return [r[0] for r in rows]


def _approved(con: duckdb.DuckDBPyConnection, year: int, on: date, threshold: float) -> list[str]:
    """The year's projects with a state at on whose 立项 is done and 总投资 ≥ threshold."""
    at = states_at("$y", "$on::DATE", ("approval_status", "total_investment"))
    frame = query_frame(
        con, f"SELECT project_id, approval_status, total_investment FROM {at} x",  # noqa: S608 (constants)
        {"y": year, "on": on})
    if frame.is_empty():
        return []
    done = frame.with_columns(st=procedures.status_expr("approval_status")).filter(
        (pl.col("st") == procedures.DONE) & (pl.col("total_investment") >= threshold))
    return sorted(done["project_id"].to_list())


def admit_ledgers(con: duckdb.DuckDBPyConnection, loaded: list[tuple[Any, Any]], actor: str) -> None:
    """In a load's transaction: each 台账 loaded (a submission of layout ledger) admits its projects to its
    year's list from its report date. loaded: (Submission, LoadOutcome) pairs."""
    for sub, outcome in loaded:
        if getattr(sub, "layout", None) != "ledger" or outcome.submission_id is None:
            continue
        ids = [r[0] for r in con.execute(
            "SELECT DISTINCT project_id FROM reports WHERE submission_id = ?", [outcome.submission_id]).fetchall()]
        if ids:
            _admit(con, sub.report_date.year, ids, sub.report_date, actor, "台账",
                   f"{sub.file_name}（{sub.report_date}）", outcome.submission_id)


# ---- tiers across years -------------------------------------------------------------------------

def record_tier_changes(con: duckdb.DuckDBPyConnection, changes: pl.DataFrame, submission_id: int | None) -> None:
    """Keep the tier changes a load found (project_id, year, tier, previous_tier), in its transaction."""
    if changes.is_empty():
        return
    con.register("_tier_changes", changes.select("project_id", "year", "tier", "previous_tier"))
    try:
        con.execute(
            """DELETE FROM project_tiers WHERE (project_id, year) IN (SELECT project_id, year FROM _tier_changes)""")
        con.execute(
            """INSERT INTO project_tiers SELECT project_id, year, tier, previous_tier, $sub, now()::TIMESTAMP
               FROM _tier_changes""", {"sub": submission_id})
    finally:
        con.unregister("_tier_changes")
