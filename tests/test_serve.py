"""First start: `python -m ui.serve` builds the demo database before the server answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from pipelines.warehouse.store import Warehouse
from tests.conftest import ROOT

STARTED = "You can now view your Streamlit app"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_first_start_builds_the_demo_before_the_server_answers(tmp_path: Path):
    db = tmp_path / "new" / "kaigong.duckdb"
    port = _free_port()
    out = tmp_path / "serve.out"
    with out.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ui.serve", "--server.headless", "true", "--server.address", "127.0.0.1",
             "--server.port", str(port), "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env={**os.environ, "KAIGONG_DB": str(db), "PYTHONUNBUFFERED": "1"},
            stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError(out.read_text())
        # the moment it answers, the database is whole: the demo year, loaded
        wh = Warehouse(db)
        assert wh.is_demo() and not wh.is_empty()
        text = out.read_text()
        assert "首次启动：数据库" in text and "正在生成演示数据" in text
        built = text.index("演示数据已生成")
        assert "写入数据库" in text[:built]  # progress while it builds
        assert STARTED in text and built < text.index(STARTED)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
