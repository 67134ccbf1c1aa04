"""A dashboard server on a free loopback port, for the browser tests and the bench (one copy of it)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str, proc: subprocess.Popen, timeout: float) -> bool:
    """Whether url/_stcore/health answers 200 within timeout seconds (False at once if proc ended)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def stop(proc: subprocess.Popen) -> None:
    """End proc: terminate, then kill after 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


class Server:
    """`python -m ui.serve` on db, listening on 127.0.0.1 only, ready when /_stcore/health answers
    (within start_timeout seconds); stop() ends its own process only."""

    def __init__(self, db: Path, log: Path | None = None, *, start_timeout: float = 60,
                 env: dict[str, str] | None = None, without: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environ = {k: v for k, v in os.environ.items() if k not in without} | {"KAIGONG_DB": str(db), **(env or {})}
        # The server's log goes to a file beside the database (a failing test shows its tail),
        # not to a pipe nobody reads, which would block the server once 64 KiB were logged.
        self.log = log or db.with_name(db.name + ".server.log")
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "ui.serve", "--server.headless", "true", "--server.address", "127.0.0.1",
                 "--server.port", str(self.port), "--browser.gatherUsageStats", "false",
                 "--server.fileWatcherType", "none"],
                cwd=ROOT, env=environ, stdout=subprocess.DEVNULL, stderr=out,
            )
        if healthy(self.url, self.proc, start_timeout):
            return
        self.stop()
        raise RuntimeError(f"streamlit did not start within {start_timeout:.0f} s; see {self.log}")

    def stop(self) -> None:
        stop(self.proc)


NGINX_CONF = ROOT / "deploy" / "nginx.conf"


class Proxy:
    """nginx on a free loopback port with the repo's deploy/nginx.conf, its upstream pointed at the
    given servers: the example config, run as it is (only addresses and the listen port replaced).
    Ready when /_stcore/health answers through it (within start_timeout seconds)."""

    def __init__(self, upstreams: list[int], workdir: Path, *, start_timeout: float = 20) -> None:
        import re

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        site = NGINX_CONF.read_text(encoding="utf-8")
        servers = "".join(f"    server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;\n" for p in upstreams)
        site, n = re.subn(r"(upstream kaigong \{\n    hash \$remote_addr consistent;\n)(?:    #? ?server [^\n]*\n)+",
                          lambda m: m.group(1) + servers, site)
        assert n == 1, "deploy/nginx.conf: the upstream block changed shape"
        site = site.replace("listen 80;", f"listen 127.0.0.1:{self.port};")
        (workdir / "site.conf").write_text(site, encoding="utf-8")
        temp = "".join(f"    {k}_temp_path {workdir / k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        user = "user root;\n" if os.geteuid() == 0 else ""
        (workdir / "nginx.conf").write_text(
            f"{user}worker_processes 1;\npid {workdir / 'nginx.pid'};\nerror_log {workdir / 'error.log'};\n"
            f"events {{ worker_connections 256; }}\nhttp {{\n    access_log off;\n{temp}"
            f"    include {workdir / 'site.conf'};\n}}\n", encoding="utf-8")
        self.log = workdir / "error.log"
        self.proc = subprocess.Popen(
            ["nginx", "-p", str(workdir), "-c", str(workdir / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=open(workdir / "stderr.log", "wb"),  # noqa: SIM115
        )
        if healthy(self.url, self.proc, start_timeout):
            return
        err = (workdir / "stderr.log").read_text(errors="replace") + (self.log.read_text(errors="replace")
                                                                       if self.log.exists() else "")
        self.stop()
        raise RuntimeError(f"nginx did not start within {start_timeout:.0f} s: {err[-2000:]}")

    def stop(self) -> None:
        stop(self.proc)


CONFIRM_READING = "我已核对以上读取"  # the 数据报送 page's tick for a reading inferred and not confirmed before


def commit_upload(page: Any, files: int = 1, timeout_ms: int = 30_000) -> None:
    """Click 确认导入, first ticking the confirmation the page asks for when the reading was inferred (a
    frequency from the report date, a column read by its values) and that layout was not confirmed before."""
    button = page.get_by_role("button", name=f"确认导入 {files} 个文件")
    button.wait_for(timeout=timeout_ms)
    tick = page.get_by_text(CONFIRM_READING)
    if tick.count():
        tick.first.click()
    button.click(timeout=timeout_ms)  # enabled once the tick's rerun has drawn it
