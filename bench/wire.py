"""A load test of the server itself (issue 32 §3): N sessions at Streamlit's protocol level, plus one real
browser for what a person sees.

Each session is a websocket client of `/_stcore/stream` (the `websockets` package, already in the lock
through Streamlit's own dependencies): it asks for a run of the overview (a `rerun_script` BackMsg, as the
browser sends on load), then switches pages (a `rerun_script` naming the page, as the top menu does), each
timed from the request to the `script_finished` ForwardMsg. An element of type exception in a run, a
run that does not finish successfully or a dropped connection is an error. Between switches each
session waits `think` seconds (a person reading); sessions start spread over `ramp` seconds.

While they walk, one headless Chromium page switches pages too, timed to the page settled (stale
elements gone): what a person sees under that load. The server's memory is sampled throughout; memory
per session is (peak − the server after one warm session) ÷ N. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from pathlib import Path
from typing import Any

from bench.browser import CHROMIUM, LAUNCH_ARGS, Server, percentile
from bench.common import log

RUN_TIMEOUT_S = 120.0  # one run may take this long before it counts as an error


def _rerun(page_name: str) -> bytes:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    msg.rerun_script.query_string = ""
    msg.rerun_script.page_name = page_name
    return msg.SerializeToString()


async def _run(ws: Any, page_name: str) -> tuple[float, str | None]:
    """One run of page_name on an open session: (seconds to script_finished, an error or None)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    started = time.perf_counter()
    await ws.send(_rerun(page_name))
    error = None
    async with asyncio.timeout(RUN_TIMEOUT_S):
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await ws.recv())
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element" \
                    and msg.delta.new_element.WhichOneof("type") == "exception":
                error = f"{page_name}: {msg.delta.new_element.exception.message[:120]}"
            elif kind == "script_finished":
                if msg.script_finished != ForwardMsg.FINISHED_SUCCESSFULLY and error is None:
                    error = f"{page_name}: script_finished {msg.script_finished}"
                return time.perf_counter() - started, error


async def _session(url: str, n: int, pages: list[str], steps: int, think: float, ramp: float,
                   times: list[float], errors: list[str]) -> None:
    import websockets

    rng = random.Random(n)
    await asyncio.sleep(ramp * n / 50)
    try:
        async with websockets.connect(url.replace("http", "ws") + "/_stcore/stream", subprotocols=["streamlit"],
                                      max_size=None, open_timeout=30) as ws:
            took, err = await _run(ws, "")  # the overview, as a page load
            times.append(took)
            if err:
                errors.append(err)
            for _ in range(steps):
                await asyncio.sleep(think * (0.5 + rng.random()))
                took, err = await _run(ws, rng.choice(pages))
                times.append(took)
                if err:
                    errors.append(err)
    except Exception as e:  # a load test counts every failure: timeouts, closed sockets, protocol errors
        errors.append(f"session {n}: {type(e).__name__}: {e}"[:200])


async def _person(url: str, pages: list[str], until: asyncio.Event, times: list[float], errors: list[str]) -> None:
    """One real browser switching pages while the sessions walk."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = await browser.new_page(viewport={"width": 1440, "height": 900})
        page.set_default_timeout(RUN_TIMEOUT_S * 1000)
        try:
            await page.goto(url + "/")
            await page.wait_for_selector('[data-testid="stMain"] h1')
            i = 0
            while not until.is_set():
                name = pages[i % len(pages)]
                i += 1
                started = time.perf_counter()
                await page.goto(f"{url}/{name}")
                await page.wait_for_selector('[data-testid="stMain"] h1')
                await page.wait_for_timeout(300)
                await page.wait_for_function(
                    """() => !document.querySelector('[data-testid="stStatusWidget"]')
                             && document.querySelectorAll('[data-stale="true"]').length === 0""")
                times.append(time.perf_counter() - started - 0.3)
                await asyncio.sleep(2)
        except Exception as e:  # counted, not raised: the figures of the others still count
            errors.append(f"browser: {type(e).__name__}: {e}"[:200])
        finally:
            await browser.close()


async def _load(server: Server, count: int, steps: int, think: float, ramp: float, budget_s: float) -> dict[str, Any]:
    from ui.nav import PAGES

    pages = [p.url_path for p in PAGES[1:6]] + [""]  # the reading pages and the overview
    warm: list[float] = []
    errors: list[str] = []
    await _session(server.url, 0, pages, len(pages), 0.0, 0.0, warm, errors)  # one warm session first
    await asyncio.sleep(2)
    base = server.rss_mib()
    mem: list[float] = []
    times: list[float] = []
    seen: list[float] = []
    done = asyncio.Event()

    async def sample() -> None:
        while not done.is_set():
            mem.append(server.rss_mib())
            await asyncio.sleep(0.5)

    sampler = asyncio.create_task(sample())
    person = asyncio.create_task(_person(server.url, [p for p in pages if p], done, seen, errors))
    cpu0, wall0 = server.cpu_s(), time.monotonic()
    tasks = [asyncio.create_task(_session(server.url, n, pages, steps, think, ramp, times, errors))
             for n in range(count)]
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=budget_s)
    except TimeoutError:
        errors.append("超出时限，未完成的会话已中止")
        for t in tasks:
            t.cancel()
    wall = time.monotonic() - wall0
    cpu = server.cpu_s() - cpu0
    done.set()
    await asyncio.wait_for(person, timeout=RUN_TIMEOUT_S + 10)
    sampler.cancel()
    peak = max(mem) if mem else float("nan")
    return {
        "sessions": count, "runs": len(times), "n_errors": len(errors), "errors": errors[:20],
        "server_median_s": statistics.median(times) if times else None,
        "server_p95_s": percentile(times, 95) if times else None,
        "person_median_s": statistics.median(seen) if seen else None,
        "person_p95_s": percentile(seen, 95) if seen else None, "person_n": len(seen),
        "baseline_rss_mib": base, "peak_rss_mib": peak, "per_session_mib": (peak - base) / count,
        "server_cpu_share": cpu / wall if wall else None, "wall_s": wall, "warm_runs_s": warm,
        "samples": times, "person_samples": seen,
    }


def bench_wire(db: Path, log_dir: Path, count: int = 50, steps: int = 6, think: float = 5.0, ramp: float = 10.0,
               budget_s: float = 900) -> dict[str, Any]:
    """count protocol-level sessions and one browser on one server at db; bounded by budget_s."""
    server = Server(db, log_dir / f"bench_wire_{db.stem}.log")
    try:
        res = asyncio.run(_load(server, count, steps, think, ramp, budget_s))
    finally:
        server.stop()
    log(f"  {count} sessions, {res['runs']} runs: server median {res['server_median_s']:.2f} s, "
        f"p95 {res['server_p95_s']:.2f} s; a person's page switch median {res['person_median_s'] or 0:.2f} s; "
        f"{res['per_session_mib']:.1f} MiB per session; {res['n_errors']} errors")
    return res
