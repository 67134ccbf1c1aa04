"""问题清单 by hand: when each open problem was first raised, and the closed (销号) list."""

from __future__ import annotations

from datetime import date

from pipelines import problems
from pipelines.metrics import View
from tests.conftest import load_rows

TY = ("140100", "太原市")


def proj(name: str, **kw):
    return {"project_name": name, "city_code": TY[0], "city_name": TY[1], "tier": "市级千项", "stage": "在建", **kw}


def test_open_problems_date_each_from_its_first_report_and_closed_ones_leave(wh):
    load_rows(wh, date(2019, 12, 27), [proj("E项目", problem="手续")])
    load_rows(wh, date(2020, 3, 6), [
        proj("A项目", problem="用地", problem_department="自然资源"),
        proj("B项目", problem="资金"),
        proj("C项目", problem="环评"),
        proj("D项目", problem="  "),
        proj("E项目", problem="手续"),
    ])
    # B's problem changes; C's weekly report does not carry the problem column (it stays)
    load_rows(wh, date(2020, 3, 13), [proj("A项目", problem="用地"), proj("B项目", problem="电力")])
    load_rows(wh, date(2020, 3, 13), [proj("C项目", ytd_completed=1.0)], file_name="周报_C.csv",
              present=("ytd_completed",))
    view = View(as_of=date(2020, 3, 13), year=2020)
    with wh.read() as con:
        got = problems.open_problems(con, view)
    raised = dict(zip(got["project_name"].to_list(), got["raised_on"].to_list(), strict=True))
    # E's 2019 report counts: first raised is the first report stating it, in any year
    assert raised == {"A项目": date(2020, 3, 6), "B项目": date(2020, 3, 13), "C项目": date(2020, 3, 6),
                      "E项目": date(2019, 12, 27)}
    assert dict(zip(got["project_name"].to_list(), got["age_days"].to_list(), strict=True))["E项目"] == 77
    with wh.read() as con:
        a_id = con.execute("SELECT project_id FROM projects WHERE name_norm = 'A项目'").fetchall()[0][0]
        assert problems.closed_problems(con).is_empty()
    problems.close_problem(wh, a_id, "用地", "张三", "已协调")
    with wh.read() as con:
        still = problems.open_problems(con, view)
        closed = problems.closed_problems(con)
    assert sorted(still["project_name"].to_list()) == ["B项目", "C项目", "E项目"]
    assert closed.select("project_id", "project_name", "problem", "closed_by", "note").rows() == [
        (a_id, "A项目", "用地", "张三", "已协调")]
