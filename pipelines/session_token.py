"""A sign-in that lasts: a signed session token for an HttpOnly cookie, and the server's list of sessions.

The token is `<payload>.<signature>`: the payload (base64url JSON) names the user, the user's epoch
(pipelines.auth.User.epoch, raised by a password change and by disabling the user), a random session
id, when it was issued and when it expires; the signature is HMAC-SHA256 with the server's secret.
A token is accepted only when the signature matches, it has not expired, the user still exists, is
not disabled and has the same epoch, its session is in the server's list and not revoked (退出登录),
and the session was used within the idle time.

The secret: `KAIGONG_SESSION_SECRET`, else the file `KAIGONG_SESSION_SECRET_FILE`, else
`<session dir>/session.key`, generated on first use with mode 0600 (and said so). Never in the
repository. The session list is a small SQLite file, `<session dir>/sessions.sqlite`, next to it;
the session dir is `KAIGONG_SESSION_DIR`, else the folder of the DuckDB file (data/).

No streamlit here: ui/web_auth.py sets and clears the cookie, ui/session.py checks it on each run.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipelines import auth

COOKIE = "kaigong_session"
DEFAULT_MAX_SECONDS = 8 * 3600.0
DEFAULT_IDLE_SECONDS = 30 * 60.0


def session_dir() -> Path:
    """Where the generated secret and the session list live: KAIGONG_SESSION_DIR, else data/."""
    env = os.environ.get("KAIGONG_SESSION_DIR")
    if env:
        return Path(env)
    from pipelines.warehouse.connection import default_db_path

    return default_db_path().resolve().parent


@dataclass(frozen=True)
class Settings:
    max_seconds: float = DEFAULT_MAX_SECONDS  # the token's lifetime from sign-in
    idle_seconds: float = DEFAULT_IDLE_SECONDS  # a session unused this long is over

    @classmethod
    def from_env(cls) -> Settings:
        """KAIGONG_SESSION_MAX_SECONDS (default 28800 = 8 h) and KAIGONG_SESSION_IDLE_SECONDS (1800)."""
        return cls(float(os.environ.get("KAIGONG_SESSION_MAX_SECONDS") or DEFAULT_MAX_SECONDS),
                   float(os.environ.get("KAIGONG_SESSION_IDLE_SECONDS") or DEFAULT_IDLE_SECONDS))


def load_secret(directory: Path | None = None, say: Callable[[str], None] | None = None) -> bytes:
    """The signing secret: from the environment, a named file, or generated into the session dir (0600)."""
    env = os.environ.get("KAIGONG_SESSION_SECRET")
    if env:
        if len(env) < 32:
            raise ValueError("KAIGONG_SESSION_SECRET 至少 32 个字符")
        return env.encode("utf-8")
    named = os.environ.get("KAIGONG_SESSION_SECRET_FILE")
    path = Path(named) if named else (directory or session_dir()) / "session.key"
    if path.exists():
        raw = path.read_text(encoding="ascii").strip()
        if len(raw) < 32:
            raise ValueError(f"会话密钥文件 {path} 太短（至少 32 个字符）")
        return raw.encode("ascii")
    if named:
        raise ValueError(f"KAIGONG_SESSION_SECRET_FILE 指向的文件不存在：{path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never readable by others, not even briefly
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_urlsafe(48))
    if say:
        say(f"未设置 KAIGONG_SESSION_SECRET：已生成会话密钥 {path}（权限 0600）。多台服务器须使用同一密钥。")
    return path.read_text(encoding="ascii").strip().encode("ascii")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Claims:
    user: str
    epoch: int
    sid: str  # the session's id in the server's list
    issued: float
    expires: float


def sign(claims: Claims, secret: bytes) -> str:
    payload = _b64(json.dumps({"u": claims.user, "e": claims.epoch, "s": claims.sid, "i": claims.issued,
                               "x": claims.expires}, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    mac = hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


def read(token: str, secret: bytes) -> Claims | None:
    """The claims of a token whose signature matches; None for anything else (tampered, malformed)."""
    try:
        payload, mac = token.split(".")
        expected = hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(mac)):
            return None
        data = json.loads(_unb64(payload))
        return Claims(str(data["u"]), int(data["e"]), str(data["s"]), float(data["i"]), float(data["x"]))
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
        return None


class SessionStore:
    """The server's list of sessions (SQLite): when each was last used, and which were revoked."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as con:
            con.execute("""CREATE TABLE IF NOT EXISTS sessions (
                sid TEXT PRIMARY KEY, user TEXT NOT NULL, issued REAL NOT NULL, expires REAL NOT NULL,
                last_seen REAL NOT NULL, revoked REAL)""")
        os.chmod(path, 0o600)

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        return con

    def add(self, claims: Claims) -> None:
        with self._lock, self._connect() as con:
            con.execute("DELETE FROM sessions WHERE expires < ?", [claims.issued - 86400])  # old rows go
            con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?, NULL)",
                        [claims.sid, claims.user, claims.issued, claims.expires, claims.issued])

    def get(self, sid: str) -> tuple[float, float | None] | None:
        """(last_seen, revoked) of a session, None when unknown."""
        with self._lock, self._connect() as con:
            row = con.execute("SELECT last_seen, revoked FROM sessions WHERE sid = ?", [sid]).fetchone()
        return None if row is None else (float(row[0]), row[1])

    def touch(self, sid: str, now: float) -> None:
        with self._lock, self._connect() as con:
            con.execute("UPDATE sessions SET last_seen = ? WHERE sid = ? AND last_seen < ?", [now, sid, now])

    def revoke(self, sid: str, now: float) -> None:
        with self._lock, self._connect() as con:
            con.execute("UPDATE sessions SET revoked = ? WHERE sid = ? AND revoked IS NULL", [now, sid])

    def revoke_user(self, user: str, now: float) -> int:
        with self._lock, self._connect() as con:
            return con.execute("UPDATE sessions SET revoked = ? WHERE user = ? AND revoked IS NULL",
                               [now, user]).rowcount


@dataclass(frozen=True)
class Checked:
    """The outcome of checking a cookie: the user, or why not (a Chinese message for the page)."""

    user: auth.User | None
    claims: Claims | None
    reason: str = ""


class Sessions:
    """Issue, check and end sessions. One per server process (ui/web_auth.py keeps it)."""

    def __init__(self, secret: bytes, store: SessionStore, settings: Settings | None = None,
                 users_path: Path | None = None, clock: Callable[[], float] = time.time):
        self.secret, self.store, self.settings = secret, store, settings or Settings()
        self.users_path, self.clock = users_path, clock

    @classmethod
    def from_env(cls, say: Callable[[str], None] | None = None) -> Sessions:
        directory = session_dir()
        return cls(load_secret(directory, say), SessionStore(directory / "sessions.sqlite"), Settings.from_env())

    def issue(self, user: auth.User) -> str:
        now = self.clock()
        claims = Claims(user.name, user.epoch, secrets.token_urlsafe(18), now, now + self.settings.max_seconds)
        self.store.add(claims)
        return sign(claims, self.secret)

    def check(self, token: str | None, touch: bool = True) -> Checked:
        """The signed-in user of a cookie's token, or why the cookie is not (or no longer) good."""
        if not token:
            return Checked(None, None, "")
        claims = read(token, self.secret)
        if claims is None:
            return Checked(None, None, "登录凭据无效，请重新登录。")
        now = self.clock()
        if now >= claims.expires:
            return Checked(None, claims, "登录已过期，请重新登录。")
        user = auth.load_users(self.users_path).get(claims.user)
        if user is None or user.disabled:
            return Checked(None, claims, "该账户已停用或已删除，请联系管理员。")
        if user.epoch != claims.epoch:
            return Checked(None, claims, "密码已修改，请重新登录。")
        seen = self.store.get(claims.sid)
        if seen is None or seen[1] is not None:
            return Checked(None, claims, "已退出登录，请重新登录。")
        if now - seen[0] > self.settings.idle_seconds:
            return Checked(None, claims, "长时间未操作，登录已失效，请重新登录。")
        if touch and now - seen[0] >= min(30.0, self.settings.idle_seconds / 4):  # not a write on every click
            self.store.touch(claims.sid, now)
        return Checked(user, claims)

    def end(self, token: str | None) -> None:
        """退出登录: the token's session revoked (a token that does not verify has nothing to revoke)."""
        claims = read(token or "", self.secret)
        if claims is not None:
            self.store.revoke(claims.sid, self.clock())
