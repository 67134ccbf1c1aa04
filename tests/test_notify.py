"""Notices: queued in the database, sent to a local SMTP sink and a local HTTP server (127.0.0.1 only)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipelines import auth
from pipelines.outputs import notify
from pipelines.warehouse import supervision as sv
from tests.conftest import load_rows


class SmtpSink:
    """A tiny SMTP server on 127.0.0.1 (the stdlib has no smtpd any more): keeps each message."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._client, "127.0.0.1", 0), self.loop).result(5)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 sink ESMTP\r\n")
        rcpt: list[str] = []
        while line := await reader.readline():
            cmd = line.decode("ascii", "replace").strip()
            verb = cmd.split(" ")[0].upper()
            if verb == "EHLO":
                writer.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif verb == "RCPT":
                rcpt.append(cmd.split(":", 1)[1].strip(" <>"))
                writer.write(b"250 OK\r\n")
            elif verb == "DATA":
                writer.write(b"354 go on\r\n")
                await writer.drain()
                data = b""
                while (chunk := await reader.readline()) not in (b".\r\n", b""):
                    data += chunk
                self.messages.append((rcpt, email.message_from_bytes(data, policy=email.policy.default)))
                rcpt = []
                writer.write(b"250 OK\r\n")
            elif verb == "QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 OK\r\n")
            await writer.drain()
        writer.close()

    def stop(self) -> None:
        self.server.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class Hook:
    """A local HTTP server that keeps the JSON bodies POSTed to it; the first `fail` answers are 500."""

    def __init__(self, fail: int = 0) -> None:
        self.bodies: list[dict] = []
        self.fail = fail
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.fail > 0:
                    outer.fail -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                outer.bodies.append(json.loads(body.decode("utf-8")))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/robot/send?key=SECRET-KEY"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sink():
    s = SmtpSink()
    yield s
    s.stop()


def _conf(sink: SmtpSink, hook: Hook, monkeypatch: pytest.MonkeyPatch, fmt: str = "wecom") -> dict:
    monkeypatch.setenv("KAIGONG_TEST_ROBOT", hook.url)  # the robot's key lives in the environment
    return {"timeout": 5, "max_attempts": 2,
            "smtp": {"host": "127.0.0.1", "port": sink.port, "sender": "kaigong@example.gov.cn",
                     "to": {"140900": ["xz@example.gov.cn"], "*": ["ops@example.gov.cn"]}},
            "webhooks": [{"url_env": "KAIGONG_TEST_ROBOT", "format": fmt}]}


def _issue(wh) -> int:
    return sv.issue(wh, auth.User("ana", "分析员"), "140900", "请说明焦化余热发电项目滞后原因", date(2020, 3, 27),
                    projects=[("p1", "焦化余热发电技术改造项目")], source="红灯项目", today=date(2020, 3, 20))


def test_issue_notice_reaches_smtp_and_wecom_with_chinese_text(wh, sink, monkeypatch):
    hook = Hook()
    try:
        oid = _issue(wh)
        report = notify.run(wh, date(2020, 3, 20), _conf(sink, hook, monkeypatch))
        assert (report.sent, report.retry, report.failed) == (1, 0, 0), report.errors
        [(rcpt, msg)] = sink.messages
        assert rcpt == ["ops@example.gov.cn", "xz@example.gov.cn"]
        assert msg["Subject"] == f"【开工】督办单第 {oid} 号：请忻州市于 2020-03-27 前书面回复"
        assert "督办内容：请说明焦化余热发电项目滞后原因" in msg.get_content()
        assert hook.bodies == [{"msgtype": "text", "text": {"content": msg["Subject"] + "\n" + msg.get_content().rstrip("\n")}}]
        with wh.read() as con:
            row = con.execute("SELECT status, attempts, sent_via, last_error FROM notices").fetchall()[0]
            dump = str(con.execute("SELECT * FROM notices").fetchall())
        assert row == ("已发送", 1, "smtp,webhook1", None)
        assert "SECRET-KEY" not in dump and "example.gov.cn" not in dump  # no address or key in the database
        again = notify.run(wh, date(2020, 3, 20), _conf(sink, hook, monkeypatch))
        assert again.sent == 0 and len(sink.messages) == 1  # sent once
    finally:
        hook.stop()


def test_a_failing_channel_is_retried_without_resending_the_other(wh, sink, monkeypatch):
    hook = Hook(fail=1)
    try:
        _issue(wh)
        first = notify.run(wh, date(2020, 3, 20), _conf(sink, hook, monkeypatch, fmt="json"))
        assert (first.sent, first.retry) == (0, 1) and first.errors == ["webhook1：HTTP 500"]
        with wh.read() as con:
            assert con.execute("SELECT status, attempts, sent_via FROM notices").fetchall() == [("待发送", 1, "smtp")]
        second = notify.run(wh, date(2020, 3, 20), _conf(sink, hook, monkeypatch, fmt="json"))
        assert second.sent == 1
        assert len(sink.messages) == 1  # the e-mail went once
        assert hook.bodies[0]["unit_name"] == "忻州市" and hook.bodies[0]["kind"] == "督办下达"
    finally:
        hook.stop()


def test_overdue_order_and_missing_unit_are_queued_once_and_unreachable_channel_gives_up(wh, monkeypatch):
    xz = {"city_code": "140900", "city_name": "忻州市", "tier": "市级千项"}
    ty = {"city_code": "140100", "city_name": "太原市", "tier": "市级千项"}
    load_rows(wh, date(2020, 3, 20), [{**xz, "project_name": "甲", "stage": "在建"},
                                      {**ty, "project_name": "乙", "stage": "在建"}])
    load_rows(wh, date(2020, 3, 27), [{**ty, "project_name": "乙", "stage": "在建"}])
    _issue(wh)
    assert notify.queue_due(wh, date(2020, 3, 28)) == 2  # 忻州 missed 03-27; the order is past 03-27
    assert notify.queue_due(wh, date(2020, 3, 28)) == 0
    with wh.read() as con:
        subjects = [s for (s,) in con.execute("SELECT subject FROM notices ORDER BY notice_id").fetchall()]
    assert subjects[1:] == ["【开工】忻州市报告期 2020-03-27 未报送", "【开工】督办单第 1 号已逾期"]
    # nothing listens on this port: each run fails fast (timeout-bounded), then the notices are given up
    conf = {"timeout": 2, "max_attempts": 2, "webhooks": [{"url": "http://127.0.0.1:9/none", "format": "json"}]}
    assert notify.send_pending(wh, conf).retry == 3
    last = notify.send_pending(wh, conf)
    assert last.failed == 3 and last.retry == 0
    with wh.read() as con:
        assert {s for (s,) in con.execute("SELECT status FROM notices").fetchall()} == {"发送失败"}
    assert notify.send_pending(wh, {}).no_channel is False  # nothing left to send


def test_cli_notify_without_channels_says_so_and_keeps_the_queue(wh, tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    _issue(wh)
    run = subprocess.run([sys.executable, "-m", "pipelines.cli", "--db", str(wh.path), "notify", "--as-of", "2020-03-20",
                          "--config", str(tmp_path / "none.json")], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 1 and "未配置通知渠道" in run.stdout
    with wh.read() as con:
        assert con.execute("SELECT status, attempts FROM notices").fetchall() == [("待发送", 0)]
