"""Scheduled pushes of the 简报, one version per region: run by `kaigong notify` (cron) after the notices.

The notify config (notify.py: `$KAIGONG_NOTIFY`) lists the pushes under "briefings":

    {"timeout": 10, "max_attempts": 5, "dashboard_url": "http://kaigong.example.gov.cn",
     "smtp": {... as for the notices ...},
     "briefings": [
       {"name": "地市工作群", "channel": "wecom", "format": "png", "tiers": ["省级双百·新兴", "省级双百·技改"],
        "after_days": 1, "at": "09:00",
        "recipients": [{"city": "140100", "url_env": "KAIGONG_WECOM_TAIYUAN"},
                       {"city": "忻州市", "url_env": "KAIGONG_WECOM_XINZHOU"}]},
       {"name": "领导邮箱", "channel": "email", "format": "pdf",
        "recipients": [{"city": "*", "to": ["leader@example.gov.cn"]}]},
       {"name": "政务钉钉", "channel": "dingtalk", "after_days": 1,
        "recipients": [{"city": "140900", "url_env": "KAIGONG_DINGTALK_XINZHOU",
                        "secret_env": "KAIGONG_DINGTALK_SECRET"}]}]}

Each push sends the 简报 of the latest report date due: after_days (default 1) days after it, from `at`
(HH:MM, local time; default any time) on that day, and on any later run; once per report date and recipient (warehouse/deliveries.py keeps the key; a later cron run does not send it again).
A recipient with a city gets the 简报 filtered to that city (the push's other filters kept); "*" (or no
city) the push's whole scope. Every 简报 pushed is recorded as issued (warehouse/issued.py: channel
推送, issued by 定时推送) and the recipient's delivery names it.

Formats are a registry (FORMATS: register_format) and channels too (SENDERS: register_sender): one
small sender per channel behind one interface (Sender.send(message, timeout)). Secrets never come from
the file: a robot's URL (it carries the key) and a DingTalk 加签 secret are named by url_env /
secret_env; the SMTP password by smtp.password_env (notify.py). Nothing pushed carries a phone number:
the 简报 prints none (联系人电话 is only in the 管理员's exports), and every text of a pushed one is
scrubbed of phone-like numbers before it is rendered and recorded (redact_phones).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from typing import Any, Protocol

import polars as pl

from pipelines import metrics
from pipelines.outputs import briefing, issue, notify
from pipelines.outputs.briefing import BriefingData
from pipelines.views.corrections import filters_json
from pipelines.vocab import schema
from pipelines.vocab.reference import find_city, region_by_code, region_name
from pipelines.warehouse import deliveries, issued
from pipelines.warehouse.store import Store

DEFAULT_AFTER_DAYS = 1  # the day after the report date: the units' reports are in by then
SCHEDULER = "定时推送"  # who issued a pushed briefing (issued_briefings.issued_by)
BRIEF_PAGE = "brief"  # the 简报 page's url_path (ui/nav.py)
WECOM_IMAGE_MAX = 2 * 1024 * 1024  # 企业微信群机器人图片消息：图片（base64 编码前）最大 2 MB，JPG/PNG
WECOM_FILE_MAX = 20 * 1024 * 1024  # 文件上传（upload_media）：5 B ~ 20 MB
WECOM_MARKDOWN_MAX = 4096  # markdown.content, bytes (UTF-8)
DINGTALK_MARKDOWN_MAX = 20000  # markdown.text, bytes: a bound of ours (a 通报's sentences are ~2 KB)
FILTER_KEYS = {"tiers": "tier", "industries": "industry", "stages": "stage", "size_bands": "band"}  # → URL params
_PHONE = re.compile(
    r"(?<!\d)(?:(?:\+?86)[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}(?!\d)"  # 手机 13912345678, 139-1234-5678
    r"|(?<![\d-])0\d{2,3}[-\s]?\d{7,8}(?:-\d{1,4})?(?![\d-])"  # 座机 0351-1234567, 0350 12345678
    r"|(?<!\d)\d{3,4}-\d{7,8}(?!\d)"  # 区号写法不带 0 的座机
)
PHONE_MASK = "〔电话已隐去〕"


class NotSendable(ValueError):
    """This push cannot be sent through this channel as it is (too large, wrong kind): not retried."""


# ---- formats --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Format:
    """A file the 简报 can be pushed as. kind: image (a picture a robot shows), file (an attachment), or
    text (markdown sentences, no file)."""

    name: str
    ext: str
    mime: str
    kind: str
    render: Callable[[BriefingData], bytes]
    require: Callable[[], None] = lambda: None


FORMATS: dict[str, Format] = {}


def register_format(fmt: Format) -> Format:
    FORMATS[fmt.name] = fmt
    return fmt


def _require(name: str) -> Callable[[], None]:
    def check() -> None:
        from pipelines.outputs.png import require_briefing

        require_briefing(name)
    return check


def markdown_text(data: BriefingData) -> str:
    """The 简报 as markdown: its title, the report date and the 通报 sentences (what DingTalk shows)."""
    lines = [f"### {data.title}", "", f"截至 {data.as_of:%Y年%-m月%-d日}（{data.year} 年）", ""]
    lines += [f"- {s}" for s in data.sentences]
    return "\n".join(lines) + "\n"


register_format(Format("pdf", "pdf", "application/pdf", "file", lambda d: briefing.render(d, "pdf"), _require("pdf")))
def fit_png(png: bytes, limit: int = WECOM_IMAGE_MAX) -> bytes:
    """The picture as is when within limit; else the same picture in a 256-colour palette (text and charts stay
    sharp; the whole-province 简报 of the demo, 1.8 MB, becomes 0.7 MB), which a group robot can still take."""
    if len(png) <= limit:
        return png
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue() if len(buf.getvalue()) < len(png) else png


register_format(Format("png", "png", "image/png", "image", lambda d: fit_png(briefing.render(d, "png")), _require("png")))
register_format(Format("markdown", "md", "text/markdown", "text", lambda d: markdown_text(d).encode("utf-8")))
register_format(Format("docx", "docx", briefing.FORMATS["docx"][1], "file",  # Word (outputs/word.py), sent as a file
                       lambda d: briefing.render(d, "docx"), _require("docx")))


# ---- phone numbers ----------------------------------------------------------------------------


def redact_text(text: str) -> str:
    return _PHONE.sub(PHONE_MASK, text)


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, pl.DataFrame):
        texts = [pl.col(c).map_elements(redact_text, return_dtype=pl.String)
                 for c, t in value.schema.items() if t == pl.String]
        lists = [pl.col(c).map_elements(lambda xs: [None if x is None else redact_text(x) for x in xs],
                                        return_dtype=pl.List(pl.String))
                 for c, t in value.schema.items() if t == pl.List(pl.String)]
        return value.with_columns(*texts, *lists) if texts or lists else value
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_redact(v) for v in value)
    return value


def redact_phones(data: BriefingData) -> BriefingData:
    """The briefing with every phone-like number in its texts and lists masked (filters kept as they are)."""
    changes = {f.name: _redact(getattr(data, f.name)) for f in dataclasses.fields(data) if f.name != "filters"}
    return dataclasses.replace(data, **changes)


# ---- the message and the senders --------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """What one recipient gets: the issued briefing's title and sentences, its file, a link to the page."""

    title: str
    sentences: list[str]
    as_of: date
    issue_id: int
    fmt: Format
    payload: bytes
    link: str | None

    @property
    def filename(self) -> str:
        name = re.sub(r'[\\/:*?"<>|\s]+', "_", self.title)
        return f"{name}_{self.as_of.isoformat()}.{self.fmt.ext}"

    @property
    def subject(self) -> str:
        return f"【开工】{self.title}（截至 {self.as_of.isoformat()}，第 {self.issue_id} 号）"

    def markdown(self, limit: int | None = None) -> str:
        """The sentences as markdown and the link to the page; within limit bytes (UTF-8), the sentences cut
        short (……) so that the link stays."""
        text = self.payload.decode("utf-8") if self.fmt.kind == "text" else "\n".join(
            [f"### {self.title}", "", f"截至 {self.as_of.isoformat()}", ""] + [f"- {s}" for s in self.sentences]) + "\n"
        link = f"\n[打开简报页]({self.link})\n" if self.link else ""
        if limit is not None and len((text + link).encode("utf-8")) > limit:
            room = limit - len(("\n……\n" + link).encode("utf-8"))
            text = text.encode("utf-8")[:max(room, 0)].decode("utf-8", "ignore") + "\n……\n"
        return text + link

    def plain(self) -> str:
        lines = [self.subject, "", *self.sentences]
        if self.link:
            lines += ["", f"简报页：{self.link}"]
        if self.fmt.kind != "text":
            lines += ["", f"附件：{self.filename}"]
        return "\n".join(lines) + "\n"


class Sender(Protocol):
    """One channel: sends a message within timeout seconds, or raises (NotSendable: never retried)."""

    def send(self, msg: Message, timeout: float) -> None: ...


@dataclass(frozen=True)
class SenderSpec:
    name: str
    kinds: tuple[str, ...]  # the format kinds it can carry
    default_format: str
    make: Callable[[dict[str, Any], dict[str, Any]], Sender]  # (recipient's conf, whole conf) → sender
    check: Callable[[dict[str, Any], dict[str, Any]], None]  # the recipient's conf, checked at load (ValueError)


SENDERS: dict[str, SenderSpec] = {}


def register_sender(spec: SenderSpec) -> SenderSpec:
    SENDERS[spec.name] = spec
    return spec


def _env_url(rconf: dict[str, Any], what: str) -> str:
    import os

    env = rconf.get("url_env")
    url = os.environ.get(env or "") if env else None
    if not url:
        raise ValueError(f"环境变量 {env} 未设置（{what}地址）")
    if not url.startswith(("http://", "https://")):
        raise NotSendable(f"环境变量 {env} 不是 http(s) 地址")
    return url


def _post(url: str, data: bytes, content_type: str, timeout: float) -> dict[str, Any]:
    req = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": content_type})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        answer = resp.read(65536)
    try:
        got = json.loads(answer or b"{}")
    except ValueError:
        got = {}
    got = got if isinstance(got, dict) else {}
    if got.get("errcode"):
        raise ValueError(f"机器人返回错误码 {got['errcode']}：{str(got.get('errmsg', ''))[:100]}")
    return got


def _post_json(url: str, body: dict[str, Any], timeout: float) -> dict[str, Any]:
    return _post(url, json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8", timeout)


def wecom_image_body(png: bytes) -> dict[str, Any]:
    """企业微信群机器人图片消息: {"msgtype": "image", "image": {"base64", "md5"}}; md5 of the picture before
    base64; at most 2 MB before base64 (NotSendable with the size otherwise)."""
    if len(png) > WECOM_IMAGE_MAX:
        raise NotSendable(
            f"简报图片 {len(png) / 1024 / 1024:.1f} MB，超过企业微信群机器人图片消息 2 MB 的上限（编码前）："
            "请把该推送的 format 改为 pdf（以文件发送），或用筛选缩小简报的范围")
    return {"msgtype": "image", "image": {"base64": base64.b64encode(png).decode("ascii"),
                                          "md5": hashlib.md5(png).hexdigest()}}


def wecom_upload_url(send_url: str) -> str:
    """The robot's 文件上传 URL from its send URL: …/webhook/send?key=K → …/webhook/upload_media?key=K&type=file."""
    parts = urllib.parse.urlsplit(send_url)
    path = re.sub(r"/send$", "/upload_media", parts.path)
    query = urllib.parse.urlencode([*urllib.parse.parse_qsl(parts.query), ("type", "file")])
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def multipart(filename: str, payload: bytes) -> tuple[bytes, str]:
    """multipart/form-data with one part named "media" (filename, filelength, application/octet-stream)."""
    boundary = uuid.uuid4().hex
    quoted = urllib.parse.quote(filename)
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"media\"; filename=\"{quoted}\"; "
            f"filename*=UTF-8''{quoted}; filelength={len(payload)}\r\nContent-Type: application/octet-stream\r\n\r\n")
    body = head.encode("utf-8") + payload + f"\r\n--{boundary}--\r\n".encode("ascii")
    return body, f"multipart/form-data; boundary={boundary}"


@dataclass(frozen=True)
class WeComRobot:
    """企业微信（政务微信）群机器人: the picture as an image message, a file uploaded then sent as a file
    message, text as markdown."""

    url: str

    def send(self, msg: Message, timeout: float) -> None:
        if msg.fmt.kind == "image":
            _post_json(self.url, wecom_image_body(msg.payload), timeout)
        elif msg.fmt.kind == "file":
            if not 5 < len(msg.payload) <= WECOM_FILE_MAX:
                raise NotSendable(f"简报文件 {len(msg.payload) / 1024 / 1024:.1f} MB，超出企业微信群机器人文件 5 B～20 MB 的范围")
            body, ctype = multipart(msg.filename, msg.payload)
            got = _post(wecom_upload_url(self.url), body, ctype, timeout)
            if not got.get("media_id"):
                raise ValueError("企业微信文件上传未返回 media_id")
            _post_json(self.url, {"msgtype": "file", "file": {"media_id": got["media_id"]}}, timeout)
        else:
            _post_json(self.url, {"msgtype": "markdown", "markdown": {"content": msg.markdown(WECOM_MARKDOWN_MAX)}},
                       timeout)


def dingtalk_signed(url: str, secret: str, now_ms: int | None = None) -> str:
    """钉钉自定义机器人加签: timestamp (ms) and sign = urlencode(base64(HmacSHA256(secret, f"{timestamp}\\n{secret}")))."""
    ts = str(now_ms if now_ms is not None else round(time.time() * 1000))
    digest = hmac.new(secret.encode("utf-8"), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={sign}"


@dataclass(frozen=True)
class DingTalkRobot:
    """钉钉（政务钉钉）自定义机器人: markdown (title, text) with the sentences and a link to the 简报 page
    (a picture would need a public image URL, which an offline deployment has not)."""

    url: str
    secret: str | None = None

    def send(self, msg: Message, timeout: float) -> None:
        url = dingtalk_signed(self.url, self.secret) if self.secret else self.url
        text = msg.markdown(DINGTALK_MARKDOWN_MAX)
        _post_json(url, {"msgtype": "markdown", "markdown": {"title": f"【开工】{msg.title}", "text": text}}, timeout)


@dataclass(frozen=True)
class EmailSender:
    """E-mail through the notify config's SMTP server: the sentences in the body, the file attached."""

    smtp: dict[str, Any]
    to: list[str]

    def send(self, msg: Message, timeout: float) -> None:
        attach = [] if msg.fmt.kind == "text" else [(msg.filename, msg.fmt.mime, msg.payload)]
        notify.send_email(self.smtp, self.to, msg.subject, msg.plain(), timeout, attachments=attach)


def _check_robot(rconf: dict[str, Any], conf: dict[str, Any]) -> None:
    if rconf.get("url") or rconf.get("secret"):
        raise ValueError("机器人地址（含密钥）和加签密钥不能写在配置文件里：请用 url_env / secret_env 指向环境变量")
    if not rconf.get("url_env"):
        raise ValueError("机器人接收方缺少 url_env（保存机器人地址的环境变量名）")


def _check_email(rconf: dict[str, Any], conf: dict[str, Any]) -> None:
    to = rconf.get("to")
    if not isinstance(to, list) or not to or not all(isinstance(a, str) and "@" in a for a in to):
        raise ValueError("邮件接收方的 to 应为邮箱地址列表")
    if not conf.get("smtp"):
        raise ValueError("邮件推送需要配置 smtp（发信服务器）")


def _dingtalk(rconf: dict[str, Any], conf: dict[str, Any]) -> Sender:
    import os

    secret = os.environ.get(rconf["secret_env"]) if rconf.get("secret_env") else None
    if rconf.get("secret_env") and not secret:
        raise ValueError(f"环境变量 {rconf['secret_env']} 未设置（钉钉加签密钥）")
    return DingTalkRobot(_env_url(rconf, "钉钉机器人"), secret)


register_sender(SenderSpec("wecom", ("image", "file", "text"), "png",
                           lambda r, c: WeComRobot(_env_url(r, "企业微信机器人")), _check_robot))
register_sender(SenderSpec("dingtalk", ("text",), "markdown", _dingtalk, _check_robot))
register_sender(SenderSpec("email", ("image", "file", "text"), "pdf",
                           lambda r, c: EmailSender(c["smtp"], list(r["to"])), _check_email))


# ---- the schedule -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    key: str  # the city code, or * (the push's whole scope)
    city: str | None
    conf: dict[str, Any]


@dataclass(frozen=True)
class Schedule:
    name: str
    channel: str
    fmt: Format
    filters: metrics.Filters
    after_days: int
    at: dt_time | None
    recipients: tuple[Recipient, ...]


def schedules(conf: dict[str, Any]) -> list[Schedule]:
    """The pushes the config lists; ValueError (Chinese, naming the push) when one is wrong."""
    raw = conf.get("briefings") or []
    if not isinstance(raw, list):
        raise ValueError("通知配置的 briefings 应为列表")
    out: list[Schedule] = []
    names: set[str] = set()
    for i, item in enumerate(raw, start=1):
        where = f"简报推送第 {i} 项"
        if not isinstance(item, dict):
            raise ValueError(f"{where} 应为对象")
        name = str(item.get("name") or "").strip()
        if not name or "|" in name:
            raise ValueError(f"{where}缺少 name（推送名称，不含 |）")
        where = f"简报推送「{name}」"
        if name in names:
            raise ValueError(f"{where}重名")
        names.add(name)
        channel = item.get("channel")
        if channel not in SENDERS:
            raise ValueError(f"{where}的 channel「{channel}」未知（可用：{'、'.join(SENDERS)}）")
        spec = SENDERS[channel]
        fmt_name = item.get("format") or spec.default_format
        if fmt_name not in FORMATS:
            raise ValueError(f"{where}的 format「{fmt_name}」未知（可用：{'、'.join(FORMATS)}）")
        fmt = FORMATS[fmt_name]
        if fmt.kind not in spec.kinds:
            ok = "、".join(f for f, v in FORMATS.items() if v.kind in spec.kinds)
            raise ValueError(f"{where}：{channel} 不能发送 {fmt_name}（可用：{ok}）")
        filters = _filters(item, where)
        after = item.get("after_days", DEFAULT_AFTER_DAYS)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise ValueError(f"{where}的 after_days 应为不小于 0 的整数（报告期后第几天推送）")
        at = _at(item.get("at"), where)
        recipients: list[Recipient] = []
        for r in item.get("recipients") or []:
            if not isinstance(r, dict):
                raise ValueError(f"{where}的接收方应为对象")
            city = _city(r.get("city"), where)
            key = city or "*"
            if key in {x.key for x in recipients}:
                raise ValueError(f"{where}的接收方「{region_name(city) if city else '*'}」重复")
            try:
                spec.check(r, conf)
            except ValueError as exc:
                raise ValueError(f"{where}（{region_name(city) if city else '全部'}）：{exc}") from None
            recipients.append(Recipient(key, city, r))
        if not recipients:
            raise ValueError(f"{where}没有接收方（recipients）")
        out.append(Schedule(name, channel, fmt, filters, after, at, tuple(recipients)))
    return out


def _filters(item: dict[str, Any], where: str) -> metrics.Filters:
    values: dict[str, tuple[str, ...]] = {}
    for key in FILTER_KEYS:
        v = item.get(key) or []
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise ValueError(f"{where}的 {key} 应为文字列表")
        values[key] = tuple(v)
    bad = [t for t in values["tiers"] if t not in schema.TIERS]
    if bad:
        raise ValueError(f"{where}的 tiers 含未知层级「{'、'.join(bad)}」（可用：{'、'.join(schema.TIERS)}）")
    if item.get("cities") or item.get("counties"):
        raise ValueError(f"{where}：地区按接收方的 city 分（每个接收方收到本市的简报），不用 cities/counties")
    return metrics.Filters(**values)


def _city(value: Any, where: str) -> str | None:
    if value in (None, "", "*"):
        return None
    text = str(value)
    region = region_by_code().get(text) or find_city(text)
    if region is None or region.level != "city":
        raise ValueError(f"{where}的接收方 city「{text}」不是地市代码或名称")
    return region.code


def _at(value: Any, where: str) -> dt_time | None:
    if value in (None, ""):
        return None
    try:
        return dt_time.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{where}的 at「{value}」应为时刻 HH:MM（如 09:00）") from None


def report_date_for(dates: list[date], today: date, after_days: int, at: dt_time | None = None,
                    now: dt_time | None = None) -> date | None:
    """The report date a push sends on today: the latest one whose day to push (after_days after it) is
    before today, or is today and now is at or past `at`."""
    def due(d: date) -> bool:
        day = d + timedelta(days=after_days)
        return day < today or (day == today and (at is None or now is None or now >= at))

    ready = [d for d in dates if due(d)]
    return max(ready) if ready else None


def page_link(base: str | None, as_of: date, filters: dict[str, list[str]], city: str | None) -> str | None:
    """The 简报 page for the same report date and filters (ui/state.py reads these parameters)."""
    if not base:
        return None
    params: list[tuple[str, str]] = [("year", str(as_of.year)), ("date", as_of.isoformat())]
    if city:
        params.append(("city", city))
    for key, param in FILTER_KEYS.items():
        params += [(param, v) for v in filters.get(key, [])]
    return f"{base.rstrip('/')}/{BRIEF_PAGE}?{urllib.parse.urlencode(params)}"


# ---- a run ------------------------------------------------------------------------------------


@dataclass
class PushReport:
    issued: int = 0  # briefings made and queued this run
    sent: int = 0
    retry: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary_zh(self) -> str:
        text = (f"简报推送：新生成 {self.issued} 份，已发送 {self.sent} 条，待重试 {self.retry} 条，放弃 {self.failed} 条")
        return text + ("；错误：" + "；".join(self.errors[:5]) if self.errors else "")


def make(wh: Store, sched: Schedule, rec: Recipient, as_of: date, today: date) -> tuple[int, bytes]:
    """The recipient's 简报 made, scrubbed of phone numbers, rendered and recorded as issued."""
    sched.fmt.require()
    filters = dataclasses.replace(sched.filters, cities=(rec.city,) if rec.city else ())
    demo = wh.is_demo()  # before the read: a read inside another can deadlock
    version = wh.data_version()
    with wh.read() as con:
        data = briefing.collect(con, as_of, filters=filters, is_demo=demo, today=today)
    data = redact_phones(data)
    payload = sched.fmt.render(data)
    issue_id = issued.record(
        wh, SCHEDULER, "推送", as_of=data.as_of, year=data.year, filters=filters_json(filters), fmt=sched.fmt.name,
        figures=issue.to_json(data), data_version=version, sha256=hashlib.sha256(payload).hexdigest())
    return issue_id, payload


def queue_due(wh: Store, today: date, plan: list[Schedule], report: PushReport, now: dt_time | None = None) -> None:
    """Make and queue every push due today that was never queued (one per report date and recipient)."""
    with wh.read() as con:
        dates = metrics.report_dates(con)
        known = deliveries.known_keys(con)
    for sched in plan:
        as_of = report_date_for(dates, today, sched.after_days, sched.at, now)
        if as_of is None:
            continue
        for rec in sched.recipients:
            if deliveries.dedup_key(sched.name, as_of, rec.key) in known:
                continue
            delivery_id = deliveries.claim_new(wh, schedule=sched.name, as_of=as_of, recipient=rec.key,
                                               channel=sched.channel, fmt=sched.fmt.name, actor=SCHEDULER)
            if delivery_id is None:  # another run made it, or is making it
                continue
            try:
                issue_id, payload = make(wh, sched, rec, as_of, today)
            except Exception as exc:  # the browser missing, a render failing: said, and tried next run
                deliveries.unclaim(wh, delivery_id, SCHEDULER)
                report.errors.append(f"{sched.name}→{_who(rec)}：未生成简报：{str(exc)[:200]}")
                report.retry += 1
                continue
            deliveries.made(wh, delivery_id, issue_id, payload, SCHEDULER)
            report.issued += 1


def _who(rec: Recipient | str) -> str:
    key = rec.key if isinstance(rec, Recipient) else rec
    return "全部" if key == "*" else (region_name(key) or key)


def _error_zh(name: str, exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError | urllib.error.URLError) and "timed out" in str(exc):
        return f"{name}：连接超时（{timeout:g} 秒内无应答，已中止，下次运行重试）"
    if isinstance(exc, urllib.error.HTTPError):
        return f"{name}：HTTP {exc.code}"  # no URL: a robot's URL carries its key
    if isinstance(exc, ValueError):
        return f"{name}：{str(exc)[:200]}"
    if isinstance(exc, urllib.error.URLError):
        return f"{name}：无法连接（{str(exc.reason)[:100]}）"
    return f"{name}：{type(exc).__name__}：{str(exc)[:200]}"


def send_pending(wh: Store, conf: dict[str, Any], plan: list[Schedule], report: PushReport, *,
                 limit: int = 200) -> None:
    """Send the queued pushes: read, send outside any lock (each bounded by the timeout), one write of
    the results. A failure is tried again on the next run until max_attempts; NotSendable gives up now."""
    timeout = float(conf.get("timeout", notify.DEFAULT_TIMEOUT))
    max_attempts = int(conf.get("max_attempts", notify.DEFAULT_MAX_ATTEMPTS))
    by_name = {s.name: s for s in plan}
    queue = deliveries.claim_pending(wh, SCHEDULER, limit)  # taken in a write: an overlapping run skips them
    if not queue:
        return
    with wh.read() as con:
        records = {p.delivery_id: issued.get(con, p.issue_id) for p in queue}
    results: list[tuple[int, str, int, str | None]] = []
    for p in queue:
        name = f"{p.schedule}→{_who(p.recipient)}"
        attempts = p.attempts + 1
        error: str | None = None
        give_up = False
        try:
            sched = by_name.get(p.schedule)
            rec = next((r for r in sched.recipients if r.key == p.recipient), None) if sched else None
            if sched is None or rec is None or sched.channel != p.channel or FORMATS.get(p.format) is None:
                raise ValueError("配置中已无该推送或接收方（或其渠道已改），未发送")
            record = records[p.delivery_id]
            if record is None:
                raise NotSendable(f"第 {p.issue_id} 号简报的记录不存在")
            figures = json.loads(record.figures)
            msg = Message(figures["title"], list(figures["sentences"]), p.as_of, p.issue_id, FORMATS[p.format],
                          p.payload, page_link(conf.get("dashboard_url"), p.as_of, json.loads(record.filters), rec.city))
            SENDERS[p.channel].make(rec.conf, conf).send(msg, timeout)
        except NotSendable as exc:
            error, give_up = f"{name}：{exc}", True
        except Exception as exc:  # every failure is recorded and retried; none stops the others
            error = _error_zh(name, exc, timeout)
        if error is None:
            status = "已发送"
            report.sent += 1
        elif give_up or attempts >= max_attempts:
            status = "发送失败"
            report.failed += 1
        else:
            status = "待发送"
            report.retry += 1
        if error:
            report.errors.append(error)
        results.append((p.delivery_id, status, attempts, error))
    deliveries.record_attempts(wh, SCHEDULER, results)


def run(wh: Store, today: date, conf: dict[str, Any], now: dt_time | None = None) -> PushReport:
    """The pushes due today (now: the time of day, default the clock's): make and queue the new ones, then send
    the queue."""
    report = PushReport()
    try:
        plan = schedules(conf)
    except ValueError as exc:
        report.errors.append(f"简报推送配置有误：{exc}")
        report.failed += 1
        return report
    if not plan:
        return report
    queue_due(wh, today, plan, report, now or datetime.now().time())
    send_pending(wh, conf, plan, report)
    return report
