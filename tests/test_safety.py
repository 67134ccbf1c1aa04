"""Backups, accounts, region-bound submitters, bound SQL values."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pipelines import auth, metrics
from pipelines.vocab.findings import SubmissionRefused
from pipelines.warehouse.backup import backup, restore
from pipelines.warehouse.store import Submission, Warehouse
from tests.conftest import load_rows

XZ = {"city_code": "140900", "city_name": "忻州市", "tier": "市级千项"}
TY = {"city_code": "140100", "city_name": "太原市", "tier": "市级千项"}


def _counts(wh: Warehouse) -> dict[str, int]:
    with wh.read() as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                for t in ("submissions", "projects", "reports", "state_ranges", "state_dates", "targets")}


def test_backup_round_trips_every_row(wh, tmp_path):
    load_rows(wh, date(2020, 3, 6), [{**XZ, "project_name": "甲", "stage": "在建", "ytd_completed": 5.0}])
    load_rows(wh, date(2020, 3, 13), [{**TY, "project_name": "乙", "stage": "新开工"}])
    backup(wh, tmp_path / "bk")
    target = tmp_path / "restored.duckdb"
    restore(tmp_path / "bk", target)
    again = Warehouse(target)
    assert _counts(again) == _counts(wh)
    with wh.read() as a, again.read() as b:
        assert metrics.figures(a, date(2020, 3, 31), by="city") == metrics.figures(b, date(2020, 3, 31), by="city")
    # the restored database keeps numbering submissions after the last one
    load_rows(again, date(2020, 3, 20), [{**TY, "project_name": "丙", "stage": "在建"}])
    with again.read() as con:
        assert con.execute("SELECT max(submission_id) FROM submissions").fetchall()[0][0] == 3


def test_restore_is_an_audited_write(wh, tmp_path):
    load_rows(wh, date(2020, 3, 6), [{**XZ, "project_name": "甲", "stage": "在建"}])
    backup(wh, tmp_path / "bk")
    restore(tmp_path / "bk", wh.path, actor="管理员甲")
    with wh.read() as con:
        log = con.execute("SELECT actor, action, detail FROM audit_log ORDER BY logged_at").fetchall()
    assert [(a, act) for a, act, _ in log] == [("local", "load"), ("管理员甲", "restore")]
    assert str(tmp_path / "bk") in log[-1][2]
    assert _counts(wh)["reports"] == 1


def test_corrupt_backup_is_refused_and_target_untouched(wh, tmp_path):
    load_rows(wh, date(2020, 3, 6), [{**XZ, "project_name": "甲", "stage": "在建"}])
    backup(wh, tmp_path / "bk")
    (tmp_path / "bk" / "reports.parquet").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="校验和不符"):
        restore(tmp_path / "bk", wh.path)
    assert _counts(wh)["reports"] == 1


def test_submitter_of_xinzhou_cannot_load_taiyuan_rows(wh, tmp_path):
    users = tmp_path / "users.json"
    clerk = auth.add_user("xz", "pass-word-1", "报送员", "忻州市", path=users)
    assert auth.authenticate("xz", "pass-word-1", path=users) == clerk
    assert auth.authenticate("xz", "wrong-password", path=users) is None
    assert "pass-word-1" not in users.read_text()
    frame = pl.DataFrame([
        {**XZ, "project_name": "忻州项目", "stage": "在建", "source_row": 5},
        {**TY, "project_name": "太原项目", "stage": "在建", "source_row": 6},
    ])
    sub = Submission("忻州周报.csv", frame, date(2020, 3, 6), raw=b"x", present_fields=("stage",))
    with pytest.raises(SubmissionRefused) as exc:
        wh.load([sub], actor="xz", allowed_regions=clerk.allowed_regions())
    assert [(e.row, e.message) for e in exc.value.errors] == [(6, "该行项目不属于您负责报送的地区")]
    assert _counts(wh)["reports"] == 0
    # a county under 忻州 is theirs too
    ok = frame.filter(pl.col("city_code") == "140900").with_columns(county_code=pl.lit("140902"))
    wh.load([Submission("ok.csv", ok, date(2020, 3, 6), raw=b"y", present_fields=("stage",))],
            actor="xz", allowed_regions=clerk.allowed_regions())
    with wh.read() as con:
        assert con.execute("SELECT actor FROM audit_log").fetchall() == [("xz",)]


def test_roles_and_permissions():
    assert auth.User("a", "分析员").can("export") and not auth.User("a", "分析员").can("upload")
    assert auth.User("l", "领导").can("view_all") and not auth.User("l", "领导").can("admin")
    assert auth.User("c", "报送员", "140900").visible_cities() == {"140900"}
    assert auth.User("c", "报送员", "140902").allowed_regions() == {"140902"}
    with pytest.raises(ValueError):
        auth.add_user("x", "longenough", "报送员", None, path=Path("/nonexistent/never-written.json"))


@pytest.mark.parametrize("hostile", ["' OR 1=1 --", "太原市'; DROP TABLE reports; --", "\"", "%", "\\"])
def test_filter_values_are_bound_not_spliced(wh, hostile):
    load_rows(wh, date(2020, 3, 6), [{**XZ, "project_name": "甲", "stage": "在建"}])
    f = metrics.Filters(tiers=(hostile,), cities=(hostile,), industries=(hostile,), stages=(hostile,))
    with wh.read() as con:
        assert metrics.total(con, date(2020, 3, 6), filters=f)["projects"] == 0
        assert metrics.total(con, date(2020, 3, 6))["projects"] == 1


def test_cli_user_add_creates_first_admin(tmp_path):
    users = tmp_path / "u.json"
    run = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "user", "add", "admin", "--role", "管理员", "--password-stdin"],
        input="s3cret-pass\n", capture_output=True, text=True,
        env={"KAIGONG_USERS": str(users), "KAIGONG_DB": str(tmp_path / "k.duckdb"), "PATH": ""},
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(users.read_text())
    assert data["users"][0]["role"] == "管理员" and data["users"][0]["password_hash"].startswith("$2")
    assert auth.authenticate("admin", "s3cret-pass", path=users) is not None


def test_submission_log_for_one_submitter_shows_only_theirs(wh):
    from pipelines.views.submissions import submission_log

    xz = pl.DataFrame([{**XZ, "project_name": "甲", "stage": "在建"}])
    ty = pl.DataFrame([{**TY, "project_name": "乙", "stage": "在建"}])
    wh.load([Submission("xz.csv", xz, date(2020, 3, 6), raw=b"1", present_fields=("stage",))], actor="xz")
    wh.load([Submission("ty.csv", ty, date(2020, 3, 6), raw=b"2", present_fields=("stage",))], actor="ty")
    with wh.read() as con:
        assert submission_log(con, 200, "xz")["file_name"].to_list() == ["xz.csv"]
        assert submission_log(con)["file_name"].to_list() == ["ty.csv", "xz.csv"]


# ---- sign-in rate limiting --------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def one_user(tmp_path) -> Path:
    path = tmp_path / "users.json"
    auth.add_user("ana", "ana-pass-word", "分析员", path=path)
    auth.add_user("bob", "bob-pass-word", "领导", path=path)
    return path


def test_five_failures_lock_the_name_even_against_the_right_password(one_user, monkeypatch):
    clock = FakeClock()
    throttle = auth.LoginThrottle(max_failures=5, window=900, lockout=900, clock=clock)
    for _ in range(5):
        with pytest.raises(auth.SignInRefused, match="用户名或密码不正确"):
            auth.sign_in("ana", "guess", throttle, path=one_user)
    checked: list[bytes] = []
    real = auth.bcrypt.checkpw
    monkeypatch.setattr(auth.bcrypt, "checkpw", lambda pw, h: checked.append(pw) or real(pw, h))
    with pytest.raises(auth.SignInRefused, match=r"登录失败次数过多.*15 分钟后再试"):
        auth.sign_in("ana", "ana-pass-word", throttle, path=one_user)
    assert checked == []  # a locked name is refused before any password is checked
    with pytest.raises(auth.SignInRefused, match="登录失败次数过多"):
        auth.sign_in(" ANA ", "ana-pass-word", throttle, path=one_user)  # same name, other spelling
    assert auth.sign_in("bob", "bob-pass-word", throttle, path=one_user).name == "bob"  # others unaffected
    clock.now += 901
    assert auth.sign_in("ana", "ana-pass-word", throttle, path=one_user).name == "ana"


def test_failures_outside_the_window_do_not_add_up_and_success_clears(one_user):
    clock = FakeClock()
    throttle = auth.LoginThrottle(max_failures=3, window=600, lockout=600, clock=clock)
    for _ in range(2):
        with pytest.raises(auth.SignInRefused):
            auth.sign_in("ana", "guess", throttle, path=one_user)
    clock.now += 601  # the two failures age out
    for _ in range(2):
        with pytest.raises(auth.SignInRefused, match="不正确"):
            auth.sign_in("ana", "guess", throttle, path=one_user)
    auth.sign_in("ana", "ana-pass-word", throttle, path=one_user)  # success forgets the two
    for _ in range(2):
        with pytest.raises(auth.SignInRefused, match="不正确"):
            auth.sign_in("ana", "guess", throttle, path=one_user)
    assert throttle.retry_after(auth.throttle_keys("ana", None)) == 0


def test_one_client_guessing_many_names_is_locked_out(one_user):
    clock = FakeClock()
    throttle = auth.LoginThrottle(max_failures=3, window=900, lockout=900, clock=clock)
    for name in ("a1", "a2", "a3"):
        with pytest.raises(auth.SignInRefused, match="不正确"):
            auth.sign_in(name, "guess", throttle, client="10.0.0.9", path=one_user)
    with pytest.raises(auth.SignInRefused, match="登录失败次数过多"):
        auth.sign_in("bob", "bob-pass-word", throttle, client="10.0.0.9", path=one_user)
    assert auth.sign_in("bob", "bob-pass-word", throttle, client="10.0.0.10", path=one_user).name == "bob"


def test_an_unknown_name_costs_a_password_check(one_user, monkeypatch):
    checked: list[bytes] = []
    real = auth.bcrypt.checkpw
    monkeypatch.setattr(auth.bcrypt, "checkpw", lambda pw, h: checked.append(pw) or real(pw, h))
    assert auth.authenticate("nobody", "guess", path=one_user) is None
    assert checked == [b"guess"]  # so a wrong name takes as long as a wrong password
    assert auth.authenticate("ana", "ana-pass-word", path=one_user).name == "ana"
