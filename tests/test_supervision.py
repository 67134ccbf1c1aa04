"""督办单: issued, replied, sent back, replied again, closed; overdue; counts per region; permissions."""

from __future__ import annotations

from datetime import date

import pytest

from pipelines import auth
from pipelines.views import supervision as sv_view
from pipelines.warehouse import supervision as sv

ANALYST = auth.User("ana", "分析员")
ADMIN = auth.User("boss", "管理员")
XZ_CLERK = auth.User("xz_clerk", "报送员", "140900")
TY_CLERK = auth.User("ty_clerk", "报送员", "140100")
LEADER = auth.User("lead", "领导")
TODAY = date(2020, 3, 20)


def _audit(wh) -> list[tuple[str, str]]:
    with wh.read() as con:
        return con.execute("SELECT actor, action FROM audit_log ORDER BY logged_at").fetchall()


def test_lifecycle_with_send_back_and_audit(wh):
    with pytest.raises(sv.SupervisionRefused, match="不能下达督办单"):
        sv.issue(wh, LEADER, "140900", "请加快", date(2020, 3, 27), today=TODAY)
    with pytest.raises(sv.SupervisionRefused, match="早于今天"):
        sv.issue(wh, ANALYST, "140900", "请加快", date(2020, 3, 1), today=TODAY)
    oid = sv.issue(wh, ANALYST, "140900", "焦化余热发电项目进度滞后序时进度30个百分点以上，请说明原因及措施",
                   date(2020, 3, 27), projects=[("p1", "焦化余热发电技术改造项目")], source="红灯项目", today=TODAY)
    with pytest.raises(sv.SupervisionRefused, match="需先有单位回复"):
        sv.close(wh, ANALYST, oid)
    with pytest.raises(sv.SupervisionRefused, match="只能由该单位的报送员回复"):
        sv.reply(wh, TY_CLERK, oid, "太原的回复")
    sv.reply(wh, XZ_CLERK, oid, "已协调电力接入，预计4月上旬复工")
    with pytest.raises(sv.SupervisionRefused, match="只能由下达人"):
        sv.close(wh, auth.User("other", "分析员"), oid)
    sv.send_back(wh, ANALYST, oid, "请附具体时间表")
    with wh.read() as con:
        o = sv_view.orders(con, TODAY).row(0, named=True)
    assert (o["status"], o["returned_reason"], o["returns"], o["reply"]) == (
        "办理中", "请附具体时间表", 1, "已协调电力接入，预计4月上旬复工")
    sv.reply(wh, XZ_CLERK, oid, "4月5日前完成电力接入，4月10日复工")
    sv.close(wh, ANALYST, oid)
    with wh.read() as con:
        o = sv_view.orders(con, TODAY).row(0, named=True)
        notices = con.execute("SELECT kind, unit_code, subject, body FROM notices").fetchall()
    assert (o["state"], o["closed_by"], o["reply"], o["project_names"]) == (
        "已办结", "ana", "4月5日前完成电力接入，4月10日复工", ["焦化余热发电技术改造项目"])
    assert [a for a in _audit(wh)] == [
        ("ana", "supervision_issue"), ("xz_clerk", "supervision_reply"), ("ana", "supervision_return"),
        ("xz_clerk", "supervision_reply"), ("ana", "supervision_close")]
    assert len(notices) == 1 and notices[0][:2] == ("督办下达", "140900")
    assert "请忻州市于 2020-03-27 前书面回复" in notices[0][2] and "焦化余热发电技术改造项目" in notices[0][3]


def test_overdue_and_counts_per_region(wh):
    a = sv.issue(wh, ANALYST, "140900", "甲", date(2020, 3, 25), today=TODAY)
    b = sv.issue(wh, ADMIN, "140902", "乙（忻府区）", date(2020, 3, 30), today=TODAY)
    c = sv.issue(wh, ANALYST, "140100", "丙", date(2020, 3, 25), today=TODAY)
    sv.reply(wh, TY_CLERK, c, "已办")
    sv.close(wh, ANALYST, c)
    with wh.read() as con:
        later = sv_view.orders(con, date(2020, 3, 26))  # a's deadline passed without reply; b's not yet
        counts = sv_view.counts_by_region(later)
        xz_only = sv_view.orders(con, date(2020, 3, 26), city_codes=("140900",))
    assert dict(later.select("order_id", "state").rows()) == {a: "逾期", b: "办理中", c: "已办结"}
    assert counts.select("region", "open", "overdue", "closed").rows() == [("忻州市", 2, 1, 0), ("太原市", 0, 0, 1)]
    assert sv_view.totals(later) == {"open": 2, "overdue": 1, "closed": 1}
    assert set(xz_only["order_id"]) == {a, b}  # a county's order counts under its city
    with wh.write("t", "t") as con:
        assert sv.queue_overdue_notices(con, date(2020, 3, 26)) == 1
        assert sv.queue_overdue_notices(con, date(2020, 3, 27)) == 0  # once per order and deadline


def test_briefing_reports_supervision_orders(wh):
    from pipelines.outputs import briefing
    from tests.conftest import load_rows

    load_rows(wh, date(2020, 3, 13), [{"project_name": "甲", "city_code": "140900", "city_name": "忻州市",
                                       "tier": "市级千项", "stage": "在建"}])
    with wh.read() as con:
        assert not any("督办单" in s for s in briefing.collect(con, date(2020, 3, 13), today=TODAY).sentences)
    sv.issue(wh, ANALYST, "140900", "甲", date(2020, 3, 25), today=TODAY)
    sv.issue(wh, ANALYST, "140902", "乙", date(2020, 3, 30), today=TODAY)
    c = sv.issue(wh, ANALYST, "140100", "丙", date(2020, 3, 25), today=TODAY)
    sv.reply(wh, TY_CLERK, c, "已办")
    sv.close(wh, ANALYST, c)
    with wh.read() as con:
        data = briefing.collect(con, date(2020, 3, 13), today=date(2020, 3, 26))
        xz = briefing.collect(con, date(2020, 3, 13), today=date(2020, 3, 26),
                              filters=briefing.metrics.Filters(cities=("140100",)))
    assert data.sentences[-1] == "督办单：在办2件（其中逾期未回复1件），已办结1件；逾期较多的是忻州市（1件）。"
    assert xz.supervision == {"open": 0, "overdue": 0, "closed": 1}
    html = briefing.render_html(data, [])
    assert "督办单（在办2件，逾期未回复1件，已办结1件）" in html and "<td>忻州市</td>" in html


def test_the_page_lists_for_a_user_the_orders_the_warehouse_lets_them_act_on():
    """views.supervision.awaiting uses the warehouse's rule (may_reply / may_decide), the page none of its own."""
    import polars as pl

    orders = pl.DataFrame([
        {"order_id": 1, "unit_code": "140900", "status": "办理中", "issued_by": "ana"},
        {"order_id": 2, "unit_code": "140900", "status": "已回复", "issued_by": "ana"},
        {"order_id": 3, "unit_code": "140100", "status": "已回复", "issued_by": "bob"},
        {"order_id": 4, "unit_code": "140900", "status": "已办结", "issued_by": "ana"},
    ])
    ids = {name: sv_view.awaiting(orders, user)["order_id"].to_list() for name, user in {
        "xz": auth.User("xz", "报送员", "140900"), "ana": auth.User("ana", "分析员"), "admin": auth.User("root", "管理员"),
        "leader": auth.User("boss", "领导")}.items()}
    assert ids == {"xz": [1], "ana": [2], "admin": [1, 2, 3], "leader": []}
