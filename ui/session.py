"""Who is using the dashboard: the sign-in form (when the users file has users), the account box.

The checks themselves live in pipelines.auth; this module only keeps the signed-in User in the
session. With no users configured the dashboard runs in local mode as pipelines.auth.LOCAL.

Served by ui/serve.py (ui/kaigong_asgi.py), the sign-in is the server's /signin route and a session
cookie (ui/web_auth.py); every run here checks that cookie again through `st.context.cookies`, so
退出登录, a password change, disabling the user, the expiry and the idle time end the session at the
next click. Elsewhere (AppTest, plain `streamlit run app.py`) the in-app form below signs in.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import streamlit as st

from pipelines import auth
from pipelines.session_token import COOKIE
from ui import web_auth

_USER = "_kaigong_user"
_WHY = "_kaigong_signin_why"


def current_user() -> auth.User:
    """The signed-in user; in local mode the local administrator."""
    user = st.session_state.get(_USER)
    if isinstance(user, auth.User):
        return user
    return auth.LOCAL


def _cookie() -> str | None:
    try:
        return st.context.cookies.get(COOKIE)
    except Exception:  # no request behind this run
        return None


def signed_in() -> bool:
    """True when the session may see pages: local mode, or a user has signed in (with the cookie:
    a session the server still holds good, checked on every run)."""
    if not auth.sign_in_required():
        return True
    if web_auth.active():
        checked = web_auth.sessions().check(_cookie())
        if checked.user is None:
            st.session_state.pop(_USER, None)
            st.session_state[_WHY] = checked.reason
            return False
        st.session_state[_USER] = checked.user
        return True
    return isinstance(st.session_state.get(_USER), auth.User)


def _here() -> str:
    """This page's path and filters, for the sign-in to send the user back to."""
    path = urlsplit(st.context.url or "/").path or "/"
    query = urlencode([(k, v) for k in st.query_params for v in st.query_params.get_all(k)])
    return f"{path}?{query}" if query else path


def sign_in_form() -> None:
    """The sign-in form; on success the user goes into the session and the app reruns."""
    st.title("开工 · 百千工程调度")
    if web_auth.active():  # the cookie's sign-in: the server's own form, back to this page after
        st.warning(st.session_state.get(_WHY) or "请先登录。")
        st.html(f'<a href="{web_auth.signin_url(_here())}" target="_self">重新登录</a>（或刷新本页）')
        return
    st.caption("请先登录。")
    with st.form("signin_form", border=True):
        name = st.text_input("用户名", key="signin_name")
        password = st.text_input("密码", type="password", key="signin_password")
        submitted = st.form_submit_button("登录", type="primary")
    if submitted:
        try:
            user = auth.sign_in(name.strip(), password, _throttle(), client=_client_address())
        except auth.SignInRefused as refused:
            st.error(str(refused))
        else:
            st.session_state[_USER] = user
            st.session_state.pop("signin_password", None)
            st.rerun()


def _throttle() -> auth.LoginThrottle:
    """One throttle per server process: every browser session (and the /signin route) counts against
    the same limits."""
    return web_auth.throttle()


def _client_address() -> str | None:
    try:
        return st.context.ip_address
    except Exception:  # AppTest and older servers have no client address
        return None


def sign_out() -> None:
    """Forget the user and every per-session choice (filters, prepared uploads); with the cookie, the
    server ends its session too (a reload then asks again; so does every other tab)."""
    if web_auth.active():
        web_auth.sessions().end(_cookie())
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def account_box() -> None:
    """Sidebar: who is signed in and 退出登录, or the local-mode note."""
    sb = st.sidebar
    if not auth.sign_in_required():
        sb.caption("本地模式：未启用登录")
        return
    user = current_user()
    sb.caption(f"当前用户：{user.name}（{user.role}）")
    sb.button("退出登录", key="session_sign_out", on_click=sign_out, icon=":material/logout:")
