"""Backups a province can keep: every table to Parquet with a manifest, and back."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from pipelines.vocab import schema
from pipelines.warehouse import loop_tables, tables
from pipelines.warehouse.connection import first
from pipelines.warehouse.snapshots import rebuild_states, remap_present
from pipelines.warehouse.store import Store, Warehouse

# The kept tables of the registry, in load order; the states (state_ranges, state_dates, reports.is_state
# and state_to) and the figure cells are derived, and computed again on restore.
TABLES = tables.names(tables.KEPT)
FORMAT = "kaigong-backup/1"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def backup(wh: Store, out_dir: Path) -> dict:
    """Write every table to out_dir/<table>.parquet and a manifest (row counts, checksums)."""
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
        if table == "reports":  # fields added since the backup: their bits moved
            remap_present(con, [f for f in schema.FIELD_NAMES if f in data.column_names])
        got = first(con.execute(f"SELECT count(*) FROM {table}"))  # noqa: S608
        if not got or got[0] != manifest["tables"][table]["rows"]:
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



