"""责任领导 on the pages (issue 31 §2): the sidebar's 责任领导 filter, 「我的项目」 for a linked 领导,
the 亮灯清单 grouped by leader, a project's leader on 项目台账."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines import auth
from pipelines.warehouse import leaders as leader_edits
from pipelines.warehouse.store import Warehouse
from tests.conftest import ROOT, build_app_db
from tests.test_app import metrics_of, sign_in

APP = str(ROOT / "app.py")
LEAD = {"芯片封装测试基地项目": "王副市长", "焦化余热发电技术改造项目": "王副市长", "新型建材生产线项目": "李副市长"}


@pytest.fixture
def led_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = build_app_db(tmp_path / "led.duckdb")
    wh = Warehouse(path)
    with wh.read() as con:
        ids = dict(con.execute("SELECT DISTINCT project_name, project_id FROM reports").fetchall())
    for name, leader in LEAD.items():
        leader_edits.set_leader(wh, auth.User("root", "管理员"), ids[name], leader, "市工信局")
    monkeypatch.setenv("KAIGONG_DB", str(path))
    return path


def _run(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_leader_filter_narrows_the_figures(led_db) -> None:
    at = _run()
    box = at.multiselect(key="sidebar_leader")
    assert box.options == ["李副市长", "王副市长"]
    assert metrics_of(at)["项目数（个）"] == "4"
    box.set_value(["王副市长"]).run()
    assert not at.exception, [e.value for e in at.exception]
    m = metrics_of(at)
    assert (m["项目数（个）"], m["总投资（亿元）"]) == ("2", "17.00")  # 5.00 + 12.00 亿
    assert at.query_params.get("leader") in ("王副市长", ["王副市长"])


def test_my_projects_for_a_linked_leader(led_db, tmp_path, monkeypatch) -> None:
    users = tmp_path / "users.json"
    auth.add_user("li", "li-pass-word", "领导", path=users, leader_name="李副市长")
    monkeypatch.setenv("KAIGONG_USERS", str(users))
    at = sign_in(_run(), "li", "li-pass-word")
    assert metrics_of(at)["项目数（个）"] == "4"
    at.toggle(key="sidebar_mine").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    m = metrics_of(at)
    assert (m["项目数（个）"], m["总投资（亿元）"]) == ("1", "0.80")


def test_lit_list_grouped_by_leader_on_the_page(led_db) -> None:
    at = _run("pages/lights.py")
    toggle = at.toggle(key="lights_by_leader")
    toggle.set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    frames = [df.value for df in at.dataframe if "责任领导" in df.value.columns]
    assert frames, "the grouped list has a 责任领导 column"
    got = frames[0]
    assert list(got["责任领导"]) == ["李副市长", "（未明确责任领导）"]  # 新型建材 (李) and 杂粮 (none) are yellow


def test_supervision_orders_grouped_by_leader(led_db) -> None:
    from datetime import date

    from pipelines.views import leaders
    from pipelines.warehouse import supervision as sv

    wh = Warehouse(led_db)
    with wh.read() as con:
        ids = dict(con.execute("SELECT DISTINCT project_name, project_id FROM reports").fetchall())
    ana = auth.User("ana", "分析员")
    today = date(2020, 3, 20)
    both = sv.issue(wh, ana, "140100", "说明两个项目进展", date(2020, 3, 27), source="红灯项目", today=today,
                    projects=[(ids["芯片封装测试基地项目"], "芯片封装测试基地项目"), (ids["新型建材生产线项目"], "新型建材生产线项目")])
    none = sv.issue(wh, ana, "140900", "说明杂粮项目", date(2020, 3, 27), source="其他", today=today,
                    projects=[(ids["杂粮深加工项目"], "杂粮深加工项目")])
    wang = sv.issue(wh, ana, "140900", "说明焦化项目", date(2020, 3, 27), source="其他", today=today,
                    projects=[(ids["焦化余热发电技术改造项目"], "焦化余热发电技术改造项目")])
    with wh.read() as con:
        got = leaders.orders_by_leader(con, ana, today)
    assert got.columns[0] == "责任领导"
    assert got.select("责任领导", "编号").rows() == [
        ("李副市长", both), ("王副市长", wang), ("王副市长", both), (leaders.NO_LEADER, none)]
    at = _run("pages/supervision.py")
    at.toggle(key="supervision_by_leader").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    assert next(df.value for df in at.dataframe if "责任领导" in df.value.columns)["编号"].tolist() == [both, wang, both, none]
