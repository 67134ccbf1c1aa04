"""Changes to users and roles, each in audit_log with who and when (`kaigong user …` calls these).

pipelines.auth keeps the users file; this module makes every change to it (add, remove, role, scope,
password reset, 停用/启用) one audited write: the audit_log row and the file change go together (a
change the file refuses leaves no row). A password reset, disabling or removing also ends the user's
open sessions in the server's session list; the token's epoch would refuse them anyway.
"""

from __future__ import annotations

import time
from pathlib import Path

from pipelines import auth
from pipelines.warehouse.store import Store


def _describe(user: auth.User) -> str:
    where = f"，地区 {user.region_code}" if user.region_code else ""
    return f"{user.name}（{user.role}{where}{'，已停用' if user.disabled else ''}）"


def _end_sessions(name: str) -> None:
    """Best effort: the session list may live on another server; the epoch refuses old tokens there."""
    try:
        from pipelines.session_token import SessionStore, session_dir

        db = session_dir() / "sessions.sqlite"
        if db.exists():
            SessionStore(db).revoke_user(name, time.time())
    except Exception:
        pass


def add(wh: Store, actor: str, name: str, password: str, role: str, region: str | None = None,
        path: Path | None = None) -> auth.User:
    existed = name in auth.load_users(path)
    with wh.write(actor, "user_replace" if existed else "user_add", f"{name}：{role}{f'，{region}' if region else ''}"):
        user = auth.add_user(name, password, role, region, path=path)
    if existed:
        _end_sessions(name)
    return user


def remove(wh: Store, actor: str, name: str, path: Path | None = None) -> auth.User:
    with wh.write(actor, "user_remove", name):
        gone = auth.remove_user(name, path=path)
    _end_sessions(name)
    return gone


def set_role(wh: Store, actor: str, name: str, role: str, region: str | None = None,
             path: Path | None = None) -> auth.User:
    """A new role (and, when given, scope); the region "" clears it."""
    old = auth.load_users(path).get(name)
    scope = "" if region is None else f"，地区 {region or '（无）'}"
    with wh.write(actor, "user_role", f"{_describe(old) if old else name} → {role}{scope}"):
        _, after = auth.change_user(name, role=role, region=region, path=path)
    return after


def set_scope(wh: Store, actor: str, name: str, region: str, path: Path | None = None) -> auth.User:
    """A new region (city or county); "" clears it."""
    old = auth.load_users(path).get(name)
    with wh.write(actor, "user_scope", f"{_describe(old) if old else name} → 地区 {region or '（无）'}"):
        _, after = auth.change_user(name, region=region, path=path)
    return after


def reset_password(wh: Store, actor: str, name: str, password: str, path: Path | None = None) -> auth.User:
    with wh.write(actor, "user_password", name):  # never the password itself
        _, after = auth.change_user(name, password=password, path=path)
    _end_sessions(name)
    return after


def set_disabled(wh: Store, actor: str, name: str, disabled: bool, path: Path | None = None) -> auth.User:
    with wh.write(actor, "user_disable" if disabled else "user_enable", name):
        _, after = auth.change_user(name, disabled=disabled, path=path)
    if disabled:
        _end_sessions(name)
    return after

