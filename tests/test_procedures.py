"""前期手续 of the due-and-not-started projects: the free text read as done / pending / not needed /
unknown, the matrix by region and procedure (the demo's adds up to its overdue projects), and the
blocking procedure in the 亮灯清单, the 简报 and a 督办单 addressed to its department."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipelines import auth, metrics
from pipelines.views import procedures as pv
from pipelines.views import supervision as sv_view
from pipelines.vocab import procedures as P
from pipelines.warehouse import supervision
from pipelines.warehouse.store import Warehouse
from tests.conftest import APP_DATES, app_rows, load_rows

D0 = APP_DATES[0]  # 2020-03-06: 新型建材生产线项目 is overdue (planned 03-01, 环评手续办理中)


@pytest.mark.parametrize(("text", "status"), [
    ("已办结", "done"), ("已取得土地证", "done"), ("已完成", "done"), ("已批复", "done"),
    ("正在办理", "pending"), ("办理中", "pending"), ("未办理", "pending"), ("待批复", "pending"), ("未办结", "pending"),
    ("不需要", "not_needed"), ("无需办理", "not_needed"), ("不涉及", "not_needed"),
    (None, "unknown"), ("", "unknown"), ("见附件", "unknown"),
])
def test_the_free_text_is_read(text, status):
    assert P.status_of(text) == status


def _procedure_rows(week: int) -> list[dict]:
    rows = app_rows(week)
    rows[1] = {**rows[1], "approval_status": "已批复", "land_status": "不涉及", "planning_status": "正在办理",
               "eia_status": "未办"}
    return rows


@pytest.fixture
def proc_wh(wh):
    load_rows(wh, D0, _procedure_rows(0), file_name="周报_0306.csv")
    return wh


def test_blocking_procedure_of_a_fixture_project(proc_wh):
    view = metrics.View(D0, 2020)
    with proc_wh.read() as con:
        over = pv.overdue_procedures(con, view)
        page = pv.lights_page(con, view)
        m = pv.matrix(con, view)
    assert over.select("project_name", "approval_status_state", "land_status_state", "planning_status_state",
                       "eia_status_state", "blocking").rows() == [
        ("新型建材生产线项目", "done", "not_needed", "pending", "pending", "planning_status")]
    # the first pending one in the order 立项, 土地, 规划, 环评: 规划, owned by 自然资源/住建
    shown = pv.lit_shown(page.lit)
    row = shown.filter(shown["项目名称"] == "新型建材生产线项目").row(0, named=True)
    assert row[pv.BLOCKING_HEADER] == "规划（自然资源/住建）"
    assert m.filter(m["region"] == "太原市").select("procedure", *P.STATUSES, "total").rows() == [
        ("立项", 1, 0, 0, 0, 1), ("土地", 0, 0, 1, 0, 1), ("规划", 0, 1, 0, 0, 1), ("环评", 0, 1, 0, 0, 1)]


def test_briefing_names_the_blocking_procedure(proc_wh):
    from pipelines.outputs import briefing

    with proc_wh.read() as con:
        data = briefing.collect(con, D0, today=date(2020, 3, 6))
    assert data.overdue.select("project_name", "blocking_procedure").rows() == [
        ("新型建材生产线项目", "规划（自然资源/住建）")]
    html = briefing.render_html(data, [])
    assert "待办前期手续" in html and "规划（自然资源/住建）" in html


def test_an_order_about_it_goes_to_the_owning_department(proc_wh):
    view = metrics.View(D0, 2020)
    with proc_wh.read() as con:
        cands = sv_view.candidates(con, view, "140100")
    over = cands.filter(cands["source"] == "逾期未开工")
    assert over.select("project_name", "why", "department").rows() == [
        ("新型建材生产线项目", "环评手续办理中；待办手续：规划（自然资源/住建）", "自然资源/住建")]
    dept = pv.department_for(over.to_dicts())
    oid = supervision.issue(proc_wh, auth.User("ana", "分析员"), "140100", "请加快办理前期手续", date(2020, 3, 20),
                            projects=[(over["project_id"][0], over["project_name"][0])], source="逾期未开工",
                            today=date(2020, 3, 6), department=dept)
    with proc_wh.read() as con:
        o = sv_view.orders(con, date(2020, 3, 6)).row(0, named=True)
        body = con.execute("SELECT body FROM notices").fetchone()[0]
    assert o["order_id"] == oid and o["text"] == "主送：太原市自然资源/住建部门。请加快办理前期手续"
    assert "自然资源/住建部门" in body


def test_demo_matrix_adds_up_to_its_overdue_projects(demo_db: Path):
    wh = Warehouse(demo_db)
    as_of = date(2020, 3, 31)
    view = metrics.View(as_of, 2020)
    with wh.read() as con:
        m = pv.matrix(con, view)
        by_city = {r["group"]: r["overdue"] for r in metrics.figures_by(con, as_of, ("city",))["city"]}
        overdue = metrics.figures_by(con, as_of, (None,))[None][0]["overdue"]
    assert overdue > 0
    whole = m.filter(m["region"] == "合计")
    assert whole["procedure"].to_list() == ["立项", "土地", "规划", "环评"]
    assert whole["total"].to_list() == [overdue] * 4
    sums = m.select(sum(m[s] for s in P.STATUSES).alias("n"), "total")
    assert (sums["n"] == sums["total"]).all()  # every row: done + pending + not needed + unknown
    regions = m.filter((m["region"] != "合计") & (m["procedure"] == "立项"))
    assert dict(regions.select("region", "total").iter_rows()) == {k: v for k, v in by_city.items() if v}
    # the demo writes every procedure of its overdue projects: none unknown, some pending
    assert whole["unknown"].sum() == 0 and whole["pending"].sum() > 0
