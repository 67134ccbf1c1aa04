"""A period that closes (issue 31 §3): a 报送员's file after the deadline is a 更正 waiting for 审核,
whatever the review mode, with the deadline named; an on-time file follows the review mode."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from pipelines import auth
from pipelines.outputs import notify
from pipelines.views import submissions
from pipelines.warehouse import deadlines, intake, issued, review
from pipelines.warehouse.store import Submission, Warehouse
from tests.conftest import build_app_db, load_rows

D = date(2020, 6, 26)  # a Friday: the weekly report is due Monday 2020-06-29 12:00
XZ = {"city_code": "140900", "city_name": "忻州市", "county_code": "140902", "county_name": "忻府区"}


@pytest.fixture
def loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    users = tmp_path / "users.json"
    monkeypatch.setenv("KAIGONG_USERS", str(users))
    monkeypatch.setenv("KAIGONG_REVIEW", "direct")  # review off: only a late file is reviewed
    u = {
        "clerk": auth.add_user("xz_clerk", "pass-word-1", "报送员", "忻州市", path=users),
        "county": auth.add_user("xf_clerk", "pass-word-6", "报送员", "忻府区", path=users),
        "xz": auth.add_user("xz_review", "pass-word-2", "审核员", "忻州市", path=users),
        "admin": auth.add_user("admin", "pass-word-5", "管理员", path=users),
    }
    wh = Warehouse(build_app_db(tmp_path / "r.duckdb"))
    deadlines.set_rules(wh, "city=mon@12:00,county=mon@12:00+2h", "admin")
    return {"wh": wh, **u}


def _week(d: date, ytd: float) -> Submission:
    frame = pl.DataFrame([{**XZ, "project_name": "焦化余热发电技术改造项目", "tier": "省级双百·技改", "stage": "续建",
                           "ytd_completed": ytd, "source_row": 4}])
    return Submission(f"忻州周报_{d:%m%d}_{ytd:.0f}.csv", frame, d, raw=f"xz{d}{ytd}".encode(),
                      present_fields=("stage", "ytd_completed", "county_code", "county_name", "tier"))


def _reports(wh: Warehouse, d: date) -> int:
    with wh.read() as con:
        return con.execute("SELECT count(*) FROM reports WHERE report_date = ?", [d]).fetchall()[0][0]


def test_rules_parse_and_name_the_deadline() -> None:
    rules = deadlines.parse("county=mon@12:00+2h,city=tue@09:30/3d")
    assert rules["county"].due(D, "week") == datetime(2020, 6, 29, 12, 0)
    assert rules["county"].closes(D, "week") == datetime(2020, 6, 29, 14, 0)
    assert rules["city"].due(D, "week") == datetime(2020, 6, 30, 9, 30)
    assert rules["city"].due(date(2020, 6, 30), "month") == datetime(2020, 7, 3, 9, 30)
    assert rules["county"].due(date(2020, 6, 29), "week") == datetime(2020, 7, 6, 12, 0)  # D a Monday: the next one
    assert deadlines.parse("off") == {} and set(deadlines.parse("mon@12:00")) == {"city", "county"}
    with pytest.raises(ValueError, match="截止规则"):
        deadlines.parse("county=monday 12")
    late = deadlines.lateness(rules, "140902", D, "week", datetime(2020, 6, 29, 14, 1))
    assert late is not None and late.zh() == "本期截止 2020-06-29 12:00（宽限至 2020-06-29 14:00），已逾期，按更正处理，需审核"
    assert deadlines.lateness(rules, "140902", D, "week", datetime(2020, 6, 29, 14, 0)) is None  # within grace


def test_late_file_is_a_correction_waiting_for_review_even_with_review_off(loop) -> None:
    wh, clerk = loop["wh"], loop["clerk"]
    modes = review.configured_modes()
    assert modes == {"city": "direct", "county": "direct"}
    # on time: review off, so it counts at once
    on_time = intake.commit_staged(wh, [_week(D, 500.0)], clerk, modes, now=datetime(2020, 6, 29, 11, 59))
    assert on_time[0].status == "loaded" and _reports(wh, D) == 1
    # a 简报 was issued for the period, then a late file for it comes
    issue_id = issued.record(wh, "ana", "命令行", as_of=D, year=2020, filters="{}", fmt="pdf", figures="{}",
                             data_version=None, sha256="0" * 64)
    [late] = intake.commit_staged(wh, [_week(D, 800.0)], clerk, modes, now=datetime(2020, 6, 29, 12, 1))
    assert isinstance(late, review.PendingOutcome)
    assert late.late == "本期截止 2020-06-29 12:00，已逾期，按更正处理，需审核"
    assert late.corrects == (issue_id,)
    assert "本期截止 2020-06-29 12:00，已逾期，按更正处理，需审核，更正已印发的第 " + str(issue_id) + " 号简报" in late.summary_zh()
    with wh.read() as con:
        ytd = con.execute("SELECT ytd_completed FROM reports WHERE report_date = ?", [D]).fetchall()
        row = con.execute("SELECT status FROM pending_submissions WHERE pending_id = ?", [late.pending_id]).fetchall()
        rec = con.execute("SELECT unit_code, report_date, deadline, issued_ids FROM late_submissions").fetchall()
    assert ytd == [(500.0,)]  # not counted before 审核
    assert row == [("待审核",)]
    assert rec == [("140900", D, datetime(2020, 6, 29, 12, 0), [issue_id])]
    review.approve(wh, late.pending_id, loop["xz"])
    with wh.read() as con:
        assert con.execute("SELECT ytd_completed FROM reports WHERE report_date = ?", [D]).fetchall() == [(800.0,)]
        assert deadlines.late_periods(con).rows() == [("140900", "140900", D)]


def test_on_time_file_follows_the_review_mode(loop, monkeypatch) -> None:
    wh, county = loop["wh"], loop["county"]
    monkeypatch.setenv("KAIGONG_REVIEW", "county=review")
    [out] = intake.commit_staged(wh, [_week(D, 500.0)], county, review.configured_modes(),
                                 now=datetime(2020, 6, 29, 13, 0))  # within the county's 2 h grace
    assert isinstance(out, review.PendingOutcome) and out.late is None
    with wh.read() as con:
        assert con.execute("SELECT count(*) FROM late_submissions").fetchall() == [(0,)]
    # an administrator's file is never a correction: no period closes on them
    assert intake.late_files(wh, [_week(D, 1.0)], loop["admin"], datetime(2021, 1, 1)) == {}


def test_reminders_wait_for_the_deadline(wh: Warehouse) -> None:
    """催报 (漏报) is queued only once the unit's period has closed, naming the deadline."""
    xz = {"city_code": "140900", "city_name": "忻州市", "tier": "市级千项"}
    ty = {"city_code": "140100", "city_name": "太原市", "tier": "市级千项"}
    load_rows(wh, date(2020, 3, 20), [{**xz, "project_name": "甲", "stage": "在建"},
                                      {**ty, "project_name": "乙", "stage": "在建"}])
    load_rows(wh, date(2020, 3, 27), [{**ty, "project_name": "乙", "stage": "在建"}])  # 忻州 missing
    deadlines.set_rules(wh, "city=tue@12:00+2h", "admin")  # 03-27 closes Tuesday 03-31 14:00
    assert notify.queue_due(wh, date(2020, 3, 30)) == 0
    assert notify.queue_due(wh, date(2020, 3, 31)) == 1
    with wh.read() as con:
        [(subject, body)] = con.execute("SELECT subject, body FROM notices").fetchall()
    assert subject == "【开工】忻州市报告期 2020-03-27 未报送"
    assert "尚未报送（截止 2020-03-31 14:00，已逾期）" in body


def test_heatmap_marks_late_apart_from_missing(loop) -> None:
    from pipelines import metrics
    from pipelines.outputs import charts

    wh, clerk = loop["wh"], loop["clerk"]
    with wh.read() as con:
        last = max(metrics.report_dates(con, 2020))
    late_at = deadlines.parse("mon@12:00")["city"].closes(last, "week") + timedelta(minutes=1)
    [out] = intake.commit_staged(wh, [_week(last, 900.0)], clerk, review.configured_modes(), now=late_at)
    assert out.late is not None
    view = metrics.View(as_of=last, year=2020)
    with wh.read() as con:
        matrix = submissions.reporting_matrix(con, view)
    flagged = matrix.filter(pl.col("late")).select("group_code", "report_date").rows()
    assert flagged == [("140900", last)]
    fig = charts.reporting_heatmap(matrix, last)
    text = fig.data[0].text
    groups = list(fig.data[0].y)
    col = len(fig.data[0].x) - 1
    assert [row[col] for row in text] == ["迟报" if g == "忻州市" else "" for g in groups]
    assert sum(cell == "迟报" for row in text for cell in row) == 1
    assert any("迟报" in str(a.text) for a in fig.layout.annotations)


def test_cli_sets_and_shows_the_deadlines(wh: Warehouse) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pipelines.cli", "--db", str(wh.path), "deadlines", *args],
                              capture_output=True, text=True, cwd=ROOT, timeout=120)

    got = run("county=mon@12:00+2h,city=tue@09:30", "--user", "admin")
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == ("报送截止：地市报送 周报为报告期后第一个周二 09:30，月报、季报为报告期后 5 天 09:30；"
                                  "县区报送 周报为报告期后第一个周一 12:00，月报、季报为报告期后 5 天 12:00，宽限 2 小时")
    bad = run("county=monday")
    assert bad.returncode == 1 and "截止规则应为" in bad.stderr
    with wh.read() as con:
        assert set(deadlines.configured(con)) == {"city", "county"}
        assert con.execute("SELECT actor FROM audit_log WHERE action = 'report_deadlines'").fetchall() == [("admin",)]
    assert run("off").stdout.strip() == "报送截止：未设置（各期不截止）"
