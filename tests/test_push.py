"""Scheduled pushes of the 简报 (issue 29 part 2): `kaigong notify` sends each city's robot the 简报 of its own
city, e-mail the PDF attached, DingTalk markdown with a link; once per report date and recipient; bounded.

All endpoints are local: the SMTP sink of test_notify and http.server robots on 127.0.0.1. The fixture is the
dashboard's four projects (conftest.app_rows: 太原市 2, 忻州市 2, reported 2020-03-06 and 03-13), each with a
联系人电话 and 忻州's open problem naming a phone number, which nothing pushed may carry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import date
from datetime import time as dt_time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from pipelines.outputs import notify, push
from pipelines.warehouse import deliveries, issued
from tests.conftest import APP_DATES, ROOT, app_rows, load_rows
from tests.test_notify import SmtpSink

pytestmark = pytest.mark.xdist_group("chromium")  # kaleido's browser: one worker at a time

PHONE = "13912345678"
TODAY = date(2020, 3, 16)  # the latest report date on or before it: 2020-03-13


class Robot:
    """A group robot on 127.0.0.1 that keeps every request (path, query, content type, body). `/upload_media`
    answers a media_id as WeCom does; with hang=True it answers nothing until the test ends."""

    def __init__(self, hang: bool = False) -> None:
        self.requests: list[tuple[str, dict[str, list[str]], str, bytes]] = []
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                parts = urllib.parse.urlsplit(self.path)
                outer.requests.append((parts.path, urllib.parse.parse_qs(parts.query),
                                       self.headers["Content-Type"], body))
                if hang:
                    outer.release.wait(30)
                    return
                answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
                if parts.path.endswith("/upload_media"):
                    answer.update(type="file", media_id=f"MEDIA-{len(outer.requests)}", created_at="1584316800")
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(answer).encode())

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send?key=ROBOT-SECRET"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def json_bodies(self) -> list[dict[str, Any]]:
        return [json.loads(b) for p, _, t, b in self.requests if t.startswith("application/json")]

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sink():
    s = SmtpSink()
    yield s
    s.stop()


def _load(wh) -> None:
    for week, d in enumerate(APP_DATES):
        rows = []
        for r in app_rows(week):
            r = {**r, "contact": f"王工 {PHONE}"}
            if r["project_name"] == "焦化余热发电技术改造项目":  # 忻州市's open problem names a phone number
                r["problem"] = f"电力接入需协调，请联系王工{PHONE}"
            rows.append(r)
        load_rows(wh, d, rows)


def _deliveries(wh) -> list[dict[str, Any]]:
    with wh.read() as con:
        return [dict(zip(("schedule", "recipient", "channel", "format", "issue_id", "status", "attempts", "payload"), r,
                         strict=True))
                for r in con.execute("SELECT schedule, recipient, channel, format, issue_id, status, attempts, payload "
                                     "FROM briefing_deliveries ORDER BY delivery_id").fetchall()]


def _record(wh, issue_id: int) -> issued.Issue:
    with wh.read() as con:
        rec = issued.get(con, issue_id)
    assert rec is not None
    return rec


def test_each_city_robot_gets_its_own_picture_email_the_pdf_dingtalk_a_link_once(wh, sink, monkeypatch):
    _load(wh)
    ty, xz, files, ding = Robot(), Robot(), Robot(), Robot()
    for env, robot in (("TY", ty), ("XZ", xz), ("FILE", files), ("DING", ding)):
        monkeypatch.setenv(f"KAIGONG_TEST_{env}", robot.url)  # the robots' keys live in the environment
    monkeypatch.setenv("KAIGONG_TEST_DING_SECRET", "SEC-DING-SECRET")
    conf = {
        "timeout": 5, "max_attempts": 2, "dashboard_url": "http://kaigong.example.gov.cn/",
        "smtp": {"host": "127.0.0.1", "port": sink.port, "sender": "kaigong@example.gov.cn", "to": {}},
        "briefings": [
            {"name": "地市工作群", "channel": "wecom", "format": "png",
             "recipients": [{"city": "140100", "url_env": "KAIGONG_TEST_TY"},
                            {"city": "忻州市", "url_env": "KAIGONG_TEST_XZ"}]},
            {"name": "领导邮箱", "channel": "email", "format": "pdf",
             "recipients": [{"city": "*", "to": ["leader@example.gov.cn"]},
                            {"city": "140900", "to": ["xz@example.gov.cn"]}]},
            {"name": "忻州文件", "channel": "wecom", "format": "pdf", "tiers": ["省级双百·技改"],
             "recipients": [{"city": "140900", "url_env": "KAIGONG_TEST_FILE"}]},
            {"name": "钉钉群", "channel": "dingtalk",
             "recipients": [{"city": "140900", "url_env": "KAIGONG_TEST_DING", "secret_env": "KAIGONG_TEST_DING_SECRET"}]},
        ]}
    try:
        report = notify.run(wh, TODAY, conf)
        pushes = report.pushes
        assert (pushes.issued, pushes.sent, pushes.retry, pushes.failed) == (6, 6, 0, 0), pushes.errors
        assert "简报推送：新生成 6 份，已发送 6 条" in report.summary_zh()
        sent = {(d["schedule"], d["recipient"]): d for d in _deliveries(wh)}
        assert {k: (d["status"], d["attempts"], d["payload"]) for k, d in sent.items()} == {
            k: ("已发送", 1, None) for k in [("地市工作群", "140100"), ("地市工作群", "140900"), ("领导邮箱", "*"),
                                             ("领导邮箱", "140900"), ("忻州文件", "140900"), ("钉钉群", "140900")]}

        # WeCom: one image message per city robot; md5 of the picture before base64; the picture is the one
        # issued for that city (its sha256 is the record's), and the record is filtered to that city alone
        for robot, code, city, other in ((ty, "140100", "太原市", "忻州市"), (xz, "140900", "忻州市", "太原市")):
            assert len(robot.requests) == 1 and robot.requests[0][0] == "/cgi-bin/webhook/send"
            [body] = robot.json_bodies()
            assert set(body) == {"msgtype", "image"} and body["msgtype"] == "image"
            png = base64.b64decode(body["image"]["base64"])
            assert png.startswith(b"\x89PNG\r\n\x1a\n")
            assert body["image"]["md5"] == hashlib.md5(png).hexdigest()
            rec = _record(wh, sent[("地市工作群", code)]["issue_id"])
            assert rec.sha256 == hashlib.sha256(png).hexdigest()
            assert (rec.issued_by, rec.channel, rec.format, rec.as_of) == ("定时推送", "推送", "png", date(2020, 3, 13))
            assert json.loads(rec.filters)["cities"] == [code]
            figures = json.loads(rec.figures)
            assert figures["title"].startswith(city) and figures["total"]["projects"] == 2
            assert other not in rec.figures  # nothing of the other city in what it was sent
        assert hashlib.md5(base64.b64decode(ty.json_bodies()[0]["image"]["base64"])).hexdigest() != \
            xz.json_bodies()[0]["image"]["md5"]

        # WeCom file: uploaded (multipart, field "media", type=file) then sent as a file message with its media_id
        (up_path, up_query, up_type, up_body), (send_path, _, _, send_body) = files.requests
        assert up_path == "/cgi-bin/webhook/upload_media" and up_query == {"key": ["ROBOT-SECRET"], "type": ["file"]}
        assert up_type.startswith("multipart/form-data; boundary=") and b'name="media"' in up_body
        rec = _record(wh, sent[("忻州文件", "140900")]["issue_id"])
        pdf = up_body[up_body.index(b"%PDF"):up_body.rindex(b"\r\n--")]
        assert hashlib.sha256(pdf).hexdigest() == rec.sha256 and f"filelength={len(pdf)}".encode() in up_body
        assert send_path == "/cgi-bin/webhook/send"
        assert json.loads(send_body) == {"msgtype": "file", "file": {"media_id": "MEDIA-1"}}
        assert json.loads(rec.filters)["tiers"] == ["省级双百·技改"] and json.loads(rec.filters)["cities"] == ["140900"]

        # e-mail: the PDF attached; the whole scope to the leader, 忻州市's to 忻州
        mails = {tuple(rcpt): msg for rcpt, msg in sink.messages}
        assert set(mails) == {("leader@example.gov.cn",), ("xz@example.gov.cn",)}
        for to, key, city in (("leader@example.gov.cn", "*", "工业转型升级"), ("xz@example.gov.cn", "140900", "忻州市")):
            msg = mails[(to,)]
            [att] = list(msg.iter_attachments())
            data = att.get_content()
            assert att.get_content_type() == "application/pdf" and data.startswith(b"%PDF")
            rec = _record(wh, sent[("领导邮箱", key)]["issue_id"])
            assert hashlib.sha256(data).hexdigest() == rec.sha256
            assert att.get_filename().endswith("_2020-03-13.pdf") and msg["Subject"].startswith(f"【开工】{city}")
            assert f"第 {rec.issue_id} 号" in msg["Subject"]
            text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
            assert PHONE not in text
            if key == "140900":
                assert "太原市" not in text and "电力接入需协调" in text and "电话已隐去" in text.replace("\n", "")
            body = msg.get_body(("plain",)).get_content()
            assert "http://kaigong.example.gov.cn/brief?year=2020&date=2020-03-13" in body

        # DingTalk: markdown with the sentences and the link to the 简报 page, signed (加签)
        [(path, query, _, raw)] = ding.requests
        assert path == "/cgi-bin/webhook/send" and query["key"] == ["ROBOT-SECRET"]  # the URL's own query kept
        ts = query["timestamp"][0]
        want = base64.b64encode(hmac.new(b"SEC-DING-SECRET", f"{ts}\nSEC-DING-SECRET".encode(), hashlib.sha256).digest())
        assert query["sign"] == [want.decode()]
        body = json.loads(raw)
        assert body["msgtype"] == "markdown" and set(body["markdown"]) == {"title", "text"}
        rec = _record(wh, sent[("钉钉群", "140900")]["issue_id"])
        assert rec.format == "markdown" and body["markdown"]["title"] == "【开工】" + json.loads(rec.figures)["title"]
        assert json.loads(rec.figures)["sentences"][0] in body["markdown"]["text"]
        assert "(http://kaigong.example.gov.cn/brief?year=2020&date=2020-03-13&city=140900)" in body["markdown"]["text"]

        # no phone number in anything pushed or recorded; no key, secret or address in the database
        everything = b"".join(r[3] for robot in (ty, xz, files, ding) for r in robot.requests)
        everything += b"".join(m.as_bytes() for _, m in sink.messages)
        for png_body in (ty.json_bodies()[0], xz.json_bodies()[0]):
            everything += base64.b64decode(png_body["image"]["base64"])
        assert PHONE.encode() not in everything and PHONE[:3].encode() + b"-" + PHONE[3:7].encode() not in everything
        with wh.read() as con:
            dump = str(con.execute("SELECT * FROM issued_briefings").fetchall()) + str(
                con.execute("SELECT * FROM briefing_deliveries").fetchall())
        assert PHONE not in dump and "电话已隐去" in dump
        assert "ROBOT-SECRET" not in dump and "SEC-DING" not in dump and "example.gov.cn" not in dump

        # the next cron run on the same report date sends nothing and issues nothing
        with wh.read() as con:
            n_issued = con.execute("SELECT count(*) FROM issued_briefings").fetchall()[0][0]
        again = notify.run(wh, TODAY, conf).pushes
        assert (again.issued, again.sent, again.retry, again.failed) == (0, 0, 0, 0)
        assert [len(r.requests) for r in (ty, xz, files, ding)] == [1, 1, 2, 1] and len(sink.messages) == 2
        with wh.read() as con:
            assert con.execute("SELECT count(*) FROM issued_briefings").fetchall()[0][0] == n_issued == 6
    finally:
        for robot in (ty, xz, files, ding):
            robot.stop()


def test_a_robot_that_hangs_is_bounded_retried_then_given_up(wh, monkeypatch):
    _load(wh)
    hung = Robot(hang=True)
    monkeypatch.setenv("KAIGONG_TEST_HUNG", hung.url)
    conf = {"timeout": 1, "max_attempts": 2, "briefings": [
        {"name": "群", "channel": "dingtalk", "recipients": [{"city": "140100", "url_env": "KAIGONG_TEST_HUNG"}]}]}
    try:
        started = time.monotonic()
        first = push.run(wh, TODAY, conf)
        assert time.monotonic() - started < 15
        assert (first.issued, first.sent, first.retry) == (1, 0, 1)
        assert first.errors == ["群→太原市：连接超时（1 秒内无应答，已中止，下次运行重试）"]
        assert [(d["status"], d["attempts"]) for d in _deliveries(wh)] == [("待发送", 1)]
        started = time.monotonic()
        second = push.run(wh, TODAY, conf)  # the same push tried again (not made again), then given up
        assert time.monotonic() - started < 5
        assert (second.issued, second.failed) == (0, 1)
        assert [(d["status"], d["attempts"], d["payload"]) for d in _deliveries(wh)] == [("发送失败", 2, None)]
        with wh.read() as con:
            listed = deliveries.listing(con)
        assert "payload" not in listed.columns
        assert listed.select("schedule", "recipient", "channel", "format", "status", "attempts").rows() == [
            ("群", "140100", "dingtalk", "markdown", "发送失败", 2)]
        assert "连接超时" in listed["last_error"][0]
        assert len(hung.requests) == 2
        third = push.run(wh, TODAY, conf)
        assert (third.issued, third.sent, third.failed) == (0, 0, 0) and len(hung.requests) == 2
    finally:
        hung.stop()
    from streamlit.testing.v1 import AppTest  # the 简报 page lists the pushes for whoever issues them

    monkeypatch.setenv("KAIGONG_DB", str(wh.path))
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/briefing.py").run()
    assert not at.exception
    [shown] = [d.value for d in at.dataframe if "推送" in d.value.columns]
    assert shown[["推送", "接收方", "渠道", "状态", "尝试次数"]].values.tolist() == [["群", "太原市", "dingtalk", "发送失败", 2]]


def test_wecom_image_message_md5_and_the_2mb_limit():
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10
    body = push.wecom_image_body(png)
    assert body["image"]["md5"] == hashlib.md5(base64.b64decode(body["image"]["base64"])).hexdigest()
    assert len(push.wecom_image_body(b"x" * push.WECOM_IMAGE_MAX)["image"]["base64"]) > push.WECOM_IMAGE_MAX
    with pytest.raises(push.NotSendable, match=r"简报图片 2\.0 MB，超过企业微信群机器人图片消息 2 MB 的上限.*format 改为 pdf"):
        push.wecom_image_body(b"x" * (push.WECOM_IMAGE_MAX + 1))
    assert push.wecom_upload_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K") == \
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/upload_media?key=K&type=file"


def test_a_picture_over_2mb_is_put_in_a_palette_to_fit_and_a_small_one_is_kept():
    from PIL import Image

    rng = __import__("random").Random(29)
    noise = Image.frombytes("RGB", (1100, 1100), bytes(rng.getrandbits(8) for _ in range(1100 * 1100 * 3)))
    buf = io.BytesIO()
    noise.save(buf, format="PNG")
    big = buf.getvalue()
    assert len(big) > push.WECOM_IMAGE_MAX
    fitted = push.fit_png(big)
    assert len(fitted) <= push.WECOM_IMAGE_MAX
    again = Image.open(io.BytesIO(fitted))
    assert (again.format, again.size, again.mode) == ("PNG", (1100, 1100), "P")
    small = b"\x89PNG\r\n\x1a\n" + b"x" * 100
    assert push.fit_png(small) is small


def test_dingtalk_signature_by_hand():
    # HmacSHA256 with the secret as key over "timestamp\nsecret", base64, URL-encoded (quote_plus)
    url = push.dingtalk_signed("https://oapi.dingtalk.com/robot/send?access_token=T", "SECabc", now_ms=1584316800000)
    digest = hmac.new(b"SECabc", b"1584316800000\nSECabc", hashlib.sha256).digest()
    assert url == ("https://oapi.dingtalk.com/robot/send?access_token=T&timestamp=1584316800000&sign="
                   + urllib.parse.quote_plus(base64.b64encode(digest).decode()))


@pytest.mark.parametrize(("text", "want"), [
    ("联系人王工13912345678", "联系人王工〔电话已隐去〕"),
    ("电话 139-1234-5678，座机 0351-7654321", "电话 〔电话已隐去〕，座机 〔电话已隐去〕"),
    ("+86 13912345678", "〔电话已隐去〕"),
    ("项目代码 2019-140100-26-03-012345，投资 12000 万元，2020-03-13", None),  # not a phone: kept
])
def test_phone_numbers_are_masked_and_nothing_else(text, want):
    assert push.redact_text(text) == (text if want is None else want)


@pytest.mark.parametrize(("item", "message"), [
    ({"name": "a", "channel": "wecom", "recipients": [{"city": "140100", "url": "http://x/send?key=K"}]},
     "不能写在配置文件里：请用 url_env"),
    ({"name": "a", "channel": "dingtalk", "format": "png", "recipients": [{"url_env": "E"}]},
     "dingtalk 不能发送 png（可用：markdown）"),
    ({"name": "a", "channel": "wecom", "tiers": ["省级"], "recipients": [{"url_env": "E"}]}, "未知层级「省级」"),
    ({"name": "a", "channel": "wecom", "recipients": [{"city": "朔州", "url_env": "E"}, {"city": "140600", "url_env": "F"}]},
     "接收方「朔州市」重复"),
    ({"name": "a", "channel": "wecom", "recipients": [{"city": "火星市", "url_env": "E"}]}, "不是地市代码或名称"),
    ({"name": "a", "channel": "email", "recipients": [{"to": ["x@example.gov.cn"]}]}, "需要配置 smtp"),
    ({"name": "a", "channel": "fax", "recipients": []}, "channel「fax」未知（可用：wecom、dingtalk、email）"),
])
def test_a_wrong_schedule_is_refused_in_chinese(item, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        push.schedules({"briefings": [item]})


def test_report_date_of_a_push():
    dates = [date(2020, 3, 6), date(2020, 3, 13)]
    assert push.report_date_for(dates, date(2020, 3, 13), 0) == date(2020, 3, 13)
    assert push.report_date_for(dates, date(2020, 3, 13), 1) == date(2020, 3, 6)
    assert push.report_date_for(dates, date(2020, 3, 5), 0) is None
    nine = dt_time(9, 0)  # the day after the report date, from 09:00; any later day at any time
    assert push.report_date_for(dates, date(2020, 3, 14), 1, nine, dt_time(8, 59)) == date(2020, 3, 6)
    assert push.report_date_for(dates, date(2020, 3, 14), 1, nine, dt_time(9, 0)) == date(2020, 3, 13)
    assert push.report_date_for(dates, date(2020, 3, 15), 1, nine, dt_time(0, 5)) == date(2020, 3, 13)
    [sched] = push.schedules({"briefings": [{"name": "a", "channel": "wecom", "at": "09:00",
                                             "recipients": [{"url_env": "E"}]}]})
    assert (sched.after_days, sched.at, sched.fmt.name, sched.recipients[0].key) == (1, nine, "png", "*")
    with pytest.raises(ValueError, match="at「9点」应为时刻 HH:MM"):
        push.schedules({"briefings": [{"name": "a", "channel": "wecom", "at": "9点", "recipients": [{"url_env": "E"}]}]})


def test_cli_notify_says_a_wrong_push_config_and_fails(wh, tmp_path):
    conf = tmp_path / "notify.json"
    conf.write_text(json.dumps({"briefings": [{"name": "群", "channel": "wecom", "recipients": [
        {"city": "140100", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"}]}]}), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "pipelines.cli", "--db", str(wh.path), "notify", "--as-of", "2020-03-16",
                          "--config", str(conf)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 1
    assert "简报推送配置有误：简报推送「群」（太原市）：机器人地址（含密钥）和加签密钥不能写在配置文件里" in run.stdout


def test_cli_notify_delivers_each_city_its_picture(wh, tmp_path):
    import os

    _load(wh)
    ty, xz = Robot(), Robot()
    conf = tmp_path / "notify.json"
    conf.write_text(json.dumps({"timeout": 5, "briefings": [{"name": "地市工作群", "channel": "wecom", "recipients": [
        {"city": "太原市", "url_env": "KAIGONG_TEST_TY"}, {"city": "140900", "url_env": "KAIGONG_TEST_XZ"}]}]},
        ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "KAIGONG_TEST_TY": ty.url, "KAIGONG_TEST_XZ": xz.url}
    try:
        run = subprocess.run([sys.executable, "-m", "pipelines.cli", "--db", str(wh.path), "notify", "--as-of",
                              "2020-03-16", "--config", str(conf)], capture_output=True, text=True, cwd=ROOT,
                             timeout=300, env=env)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "简报推送：新生成 2 份，已发送 2 条，待重试 0 条，放弃 0 条" in run.stdout
        for robot, code in ((ty, "140100"), (xz, "140900")):
            [body] = robot.json_bodies()
            png = base64.b64decode(body["image"]["base64"])
            assert body["image"]["md5"] == hashlib.md5(png).hexdigest()
            with wh.read() as con:
                [(filters, by)] = con.execute("SELECT filters, issued_by FROM issued_briefings WHERE sha256 = ?",
                                              [hashlib.sha256(png).hexdigest()]).fetchall()
            assert json.loads(filters)["cities"] == [code] and by == "定时推送"
    finally:
        ty.stop()
        xz.stop()


def test_overlapping_runs_neither_make_nor_send_a_push_twice(wh):
    from datetime import datetime, timedelta

    args = {"schedule": "群", "as_of": date(2020, 3, 13), "recipient": "140100", "channel": "wecom", "fmt": "png",
            "actor": "定时推送"}
    t0 = datetime(2020, 3, 16, 9, 0)
    first = deliveries.claim_new(wh, **args, now=t0)
    assert first == 1
    assert deliveries.claim_new(wh, **args, now=t0 + timedelta(minutes=5)) is None  # another run is making it
    assert deliveries.claim_new(wh, **args, now=t0 + timedelta(minutes=31)) == first  # that run died: taken over
    deliveries.made(wh, first, issue_id=7, payload=b"\x89PNG-7", actor="定时推送")
    assert deliveries.claim_new(wh, **args, now=t0 + timedelta(days=9)) is None  # made: never again
    [p] = deliveries.claim_pending(wh, "定时推送", now=t0)
    assert (p.delivery_id, p.issue_id, p.payload, p.attempts) == (first, 7, b"\x89PNG-7", 0)
    assert deliveries.claim_pending(wh, "定时推送", now=t0 + timedelta(minutes=5)) == []  # being sent by the first run
    assert [q.delivery_id for q in deliveries.claim_pending(wh, "定时推送", now=t0 + timedelta(minutes=31))] == [first]
    deliveries.record_attempts(wh, "定时推送", [(first, "待发送", 1, "群→太原市：HTTP 500")])
    [again] = deliveries.claim_pending(wh, "定时推送", now=t0 + timedelta(minutes=32))
    assert again.attempts == 1 and again.payload == b"\x89PNG-7"  # the same bytes as issued
    deliveries.record_attempts(wh, "定时推送", [(first, "已发送", 2, None)])
    assert deliveries.claim_pending(wh, "定时推送", now=t0 + timedelta(days=9)) == []
    with wh.read() as con:
        assert con.execute("SELECT status, payload, claimed_at FROM briefing_deliveries").fetchall() == [
            ("已发送", None, None)]


def test_a_briefing_that_cannot_be_made_is_not_queued_and_is_tried_next_run(wh, monkeypatch):
    _load(wh)
    robot = Robot()
    monkeypatch.setenv("KAIGONG_TEST_DING", robot.url)

    def broken(data):
        raise RuntimeError("排版失败")

    monkeypatch.setitem(push.FORMATS, "markdown", push.Format("markdown", "md", "text/markdown", "text", broken))
    conf = {"timeout": 5, "briefings": [{"name": "群", "channel": "dingtalk",
                                         "recipients": [{"city": "140900", "url_env": "KAIGONG_TEST_DING"}]}]}
    try:
        first = push.run(wh, TODAY, conf)
        assert (first.issued, first.sent, first.retry) == (0, 0, 1)
        assert first.errors == ["群→忻州市：未生成简报：排版失败"]
        assert _deliveries(wh) == [] and robot.requests == []
        with wh.read() as con:
            assert con.execute("SELECT count(*) FROM issued_briefings").fetchall()[0][0] == 0
        monkeypatch.setitem(push.FORMATS, "markdown", push.Format(
            "markdown", "md", "text/markdown", "text", lambda d: push.markdown_text(d).encode("utf-8")))
        second = push.run(wh, TODAY, conf)
        assert (second.issued, second.sent) == (1, 1) and len(robot.requests) == 1
    finally:
        robot.stop()


def test_wecom_markdown_is_cut_to_the_robots_4096_bytes():
    robot = Robot()
    try:
        text = "### 标题\n\n" + "".join(f"- 第{i}句：截至3月13日，累计完成投资0.6亿元。\n" for i in range(400))
        msg = push.Message("标题", [], date(2020, 3, 13), 1, push.FORMATS["markdown"], text.encode("utf-8"), "http://k/brief")
        push.WeComRobot(robot.url).send(msg, 5)
        [body] = robot.json_bodies()
        assert set(body) == {"msgtype", "markdown"} and body["msgtype"] == "markdown"
        content = body["markdown"]["content"]
        assert len(content.encode("utf-8")) <= push.WECOM_MARKDOWN_MAX and content.startswith("### 标题\n\n- 第0句")
        assert content.endswith("\n……\n\n[打开简报页](http://k/brief)\n")  # the sentences cut short, the link kept
        short = push.Message("标题", ["一句。"], date(2020, 3, 13), 1, push.FORMATS["png"], b"", None)
        assert short.markdown(50) == "### 标题\n\n截至 2020-03-13\n\n- 一句。\n"
    finally:
        robot.stop()
