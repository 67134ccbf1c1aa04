"""问题清单 by hand: when each open problem was first raised, and the closed (销号) list."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date

import pytest
from pypdf import PdfReader

from pipelines import auth
from pipelines.metrics import View
from pipelines.outputs import briefing
from pipelines.views import problems
from pipelines.warehouse import problems as closures
from pipelines.warehouse.store import Warehouse
from tests.conftest import APP_DATES, ROOT, build_app_db, load_rows

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
    closures.close_problem(wh, auth.LOCAL, a_id, "用地", "张三", "已协调")
    with wh.read() as con:
        still = problems.open_problems(con, view)
        closed = problems.closed_problems(con)
    assert sorted(still["project_name"].to_list()) == ["B项目", "C项目", "E项目"]
    assert closed.select("project_id", "project_name", "problem", "closed_by", "note").rows() == [
        (a_id, "A项目", "用地", "张三", "已协调")]


@pytest.mark.xdist_group("chromium")  # the briefing's charts use kaleido's browser: one worker at a time
def test_after_a_closure_the_page_the_briefing_and_the_cli_briefing_agree(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    wh = Warehouse(build_app_db(tmp_path / "app.duckdb"))
    as_of = APP_DATES[-1]
    with wh.read() as con:  # the app database: two open problems at 03-13
        assert briefing.collect(con, as_of).problems.height == 2
        [(land_id,)] = con.execute("SELECT DISTINCT project_id FROM reports WHERE problem = '用地指标未落实'").fetchall()
    closures.close_problem(wh, auth.LOCAL, land_id, "用地指标未落实", "张三", "已协调")
    left = ["电力接入需协调"]

    # the 问题清单 page
    monkeypatch.setenv("KAIGONG_DB", str(wh.path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/problems.py").run()
    assert not at.exception, [e.value for e in at.exception]
    [shown] = [df.value for df in at.dataframe if "已挂天数" in df.value.columns]
    assert shown["存在问题"].to_list() == left
    assert [m.value for m in at.metric if m.label == "待协调问题"] == ["1 个"]

    # the briefing's data: the same one definition of an open problem
    with wh.read() as con:
        assert problems.open_problems(con, View(as_of, 2020))["problem"].to_list() == left
        assert briefing.collect(con, as_of).problems["problem"].to_list() == left

    # `kaigong brief`: the PDF's 需协调解决的问题 lists the open one only
    out = tmp_path / "简报.pdf"
    subprocess.run([sys.executable, "-m", "pipelines.cli", "--db", str(wh.path), "brief", "--as-of",
                    as_of.isoformat(), "--out", str(out)], capture_output=True, text=True, cwd=ROOT, check=True,
                   timeout=300)
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(out).pages))
    assert "需协调解决的问题（1项）" in text
    assert "电力接入需协调" in text and "用地指标未落实" not in text
    assert "建议解决部门已挂天数" in text and "省能源局7" in text  # its age, as the page shows it


def test_the_audit_names_the_signed_in_user_not_the_typed_handler(tmp_path, monkeypatch):
    """销号 on the page as the signed-in 管理员 「admin」 with 「李四」 typed as 经办人: the closure says 李四
    handled it, the audit log says admin made the write (a typed name is never the audit actor)."""
    from streamlit.testing.v1 import AppTest

    wh = Warehouse(build_app_db(tmp_path / "app.duckdb"))
    users = tmp_path / "users.json"
    auth.add_user("admin", "admin-pass-word", "管理员", path=users)
    monkeypatch.setenv("KAIGONG_USERS", str(users))
    monkeypatch.setenv("KAIGONG_DB", str(wh.path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.text_input(key="signin_name").input("admin")
    at.text_input(key="signin_password").input("admin-pass-word")
    at.button[0].click().run()
    at.switch_page("pages/problems.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.session_state["problems_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.text_input(key="problems_closed_by").input("李四")
    at.text_input(key="problems_note").input("已协调")
    [confirm] = [b for b in at.button if b.label == "确认销号"]
    confirm.click().run()
    assert not at.exception, [e.value for e in at.exception]
    with wh.read() as con:
        closed = con.execute("SELECT closed_by, note FROM problem_closures").fetchall()
        audit = con.execute("SELECT actor, detail FROM audit_log WHERE action = 'close_problem'").fetchall()
    assert closed == [("李四", "已协调")]
    [(actor, detail)] = audit
    assert actor == "admin" and "李四" in detail


def test_only_an_administrator_closes_and_a_handler_is_named(wh):
    load_rows(wh, date(2020, 3, 6), [proj("A项目", problem="用地")])
    with wh.read() as con:
        [(a_id,)] = con.execute("SELECT project_id FROM projects").fetchall()
    with pytest.raises(closures.ClosureRefused, match="无权销号"):
        closures.close_problem(wh, auth.User("ana", "分析员"), a_id, "用地", "张三")
    with pytest.raises(closures.ClosureRefused, match="经办人"):
        closures.close_problem(wh, auth.User("root", "管理员"), a_id, "用地", "  ")
    closures.close_problem(wh, auth.User("root", "管理员"), a_id, "用地", " 张三 ")
    with wh.read() as con:
        assert con.execute("SELECT closed_by FROM problem_closures").fetchall() == [("张三",)]
        assert con.execute("SELECT actor FROM audit_log WHERE action = 'close_problem'").fetchall() == [("root",)]
