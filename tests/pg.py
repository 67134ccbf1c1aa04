"""A throw-away PostgreSQL server for the lake tests (the DuckLake catalog).

initdb into a temp directory, listening on 127.0.0.1 only on a free port with its unix socket in
that directory, started as the `postgres` OS user when we are root (PostgreSQL refuses to run as
root), otherwise as ourselves; stopped by its PID. Every wait is bounded and says what it waited for.

    with PgServer() as pg:
        dsn = pg.create_database("kaigong_x")
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

START_WAIT_SECONDS = 30.0
STOP_WAIT_SECONDS = 10.0
SUPERUSER = "kaigong"


class PgUnavailable(RuntimeError):
    """No PostgreSQL could be started here (binaries missing, or it did not come up in time)."""


def pg_bin() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and postgres."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise PgUnavailable("未找到 PostgreSQL（/usr/lib/postgresql/*/bin/initdb）：请先运行 make sysdeps "
                            "/ PostgreSQL binaries not found: run make sysdeps")
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """One PostgreSQL cluster in a temp directory, for the life of the object."""

    def __init__(self) -> None:
        self.bin = pg_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="kaigong-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.dir / "postgres.log"
        # PostgreSQL will not run as root: run it as the postgres OS user then.
        self._as: dict[str, Any] = {}
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self._as = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}

    def _run(self, *args: str, timeout: float = 60.0) -> None:
        done = subprocess.run(args, capture_output=True, timeout=timeout, cwd=self.dir, **self._as)
        if done.returncode:
            raise PgUnavailable(f"{args[0]} 失败 / failed: {done.stderr.decode(errors='replace')[-2000:]}")

    def start(self) -> PgServer:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                  "--no-sync", "-E", "UTF8", "--locale=C")
        log = open(self.log, "wb")  # noqa: SIM115 (the server writes it until stop)
        if self._as:
            os.chown(self.log, self._as["user"], self._as["group"])
        self.proc = subprocess.Popen(
            [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.dir}",
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=200"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.dir, **self._as,
        )
        log.close()
        deadline = time.monotonic() + START_WAIT_SECONDS
        while True:
            if self.proc.poll() is not None:
                raise PgUnavailable(f"PostgreSQL 启动后即退出 / exited at start: {self._tail()}")
            ready = subprocess.run([str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
                                   timeout=10)
            if ready.returncode == 0:
                return self
            if time.monotonic() > deadline:
                self.stop()
                raise PgUnavailable(f"PostgreSQL 在 {START_WAIT_SECONDS:.0f} 秒内未就绪 / not ready in time: "
                                    f"{self._tail()}")
            time.sleep(0.1)

    def _tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user={SUPERUSER} connect_timeout=10"

    def create_database(self, name: str) -> str:
        """A new empty database (name from the test's code, not user text); its DSN."""
        assert name.replace("_", "").isalnum()
        with psycopg.connect(self.dsn(), autocommit=True) as con:
            con.execute(f"CREATE DATABASE {name}")
        return self.dsn(name)

    def stop(self) -> None:
        """SIGINT (fast shutdown) by PID, SIGKILL after STOP_WAIT_SECONDS; the directory removed."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=STOP_WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=STOP_WAIT_SECONDS)
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PgServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
