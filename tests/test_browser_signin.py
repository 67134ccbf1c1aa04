"""The sign-in that lasts (#30 §1), in headless Chromium against `python -m ui.serve`: the session cookie
survives a reload and a second tab, a signed-out deep link comes back with its filters, and 退出登录,
the idle time, a password change, disabling the user and a tampered cookie all end it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines import auth
from pipelines.session_token import COOKIE
from tests.conftest import build_app_db
from tests.harness import Server
from tests.test_browser import TIMEOUT_MS, browser, settle, shot  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

NAME, PASSWORD = "lead", "lead-pass-1"


def _server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[Server, Path]:
    users = tmp_path / "users.json"
    monkeypatch.setenv("KAIGONG_USERS", str(users))  # the server inherits the environment
    monkeypatch.delenv("KAIGONG_SESSION_SECRET", raising=False)
    auth.add_user(NAME, PASSWORD, "领导", path=users)
    return Server(build_app_db(tmp_path / "signin.duckdb"), env=env), users


@pytest.fixture
def signin_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Server, Path]]:
    s, users = _server(tmp_path, monkeypatch)
    yield s, users
    s.stop()


@pytest.fixture
def context(browser):  # noqa: F811 (the fixture's value)
    ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


def on_signin_form(pg) -> bool:
    pg.wait_for_load_state()
    return "/signin" in pg.url and pg.get_by_label("用户名").count() == 1


def sign_in(pg, name: str = NAME, password: str = PASSWORD) -> None:
    assert on_signin_form(pg), pg.url
    pg.get_by_label("用户名").fill(name)
    pg.get_by_label("密码").fill(password)
    pg.get_by_role("button", name="登录").click()
    pg.wait_for_load_state()


def signed_in_as(pg, name: str = NAME) -> None:
    pg.get_by_text(f"当前用户：{name}").wait_for(timeout=TIMEOUT_MS)
    settle(pg)


def test_signed_out_deep_link_returns_with_filters_and_the_cookie_lasts(signin_server, context):
    server, _ = signin_server
    pg = context.new_page()
    pg.goto(f"{server.url}/start-rates?city=140900&tier=市级千项")
    assert on_signin_form(pg)  # no page runs before sign-in
    assert "next=%2Fstart-rates%3Fcity%3D140900" in pg.url
    shot_form = pg.locator("main")
    assert shot_form.get_by_text("请先登录。").count() == 1
    sign_in(pg)
    signed_in_as(pg)
    assert "/start-rates" in pg.url and "city=140900" in pg.url and "tier=" in pg.url  # its page, its filters
    pg.get_by_role("heading", name="开（复）工情况").wait_for()
    city_box = pg.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]', has_text="地市")
    city_box.get_by_text("忻州市").wait_for()  # the filter applied, not only kept in the URL

    (cookie,) = [c for c in context.cookies() if c["name"] == COOKIE]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain http on 127.0.0.1; Secure over https (tests/test_session_token.py)
    assert cookie["expires"] > 0  # lasts beyond the browser session (Max-Age: 8 h)

    pg.reload()
    signed_in_as(pg)  # a reload: still signed in, no form
    assert "city=140900" in pg.url
    second = context.new_page()
    second.goto(f"{server.url}/light-list")
    signed_in_as(second)  # a second tab: still signed in
    assert "/light-list" in second.url
    shot(second, "30_signin_second_tab")

    pg.get_by_role("button", name="退出登录").click()
    pg.get_by_text("已退出登录").wait_for()
    pg.reload()
    assert on_signin_form(pg)  # after 退出登录 a reload asks again
    second.reload()
    assert on_signin_form(second)  # … in every tab: the session ended on the server
    assert not [c for c in context.cookies() if c["name"] == COOKIE]  # the stale cookie was dropped


def test_password_change_disabling_and_tampering_end_the_session(signin_server, context):
    server, users = signin_server
    pg = context.new_page()
    pg.goto(server.url)
    sign_in(pg)
    signed_in_as(pg)
    (cookie,) = [c for c in context.cookies() if c["name"] == COOKIE]

    # a tampered cookie: the payload names another user, the signature is the old one
    payload, mac = cookie["value"].split(".")
    import base64
    import json

    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["u"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    context.add_cookies([{**cookie, "value": f"{forged}.{mac}"}])
    pg.reload()
    assert on_signin_form(pg)
    context.add_cookies([{**cookie, "value": cookie["value"][:-2] + ("AA" if not cookie["value"].endswith("AA") else "BB")}])
    pg.goto(server.url)
    assert on_signin_form(pg)
    context.add_cookies([cookie])  # the genuine one still works
    pg.goto(server.url)
    signed_in_as(pg)

    auth.change_user(NAME, password="lead-pass-2", path=users)  # a password change (kaigong user passwd)
    pg.reload()
    assert on_signin_form(pg)
    assert pg.get_by_text("密码已修改").count() == 1
    sign_in(pg, password="lead-pass-2")
    signed_in_as(pg)

    auth.change_user(NAME, disabled=True, path=users)  # disabling the user (kaigong user disable)
    pg.get_by_role("link", name="亮灯清单").first.click()  # the next click, no reload: the run checks again
    pg.get_by_text("该账户已停用").wait_for()
    pg.get_by_role("link", name="重新登录").click()  # the page's own way back to the form, this page as next
    pg.wait_for_url("**/signin?next=%2Flight-list**")
    assert on_signin_form(pg)
    sign_in(pg, password="lead-pass-2")
    assert on_signin_form(pg) and pg.get_by_text("该账户已停用").count() == 1


def test_idle_time_asks_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, context):
    server, _ = _server(tmp_path, monkeypatch, KAIGONG_SESSION_IDLE_SECONDS="8")
    try:
        pg = context.new_page()
        pg.goto(f"{server.url}/investment")
        sign_in(pg)
        signed_in_as(pg)
        pg.reload()
        signed_in_as(pg)  # used within the idle time: still signed in
        pg.wait_for_timeout(11_000)
        pg.reload()
        assert on_signin_form(pg)
        assert pg.get_by_text("长时间未操作").count() == 1
        assert "next=%2Finvestment" in pg.url
    finally:
        server.stop()
