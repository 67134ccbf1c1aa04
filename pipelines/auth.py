"""Who may do what: users with roles, bcrypt-hashed passwords in a file outside the repository.

The file is `$KAIGONG_USERS`, else `~/.config/kaigong/users.json`. With no users in it the
dashboard runs in local mode (no sign-in), and says so on every page.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import bcrypt

from .reference import counties_of, find_region, region_by_code

ROLES = ("领导", "分析员", "报送员", "管理员")

# What each role may do. "view_all": see every region; "upload": load submissions (a 报送员
# only for their own region); "export": PNG/PDF/CSV; "admin": users, targets, 销号.
PERMISSIONS: dict[str, frozenset[str]] = {
    "领导": frozenset({"view_all", "export"}),
    "分析员": frozenset({"view_all", "export"}),
    "报送员": frozenset({"upload"}),
    "管理员": frozenset({"view_all", "export", "upload", "admin"}),
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

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())

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
    region_code = None
    if region:
        hit = find_region(region)
        if hit is None:
            raise ValueError(f"未知地区：{region}")
        region_code = hit.code
    if role == "报送员" and not region_code:
        raise ValueError("报送员必须绑定一个地市或县区")
    hashed = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")
    users = load_users(path)
    user = User(name, role, region_code, hashed)
    users[name] = user
    save_users(users, path)
    return user


def authenticate(name: str, password: str, path: Path | None = None) -> User | None:
    user = load_users(path).get(name)
    if user is None or not user.password_hash:
        return None
    if bcrypt.checkpw(password.encode("utf-8"), user.password_hash.encode("ascii")):
        return user
    return None


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
