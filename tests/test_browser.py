"""End to end: the running app in headless Chromium (system browser), screenshots in tests/_artifacts/."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, build_app_db
from tests.harness import CHROMIUM, LAUNCH_ARGS, Server, commit_upload
from ui.nav import PAGES

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
playwright_api = pytest.importorskip("playwright.sync_api")

ARTIFACTS = ROOT / "tests" / "_artifacts"
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.skip("system Chromium not installed (make sysdeps)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A fresh server on a fresh copy of the fixture database (uploads change it)."""
    s = Server(build_app_db(tmp_path / "e2e.duckdb"))
    yield s
    s.stop()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    yield pg
    ctx.close()


def settle(pg) -> None:
    """Wait until the script run has finished and nothing is stale."""
    pg.wait_for_selector('[data-testid="stMain"] h1')
    pg.wait_for_timeout(300)  # a rerun's status widget appears after a short delay
    pg.wait_for_function(
        """() => !document.querySelector('[data-testid="stStatusWidget"]')
                 && document.querySelectorAll('[data-stale="true"]').length === 0""",
        timeout=TIMEOUT_MS,
    )
    pg.wait_for_timeout(400)


def metric(pg, label: str, expect: str | None = None) -> str:
    """A card's value; with expect, wait (up to the timeout) for the rerun to show it."""
    card = pg.locator('[data-testid="stMetric"]', has_text=label).first
    value = card.locator('[data-testid="stMetricValue"]')
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while expect is not None and value.inner_text().strip() != expect and time.monotonic() < deadline:
        pg.wait_for_timeout(200)
    return value.inner_text().strip()


def shot(pg, name: str) -> None:
    """A full-page screenshot: Streamlit scrolls inside stMain, so grow the viewport to its height."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = pg.viewport_size
    height = pg.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    pg.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 12000)})
    pg.wait_for_timeout(500)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    pg.set_viewport_size(size)


def test_direct_link_on_a_fresh_server_routes_through_the_app(server, page):
    outside: list[str] = []  # the dashboard runs on intranets: nothing may be fetched from elsewhere
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server.url) else None)
    # the very first request of this server is a direct link to a page that is not the default
    page.goto(server.url + "/upload")
    settle(page)
    assert page.locator("h1", has_text="数据报送").count() == 1
    # no 「Page not found」 dialog over the right page (Streamlit's pages/ route on a fresh server)
    assert page.locator('[data-testid="stDialog"]').count() == 0
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0  # no automatic pages/ menu
    # the sidebar script has run once the URL carries its state; its text may paint a moment later
    page.locator('[data-testid="stSidebar"]').get_by_text("报告期（截止日）").wait_for(timeout=TIMEOUT_MS)
    assert page.locator('[data-testid="stSidebar"]').get_by_text("报告期（截止日）").count() == 1
    page.goto(server.url + "/start-rates?city=140900")
    settle(page)
    assert page.locator("h1", has_text="开（复）工情况").count() == 1
    assert metric(page, "应开（复）工项目数", "1 个") == "1 个"
    assert page.locator('[data-testid="stDialog"]').count() == 0
    assert outside == []


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_every_url_path_opens_its_page_from_a_cold_direct_link(server, page, spec):
    """Each page's link as a new user pastes it: the first request of a fresh server, filters in it."""
    page.goto(f"{server.url}/{spec.url_path}?city=140900")
    settle(page)
    page.locator("h1", has_text=spec.marker).wait_for(timeout=TIMEOUT_MS)
    assert page.locator("h1", has_text=spec.marker).count() == 1, spec.url_path
    assert page.get_by_text("Page not found").count() == 0, spec.url_path
    assert page.locator('[data-testid="stDialog"]').count() == 0, spec.url_path
    assert page.locator('[data-testid="stException"]').count() == 0, spec.url_path
    assert "city=140900" in page.url  # the filter came through (the default page's link goes to the root)
    if spec == PAGES[0]:
        assert page.url.startswith(server.url + "/?"), page.url
        assert metric(page, "项目数", "2") == "2"  # 忻州 has 2 of the 4 projects: the filter applies


def test_clicking_a_bar_filters_the_page_and_the_sidebar_clears_it(server, page):
    page.goto(server.url + "/start-rates")  # a fresh server, a direct link: nothing may cover the chart
    settle(page)
    assert metric(page, "应开（复）工项目数", "3 个") == "3 个"
    plot = page.locator(".st-key-starts_city .js-plotly-plot")
    plot.wait_for(timeout=TIMEOUT_MS)  # plotly's bundle loads after the page's first paint
    # the bar of 忻州市 (140900): its position among the trace's points, read from the figure itself
    index = page.evaluate(
        """() => document.querySelector('.st-key-starts_city .js-plotly-plot').data[0].customdata
                 .findIndex(c => (Array.isArray(c) ? c[0] : c) === '140900')"""
    )
    assert index >= 0
    bar = page.locator(".st-key-starts_city g.trace.bars g.point path").nth(index)
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("() => location.search.includes('city=140900')", timeout=TIMEOUT_MS)
    settle(page)
    assert metric(page, "应开（复）工项目数", "1 个") == "1 个"
    sidebar = page.locator('[data-testid="stSidebar"]')
    city_box = sidebar.locator('[data-testid="stMultiSelect"]', has_text="地市")
    assert city_box.get_by_text("忻州市").count() == 1  # the clicked filter shows in the sidebar
    shot(page, "00_starts_clicked_city")
    sidebar.get_by_role("button", name="清除全部筛选").click()
    settle(page)
    assert metric(page, "应开（复）工项目数", "3 个") == "3 个"
    assert "city=" not in page.url


def test_filters_change_figures_upload_commits_and_every_page_screenshots(server, page):
    page.goto(server.url)
    settle(page)
    assert metric(page, "项目数", "4") == "4"
    assert metric(page, "投资完成率", "17.8%") == "17.8%"
    shot(page, "01_overview")

    # a sidebar filter: 层级 = 省级双百·新兴
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.locator('[data-testid="stMultiSelect"]', has_text="层级").click()
    page.get_by_role("option", name="省级双百·新兴").click()
    page.locator("h1").first.click()  # close the dropdown
    settle(page)
    assert metric(page, "项目数", "1") == "1"
    assert metric(page, "投资完成率", "20.0%") == "20.0%"
    assert "tier=" in page.url  # the view is in the link
    shot(page, "02_overview_filtered")
    sidebar.get_by_role("button", name="清除全部筛选").click()
    settle(page)
    assert metric(page, "项目数", "4") == "4"

    for i, spec in enumerate(PAGES[1:], start=3):
        page.goto(f"{server.url}/{spec.url_path}")
        settle(page)
        assert page.locator("h1", has_text=spec.marker).count() == 1, spec.url_path
        assert page.locator('[data-testid="stException"]').count() == 0, spec.url_path
        shot(page, f"{i:02d}_{spec.url_path}")

    # upload the standard template (a title row gives the report date), preview, commit
    from pipelines.ingest.template import template_frame

    csv_path = ARTIFACTS / "week_2020-03-20.csv"
    csv_path.write_bytes(
        ("2020年百千工程项目周报表（截至2020年3月20日）\n" + template_frame().write_csv()).encode("utf-8-sig")
    )
    page.goto(server.url + "/upload")
    settle(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(csv_path))
    settle(page)
    page.get_by_text("可以导入").wait_for(timeout=TIMEOUT_MS)  # a loaded machine may start the rerun late
    assert page.get_by_text("可以导入").count() == 1
    assert page.get_by_text("版式：标准填报模板").count() == 1  # the form's name, not the reader's id
    shot(page, "10_upload_preview")
    commit_upload(page)
    settle(page)
    page.get_by_text("已导入 2 个项目").wait_for(timeout=TIMEOUT_MS)
    assert page.get_by_text("已导入 2 个项目").count() == 1
    assert page.locator('[data-testid="stDataFrame"]').last.is_visible()
    shot(page, "11_upload_done")

    page.goto(server.url + "/?date=2020-03-20")
    settle(page)
    assert metric(page, "项目数", "6") == "6"  # 4 carried forward + the template's 2
    assert metric(page, "总投资", "23.90") == "23.90"  # 18.10 + 5.00 + 0.80
    shot(page, "12_overview_after_upload")
