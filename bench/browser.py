"""What a person waits for in the browser: a click in the top menu (or a sidebar filter change) until
the page's heading and every chart are drawn, in headless Chromium against a real server.

One step is timed from the click to: the server's `script_finished` message has arrived over the
websocket, the page's heading is there, nothing is stale, and every plotly chart on the page has
drawn its SVG. Each step also records when the server finished (the rerun, as the browser sees it)
and the bytes the websocket carried (what the page shipped), so the time splits into server rerun,
transfer and drawing.

`sessions()` drives many sessions at once (asyncio Playwright, as tests/test_load.py) and samples
the server's memory.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from pathlib import Path
from typing import Any

from tests import harness

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("KAIGONG_BENCH_CHROMIUM", harness.CHROMIUM)
LAUNCH_ARGS = harness.LAUNCH_ARGS
STEP_MS = 120_000  # one step's bound (a national page on a loaded machine is seconds, not minutes)

# The page is drawn: the heading is the page's, nothing is stale or running, and every chart has its SVG.
_DRAWN_JS = """(marker) => {
  const h = document.querySelector('[data-testid="stMain"] h1');
  if (!h || !h.innerText.includes(marker)) return false;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (document.querySelectorAll('[data-stale="true"]').length) return false;
  const charts = document.querySelectorAll('[data-testid="stMain"] [data-testid="stPlotlyChart"]');
  for (const c of charts) { if (!c.querySelector('.main-svg')) return false; }
  return true;
}"""


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) by linear interpolation between closest ranks."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


class Server(harness.Server):
    """The dashboard on db (tests/harness.py), without sign-in, with its memory and CPU readable."""

    def __init__(self, db: Path, log: Path) -> None:
        super().__init__(db, log, start_timeout=120, without=("KAIGONG_USERS",))

    def rss_mib(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")) / 1024

    def cpu_s(self) -> float:
        """CPU seconds the server has used (user + system)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def hwm_mib(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")) / 1024


class _Wire:
    """The websocket's frames as the page receives them: bytes, and when `script_finished` came."""

    def __init__(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self._parse = ForwardMsg.FromString
        self.bytes = 0
        self.finished_at: float | None = None
        self.sent_at: float | None = None  # the page's first message after the action (its rerun request)

    def attach(self, ws: Any) -> None:
        if "_stcore/stream" in ws.url:
            ws.on("framereceived", self._frame)
            ws.on("framesent", self._sent)

    def _sent(self, payload: Any) -> None:
        if self.sent_at is None:
            self.sent_at = time.perf_counter()

    def _frame(self, payload: Any) -> None:
        if isinstance(payload, str):
            return
        self.bytes += len(payload)
        try:
            kind = self._parse(payload).WhichOneof("type")
        except Exception:  # a frame we cannot parse is counted, not judged
            return
        if kind == "script_finished":
            self.finished_at = time.perf_counter()

    def reset(self) -> None:
        self.bytes = 0
        self.finished_at = None
        self.sent_at = None


def _exceptions(pg: Any) -> int:
    return pg.locator('[data-testid="stException"]').count()


def _step(pg: Any, wire: _Wire, marker: str, action: Any) -> dict[str, float]:
    """Time action() until the page with heading marker is drawn; the parts as seconds."""
    wire.reset()
    t = time.perf_counter()
    action()
    deadline = t + STEP_MS / 1000
    while wire.finished_at is None and time.perf_counter() < deadline:
        pg.wait_for_timeout(5)
    finished = wire.finished_at or time.perf_counter()
    sent = wire.sent_at if wire.sent_at is not None and wire.sent_at < finished else t
    pg.wait_for_function(_DRAWN_JS, arg=marker, timeout=STEP_MS, polling="raf")
    total = time.perf_counter() - t
    # click → request sent (the page's own work), → script_finished (server rerun and transfer), → drawn
    return {"total_s": total, "request_s": sent - t, "server_s": finished - sent, "draw_s": total - (finished - t),
            "ws_bytes": wire.bytes}


def walk(url: str, *, rounds: int = 2, filter_changes: bool = True) -> dict[str, Any]:
    """One browser session: open the overview, then `rounds` walks of the top menu (every page once),
    and on each page a tier filter chosen and cleared in the sidebar. Samples per page."""
    from playwright.sync_api import sync_playwright

    from ui.nav import PAGES

    samples: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
            pg = ctx.new_page()
            pg.set_default_timeout(STEP_MS)
            wire = _Wire()
            pg.on("websocket", wire.attach)
            t = time.perf_counter()
            pg.goto(url)
            pg.wait_for_function(_DRAWN_JS, arg=PAGES[0].marker, timeout=STEP_MS, polling="raf")
            first = time.perf_counter() - t
            sidebar = pg.locator('[data-testid="stSidebar"]')
            order = [*PAGES[1:], PAGES[0]]  # from the overview round the menu and back
            for r in range(rounds):
                for spec in order:
                    try:
                        _page_steps(pg, wire, sidebar, spec, r, samples, filter_changes)
                    except Exception as e:  # a hung or failed page is a row of the results, not the run's end
                        failures.append({"page": spec.url_path, "round": r,
                                         "error": f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"})
                        pg.goto(url)  # the next page from a fresh load of the overview
                        pg.wait_for_function(_DRAWN_JS, arg=PAGES[0].marker, timeout=STEP_MS, polling="raf")
            ctx.close()
        finally:
            browser.close()
    return {"first_load_s": first, "samples": samples, "failures": failures}


def _page_steps(pg: Any, wire: _Wire, sidebar: Any, spec: Any, r: int, samples: list[dict[str, Any]],
                filter_changes: bool) -> None:
    """One page of the walk: the click in the top menu, then a tier filter chosen and cleared."""
    link = pg.locator('[data-testid="stTopNavLink"]', has_text=spec.title).first
    s = _step(pg, wire, spec.marker, link.click)
    samples.append({"kind": "menu", "page": spec.url_path, "round": r, **s})
    if _exceptions(pg):
        raise RuntimeError(f"exception on {spec.url_path}")
    if not filter_changes:
        return
    # the dropdown opens first (not timed: the user reads it); the choice is the change
    sidebar.locator('[data-testid="stMultiSelect"]', has_text="层级").click()
    option = pg.get_by_role("option", name="市级千项")
    option.wait_for()
    s = _step(pg, wire, spec.marker, option.click)
    samples.append({"kind": "filter", "page": spec.url_path, "round": r, **s})
    pg.keyboard.press("Escape")
    s = _step(pg, wire, spec.marker, lambda: sidebar.get_by_role("button", name="清除全部筛选").click())
    samples.append({"kind": "filter", "page": spec.url_path, "round": r, **s})
    if _exceptions(pg):
        raise RuntimeError(f"exception on {spec.url_path} after a filter change")


def summary(samples: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """Median and p95 of one kind of step, with the median parts and the slowest page."""
    mine = [s for s in samples if s["kind"] == kind]
    if not mine:
        return {}
    totals = [s["total_s"] for s in mine]
    slowest = max(mine, key=lambda s: s["total_s"])
    by_page: dict[str, list[float]] = {}
    for s in mine:
        by_page.setdefault(s["page"], []).append(s["total_s"])
    return {
        "n": len(mine), "median_s": statistics.median(totals), "p95_s": percentile(totals, 95),
        "request_median_s": statistics.median(s["request_s"] for s in mine),
        "server_median_s": statistics.median(s["server_s"] for s in mine),
        "draw_median_s": statistics.median(s["draw_s"] for s in mine),
        "ws_kib_median": statistics.median(s["ws_bytes"] for s in mine) / 1024,
        "ws_kib_max": max(s["ws_bytes"] for s in mine) / 1024,
        "slowest": f"{slowest['page']} {slowest['total_s']:.2f} s",
        "page_median_s": {p: statistics.median(v) for p, v in by_page.items()},
    }


def bench_browser(db: Path, log_dir: Path, rounds: int = 2) -> dict[str, Any]:
    """Start a server on db, walk it in one session; the menu and filter summaries."""
    server = Server(db, log_dir / f"bench_server_{db.stem}.log")
    try:
        res = walk(server.url, rounds=rounds)
        res["server_rss_mib"] = server.rss_mib()
    finally:
        server.stop()
    return {"menu": summary(res["samples"], "menu"), "filter": summary(res["samples"], "filter"),
            "first_load_s": res["first_load_s"], "server_rss_mib": res["server_rss_mib"], "samples": res["samples"],
            "failures": res["failures"]}


# ---- many sessions --------------------------------------------------------------------------------


async def _session(browser: Any, url: str, n: int, walk_pages: list[Any], stagger: float, think: float,
                   steps: int, out: list[dict[str, Any]], errors: list[str], opened: asyncio.Event,
                   ready: list[int]) -> None:
    await asyncio.sleep(n * stagger)
    ctx = await browser.new_context(viewport={"width": 1024, "height": 700}, locale="zh-CN")
    pg = await ctx.new_page()
    wire = _Wire()
    pg.on("websocket", wire.attach)
    where = "总览"
    try:
        await pg.goto(url, timeout=STEP_MS)
        await pg.wait_for_function(_DRAWN_JS, arg=walk_pages[-1].marker, timeout=STEP_MS, polling=100)
        ready.append(n)
        await opened.wait()  # every session is open: now the walk under load
        await asyncio.sleep(think * n / 50)  # people do not click in the same second: spread over a think time
        for i in range(steps):
            await asyncio.sleep(think)
            spec = walk_pages[(n + i) % len(walk_pages)]
            where = spec.title
            link = pg.locator('[data-testid="stTopNavLink"]', has_text=spec.title).first
            await link.wait_for(timeout=STEP_MS)
            wire.reset()
            t = time.perf_counter()
            await link.click(timeout=STEP_MS)
            await pg.wait_for_function(_DRAWN_JS, arg=spec.marker, timeout=STEP_MS, polling=50)
            total = time.perf_counter() - t
            # the server's part: the rerun request sent → its script_finished received
            server = (wire.finished_at - wire.sent_at) if wire.finished_at and wire.sent_at else None
            out.append({"session": n, "page": spec.url_path, "total_s": total, "server_s": server})
            if await pg.locator('[data-testid="stException"]').count():
                errors.append(f"会话 {n}: {where} 页面异常")
    except Exception as e:  # a session's failure is reported with the figures
        errors.append(f"会话 {n}（{where}）: {type(e).__name__}: {str(e).splitlines()[0]}")
        if n not in ready:
            ready.append(n)
    finally:
        await ctx.close()


async def _many(server: Server, count: int, steps: int, think: float, budget_s: float) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    from ui.nav import PAGES

    walk_pages = [*PAGES[1:6], PAGES[0]]  # the reading pages (not upload, not the briefing's button)
    out: list[dict[str, Any]] = []
    errors: list[str] = []
    ready: list[int] = []
    opened = asyncio.Event()
    mem: list[tuple[float, float]] = []
    start = time.monotonic()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        # one session first, walked and closed: the baseline is the server with its caches warm
        one: list[dict[str, Any]] = []
        await _session(browser, server.url, 0, walk_pages, 0, 0.2, len(walk_pages), one, errors,
                       _set(asyncio.Event()), [])
        await asyncio.sleep(2)
        base = server.rss_mib()
        tasks = [asyncio.create_task(_session(browser, server.url, n, walk_pages, 0.5, think, steps, out, errors,
                                              opened, ready)) for n in range(count)]

        async def sample() -> None:
            while True:
                mem.append((time.monotonic() - start, server.rss_mib()))
                await asyncio.sleep(0.5)

        sampler = asyncio.create_task(sample())
        while len(ready) < count and time.monotonic() - start < budget_s / 2:
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)
        opened_rss = server.rss_mib()  # every session open, none walking yet
        cpu0, wall0 = server.cpu_s(), time.monotonic()
        opened.set()
        try:
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=max(10.0, budget_s - (time.monotonic() - start)))
        except TimeoutError:
            errors.append("超出时限，未完成的会话已中止")
            for t in tasks:
                t.cancel()
        walk_cpu_s, walk_wall_s = server.cpu_s() - cpu0, time.monotonic() - wall0
        sampler.cancel()
        await browser.close()
    totals = [s["total_s"] for s in out]
    servers = [s["server_s"] for s in out if s["server_s"] is not None]
    peak = max(v for _, v in mem) if mem else float("nan")
    return {
        "sessions": count, "opened": len(ready), "steps": len(out), "errors": errors[:20], "n_errors": len(errors),
        "baseline_rss_mib": base, "opened_rss_mib": opened_rss, "peak_rss_mib": peak,
        "per_session_mib": (peak - base) / count if mem else None,
        "per_session_open_mib": (opened_rss - base) / count,
        "switch_median_s": statistics.median(totals) if totals else None,
        "switch_p95_s": percentile(totals, 95) if totals else None,
        "server_median_s": statistics.median(servers) if servers else None,
        "server_p95_s": percentile(servers, 95) if servers else None,
        "wall_s": time.monotonic() - start, "samples": out, "memory": mem,
        # while they walked: the server's CPU seconds against the wall clock (2 cores = 2 s per s); the
        # rest of the machine was the 50 pages drawing in one Chromium, which real users do on their own
        "walk_server_cpu_s": walk_cpu_s, "walk_wall_s": walk_wall_s,
    }


def _set(event: asyncio.Event) -> asyncio.Event:
    event.set()
    return event


def bench_sessions(db: Path, log_dir: Path, count: int = 50, steps: int = 6, think: float = 10.0,
                   budget_s: float = 900) -> dict[str, Any]:
    """count sessions at once on one server (loopback), each opening the overview then walking `steps`
    pages with `think` seconds between clicks; bounded by budget_s. Server memory and switch times."""
    server = Server(db, log_dir / f"bench_sessions_{db.stem}.log")
    try:
        return asyncio.run(_many(server, count, steps, think, budget_s))
    finally:
        server.stop()
