"""Notices that reach people: the queue in the database, sent by `kaigong notify` (cron).

Events queue a notice inside their own write (a 退回, a 督办单 issued: loop_tables.enqueue_notice);
`queue_due` adds the ones found by date (a 督办单 fallen overdue, a unit missing the latest period);
`send_pending` sends what is queued through the deployment's channels and records what was sent.
Nothing here runs inside a page or a load: the network is used outside any database lock, and
each attempt is bounded by a timeout.

Channels come from a JSON file outside the repository, `$KAIGONG_NOTIFY` (default
`~/.config/kaigong/notify.json`), so no address or secret is in the repository or the database:

    {"timeout": 10, "max_attempts": 5,
     "smtp": {"host": "mail.example.gov.cn", "port": 465, "ssl": true, "starttls": false,
              "username": "kaigong", "password_env": "KAIGONG_SMTP_PASSWORD", "sender": "kaigong@example.gov.cn",
              "to": {"140900": ["xz@example.gov.cn"], "*": ["ops@example.gov.cn"]}},
     "webhooks": [{"url_env": "KAIGONG_WECOM_URL", "format": "wecom", "units": ["140900"]},
                  {"url": "http://10.0.0.5/hook", "format": "json"}]}

`format`: `wecom` or `dingtalk` (the group robot's text message JSON) or `json` (a plain object).
`password_env` / `url_env` name environment variables holding the secret (a robot's URL carries its
key); `password` / `url` may be given in the file itself. `to` maps a unit code (or `*`, everyone) to
addresses; a webhook without `units` gets every notice. A notice is 已发送 once every channel that
applies to it has taken it; a failed channel is tried again on the next run (a channel that took it
is not), until `max_attempts` runs, then the notice is 发送失败 with the last error.

A "briefings" list in the same file schedules pushes of the 简报, one version per city (outputs/push.py).
"""

from __future__ import annotations

import json
import os
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import duckdb

from pipelines import metrics
from pipelines.views import supervision as supervision_view
from pipelines.views.overdue_reports import overdue_reports
from pipelines.vocab.query import query_frame
from pipelines.vocab.reference import region_by_code, region_name
from pipelines.warehouse import loop_tables, supervision
from pipelines.warehouse.store import Store

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_ATTEMPTS = 5


def config_path() -> Path:
    env = os.environ.get("KAIGONG_NOTIFY")
    return Path(env) if env else Path.home() / ".config" / "kaigong" / "notify.json"


def load_config(path: Path | None = None) -> dict[str, Any]:
    """The channels (an empty dict when none are configured)."""
    p = path or config_path()
    if not p.exists():
        return {}
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"通知配置文件无法读取（{p}）：{exc}") from exc


def _secret(conf: dict[str, Any], key: str) -> str | None:
    env = conf.get(f"{key}_env")
    return os.environ.get(env) if env else conf.get(key)


@dataclass
class Notice:
    notice_id: int
    kind: str
    unit_code: str | None
    subject: str
    body: str
    sent_via: set[str]
    attempts: int


@dataclass
class SendReport:
    queued: int = 0
    sent: int = 0
    failed: int = 0  # attempts used up
    retry: int = 0  # failed this run, tried again next run
    errors: list[str] = field(default_factory=list)
    no_channel: bool = False
    pushes: Any = None  # the scheduled 简报 pushes (outputs/push.py), when the config lists any

    def summary_zh(self) -> str:
        push = f"\n{self.pushes.summary_zh()}" if self.pushes is not None else ""
        if self.no_channel:
            return f"未配置通知渠道（{config_path()}）：新排队 {self.queued} 条，未发送。" + push
        text = f"新排队 {self.queued} 条，已发送 {self.sent} 条，待重试 {self.retry} 条，放弃 {self.failed} 条"
        return text + ("；错误：" + "；".join(self.errors[:5]) if self.errors else "") + push


# ---- queueing what is due by date ------------------------------------------------------------


def _missing_period(con: duckdb.DuckDBPyConnection, today: date) -> list[tuple[str, str, str, str]]:
    dates = [d for d in metrics.report_dates(con, today.year) if d <= today]
    if not dates:
        return []
    d = dates[-1]
    out = []
    for r in overdue_reports(con, d).iter_rows(named=True):
        out.append((f"missing:{r['unit_code']}:{d}", r["unit_code"], f"【开工】{r['unit_name']}报告期 {d} 未报送",
                    f"{r['unit_name']}：报告期 {d} 应报送项目 {r['reporting_base']} 个，尚未报送，已连续 "
                    f"{r['missed_periods']} 期未报。请尽快在开工系统「数据报送」页报送。"))
    return out


def queue_due(wh: Store, today: date) -> int:
    """Queue the notices found by date; a write only when there is something new."""
    with wh.read() as con:
        missing = _missing_period(con, today)
        known = {k for (k,) in con.execute("SELECT dedup_key FROM notices").fetchall()} if loop_tables.has(
            con, "notices") else set()
        overdue = supervision_view.orders(con, today).filter("overdue")
    fresh = [m for m in missing if m[0] not in known]
    new_overdue = [o for o in overdue.iter_rows(named=True) if f"overdue:{o['order_id']}:{o['deadline']}" not in known]
    if not fresh and not new_overdue:
        return 0
    with wh.write("notify", "notify_queue", f"漏报 {len(fresh)} 条，督办逾期 {len(new_overdue)} 条") as con:
        n = sum(loop_tables.enqueue_notice(con, key, "漏报", unit, subj, body) for key, unit, subj, body in fresh)
        n += supervision.queue_overdue_notices(con, today)
    return n


# ---- channels --------------------------------------------------------------------------------


def _recipients(smtp: dict[str, Any], unit: str | None) -> list[str]:
    to = smtp.get("to") or {}
    city = None
    region = region_by_code().get(unit or "")
    if region is not None and region.level == "county":
        city = region.parent_code
    return sorted({a for k in ("*", unit, city) if k for a in to.get(k, [])})


def send_email(smtp: dict[str, Any], to: list[str], subject: str, body: str, timeout: float,
               attachments: Sequence[tuple[str, str, bytes]] = ()) -> None:
    """One message; attachments are (file name, MIME type, bytes) (the pushed 简报: outputs/push.py)."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = smtp["sender"]
    msg["To"] = ", ".join(to)
    msg.set_content(body)  # UTF-8, the Chinese text as is
    for name, mime, data in attachments:
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    host, port = smtp["host"], int(smtp.get("port", 465 if smtp.get("ssl") else 25))
    cls = smtplib.SMTP_SSL if smtp.get("ssl") else smtplib.SMTP
    with cls(host, port, timeout=timeout) as server:
        if smtp.get("starttls"):
            server.starttls()
        if smtp.get("username"):
            server.login(smtp["username"], _secret(smtp, "password") or "")
        server.send_message(msg)


def webhook_payload(fmt: str, n: Notice) -> dict[str, Any]:
    text = f"{n.subject}\n{n.body}"
    if fmt in ("wecom", "dingtalk"):  # both robots take {"msgtype": "text", "text": {"content": …}}
        return {"msgtype": "text", "text": {"content": text}}
    if fmt == "json":
        name = region_name(n.unit_code)
        return {"notice_id": n.notice_id, "kind": n.kind, "unit_code": n.unit_code, "unit_name": name,
                "subject": n.subject, "body": n.body}
    raise ValueError(f"未知的推送格式：{fmt}（应为 wecom、dingtalk 或 json）")


def post_webhook(hook: dict[str, Any], n: Notice, timeout: float) -> None:
    url = _secret(hook, "url")
    if not url or not url.startswith(("http://", "https://")):
        raise ValueError("推送地址未配置或不是 http(s) 地址")
    fmt = hook.get("format", "json")
    data = json.dumps(webhook_payload(fmt, n), ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json; charset=utf-8"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        answer = resp.read(65536)
    if fmt in ("wecom", "dingtalk"):
        try:
            code = json.loads(answer or b"{}").get("errcode", 0)
        except ValueError:
            code = 0
        if code:
            raise ValueError(f"机器人返回错误码 {code}")


def _channels(conf: dict[str, Any], n: Notice) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    smtp = conf.get("smtp")
    if smtp and _recipients(smtp, n.unit_code):
        out.append(("smtp", smtp))
    for i, hook in enumerate(conf.get("webhooks") or [], start=1):
        units = hook.get("units")
        city = getattr(region_by_code().get(n.unit_code or ""), "parent_code", None)
        if not units or n.unit_code in units or city in units:
            out.append((f"webhook{i}", hook))
    return out


def _deliver(name: str, channel: Any, n: Notice, timeout: float) -> None:
    if name == "smtp":
        send_email(channel, _recipients(channel, n.unit_code), n.subject, n.body, timeout)
    else:
        post_webhook(channel, n, timeout)


def _error_zh(name: str, exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | urllib.error.URLError) and "timed out" in str(exc):
        return f"{name}：连接超时"
    if isinstance(exc, urllib.error.HTTPError):
        return f"{name}：HTTP {exc.code}"  # no URL: a robot's URL carries its key
    return f"{name}：{type(exc).__name__}：{str(exc)[:200]}"


def send_pending(wh: Store, conf: dict[str, Any], *, limit: int = 200, pause: float = 0.0) -> SendReport:
    """Send the queued notices (read, send outside any lock, then one write of the results)."""
    report = SendReport()
    timeout = float(conf.get("timeout", DEFAULT_TIMEOUT))
    max_attempts = int(conf.get("max_attempts", DEFAULT_MAX_ATTEMPTS))
    with wh.read() as con:
        if not loop_tables.has(con, "notices"):
            return report
        rows = con.execute(
            "SELECT notice_id, kind, unit_code, subject, body, sent_via, attempts FROM notices "
            "WHERE status = '待发送' ORDER BY notice_id LIMIT ?", [limit]).fetchall()
    queue = [Notice(i, k, u, s, b, set(filter(None, (v or "").split(","))), a) for i, k, u, s, b, v, a in rows]
    if not queue:
        return report
    if not conf.get("smtp") and not conf.get("webhooks"):
        report.no_channel = True
        return report
    results: list[tuple[int, str, int, str | None, str]] = []  # id, status, attempts, error, sent_via
    for n in queue:
        errors = []
        for name, channel in _channels(conf, n):
            if name in n.sent_via:
                continue
            try:
                _deliver(name, channel, n, timeout)
                n.sent_via.add(name)
            except Exception as exc:  # every failure is recorded and retried; none stops the others
                errors.append(_error_zh(name, exc))
            if pause:
                time.sleep(pause)
        attempts = n.attempts + 1
        if not errors and n.sent_via:
            status = "已发送"
            report.sent += 1
        elif not errors:  # no channel applies to this unit: nothing to send it through
            status, errors = ("发送失败", ["没有适用于该单位的通知渠道"])
            report.failed += 1
        elif attempts >= max_attempts:
            status = "发送失败"
            report.failed += 1
        else:
            status = "待发送"
            report.retry += 1
        report.errors += errors
        results.append((n.notice_id, status, attempts, "；".join(errors) or None, ",".join(sorted(n.sent_via))))
    with wh.write("notify", "notify_send", f"已发送 {report.sent}，待重试 {report.retry}，放弃 {report.failed}") as con:
        loop_tables.record_attempts(con, results)
    return report


def run(wh: Store, today: date, conf: dict[str, Any] | None = None) -> SendReport:
    """`kaigong notify`: queue what is due, then send the queue; then the scheduled 简报 pushes."""
    from pipelines.outputs import push

    conf = load_config() if conf is None else conf
    queued = queue_due(wh, today)
    report = send_pending(wh, conf)
    report.queued = queued
    if conf.get("briefings"):
        report.pushes = push.run(wh, today, conf)
    return report


def log(con: duckdb.DuckDBPyConnection, limit: int = 200) -> Any:
    """The notices, newest first (what was queued and what was sent)."""
    import polars as pl

    if not loop_tables.has(con, "notices"):
        return pl.DataFrame()
    return query_frame(con, "SELECT notice_id, kind, unit_code, subject, created_at, status, attempts, sent_at, "
                       "sent_via, last_error FROM notices ORDER BY notice_id DESC LIMIT $n", {"n": limit})
