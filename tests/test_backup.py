"""kaigong backup: the users file (hashes only), the restore drill (--verify) and keeping the last N."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pytest

from pipelines import auth
from pipelines.warehouse import backup
from pipelines.warehouse.store import Warehouse
from tests.conftest import ROOT, load_rows

XZ = {"city_code": "140900", "city_name": "忻州市", "tier": "市级千项"}
TY = {"city_code": "140100", "city_name": "太原市", "tier": "市级千项"}


def _two_weeks(wh: Warehouse) -> None:
    load_rows(wh, date(2020, 3, 6), [{**XZ, "project_name": "甲", "stage": "在建", "ytd_completed": 5.0,
                                      "annual_plan": 40.0}])
    load_rows(wh, date(2020, 3, 13), [{**TY, "project_name": "乙", "stage": "新开工", "annual_plan": 10.0}])


def test_a_backup_holds_the_users_hashes_only_and_restore_users_puts_them_back(wh, tmp_path, monkeypatch):
    users = tmp_path / "users.json"
    monkeypatch.setenv("KAIGONG_USERS", str(users))
    auth.add_user("admin", "admin-pass-word", "管理员")
    auth.add_user("xz", "xz-pass-word", "报送员", "忻州市")
    _two_weeks(wh)
    manifest = backup.backup(wh, tmp_path / "bk")
    kept = json.loads((tmp_path / "bk" / backup.USERS_FILE).read_text(encoding="utf-8"))
    assert manifest["users"]["count"] == 2
    assert {u["name"] for u in kept["users"]} == {"admin", "xz"}
    text = (tmp_path / "bk" / backup.USERS_FILE).read_text(encoding="utf-8")
    assert "admin-pass-word" not in text and all(u["password_hash"].startswith("$2") for u in kept["users"])
    assert oct(os.stat(tmp_path / "bk" / backup.USERS_FILE).st_mode & 0o777) == "0o600"
    users.unlink()
    assert backup.restore_users(tmp_path / "bk") == 2
    assert auth.authenticate("xz", "xz-pass-word") is not None


def test_the_drill_passes_on_a_good_backup_and_names_what_differs(wh, tmp_path):
    _two_weeks(wh)
    backup.backup(wh, tmp_path / "bk")
    assert backup.verify(wh, tmp_path / "bk") == []
    assert backup.verify(wh, tmp_path / "bk") == []  # the drill wrote nothing to the live store
    # a write after the backup: the drill names the tables that differ
    load_rows(wh, date(2020, 3, 20), [{**TY, "project_name": "乙", "stage": "在建", "ytd_completed": 2.0}])
    problems = backup.verify(wh, tmp_path / "bk")
    assert any("reports" in p and "2 行" in p for p in problems)
    assert any("submissions" in p for p in problems) and any("最新报告期不同" in p for p in problems)


def test_the_drill_sees_a_changed_value_with_the_same_row_count(wh, tmp_path):
    _two_weeks(wh)
    backup.backup(wh, tmp_path / "bk")
    # one value changed behind the backup's back (rewritten with a valid checksum): same rows, other content
    import pyarrow.parquet as pq

    path = tmp_path / "bk" / "reports.parquet"
    data = pq.read_table(path).to_pylist()
    data[0]["ytd_completed"] = 999.0
    import pyarrow as pa

    pq.write_table(pa.Table.from_pylist(data, schema=pq.read_schema(path)), path)
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text(encoding="utf-8"))
    manifest["tables"]["reports"]["sha256"] = backup._sha256(path)
    (tmp_path / "bk" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    problems = backup.verify(wh, tmp_path / "bk")
    assert "表 reports：在用数据库 行数相同而内容不同" in problems
    assert any("指标" in p for p in problems)


def test_keep_last_deletes_only_older_kaigong_backups(wh, tmp_path):
    _two_weeks(wh)
    root = tmp_path / "backups"
    for i, day in enumerate(("2020-03-01", "2020-03-02", "2020-03-03", "2020-03-04")):
        backup.backup(wh, root / day)
        manifest = json.loads((root / day / "manifest.json").read_text(encoding="utf-8"))
        manifest["created_at"] = f"2020-03-0{i + 1}T00:00:00"
        (root / day / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (root / "notes").mkdir()  # not a backup: never touched
    gone = backup.keep_last(root / "2020-03-04", 2)
    assert [p.name for p in gone] == ["2020-03-01", "2020-03-02"]
    assert sorted(p.name for p in root.iterdir()) == ["2020-03-03", "2020-03-04", "notes"]
    with pytest.raises(ValueError, match="至少为 1"):
        backup.keep_last(root / "2020-03-04", 0)


def test_kaigong_backup_verify_keep_from_the_command_line(wh, tmp_path, monkeypatch):
    _two_weeks(wh)
    env = {**os.environ, "KAIGONG_USERS": str(tmp_path / "none.json"), "KAIGONG_BACKUP_KEEP": "1"}

    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pipelines.cli", "--db", str(wh.path), "backup", *argv],
                              capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)

    first = run("--out", str(tmp_path / "b" / "one"), "--verify")
    assert first.returncode == 0, first.stderr
    assert "恢复演练通过" in first.stdout
    second = run("--out", str(tmp_path / "b" / "two"), "--verify")  # KAIGONG_BACKUP_KEEP=1: the first goes
    assert second.returncode == 0, second.stderr
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["two"]
    assert run("--out", str(tmp_path / "b" / "three"), "--keep", "0").returncode == 2
    assert not (tmp_path / "b" / "three").exists()
