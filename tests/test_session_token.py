"""The session token and the server's session list (pipelines/session_token.py, no streamlit), the audited
user changes (pipelines/accounts.py, `kaigong user …`) and the cookie the /signin route sets (ui/web_auth.py)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines import accounts, auth
from pipelines.session_token import Claims, Sessions, SessionStore, Settings, load_secret, read, sign

SECRET = b"k" * 48


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def users(tmp_path: Path) -> Path:
    path = tmp_path / "users.json"
    auth.add_user("lead", "lead-pass-1", "领导", path=path)
    return path


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sessions(tmp_path: Path, users: Path, clock: Clock) -> Sessions:
    return Sessions(SECRET, SessionStore(tmp_path / "sessions.sqlite"), Settings(max_seconds=8 * 3600, idle_seconds=1800),
                    users_path=users, clock=clock)


def lead(users: Path) -> auth.User:
    return auth.load_users(users)["lead"]


def test_token_round_trip_and_tampering_refused():
    claims = Claims("lead", 7, "sid1", 100.0, 200.0)
    token = sign(claims, SECRET)
    assert read(token, SECRET) == claims
    assert read(token, b"x" * 48) is None  # another server's secret
    payload, mac = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**data, "u": "admin"}).encode()).rstrip(b"=").decode()
    assert read(f"{forged}.{mac}", SECRET) is None  # another user's name under the old signature
    assert read(token[:-1] + ("A" if token[-1] != "A" else "B"), SECRET) is None
    for junk in ("", ".", "abc", "a.b.c", "%%%.%%%", f"{payload}."):
        assert read(junk, SECRET) is None


def test_a_session_lasts_then_expires_at_its_lifetime(sessions, users, clock):
    token = sessions.issue(lead(users))
    assert sessions.check(token).user == lead(users)
    for _ in range(16):  # used every 30 min: never idle, but 8 h after sign-in it is over
        clock.now += 1799
        if clock.now - 1_000_000.0 >= 8 * 3600:
            break
        assert sessions.check(token).user is not None
    clock.now = 1_000_000.0 + 8 * 3600
    assert sessions.check(token).user is None and "过期" in sessions.check(token).reason


def test_idle_time_ends_a_session_and_use_keeps_it(sessions, users, clock):
    token = sessions.issue(lead(users))
    clock.now += 1700
    assert sessions.check(token).user is not None  # used: the idle time starts again
    clock.now += 1700
    assert sessions.check(token).user is not None
    clock.now += 1801
    got = sessions.check(token)
    assert got.user is None and "未操作" in got.reason


def test_sign_out_revokes_only_that_session(sessions, users):
    one, two = sessions.issue(lead(users)), sessions.issue(lead(users))
    sessions.end(one)
    assert sessions.check(one).user is None and "退出" in sessions.check(one).reason
    assert sessions.check(two).user is not None  # another browser's sign-in stays
    sessions.end("not-a-token")  # nothing to revoke, no error


def test_password_change_disabling_and_removal_refuse_old_tokens(sessions, users):
    token = sessions.issue(lead(users))
    auth.change_user("lead", role="分析员", path=users)
    assert sessions.check(token).user.role == "分析员"  # a role change applies at once, no new sign-in
    auth.change_user("lead", password="lead-pass-2", path=users)
    assert sessions.check(token).user is None and "密码" in sessions.check(token).reason
    token = sessions.issue(lead(users))
    auth.change_user("lead", disabled=True, path=users)
    assert sessions.check(token).user is None and "停用" in sessions.check(token).reason
    with pytest.raises(auth.SignInRefused, match="停用"):
        auth.sign_in("lead", "lead-pass-2", auth.LoginThrottle(), path=users)
    auth.change_user("lead", disabled=False, path=users)
    assert sessions.check(token).user is None  # enabling again does not revive the old token
    token = sessions.issue(lead(users))
    auth.remove_user("lead", path=users)
    auth.add_user("lead", "lead-pass-3", "领导", path=users)  # removed and re-added: a new epoch
    assert sessions.check(token).user is None


def test_unknown_session_refused(tmp_path, sessions, users, clock):
    """A token signed with the secret but not in this server's list (the list was lost) is refused."""
    token = sign(Claims("lead", lead(users).epoch, "never-issued", clock.now, clock.now + 60), SECRET)
    assert sessions.check(token).user is None


def test_secret_from_env_file_or_generated_0600(tmp_path, monkeypatch):
    monkeypatch.delenv("KAIGONG_SESSION_SECRET_FILE", raising=False)
    monkeypatch.setenv("KAIGONG_SESSION_SECRET", "e" * 40)
    assert load_secret(tmp_path) == b"e" * 40
    monkeypatch.setenv("KAIGONG_SESSION_SECRET", "short")
    with pytest.raises(ValueError, match="32"):
        load_secret(tmp_path)
    monkeypatch.delenv("KAIGONG_SESSION_SECRET")
    said: list[str] = []
    first = load_secret(tmp_path / "data", said.append)
    key = tmp_path / "data" / "session.key"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600 and len(first) >= 32
    assert said and str(key) in said[0]  # said so
    assert load_secret(tmp_path / "data", said.append) == first and len(said) == 1  # kept, not regenerated
    named = tmp_path / "etc.key"
    named.write_text("f" * 50)
    monkeypatch.setenv("KAIGONG_SESSION_SECRET_FILE", str(named))
    assert load_secret(tmp_path) == b"f" * 50
    monkeypatch.setenv("KAIGONG_SESSION_SECRET_FILE", str(tmp_path / "missing.key"))
    with pytest.raises(ValueError, match="不存在"):
        load_secret(tmp_path)


def test_settings_from_env(monkeypatch):
    assert Settings.from_env() == Settings(8 * 3600, 1800)
    monkeypatch.setenv("KAIGONG_SESSION_MAX_SECONDS", "3600")
    monkeypatch.setenv("KAIGONG_SESSION_IDLE_SECONDS", "5")
    assert Settings.from_env() == Settings(3600, 5)


def audit_rows(wh) -> list[tuple[str, str, str]]:
    with wh.read() as con:
        return con.execute("SELECT actor, action, detail FROM audit_log WHERE action LIKE 'user_%' "
                           "ORDER BY logged_at").fetchall()


def test_every_user_change_is_audited_with_who(wh, tmp_path, monkeypatch):
    monkeypatch.setenv("KAIGONG_SESSION_DIR", str(tmp_path / "sess"))
    users = tmp_path / "u.json"
    accounts.add(wh, "admin", "zhang", "pass-word-1", "报送员", "忻州市", path=users)
    accounts.set_role(wh, "admin", "zhang", "审核员", path=users)
    accounts.set_scope(wh, "admin", "zhang", "", path=users)
    accounts.reset_password(wh, "admin", "zhang", "pass-word-2", path=users)
    accounts.set_disabled(wh, "boss", "zhang", True, path=users)
    accounts.set_disabled(wh, "boss", "zhang", False, path=users)
    accounts.add(wh, "admin", "zhang", "pass-word-3", "领导", path=users)
    accounts.remove(wh, "admin", "zhang", path=users)
    rows = audit_rows(wh)
    assert [(a, act) for a, act, _ in rows] == [
        ("admin", "user_add"), ("admin", "user_role"), ("admin", "user_scope"), ("admin", "user_password"),
        ("boss", "user_disable"), ("boss", "user_enable"), ("admin", "user_replace"), ("admin", "user_remove")]
    assert rows[1][2] == "zhang（报送员，地区 140900） → 审核员"
    assert rows[2][2] == "zhang（审核员，地区 140900） → 地区 （无）"
    assert not any("pass-word" in d for _, _, d in rows)  # never the password
    assert auth.load_users(users) == {}
    with wh.read() as con:
        assert con.execute("SELECT count(*) FROM audit_log WHERE logged_at IS NULL").fetchone() == (0,)


def test_a_refused_change_leaves_no_audit_row(wh, tmp_path):
    users = tmp_path / "u.json"
    with pytest.raises(ValueError, match="报送员必须绑定"):
        accounts.add(wh, "admin", "li", "pass-word-1", "报送员", path=users)
    with pytest.raises(ValueError, match="没有用户"):
        accounts.remove(wh, "admin", "nobody", path=users)
    with pytest.raises(ValueError, match="至少 8 位"):
        accounts.add(wh, "admin", "li", "short", "领导", path=users)
    assert audit_rows(wh) == []


def test_cli_user_commands_audited(tmp_path):
    env = {"KAIGONG_USERS": str(tmp_path / "u.json"), "KAIGONG_DB": str(tmp_path / "k.duckdb"), "PATH": ""}

    def kaigong(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pipelines.cli", "user", *args], input=stdin,
                              capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parent.parent)

    assert kaigong("add", "wang", "--role", "领导", "--password-stdin", "--by", "root", stdin="pass-word-1\n").returncode == 0
    assert kaigong("passwd", "wang", "--password-stdin", "--by", "root", stdin="pass-word-2\n").returncode == 0
    assert kaigong("role", "wang", "--role", "报送员", "--region", "忻州市", "--by", "root").returncode == 0
    assert kaigong("scope", "wang", "--region", "忻府区", "--by", "root").returncode == 0
    assert kaigong("disable", "wang", "--by", "root").returncode == 0
    listed = kaigong("list")
    assert listed.stdout.strip() == "wang（报送员，地区 140902）：已停用"
    assert kaigong("enable", "wang").returncode == 0
    assert kaigong("remove", "wang", "--by", "root").returncode == 0
    bad = kaigong("remove", "wang")
    assert bad.returncode == 1 and "没有用户" in bad.stderr
    from pipelines.warehouse.store import Warehouse

    assert [(a, act) for a, act, _ in audit_rows(Warehouse(tmp_path / "k.duckdb"))] == [
        ("root", "user_add"), ("root", "user_password"), ("root", "user_role"), ("root", "user_scope"),
        ("root", "user_disable"), ("cli", "user_enable"), ("root", "user_remove")]


def _post_signin(body: bytes, scheme: str = "http", headers: dict[str, str] | None = None) -> dict:
    """The /signin route called as the server calls it; the response's status and headers."""
    from starlette.requests import Request

    from ui import web_auth

    sent: list[dict] = []
    hdrs = {"host": "dash.example", "content-type": "application/x-www-form-urlencoded", **(headers or {})}
    scope = {"type": "http", "method": "POST", "path": "/signin", "scheme": scheme, "query_string": b"",
             "headers": [(k.encode(), v.encode()) for k, v in hdrs.items()], "client": ("10.0.0.9", 5000),
             "server": ("dash.example", 443 if scheme == "https" else 80)}

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    async def go() -> None:
        response = await web_auth.signin_post(Request(scope, receive))
        await response(scope, receive, send)

    asyncio.run(go())
    start = sent[0]
    return {"status": start["status"], "headers": [(k.decode(), v.decode()) for k, v in start["headers"]]}


def test_signin_route_sets_the_cookie_flags_and_refuses_other_origins(tmp_path, users, monkeypatch):
    from ui import web_auth

    monkeypatch.setenv("KAIGONG_USERS", str(users))
    monkeypatch.setattr(web_auth, "_sessions", Sessions(SECRET, SessionStore(tmp_path / "s.sqlite"), users_path=users))
    monkeypatch.setattr(web_auth, "_throttle", auth.LoginThrottle())
    ok = _post_signin(b"name=lead&password=lead-pass-1&next=%2Fstart-rates%3Fcity%3D140900", scheme="https")
    assert ok["status"] == 303
    assert ("location", "/start-rates?city=140900") in ok["headers"]
    (cookie,) = [v for k, v in ok["headers"] if k == "set-cookie"]
    flags = {f.strip().lower() for f in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=strict", "path=/", "max-age=28800"} <= flags
    plain = _post_signin(b"name=lead&password=lead-pass-1&next=/", headers={"x-forwarded-proto": "http"})
    (cookie,) = [v for k, v in plain["headers"] if k == "set-cookie"]
    assert "secure" not in cookie.lower()  # plain http: a Secure cookie would never come back
    proxied = _post_signin(b"name=lead&password=lead-pass-1&next=/", headers={"x-forwarded-proto": "https"})
    assert "secure" in next(v for k, v in proxied["headers"] if k == "set-cookie").lower()
    evil = _post_signin(b"name=lead&password=lead-pass-1&next=//evil.example/x")
    assert ("location", "/") in evil["headers"]  # never sent off the server
    other = _post_signin(b"name=lead&password=lead-pass-1&next=/", headers={"origin": "https://evil.example"})
    assert other["status"] == 403 and not [v for k, v in other["headers"] if k == "set-cookie"]
    behind = _post_signin(b"name=lead&password=lead-pass-1&next=/", headers={"origin": "https://dash.example:8443"})
    assert behind["status"] == 303  # nginx's Host $host drops the port the browser's Origin names
    wrong = _post_signin(b"name=lead&password=nope&next=/")
    assert wrong["status"] == 401 and not [v for k, v in wrong["headers"] if k == "set-cookie"]


def test_signin_route_keeps_the_five_failure_lockout(tmp_path, users, monkeypatch):
    from ui import web_auth

    monkeypatch.setenv("KAIGONG_USERS", str(users))
    monkeypatch.setattr(web_auth, "_sessions", Sessions(SECRET, SessionStore(tmp_path / "s.sqlite"), users_path=users))
    monkeypatch.setattr(web_auth, "_throttle", auth.LoginThrottle())
    for _ in range(5):
        assert _post_signin(b"name=lead&password=nope&next=/")["status"] == 401
    locked = _post_signin(b"name=lead&password=lead-pass-1&next=/")  # the right password, but locked out
    assert locked["status"] == 401 and not [v for k, v in locked["headers"] if k == "set-cookie"]


def test_server_refuses_to_start_on_a_short_secret(tmp_path, users, monkeypatch, capsys):
    from ui import serve, web_auth

    monkeypatch.setenv("KAIGONG_USERS", str(users))
    monkeypatch.setenv("KAIGONG_DB", str(tmp_path / "k.duckdb"))
    monkeypatch.setenv("KAIGONG_SESSION_SECRET", "too-short")
    monkeypatch.setattr(serve, "prepare_database", lambda *a, **k: None)
    monkeypatch.setattr(web_auth, "_sessions", None)
    assert serve.main([]) == 2
    assert "KAIGONG_SESSION_SECRET 至少 32 个字符" in capsys.readouterr().err
