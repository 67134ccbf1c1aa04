"""The sign-in that lasts: the server's own routes that set and clear the session cookie.

Streamlit cannot set a cookie from a script (a script runs over the websocket, after the page has
loaded). Streamlit 1.67 serves through Starlette and `st.App` takes extra routes and middleware
(ui/kaigong_asgi.py builds it; ui/serve.py starts it), so the cookie is set where cookies belong:
in the HTTP response of the server's own sign-in route.

- GET /signin?next=…  a plain sign-in form (no script needed);
- POST /signin        checks the name and password through the process's LoginThrottle (the
                       5-failure lockouts), sets `kaigong_session` (HttpOnly, SameSite=Strict,
                       Secure over HTTPS, Max-Age the token's lifetime) and sends the browser on to
                       `next`, the page and filters the user first asked for;
- POST /signout       ends the session server-side and clears the cookie;
- the gate (middleware): a page requested without a good cookie goes to /signin?next=<that URL>.

Every script run checks the cookie again (ui/session.py, through `st.context.cookies`), so a
revoked, expired, idle or re-keyed session stops at the next click, not only at the next reload.
pipelines/session_token.py holds the token and the session list; nothing here imports streamlit.
"""

from __future__ import annotations

import html
import threading
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from pipelines import auth
from pipelines.session_token import COOKIE, Sessions

SIGNIN, SIGNOUT = "/signin", "/signout"
_ACTIVE = False  # set when the server was built with these routes (else ui/session.py uses its own form)
_lock = threading.Lock()
_sessions: Sessions | None = None
_throttle: auth.LoginThrottle | None = None
# Paths that are never a page: Streamlit's own endpoints and files, and these routes.
_NOT_PAGES = ("/_stcore/", "/static/", "/media/", "/component/", "/app/static/", "/auth/", "/oauth2callback",
              SIGNIN, SIGNOUT)


def active() -> bool:
    return _ACTIVE


def sessions() -> Sessions:
    """One per server process; the secret is read (or generated, and said so) on first use."""
    global _sessions
    with _lock:
        if _sessions is None:
            _sessions = Sessions.from_env(say=lambda m: print(f"[开工] {m}", flush=True))
        return _sessions


def throttle() -> auth.LoginThrottle:
    """One per server process: the route and the in-app form count against the same limits."""
    global _throttle
    with _lock:
        if _throttle is None:
            _throttle = auth.LoginThrottle.from_env()
        return _throttle


def reset_throttle() -> None:
    """A fresh throttle (tests); the next sign-in reads its limits from the environment again."""
    global _throttle
    with _lock:
        _throttle = None


def safe_next(target: str | None) -> str:
    """Only a path on this server (no scheme, no host, no //evil.example): else the root."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def signin_url(target: str) -> str:
    return f"{SIGNIN}?next={quote(safe_next(target), safe='')}"


def _is_https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def _same_origin(request: Request) -> bool:
    """A form post from a page of this server (a login CSRF from another site is refused)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    host = request.headers.get("x-forwarded-host") or request.headers.get("host", "")
    return urlsplit(origin).hostname == urlsplit(f"//{host}").hostname  # nginx's Host $host drops the port


_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>登录 · 开工</title>
<style>
body{{font-family:'Noto Sans CJK SC',sans-serif;background:#f5f6f8;margin:0;color:#262730}}
main{{max-width:380px;margin:12vh auto;background:#fff;border:1px solid #e0e2e6;border-radius:10px;padding:28px}}
h1{{font-size:22px;margin:0 0 6px}} p.note{{color:#6b6f76;margin:0 0 18px;font-size:14px}}
label{{display:block;font-size:14px;margin:12px 0 4px}}
input{{width:100%;box-sizing:border-box;padding:9px 10px;font-size:15px;border:1px solid #c9ccd1;border-radius:6px}}
button{{margin-top:18px;width:100%;padding:10px;font-size:15px;border:0;border-radius:6px;background:#ff4b4b;color:#fff}}
.err{{background:#fdecec;color:#9b1c1c;padding:9px 10px;border-radius:6px;font-size:14px;margin-bottom:10px}}
</style></head><body><main>
<h1>开工 · 百千工程调度</h1><p class="note">请先登录。</p>
{error}
<form method="post" action="{action}">
<input type="hidden" name="next" value="{next}">
<label for="name">用户名</label><input id="name" name="name" autocomplete="username" value="{name}" required autofocus>
<label for="password">密码</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">登录</button>
</form></main></body></html>"""


def _form(target: str, error: str = "", name: str = "", status: int = 200) -> HTMLResponse:
    err = f'<div class="err" role="alert">{html.escape(error)}</div>' if error else ""
    body = _PAGE.format(error=err, action=SIGNIN, next=html.escape(safe_next(target)), name=html.escape(name))
    response = HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
    return response


def _set_cookie(response: Response, token: str, request: Request) -> None:
    response.set_cookie(COOKIE, token, max_age=int(sessions().settings.max_seconds), path="/", httponly=True,
                        samesite="strict", secure=_is_https(request))


def _clear_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=_is_https(request))


async def signin_page(request: Request) -> Response:
    target = safe_next(request.query_params.get("next"))
    if not auth.sign_in_required():
        return RedirectResponse(target, status_code=303)
    checked = await run_in_threadpool(sessions().check, request.cookies.get(COOKIE), False)
    if checked.user is not None:
        return RedirectResponse(target, status_code=303)
    response = _form(target, request.query_params.get("why", "") and checked.reason)
    if request.cookies.get(COOKIE):
        _clear_cookie(response, request)  # a cookie that no longer signs in is dropped
    return response


async def signin_post(request: Request) -> Response:
    raw = (await request.body()).decode("utf-8", errors="replace")
    fields = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
    target, name = safe_next(fields.get("next")), fields.get("name", "").strip()
    if not _same_origin(request):
        return _form(target, "登录请求来源不符，请在本页重新登录。", name, status=403)
    client = request.client.host if request.client else None

    def check() -> auth.User:
        return auth.sign_in(name, fields.get("password", ""), throttle(), client=client)

    try:
        user = await run_in_threadpool(check)
    except auth.SignInRefused as refused:
        return _form(target, str(refused), name, status=401)
    token = await run_in_threadpool(sessions().issue, user)
    response = RedirectResponse(target, status_code=303)
    _set_cookie(response, token, request)
    response.headers["Cache-Control"] = "no-store"
    return response


async def signout_post(request: Request) -> Response:
    await run_in_threadpool(sessions().end, request.cookies.get(COOKIE))
    response = RedirectResponse(SIGNIN, status_code=303)
    _clear_cookie(response, request)
    return response


def routes() -> list[Route]:
    global _ACTIVE
    _ACTIVE = True
    return [Route(SIGNIN, signin_page, methods=["GET"]), Route(SIGNIN, signin_post, methods=["POST"]),
            Route(SIGNOUT, signout_post, methods=["POST"])]


def _is_page(scope: dict[str, Any]) -> bool:
    path: str = scope.get("path", "")
    if scope.get("method") != "GET" or path.startswith(_NOT_PAGES) or "." in path.rsplit("/", 1)[-1]:
        return False
    accept = dict(scope.get("headers") or []).get(b"accept", b"")
    return b"text/html" in accept


class SignInGate:
    """ASGI middleware: a page (an HTML GET) without a good session cookie goes to the sign-in form,
    with the URL it asked for (path and filters) as `next`. Websockets and files pass through: every
    script run checks the cookie itself."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and _is_page(scope):
            request = Request(scope)
            if await run_in_threadpool(auth.sign_in_required):
                checked = await run_in_threadpool(sessions().check, request.cookies.get(COOKIE))
                if checked.user is None:
                    asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    why = "&why=1" if request.cookies.get(COOKIE) else ""
                    response = RedirectResponse(signin_url(asked) + why, status_code=303)
                    response.headers["Cache-Control"] = "no-store"
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)
