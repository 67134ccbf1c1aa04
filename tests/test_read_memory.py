"""KAIGONG_READ_MEMORY bounds what DuckDB holds for the reads; a bad value is a clear Chinese error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_PROBE = ("from pipelines.warehouse.connection import READER; c = READER.open(); "
          "print(c.execute(\"SELECT current_setting('memory_limit'), current_setting('temp_directory')\").fetchall())")


def _probe(**env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("KAIGONG_READ_")}
    return subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, env={**base, **env},
                          capture_output=True, text=True, timeout=120)


def test_the_reads_are_bounded_by_default_and_by_the_setting(tmp_path):
    default = _probe()
    assert default.returncode == 0, default.stderr
    assert "953.6 MiB" in default.stdout and "kaigong-duckdb-spill" in default.stdout  # 1GB
    set_ = _probe(KAIGONG_READ_MEMORY="512MB", KAIGONG_READ_SPILL_DIR=str(tmp_path))
    assert "488.2 MiB" in set_.stdout and str(tmp_path / "kaigong-duckdb-spill") in set_.stdout


def test_a_bad_value_names_the_setting_in_chinese():
    bad = _probe(KAIGONG_READ_MEMORY="很多")
    assert bad.returncode != 0
    assert "设置 KAIGONG_READ_MEMORY='很多' 无效" in bad.stderr
