"""Who is using the dashboard: the sign-in form (when the users file has users), the account box.

The checks themselves live in pipelines.auth; this module only keeps the signed-in User in the
session. With no users configured the dashboard runs in local mode as pipelines.auth.LOCAL.
"""

from __future__ import annotations

import streamlit as st

from pipelines import auth

_USER = "_kaigong_user"


def current_user() -> auth.User:
    """The signed-in user; in local mode the local administrator."""
    user = st.session_state.get(_USER)
    if isinstance(user, auth.User):
        return user
    return auth.LOCAL


def signed_in() -> bool:
    """True when the session may see pages: local mode, or a user has signed in."""
    return not auth.sign_in_required() or isinstance(st.session_state.get(_USER), auth.User)


def sign_in_form() -> None:
    """The sign-in form; on success the user goes into the session and the app reruns."""
    st.title("开工 · 百千工程调度")
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


@st.cache_resource
def _throttle() -> auth.LoginThrottle:
    """One throttle per server process: every browser session counts against the same limits."""
    return auth.LoginThrottle.from_env()


def _client_address() -> str | None:
    try:
        return st.context.ip_address
    except Exception:  # AppTest and older servers have no client address
        return None


def sign_out() -> None:
    """Forget the user and every per-session choice (filters, prepared uploads)."""
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
