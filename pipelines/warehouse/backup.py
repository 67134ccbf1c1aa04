"""Backups a province can keep: every kept table of the registry to Parquet with a manifest, the raw
files and the users; back again (restore); a restore drill (verify) and keeping the last N.

The users (names, roles, scopes, bcrypt hashes: pipelines.auth) are not a table of the store: they live
in the users file ($KAIGONG_USERS), outside it, so that no load or restore can change who may sign in.
A backup holds a copy of that file (hashes only, never a password: the file holds no other secret);
`kaigong restore --users` puts it back, a plain restore leaves the current users as they are."""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from pipelines import auth, metrics
from pipelines.vocab import schema
from pipelines.warehouse import loop_tables, tables
from pipelines.warehouse.connection import count_rows, first
from pipelines.warehouse.snapshots import rebuild_states, remap_present
from pipelines.warehouse.store import Store, Warehouse

# The kept tables of the registry, in load order; the states (state_ranges, state_dates, reports.is_state
# and state_to) and the figure cells are derived, and computed again on restore.
TABLES = tables.names(tables.KEPT)
FORMAT = "kaigong-backup/1"
USERS_FILE = "users.json"
KEEP_ENV = "KAIGONG_BACKUP_KEEP"  # keep the last N backups beside a new one (kaigong backup --keep)
DRILL_ACTOR = "备份校验"  # the restore drill's restore is recorded (in its scratch copy) as this actor
# Meta keys every write sets anew (a restored copy has its own): not compared by the drill.
_VERSION_KEYS = ("data_version", "figure_cells_of")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def backup(wh: Store, out_dir: Path, *, users_file: Path | None = None) -> dict:
    """Write every kept table to out_dir/<table>.parquet, the users file (copy_users) and a manifest
    (row counts, checksums)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest: dict = {"format": FORMAT, "created_at": datetime.now().isoformat(timespec="seconds"),
                      "source": wh.label, "tables": {}}
    with wh.read() as con:
        for table in TABLES:
            if tables.BY_NAME[table].loop and not loop_tables.has(con, table):
                continue  # a database from before the reporting loop
            data = con.sql(f"SELECT * FROM {table}").to_arrow_table()  # noqa: S608 (table from TABLES)
            path = out_dir / f"{table}.parquet"
            pq.write_table(data, path)
            manifest["tables"][table] = {"rows": data.num_rows, "sha256": _sha256(path)}
    n_users = copy_users(out_dir, users_file)
    if n_users:
        manifest["users"] = {"file": USERS_FILE, "count": n_users, "sha256": _sha256(out_dir / USERS_FILE)}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest


def restore(backup_dir: Path, target: Path | Store, *, actor: str = "local") -> dict:
    """Rebuild the store at target (a file's path, or a store) from a backup, checking every file
    against the manifest: through the audited write path (an audit_log row 「restore」 naming the
    backup and who), the whole store at once (Store.replace_all: readers see before or after).
    """
    manifest = json.loads((backup_dir / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise ValueError(f"不是开工的备份目录：{backup_dir}")
    for table, info in manifest["tables"].items():
        path = backup_dir / f"{table}.parquet"
        if _sha256(path) != info["sha256"]:
            raise ValueError(f"备份文件已损坏（校验和不符）：{path}")
    detail = f"从备份 {backup_dir}（{manifest.get('created_at', '')}）恢复"
    store = Warehouse(target) if isinstance(target, Path) else target
    store.replace_all(lambda con: _fill(con, backup_dir, manifest), actor, "restore", detail)
    return manifest


def _fill(con: duckdb.DuckDBPyConnection, backup_dir: Path, manifest: dict) -> None:
    """The backup's tables into the (empty) tables, checked against the manifest's row counts, and
    everything derived from them computed again."""
    for table in TABLES:
        if table not in manifest["tables"]:  # a backup from before the table (change_findings)
            continue
        data = pq.read_table(backup_dir / f"{table}.parquet")
        con.register("restore_src", data)
        # By name: a backup from an earlier version may lack a column added since (reports.is_state
        # and state_to, which rebuild_states below derives again).
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM restore_src")  # noqa: S608 (table from TABLES)
        con.unregister("restore_src")
        if table in ("reports", "report_versions"):  # fields added since the backup: their bits moved
            remap_present(con, [f for f in schema.FIELD_NAMES if f in data.column_names], table)
        if count_rows(con, table) != manifest["tables"][table]["rows"]:
            raise ValueError(f"恢复后 {table} 行数不符")
    rebuild_states(con)


def copy_raw_uploads(wh: Store, out_dir: Path) -> int:
    """Copy the kept raw submission files into the backup too; returns how many."""
    if not wh.uploads_dir.exists():
        return 0
    dest = out_dir / "uploads"
    dest.mkdir(parents=True, exist_ok=True)
    n = 0
    for f in wh.uploads_dir.iterdir():
        if f.is_file():
            shutil.copy2(f, dest / f.name)
            n += 1
    return n





def copy_users(out_dir: Path, users_file: Path | None = None) -> int:
    """The users file into the backup (as auth reads and writes it: names, roles, scopes and bcrypt
    hashes only); how many users (0, and no file, when none are configured)."""
    users = auth.load_users(users_file)
    if users:
        auth.save_users(users, out_dir / USERS_FILE)
    return len(users)


def restore_users(backup_dir: Path, users_file: Path | None = None) -> int:
    """The backup's users file put back at users_file (default $KAIGONG_USERS); how many users."""
    if not (backup_dir / USERS_FILE).exists():
        raise ValueError(f"备份中没有用户文件：{backup_dir / USERS_FILE}")
    users = auth.load_users(backup_dir / USERS_FILE)
    auth.save_users(users, users_file)
    return len(users)


# ---- the restore drill --------------------------------------------------------------------------

def fingerprint(store: Store) -> dict[str, Any]:
    """What a restore must give back: each kept table's row count and a checksum of its rows (the
    drill's own audit row and the version markers left out), and the figures at the latest report
    date, whole and by city."""
    out: dict[str, Any] = {}
    with store.read() as con:
        for table in TABLES:
            if tables.BY_NAME[table].loop and not loop_tables.has(con, table):
                continue
            where = {"audit_log": "WHERE NOT (actor = $drill AND action = 'restore')",
                     "meta": "WHERE NOT list_contains($keys, key)"}.get(table, "")
            params = {"audit_log": {"drill": DRILL_ACTOR}, "meta": {"keys": list(_VERSION_KEYS)}}.get(table, {})
            row = first(con.execute(
                f"SELECT count(*), coalesce(sum(hash(t)), 0)::VARCHAR FROM {table} t {where}", params))  # noqa: S608
            out[table] = tuple(row) if row else (0, "0")
        latest = first(con.execute("SELECT max(report_date) FROM submissions WHERE kind = 'reports'"))
        d = latest[0] if latest else None
        out["latest"] = d
        out["figures"] = metrics.figures_by(con, d, (None, "city")) if d is not None else {}
    return out


def _same(a: Any, b: Any) -> bool:
    """Equal, floats to 1e-9 (the restored cells are summed anew, perhaps in another order)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def verify(store: Store, backup_dir: Path) -> list[str]:
    """Restore drill: the backup restored into a scratch file, then every kept table's rows and the
    figures at the latest report date compared with the live store. The differences in words (none:
    the backup gives back what is live; a write between the backup and the drill shows as one)."""
    with tempfile.TemporaryDirectory(prefix="kaigong-drill-") as tmp:
        scratch = Warehouse(Path(tmp) / "drill.duckdb", uploads_dir=Path(tmp) / "uploads")
        restore(backup_dir, scratch, actor=DRILL_ACTOR)
        got = fingerprint(scratch)
    live = fingerprint(store)
    problems = []
    for table in TABLES:
        if table in live and live.get(table) != got.get(table):
            want, have = live[table], got.get(table, (0, "0"))
            what = f"{want[0]} 行，恢复后 {have[0]} 行" if want[0] != have[0] else "行数相同而内容不同"
            problems.append(f"表 {table}：在用数据库 {what}")
    if live["latest"] != got["latest"]:
        problems.append(f"最新报告期不同：在用数据库 {live['latest']}，恢复后 {got['latest']}")
    elif not _same(live["figures"], got["figures"]):
        problems.append(f"报告期 {live['latest']} 的指标（全部及各市）恢复后与在用数据库不同")
    return problems


# ---- keeping the last N -------------------------------------------------------------------------

def _created(path: Path) -> str | None:
    """A backup directory's creation time (its manifest's), None for anything else."""
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return str(manifest.get("created_at", "")) if isinstance(manifest, dict) and manifest.get("format") == FORMAT else None


def keep_last(out_dir: Path, keep: int) -> list[Path]:
    """Delete the backups beside out_dir (directories with a Kaigong manifest) but the newest keep,
    out_dir always among them; nothing else there is touched. The deleted, oldest first."""
    if keep < 1:
        raise ValueError(f"保留的备份份数至少为 1（现为 {keep}）")
    found = [(created, p.name, p) for p in out_dir.parent.iterdir()
             if p.is_dir() and p.resolve() != out_dir.resolve() and (created := _created(p)) is not None]
    found.sort()
    doomed = [p for _, _, p in found[:max(0, len(found) - (keep - 1))]]
    for p in doomed:
        shutil.rmtree(p)
    return doomed


def keep_setting(given: int | None) -> int | None:
    """--keep, else KAIGONG_BACKUP_KEEP, else None (keep every backup)."""
    if given is not None:
        return given
    raw = (os.environ.get(KEEP_ENV) or "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"环境变量 {KEEP_ENV} 应为正整数（现为 {raw!r}）") from None
