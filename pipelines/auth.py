"""Who may do what: users with roles, bcrypt-hashed passwords in a file outside the repository.

The file is `$KAIGONG_USERS`, else `~/.config/kaigong/users.json`. With no users in it the
dashboard runs in local mode (no sign-in), and says so on every page.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import bcrypt

from pipelines.vocab.reference import counties_of, find_region, region_by_code, region_error

ROLES = ("领导", "分析员", "报送员", "审核员", "管理员")

# What each role may do. "view_all": see every region; "upload": load submissions (a 报送员
# only for their own region); "export": PNG/PDF/CSV; "admin": users, targets, 销号; "review":
# 通过/退回 submissions awaiting review (an 审核员 of a city only its own; one without a city, the
# province's 审核员, every city); "supervise": issue, close and send back 督办单.
PERMISSIONS: dict[str, frozenset[str]] = {
    "领导": frozenset({"view_all", "export"}),
    "分析员": frozenset({"view_all", "export", "supervise"}),
    "报送员": frozenset({"upload"}),
    "审核员": frozenset({"export", "review"}),
    "管理员": frozenset({"view_all", "export", "upload", "admin", "review", "supervise"}),
}
LOCAL_USER = "本地用户"


def users_path() -> Path:
    env = os.environ.get("KAIGONG_USERS")
    return Path(env) if env else Path.home() / ".config" / "kaigong" / "users.json"


@dataclass(frozen=True)
class User:
    name: str
    role: str
    region_code: str | None = None  # a 报送员's city or county
    password_hash: str = ""
    epoch: int = 0  # raised by a password change, disabling, re-creating: older session tokens stop working
    disabled: bool = False  # 停用: may not sign in, existing sessions end

    def can(self, permission: str) -> bool:
        if permission == "view_all" and self.role == "审核员" and not self.region_code:
            return True  # the province's 审核员 sees every city
        return permission in PERMISSIONS.get(self.role, frozenset())

    def unit_code(self) -> str | None:
        """The city or county a 报送员 reports for (None for other roles)."""
        return self.region_code if self.role == "报送员" else None

    def reviews(self, city_code: str) -> bool:
        """Whether this user may 通过/退回 a submission of a unit in city_code."""
        if not self.can("review"):
            return False
        return self.role == "管理员" or not self.region_code or self.region_code == city_code

    def answers_for(self, unit_code: str) -> bool:
        """Whether this user may reply to a 督办单 issued to unit_code (its unit's 报送员, or a 管理员)."""
        if self.role == "管理员":
            return True
        allowed = self.allowed_regions()
        return self.role == "报送员" and allowed is not None and unit_code in allowed

    def allowed_regions(self) -> set[str] | None:
        """Region codes this user may load rows for; None means any."""
        if self.role != "报送员":
            return None
        if not self.region_code:
            return set()
        codes = {self.region_code}
        region = region_by_code().get(self.region_code)
        if region and region.level == "city":
            codes |= {c.code for c in counties_of(region.code)}
        return codes

    def visible_cities(self) -> set[str] | None:
        """City codes whose data this user may see; None means every city."""
        if self.can("view_all") or not self.region_code:
            return None if self.can("view_all") else set()
        region = region_by_code().get(self.region_code)
        if region is None:
            return set()
        return {region.code if region.level == "city" else region.parent_code or ""}


LOCAL = User(LOCAL_USER, "管理员")


def load_users(path: Path | None = None) -> dict[str, User]:
    p = path or users_path()
    if not p.exists():
        return {}
    data = json.loads(p.read_text(encoding="utf-8"))
    return {u["name"]: User(**u) for u in data.get("users", [])}


def save_users(users: dict[str, User], path: Path | None = None) -> None:
    p = path or users_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".tmp")
    tmp.write_text(
        json.dumps({"users": [asdict(u) for u in users.values()]}, ensure_ascii=False, indent=2),
        encoding="utf-8",
    )
    os.chmod(tmp, 0o600)
    os.replace(tmp, p)


def sign_in_required(path: Path | None = None) -> bool:
    return bool(load_users(path))


def add_user(name: str, password: str, role: str, region: str | None = None, path: Path | None = None) -> User:
    """Create or replace a user; a 报送员 needs a region (city or county)."""
    if role not in ROLES:
        raise ValueError(f"角色应为 {'/'.join(ROLES)} 之一：{role}")
    if len(password) < 8:
        raise ValueError("密码至少 8 位")
    region_code = _region_code(role, region)
    users = load_users(path)
    user = User(name, role, region_code, _hash(password), next_epoch(users.get(name)))
    users[name] = user
    save_users(users, path)
    return user


def _hash(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")


def next_epoch(user: User | None) -> int:
    """A new epoch, above the old one and above any this name had before (a removed, re-added user)."""
    return max((user.epoch + 1) if user else 0, int(time.time()))


def _region_code(role: str, region: str | None) -> str | None:
    """The region a role is bound to, checked as add_user checks it."""
    region_code = None
    if region:
        hit = find_region(region)
        if hit is None:
            raise ValueError(region_error(region))
        region_code = hit.code
    if role == "报送员" and not region_code:
        raise ValueError("报送员必须绑定一个地市或县区")
    if role == "审核员" and region_code:
        level = region_by_code().get(region_code)
        if level is None or level.level == "province":
            region_code = None
        elif level.level != "city":
            raise ValueError("审核员绑定一个地市（不填则为全省审核员）")
    return region_code


def change_user(name: str, *, role: str | None = None, region: str | None = None, password: str | None = None, disabled: bool | None = None,
                path: Path | None = None) -> tuple[User, User]:
    """Change one user (role, scope, password, 停用/启用): (before, after). A new password or disabling
    raises the epoch, so every session token issued before stops working."""
    users = load_users(path)
    old = users.get(name)
    if old is None:
        raise ValueError(f"没有用户 {name}")
    new_role = role or old.role
    if new_role not in ROLES:
        raise ValueError(f"角色应为 {'/'.join(ROLES)} 之一：{new_role}")
    # region: None keeps the user's, "" clears it (a 审核员 for the whole province), a name or code sets it
    region_code = _region_code(new_role, old.region_code if region is None else (region or None))
    new = replace(old, role=new_role, region_code=region_code)
    if password is not None:
        if len(password) < 8:
            raise ValueError("密码至少 8 位")
        new = replace(new, password_hash=_hash(password), epoch=next_epoch(old))
    if disabled is not None and disabled != old.disabled:
        new = replace(new, disabled=disabled, epoch=next_epoch(old) if disabled else new.epoch)
    users[name] = new
    save_users(users, path)
    return old, new


def remove_user(name: str, path: Path | None = None) -> User:
    users = load_users(path)
    if name not in users:
        raise ValueError(f"没有用户 {name}")
    gone = users.pop(name)
    save_users(users, path)
    return gone


@functools.cache
def _dummy_hash() -> str:
    """Checked when the name is unknown, so a wrong name costs as long as a wrong password. Made on the
    first sign-in, not at import: a bcrypt hash took 0.3–1 s of every `kaigong` command's start."""
    return bcrypt.hashpw(b"kaigong-no-such-user", bcrypt.gensalt()).decode("ascii")


def authenticate(name: str, password: str, path: Path | None = None) -> User | None:
    user = load_users(path).get(name)
    hashed = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    ok = bcrypt.checkpw(password.encode("utf-8"), hashed.encode("ascii"))
    return user if ok and user is not None and user.password_hash else None


class SignInRefused(Exception):
    """A sign-in that was not checked or did not match; str() is the message for the user."""


class LoginThrottle:
    """Failed sign-ins per key (a user name, a client address) within a window lock that key out.

    One instance per server process, shared by every browser session, so opening a new tab does
    not reset the count. After `max_failures` failures within `window` seconds the key is refused
    for `lockout` seconds without checking the password at all; a success clears the key.
    """

    def __init__(self, max_failures: int = 5, window: float = 900.0, lockout: float = 900.0,
                 clock: Callable[[], float] = time.monotonic):
        self.max_failures, self.window, self.lockout, self.clock = max_failures, window, lockout, clock
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> LoginThrottle:
        """KAIGONG_LOGIN_MAX_FAILURES (default 5) and KAIGONG_LOGIN_LOCKOUT_SECONDS (default 900)."""
        lockout = float(os.environ.get("KAIGONG_LOGIN_LOCKOUT_SECONDS", "900"))
        return cls(int(os.environ.get("KAIGONG_LOGIN_MAX_FAILURES", "5")), window=max(lockout, 900.0),
                   lockout=lockout)

    def retry_after(self, keys: list[str]) -> float:
        """Seconds until every key may try again (0: now)."""
        now = self.clock()
        with self._lock:
            return max([self._locked_until.get(k, 0.0) - now for k in keys] + [0.0])

    def failed(self, keys: list[str]) -> None:
        now = self.clock()
        with self._lock:
            for k in keys:
                times = self._failures.setdefault(k, deque())
                times.append(now)
                while times and times[0] <= now - self.window:
                    times.popleft()
                if len(times) >= self.max_failures:
                    self._locked_until[k] = now + self.lockout
                    times.clear()

    def succeeded(self, keys: list[str]) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)
                self._locked_until.pop(k, None)


def throttle_keys(name: str, client: str | None) -> list[str]:
    keys = [f"user:{name.strip().casefold()}"]
    return [*keys, f"client:{client}"] if client else keys


def sign_in(name: str, password: str, throttle: LoginThrottle, client: str | None = None,
            path: Path | None = None) -> User:
    """Check a sign-in through the throttle: the User, or SignInRefused with a Chinese message."""
    keys = throttle_keys(name, client)
    wait = throttle.retry_after(keys)
    if wait > 0:
        raise SignInRefused(f"登录失败次数过多，已暂时锁定，请 {max(1, round(wait / 60))} 分钟后再试。")
    user = authenticate(name, password, path)
    if user is None:
        throttle.failed(keys)
        raise SignInRefused("用户名或密码不正确。")
    throttle.succeeded(keys)
    if user.disabled:
        raise SignInRefused("该账户已停用，请联系管理员。")
    return user


def city_choices(user: User, city_codes: list[str]) -> list[str]:
    """The cities a user may pick in the dashboard's filter, in the given order."""
    visible = user.visible_cities()
    return list(city_codes) if visible is None else [c for c in city_codes if c in visible]


def effective_cities(user: User, chosen: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The city filter actually applied: a user bound to a city never sees beyond it.

    An empty choice means "every city I may see"; for a bound user that is their own city
    (never the empty tuple, which the metrics read as "all cities").
    """
    visible = user.visible_cities()
    if visible is None:
        return tuple(chosen)
    kept = tuple(c for c in chosen if c in visible)
    return kept or tuple(sorted(visible)) or ("-",)  # "-" matches no city: a user bound to nothing sees nothing
