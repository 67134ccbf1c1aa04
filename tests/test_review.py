"""审核 / 退回: a 报送员's file waits as 待审核, counts only once the 审核员 of its city approves it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pipelines import auth, metrics
from pipelines.views import review_status
from pipelines.vocab.findings import SubmissionRefused
from pipelines.warehouse import review
from pipelines.warehouse.store import Submission, Warehouse
from tests.conftest import build_app_db

D = date(2020, 3, 20)
XZ = {"city_code": "140900", "city_name": "忻州市", "county_code": "140902", "county_name": "忻府区"}


@pytest.fixture
def loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    users = tmp_path / "users.json"
    monkeypatch.setenv("KAIGONG_USERS", str(users))
    monkeypatch.setenv("KAIGONG_REVIEW", "review")
    u = {
        "clerk": auth.add_user("xz_clerk", "pass-word-1", "报送员", "忻州市", path=users),
        "xz": auth.add_user("xz_review", "pass-word-2", "审核员", "忻州市", path=users),
        "ty": auth.add_user("ty_review", "pass-word-3", "审核员", "太原市", path=users),
        "prov": auth.add_user("sx_review", "pass-word-4", "审核员", path=users),
        "admin": auth.add_user("admin", "pass-word-5", "管理员", path=users),
    }
    return {"wh": Warehouse(build_app_db(tmp_path / "r.duckdb")), **u}


def _week(ytd: float, name: str = "焦化余热发电技术改造项目") -> Submission:
    frame = pl.DataFrame([{**XZ, "project_name": name, "tier": "省级双百·技改", "stage": "续建",
                           "ytd_completed": ytd, "source_row": 4}])
    return Submission(f"忻州周报_{ytd:.0f}.csv", frame, D, raw=f"xz{ytd}".encode(),
                      present_fields=("stage", "ytd_completed", "county_code", "county_name", "tier"))


def _figures(wh: Warehouse) -> tuple[float, int, int]:
    with wh.read() as con:
        t = metrics.total(con, D)
        reports = con.execute("SELECT count(*) FROM reports").fetchall()[0][0]
        cells = con.execute("SELECT count(*) FROM figure_cells WHERE as_of = ?", [D]).fetchall()[0][0]
    return t["ytd_completed"], reports, cells


def test_review_mode_from_env_and_database_setting(loop, monkeypatch):
    wh = loop["wh"]
    assert review.needs_review(wh, loop["clerk"]) and not review.needs_review(wh, loop["admin"])
    monkeypatch.setenv("KAIGONG_REVIEW", "city=direct,county=review")
    assert not review.needs_review(wh, loop["clerk"])  # the clerk of a city: direct
    assert review.needs_review(wh, auth.User("c", "报送员", "140902"))  # a county's clerk: reviewed
    review.set_mode(wh, "review", "admin")  # the database's setting wins over the environment
    assert review.needs_review(wh, loop["clerk"])
    with pytest.raises(ValueError, match="审核模式"):
        review.parse_mode("city=maybe")
    monkeypatch.setenv("KAIGONG_USERS", str(Path(wh.path).parent / "none.json"))
    assert not review.needs_review(wh, loop["clerk"])  # local mode is always direct


def test_pending_counts_nowhere_until_approved_and_permissions(loop):
    wh = loop["wh"]
    before = _figures(wh)
    assert before == (10500.0, 8, 0)  # 4000 + 500 + 6000 + 0 万元 at 03-13; no report at 03-20 yet
    [p] = review.submit(wh, [_week(9000.0)], loop["clerk"])
    assert _figures(wh) == before  # 待审核: no figure, report or cell
    with wh.read() as con:
        assert review_status.awaiting(con, loop["ty"]).is_empty()  # 太原's 审核员 does not see 忻州's
        assert review_status.awaiting(con, loop["xz"])["pending_id"].to_list() == [p.pending_id]
        assert review_status.awaiting(con, loop["prov"])["pending_id"].to_list() == [p.pending_id]
        assert review_status.awaiting(con, loop["clerk"]).is_empty()
    with pytest.raises(review.ReviewRefused, match="不能审核"):
        review.approve(wh, p.pending_id, loop["clerk"])
    with pytest.raises(review.ReviewRefused, match=r"只能审核本市的报送.*忻州市"):
        review.approve(wh, p.pending_id, loop["ty"])
    assert _figures(wh) == before
    outcome = review.approve(wh, p.pending_id, loop["xz"])
    assert outcome.status == "loaded"
    # 焦化余热: 6000 → 9000 at 03-20; the other three carried forward: 4000 + 500 + 0 + 9000
    ytd, reports, cells = _figures(wh)
    assert (ytd, reports) == (13500.0, 9) and cells > 0
    with wh.read() as con:
        row = con.execute("SELECT status, reviewed_by, submission_id FROM pending_submissions").fetchall()[0]
        assert row == ("已通过", "xz_review", outcome.submission_id)
        log = con.execute("SELECT actor, action FROM audit_log ORDER BY logged_at").fetchall()[-3:]
        assert log == [("xz_clerk", "review_submit"), ("xz_review", "review_approve"), ("xz_clerk", "load")]
        assert con.execute("SELECT loaded_by FROM submissions WHERE submission_id = ?",
                           [outcome.submission_id]).fetchall() == [("xz_clerk",)]
    with pytest.raises(review.ReviewRefused, match="已通过"):
        review.approve(wh, p.pending_id, loop["xz"])  # once only


def test_send_back_keeps_figures_and_queues_a_notice(loop):
    wh = loop["wh"]
    before = _figures(wh)
    [p] = review.submit(wh, [_week(1.0)], loop["clerk"])
    with pytest.raises(review.ReviewRefused, match="原因"):
        review.send_back(wh, p.pending_id, loop["xz"], "  ")
    with pytest.raises(review.ReviewRefused):
        review.send_back(wh, p.pending_id, loop["ty"], "数字有误")
    review.send_back(wh, p.pending_id, loop["xz"], "本年累计完成投资明显偏小，请核实")
    assert _figures(wh) == before
    with wh.read() as con:
        mine = review_status.listing(con, submitted_by="xz_clerk")
        assert mine.select("status", "reason").rows() == [("已退回", "本年累计完成投资明显偏小，请核实")]
        notices = con.execute("SELECT kind, unit_code, subject, body, status FROM notices").fetchall()
        assert len(notices) == 1 and notices[0][:2] == ("退回", "140900") and notices[0][4] == "待发送"
        assert "忻州市报送被退回" in notices[0][2] and "本年累计完成投资明显偏小，请核实" in notices[0][3]
        assert con.execute("SELECT actor, action FROM audit_log ORDER BY logged_at DESC LIMIT 1").fetchall() == [
            ("xz_review", "review_return")]
    with pytest.raises(review.ReviewRefused, match="已退回"):
        review.approve(wh, p.pending_id, loop["xz"])


def test_later_file_replaces_a_pending_one_and_rows_elsewhere_are_refused(loop):
    wh = loop["wh"]
    [first] = review.submit(wh, [_week(7000.0)], loop["clerk"])
    [second] = review.submit(wh, [_week(8000.0)], loop["clerk"])
    assert second.replaced == [first.pending_id] and "替换了同期未审核的报送" in second.summary_zh()
    with wh.read() as con:
        assert dict(review_status.listing(con).select("pending_id", "status").rows()) == {
            first.pending_id: "已替换", second.pending_id: "待审核"}
        staged = review.pending_submission(con, second.pending_id)
        assert staged.frame["ytd_completed"].to_list() == [8000.0]
    with pytest.raises(review.ReviewRefused, match="已替换"):
        review.approve(wh, first.pending_id, loop["xz"])
    review.approve(wh, second.pending_id, loop["prov"])  # the province's 审核员 reviews every city
    assert _figures(wh)[0] == 12500.0
    ty = pl.DataFrame([{"city_code": "140100", "city_name": "太原市", "project_name": "太原项目", "tier": "市级千项",
                        "source_row": 7}])
    with pytest.raises(SubmissionRefused) as exc:
        review.submit(wh, [Submission("x.csv", ty, D, raw=b"t", present_fields=("tier",))], loop["clerk"])
    assert [(e.row, e.message) for e in exc.value.errors] == [(7, "该行项目不属于您负责报送的地区")]


def test_send_back_on_the_page_and_the_clerk_reads_the_reason(loop, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    monkeypatch.setenv("KAIGONG_DB", str(loop["wh"].path))
    review.submit(loop["wh"], [_week(1.0)], loop["clerk"])

    def signed_in(name: str, password: str) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.run()
        at.text_input(key="signin_name").input(name)
        at.text_input(key="signin_password").input(password)
        at.button[0].click().run()
        at.switch_page("pages/submissions.py").run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    ty = signed_in("ty_review", "pass-word-3")
    assert any("没有待审核的报送" in c.value for c in ty.caption)  # 太原's 审核员 sees nothing of 忻州
    at = signed_in("xz_review", "pass-word-2")
    at.button(key="submissions_send_back").click().run()
    assert any("退回需要填写原因" in e.value for e in at.error)
    at.text_input(key="submissions_review_reason").input("本年累计完成投资有误").run()
    at.button(key="submissions_send_back").click().run()
    assert any("已退回" in s.value for s in at.success)
    clerk = signed_in("xz_clerk", "pass-word-1")
    assert any("：已退回（xz_review" in w.value and "退回原因：本年累计完成投资有误" in w.value for w in clerk.warning)
    with loop["wh"].read() as con:
        assert con.execute("SELECT count(*) FROM reports WHERE report_date = ?", [D]).fetchall() == [(0,)]


def test_backup_keeps_pending_submissions(loop, tmp_path):
    from pipelines.warehouse.backup import backup, restore

    [p] = review.submit(loop["wh"], [_week(9000.0)], loop["clerk"])
    backup(loop["wh"], tmp_path / "bk")
    restore(tmp_path / "bk", tmp_path / "again.duckdb")
    again = Warehouse(tmp_path / "again.duckdb")
    review.approve(again, p.pending_id, loop["xz"])  # the restored copy can still approve it
    assert _figures(again)[0] == 13500.0
