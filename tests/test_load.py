"""Load: 20 browser sessions browse and filter while `kaigong ingest` loads a submission.

Loopback only, bounded in time. Every page a session opens must render without an error, every
figure a session reads must be the state before the load or after it (never a half-loaded one),
and once the load has committed every session must see the new figures.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from pipelines.ingest.template import template_frame
from tests.conftest import ROOT, build_app_db
from tests.test_browser import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, Server
from ui.nav import PAGES

pytestmark = [pytest.mark.browser, pytest.mark.load]
async_api = pytest.importorskip("playwright.async_api")

SESSIONS = 20
NEW_PROJECTS = 400
BEFORE, AFTER = "4", str(4 + NEW_PROJECTS)  # 项目数 on the overview's default view (the latest report)
BUDGET_S = 600  # the whole test, start to finish
STEP_MS = 120_000  # one page view, with 20 sessions sharing two cores (the browser is most of the load)
STAGGER_S, THINK_S = 1.5, 2.0
# each session walks the top menu as a reader does (one page load, then in-app navigation)
WALK = ("开工", "投资完成", "区域", "项目台账", "问题清单", "总览")
MARKER = {p.title: p.marker for p in PAGES}


def submission(path: Path) -> Path:
    """The standard template with NEW_PROJECTS projects, reported for a new week (2020-03-20)."""
    example = template_frame().head(1)
    frame = pl.concat([example] * NEW_PROJECTS).with_columns(
        pl.Series("项目名称", [f"负载测试项目{i:04d}" for i in range(NEW_PROJECTS)]),
        pl.Series("项目代码", [f"2020-140100-39-03-9{i:05d}" for i in range(NEW_PROJECTS)]),
    )
    path.write_bytes(("2020年百千工程项目周报表（截至2020年3月20日）\n" + frame.write_csv()).encode("utf-8-sig"))
    return path


async def settle(pg) -> None:
    await pg.wait_for_selector('[data-testid="stMain"] h1', timeout=STEP_MS)
    await pg.wait_for_timeout(300)
    await pg.wait_for_function(
        """() => !document.querySelector('[data-testid="stStatusWidget"]')
                 && document.querySelectorAll('[data-stale="true"]').length === 0""",
        timeout=STEP_MS,
    )


async def project_count(pg) -> str:
    card = pg.locator('[data-testid="stMetric"]', has_text="项目数").first
    return (await card.locator('[data-testid="stMetricValue"]').inner_text(timeout=STEP_MS)).strip()


async def problems_on(pg, where: str) -> list[str]:
    out = []
    if await pg.locator('[data-testid="stException"]').count():
        out.append(f"{where}: 页面异常 {await pg.locator('[data-testid=stException]').first.inner_text()}")
    if await pg.locator('[data-testid="stDialog"]').count():
        out.append(f"{where}: 对话框 {await pg.locator('[data-testid=stDialog]').first.inner_text()}")
    return out


async def open_page(pg, title: str) -> None:
    await pg.locator('[data-testid="stTopNavLink"]', has_text=title).click(timeout=STEP_MS)
    await pg.locator("h1", has_text=MARKER[title]).wait_for(timeout=STEP_MS)
    await settle(pg)


async def filter_tier_and_clear(pg, tier: str = "市级千项") -> None:
    sidebar = pg.locator('[data-testid="stSidebar"]')
    await sidebar.locator('[data-testid="stMultiSelect"]', has_text="层级").click(timeout=STEP_MS)
    await pg.get_by_role("option", name=tier).click(timeout=STEP_MS)
    await pg.keyboard.press("Escape")  # close the dropdown
    await pg.wait_for_function("() => location.search.includes('tier=')", timeout=STEP_MS)
    await settle(pg)
    await sidebar.get_by_role("button", name="清除全部筛选").click(timeout=STEP_MS)
    await pg.wait_for_function("() => !location.search.includes('tier=')", timeout=STEP_MS)
    await settle(pg)


async def browse(browser, url: str, n: int, loaded: asyncio.Event, seen: list[str], errors: list[str],
                 visits: list[tuple[int, float]]) -> None:
    await asyncio.sleep(n * STAGGER_S)  # people do not all press enter in the same second
    ctx = await browser.new_context(viewport={"width": 1024, "height": 700}, locale="zh-CN")
    pg = await ctx.new_page()
    where = "总览"
    try:
        await pg.goto(url, timeout=STEP_MS)
        await settle(pg)
        seen.append(await project_count(pg))
        visits.append((n, time.monotonic()))
        step = n
        while not loaded.is_set():  # browse and filter until the load has committed
            await asyncio.sleep(THINK_S)  # a reader looks at the page before the next click
            where = WALK[step % len(WALK)]
            await open_page(pg, where)
            if step % 3 == 0:
                where += "（筛选层级）"
                await filter_tier_and_clear(pg)
            errors += await problems_on(pg, where)
            if where == "总览":
                seen.append(await project_count(pg))
            step += 1
            visits.append((n, time.monotonic()))
        # after the load has committed the page still filters, and a newly opened overview (the
        # session's own link keeps the report date it had) shows the new submission
        where = f"导入后 {where}（筛选层级）"
        await filter_tier_and_clear(pg)
        errors += await problems_on(pg, where)
        where = "导入后 新开总览"
        await pg.goto(url, timeout=STEP_MS)
        await settle(pg)
        deadline = time.monotonic() + STEP_MS / 1000
        while (count := await project_count(pg)) != AFTER and time.monotonic() < deadline:
            await pg.wait_for_timeout(500)
        if count != AFTER:
            errors.append(f"会话 {n}: 导入完成后项目数为 {count}，应为 {AFTER}")
        errors += await problems_on(pg, where)
    except Exception as e:  # a timeout is an error of this session, reported with the others
        errors.append(f"会话 {n}（{where}）: {type(e).__name__}: {str(e).splitlines()[0]}")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await pg.screenshot(path=str(ARTIFACTS / f"load_session_{n:02d}.png"), timeout=STEP_MS)
    finally:
        await ctx.close()


async def run_load(url: str, db: Path, file: Path) -> tuple[list[str], list[str], subprocess.CompletedProcess]:
    seen: list[str] = []
    errors: list[str] = []
    visits: list[tuple[int, float]] = []
    loaded = asyncio.Event()
    start = time.monotonic()
    async with async_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        sessions = [asyncio.create_task(browse(browser, url, n, loaded, seen, errors, visits)) for n in range(SESSIONS)]
        # all are browsing (or a session has already failed, and says why in errors): now a
        # submission arrives by the CLI
        while any(not t.done() and n not in {m for m, _ in visits} for n, t in enumerate(sessions)):
            await asyncio.sleep(0.5)
        ingest_start = time.monotonic()
        env = {**os.environ, "KAIGONG_DB": str(db)}
        ingest = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "pipelines.cli", "ingest", str(file), "--user", "负载测试"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
        )
        loaded.set()
        during = sum(ingest_start <= t for _, t in visits)
        await asyncio.gather(*sessions)
        await browser.close()
    print(f"{len(visits)} page views by {SESSIONS} sessions in {time.monotonic() - start:.0f} s; "
          f"{during} finished while the ingest ran ({time.monotonic() - ingest_start:.0f} s ago)")
    return seen, errors, ingest


def test_twenty_sessions_browse_while_a_submission_loads(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip("system Chromium not installed (make sysdeps)")
    db = build_app_db(tmp_path / "load.duckdb")
    file = submission(tmp_path / "周报_0320.csv")
    server = Server(db)
    try:
        seen, errors, ingest = asyncio.run(asyncio.wait_for(run_load(server.url, db, file), BUDGET_S))
    finally:
        server.stop()
    assert ingest.returncode == 0, ingest.stderr
    assert errors == [], "\n".join([*errors, "服务器日志（末尾）：", server.log.read_text(errors="replace")[-3000:]])
    assert seen, "no session reached the overview"
    assert set(seen) <= {BEFORE, AFTER}, sorted(set(seen))  # never a half-loaded figure
    assert BEFORE in seen  # the sessions really were browsing before the load
