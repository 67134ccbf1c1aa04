"""The table registry (pipelines/warehouse/tables.py): one owner writes each table, and what iterates
over the tables (create, backup, restore, export) iterates over the registry."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from pipelines.warehouse import backup, loop_tables, province_export, tables
from pipelines.warehouse.store import Warehouse

ROOT = Path(__file__).resolve().parents[1]
# A statement that writes or shapes a table, and the name it writes (SQL keywords as the code writes them).
_WRITE = re.compile(
    r"\b(?:INSERT\s+(?:OR\s+REPLACE\s+)?INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|ALTER\s+TABLE"
    r"|DROP\s+TABLE(?:\s+IF\s+EXISTS)?|CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\s+)?TABLE(?:\s+IF\s+NOT\s+EXISTS)?)"
    r"\s+(\w+)")
# Modules that write a table of the same name in a database that is not the warehouse.
_OTHER_DATABASES = {
    "pipelines.outputs.rollup": "the roll-up's own in-memory database: views over the provinces' exports and its meta",
}


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def writers() -> dict[str, set[str]]:
    """Every registered table → the modules whose source writes it by name."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "pipelines").rglob("*.py")):
        module = _module(path)
        for m in _WRITE.finditer(path.read_text(encoding="utf-8")):
            if m.group(1) in tables.BY_NAME:
                found.setdefault(m.group(1), set()).add(module)
    return found


def test_only_a_tables_owner_writes_it():
    stray = {}
    for name, modules in writers().items():
        t = tables.BY_NAME[name]
        allowed = {t.owner, *t.derives, "pipelines.warehouse.tables", *_OTHER_DATABASES}
        if modules - allowed:
            stray[name] = sorted(modules - allowed)
    assert stray == {}


def test_the_scan_sees_a_stray_writer(tmp_path):
    # the scan itself: a statement in a module that does not own the table is named
    text = 'con.execute(\n    "UPDATE notices SET status = ? "\n    "WHERE notice_id = ?")\ncon.execute("INSERT INTO audit_log VALUES (?)")'
    assert [m.group(1) for m in _WRITE.finditer(text)] == ["notices", "audit_log"]
    assert "pipelines.warehouse.problems" in writers()["problem_closures"]


def test_every_owner_is_a_module_that_writes_its_table():
    found = writers()
    for t in tables.TABLES:
        assert (ROOT / Path(*t.owner.split("."))).with_suffix(".py").is_file(), t.owner
        assert t.owner in found.get(t.name, set()), t.name


def test_backup_restore_export_and_create_iterate_over_the_registry(tmp_path):
    assert tables.names(tables.KEPT) == backup.TABLES
    assert tuple(t.name for t in tables.TABLES if t.loop) == loop_tables.TABLES
    assert {t.name for t in province_export.TABLES} <= set(tables.BY_NAME)
    wh = Warehouse(tmp_path / "t.duckdb")
    wh.init()
    with wh.read() as con:
        made = {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall()}
    assert made == set(tables.BY_NAME)  # every table the store has is registered, and made on init


def test_the_declared_keys_are_columns_of_their_table():
    con = duckdb.connect()
    for t in tables.TABLES:
        con.execute(t.ddl)
        columns = {r[0] for r in con.execute(f"DESCRIBE {t.name}").fetchall()}
        assert set(t.keys) <= columns, t.name
