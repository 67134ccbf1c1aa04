"""责任领导 per project (issue 31 §2): read from a 台账, stored, edited by a 管理员, filtered, grouped,
and a notice to the leader when a project turns red (once per turn-red)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from pipelines import auth
from pipelines.ingest.read import read_submission
from pipelines.ingest.result import ReadOptions
from pipelines.outputs import leader_notices, notify
from pipelines.views import leaders
from pipelines.warehouse import leaders as leader_edits
from pipelines.warehouse.store import Submission, Warehouse
from tests.conftest import load_rows
from tests.make_samples import LEDGER, LEDGER_HEADER, _ledger_cells
from tests.test_lights import DATES, rows
from tests.test_notify import SmtpSink

LEADERS = ["王副市长", "李副市长", "王副市长", "", "赵县长", "李副市长", "王副市长"]


def _ledger_with_leaders(path: Path) -> None:
    """ledger.xlsx's projects (tests/make_samples.py) with 包保领导, 责任单位 and 联系人 columns added."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("台账")
    ws.write_string(0, 0, "山西省工业转型升级重点项目台账")
    ws.write_string(1, 0, "单位：万元")
    for j, h in enumerate([*LEDGER_HEADER, "包保领导", "责任单位", "联系人"]):
        ws.write_string(2, j, h)
    for i, t in enumerate(LEDGER):
        extra = [LEADERS[i % len(LEADERS)], f"市工信局{i % 2 + 1}科", f"联系人{i} 1390000000{i}"]
        for j, v in enumerate([*_ledger_cells(t), *extra]):
            if v not in ("", None):
                ws.write_string(3 + i, j, v)
    wb.close()


def test_ledger_with_leader_columns_is_read_stored_and_filterable(wh: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "台账_包保领导.xlsx"
    _ledger_with_leaders(path)
    r = read_submission(path, path.name, ReadOptions(tier="省级双百·技改", report_date=date(2020, 2, 14)))
    assert (r.layout, r.errors) == ("ledger", [])  # 责任单位 does not make it a 谋划项目表
    n = r.frame.height
    assert n == len(LEDGER)
    want = [LEADERS[i % len(LEADERS)] or None for i in range(n)]
    assert r.frame["leader"].to_list() == want
    assert r.frame["lead_unit"].to_list() == [f"市工信局{i % 2 + 1}科" for i in range(n)]
    assert r.frame["contact"][0] == "联系人0 13900000000"
    assert {"leader", "lead_unit", "contact"} <= set(r.present_fields)

    wh.load([Submission(path.name, r.frame, r.report_date, raw=path.read_bytes(), layout=r.layout,
                        present_fields=r.present_fields, tier="省级双百·技改")])
    with wh.read() as con:
        stored = leaders.project_leaders(con)
        names = dict(con.execute("SELECT project_name, project_id FROM reports").fetchall())
        assert leaders.leader_names(con) == sorted({x for x in want if x})
        mine = leaders.of_leader(con, pl.DataFrame({"project_id": list(names.values())}), ["王副市长"])
    by_name = {names_k: stored.filter(pl.col("project_id") == pid).row(0, named=True) for names_k, pid in names.items()}
    first = LEDGER[0][0]
    assert by_name[first]["leader"] == "王副市长" and by_name[first]["lead_unit"] == "市工信局1科"
    assert mine.height == want.count("王副市长")
    assert set(mine["leader"]) == {"王副市长"}

    # a 管理员 corrects one project's leader; the edit wins over the 台账's, others keep theirs
    pid = names[first]
    with pytest.raises(leader_edits.LeaderRefused):
        leader_edits.set_leader(wh, auth.User("c", "报送员", "140100"), pid, "钱书记")
    leader_edits.set_leader(wh, auth.User("root", "管理员"), pid, " 钱书记 ", "市发改委", "")
    with wh.read() as con:
        got = leaders.project_leaders(con).filter(pl.col("project_id") == pid).row(0, named=True)
        assert (got["leader"], got["lead_unit"], got["contact"]) == ("钱书记", "市发改委", None)
        assert leaders.of_leader(con, pl.DataFrame({"project_id": [pid]}), ["王副市长"]).height == 0
        audit = con.execute("SELECT actor FROM audit_log WHERE action = 'set_leader'").fetchall()
    assert audit == [("root",)]


def test_lit_list_grouped_by_leader(wh: Warehouse) -> None:
    load_rows(wh, date(2020, 3, 6), [
        {"project_name": "甲", "city_code": "140100", "city_name": "太原市", "tier": "其他", "leader": "张三"},
        {"project_name": "乙", "city_code": "140100", "city_name": "太原市", "tier": "其他", "leader": "李四"},
        {"project_name": "丙", "city_code": "140100", "city_name": "太原市", "tier": "其他", "leader": None},
        {"project_name": "丁", "city_code": "140100", "city_name": "太原市", "tier": "其他", "leader": "张三"},
    ])
    with wh.read() as con:
        ids = dict(con.execute("SELECT project_name, project_id FROM reports").fetchall())
        frame = pl.DataFrame({"project_id": [ids[x] for x in "丙乙甲丁"], "project_name": list("丙乙甲丁")})
        got = leaders.by_leader(con, frame)
    assert got.select("leader", "project_name").rows() == [
        ("李四", "乙"), ("张三", "甲"), ("张三", "丁"), (leaders.NO_LEADER, "丙")]


@pytest.fixture
def sink():
    s = SmtpSink()
    yield s
    s.stop()


def test_leader_gets_one_notice_when_a_project_turns_red(wh: Warehouse, sink: SmtpSink) -> None:
    """tests/test_lights.py's projects: G3进度严重滞后 turns red on 04-30 (yellow before), S1未入统 is red
    from 03-31; G3 has a leader, S1 has another, the others none."""
    lead = {"G3进度严重滞后": "孙副县长", "S1未入统": "周副市长"}
    conf = {"timeout": 5, "max_attempts": 2,
            "smtp": {"host": "127.0.0.1", "port": sink.port, "sender": "kaigong@example.gov.cn",
                     "to": {leader_notices.address("孙副县长"): ["sun@example.gov.cn"],
                            leader_notices.address("周副市长"): ["zhou@example.gov.cn"]}}}
    for d in DATES[:4]:  # up to 04-01: G3 is yellow, S1 red
        load_rows(wh, d, [{**r, "leader": lead.get(r["project_name"])} for r in rows(d)], file_name=f"l_{d:%m%d}.csv")
    notify.run(wh, date(2020, 4, 1), conf)
    assert [(rcpt, m["Subject"]) for rcpt, m in sink.messages] == [
        (["zhou@example.gov.cn"], "【开工】您包保的项目亮红灯：S1未入统")]
    body = sink.messages[0][1].get_content()
    assert "自 2020-03-31 起亮红灯" in body and "满2个月未入统" in body
    notify.run(wh, date(2020, 4, 1), conf)  # still red: no second notice
    assert len(sink.messages) == 1
    d = DATES[4]
    load_rows(wh, d, [{**r, "leader": lead.get(r["project_name"])} for r in rows(d)], file_name=f"l_{d:%m%d}.csv")
    notify.run(wh, date(2020, 4, 30), conf)  # G3 turns red; S1 still red
    assert [(rcpt, m["Subject"]) for rcpt, m in sink.messages[1:]] == [
        (["sun@example.gov.cn"], "【开工】您包保的项目亮红灯：G3进度严重滞后")]
    notify.run(wh, date(2020, 5, 6), conf)
    assert len(sink.messages) == 2
    with wh.read() as con:
        kinds = con.execute("SELECT kind, unit_code, status FROM notices ORDER BY notice_id").fetchall()
    assert kinds == [("红灯", "领导:周副市长", "已发送"), ("红灯", "领导:孙副县长", "已发送")]
