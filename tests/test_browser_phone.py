"""The phone layout (issue 30) in headless Chromium at 390 × 844, a phone's viewport with touch: every
page checked has its heading, no sideways scrolling of the page, the 菜单 one tap away; the overview's
cards two per row; the 亮灯清单 and 督办单 as cards. Screenshots go to tests/_artifacts/phone/, or with
PHONE_PICTURES=docs (`make screenshots`) to docs/images/phone/, which the docs show. The same pages at a desktop width keep their tables and top menu, and no phone furniture."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from pipelines import auth
from pipelines.warehouse import supervision
from pipelines.warehouse.store import Warehouse
from tests.conftest import ROOT, build_app_db
from tests.harness import CHROMIUM, LAUNCH_ARGS, Server
from tests.test_browser import settle

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
playwright_api = pytest.importorskip("playwright.sync_api")

# the docs' pictures with PHONE_PICTURES=docs (`make screenshots`); otherwise beside the other tests'
# screenshots, so a test run leaves the repository as it was (the 督办单 picture shows today's date)
PICTURES = ROOT / "docs" / "images" / "phone" if os.environ.get("PHONE_PICTURES") == "docs" else \
    ROOT / "tests" / "_artifacts" / "phone"
TIMEOUT_MS = 30_000
PHONE = {"width": 390, "height": 844}
ORDER_TEXT = "杂粮深加工项目进度滞后序时进度，请说明原因及整改措施"


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.skip("system Chromium not installed (make sysdeps)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The test database with one 督办单 (the pages here only read)."""
    db = build_app_db(tmp_path_factory.mktemp("phone") / "phone.duckdb")
    supervision.issue(Warehouse(db), auth.User("ana", "分析员"), "140900", ORDER_TEXT,
                      date.today() + timedelta(days=7), projects=[("p", "杂粮深加工项目")], source="红灯项目")
    s = Server(db)
    yield s
    s.stop()


@pytest.fixture
def phone(browser):
    ctx = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True,
                              accept_downloads=True)
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    yield pg
    ctx.close()


def fits(pg) -> None:
    """The heading is on screen and neither the page nor its scrolling main area is wider than the phone."""
    assert pg.locator('[data-testid="stMain"] h1').first.is_visible()
    widths = pg.evaluate("""() => {
        const d = document.documentElement, m = document.querySelector('[data-testid="stMain"]');
        return [d.scrollWidth, d.clientWidth, m.scrollWidth, m.clientWidth];
    }""")
    assert widths[0] <= widths[1] and widths[2] <= widths[3], widths


def picture(pg, name: str, *, whole: bool = True) -> None:
    """The whole page as a phone shows it when scrolled (Streamlit scrolls inside stMain); or the screen."""
    PICTURES.mkdir(parents=True, exist_ok=True)
    if not whole:
        pg.screenshot(path=str(PICTURES / f"{name}.png"))
        return
    height = pg.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    pg.set_viewport_size({"width": PHONE["width"], "height": min(max(height, PHONE["height"]), 6000)})
    pg.wait_for_timeout(600)
    pg.screenshot(path=str(PICTURES / f"{name}.png"), full_page=True)
    pg.set_viewport_size(PHONE)
    pg.wait_for_timeout(300)


def box(locator) -> dict:
    b = locator.bounding_box()
    assert b is not None, locator
    return b


def test_overview_cards_two_per_row_the_menu_one_tap_away_and_the_chart_png(server, phone):
    phone.goto(server.url)
    settle(phone)
    assert phone.locator("h1", has_text="百千工程总览").is_visible()
    fits(phone)
    cards = phone.locator('.st-key-overview_total [data-testid="stMetric"]')
    cards.nth(9).wait_for()
    assert cards.count() == 10
    first, second, third = (box(cards.nth(i)) for i in range(3))
    assert abs(first["y"] - second["y"]) < 2 and second["x"] > first["x"] + first["width"] - 1  # side by side
    assert third["y"] > first["y"] + first["height"] - 1 and abs(third["x"] - first["x"]) < 2  # the next row
    assert first["width"] < PHONE["width"] / 2 and first["width"] > PHONE["width"] / 3
    # the chart: the legend under the plot, the footnote under the legend, nothing past the edge
    chart = phone.locator('[data-testid="stPlotlyChart"]').first
    chart.scroll_into_view_if_needed()
    plot, legend = box(chart.locator(".nsewdrag").first), box(chart.locator(".legend").first)
    assert legend["y"] > plot["y"] + plot["height"] and legend["x"] + legend["width"] <= PHONE["width"]
    assert not chart.locator(".modebar-container").is_visible()  # it covered the title
    with phone.expect_download() as got:
        phone.get_by_role("button", name="下载图片（PNG）").tap()
    assert Path(got.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    phone.locator('[data-testid="stMain"]').evaluate("m => m.scrollTo(0, 0)")
    picture(phone, "overview")

    # the menu: on screen without scrolling back up, one tap opens it, one tap goes
    phone.locator('[data-testid="stMain"]').evaluate("m => m.scrollTo(0, m.scrollHeight)")
    menu = phone.get_by_role("button", name="菜单")
    assert menu.is_visible() and box(menu)["y"] < 80  # fixed in the header
    menu.tap()
    links = phone.locator('[data-testid="stPopoverBody"]')
    links.get_by_role("link", name="亮灯清单").wait_for()
    picture(phone, "menu", whole=False)
    links.get_by_role("link", name="亮灯清单").tap()
    phone.locator("h1", has_text="亮灯清单").wait_for()
    settle(phone)
    assert "/light-list" in phone.url


def test_the_lit_list_is_cards(server, phone):
    phone.goto(server.url + "/light-list")
    settle(phone)
    assert phone.locator("h1", has_text="亮灯清单").is_visible()
    fits(phone)
    cards = phone.locator('.st-key-phone_cards_lights_list [data-testid="stVerticalBlock"][class*="st-key-phone_card_"]')
    cards.nth(1).wait_for(state="visible", timeout=TIMEOUT_MS)  # a loaded machine draws them after settle
    phone.wait_for_selector('[data-testid="stElementContainer"]:has([data-testid="stDataFrame"])', state="attached",
                            timeout=TIMEOUT_MS)
    assert cards.count() == 2  # the test data's two yellow projects
    assert cards.first.is_visible() and "新型建材生产线项目" in cards.first.inner_text()
    assert "黄灯" in cards.first.inner_text() and "亮灯原因" in cards.first.inner_text()
    assert not phone.locator('.st-key-phone_wide_lights_list [data-testid="stDataFrame"]').is_visible()
    a, b = box(cards.nth(0)), box(cards.nth(1))
    assert a["width"] > PHONE["width"] * 0.8 and b["y"] > a["y"] + a["height"] - 1  # one card a row, full width
    # the tables that stay say they scroll
    hint = phone.evaluate("""() => getComputedStyle(document.querySelector(
        '[data-testid="stElementContainer"]:has([data-testid="stDataFrame"])'), '::before').content""")
    assert "左右滑动" in hint
    picture(phone, "lights")


def test_a_projects_history(server, phone):
    phone.goto(server.url + "/ledger")
    settle(phone)
    fits(phone)
    grid = box(phone.locator('[data-testid="stDataFrame"]').first)
    phone.mouse.click(grid["x"] + 18, grid["y"] + 35 + 17)  # the first row's tick box (the row marker column)
    settle(phone)
    phone.locator('[data-testid="stPlotlyChart"]').first.wait_for()
    assert phone.locator("h1", has_text="项目台账").is_visible()
    assert phone.locator("h3").first.inner_text().strip()  # the project's name
    fits(phone)
    chart = phone.locator('[data-testid="stPlotlyChart"]').first
    chart.scroll_into_view_if_needed()
    plot, legend = box(chart.locator(".nsewdrag").first), box(chart.locator(".legend").first)
    assert legend["y"] > plot["y"] + plot["height"] and legend["x"] + legend["width"] <= PHONE["width"]
    assert chart.locator(".xtick").count() <= 6
    picture(phone, "history")


def test_supervision_orders_are_cards(server, phone):
    phone.goto(server.url + "/supervise")
    settle(phone)
    assert phone.locator("h1", has_text="督办单").is_visible()
    fits(phone)
    cards = phone.locator('[class*="st-key-phone_card_supervision_list_"]')
    cards.first.wait_for(state="visible", timeout=TIMEOUT_MS)  # a loaded machine draws it after settle
    assert cards.count() == 1 and cards.first.is_visible()
    text = cards.first.inner_text()
    assert "第 1 号" in text and "忻州市" in text and ORDER_TEXT in text and "办理中" in text
    assert "下达时间" in text and ":" in text.split("下达时间")[1] and "." not in text.split("下达时间")[1]  # minutes
    assert not phone.locator('.st-key-phone_wide_supervision_list [data-testid="stDataFrame"]').is_visible()
    cards.first.scroll_into_view_if_needed()
    picture(phone, "supervision")


def test_the_briefing_pdf_downloads_on_a_phone(server, phone):
    phone.goto(server.url + "/brief")
    settle(phone)
    fits(phone)
    phone.get_by_role("button", name="生成简报").tap()
    button = phone.get_by_role("button", name="下载简报（PDF）")
    button.wait_for(timeout=120_000)
    with phone.expect_download() as got:
        button.tap()
    assert Path(got.value.path()).read_bytes()[:5] == b"%PDF-"


def test_a_desktop_keeps_its_tables_and_top_menu(server, browser):
    ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    try:
        pg.goto(server.url + "/light-list")
        settle(pg)
        assert not pg.get_by_role("button", name="菜单").is_visible()
        assert pg.locator('[data-testid="stTopNavLink"], header a[href$="/supervise"]').first.is_visible()
        pg.locator('.st-key-phone_wide_lights_list [data-testid="stDataFrame"]').wait_for()  # visible
        assert not pg.locator('.st-key-phone_cards_lights_list').is_visible()
        hint = pg.evaluate("""() => getComputedStyle(document.querySelector(
            '[data-testid="stElementContainer"]:has([data-testid="stDataFrame"])'), '::before').content""")
        assert hint in ("none", "normal")
        cards = pg.locator('.st-key-overview_total [data-testid="stMetric"]')
        pg.goto(server.url)
        settle(pg)
        tops = {round(box(cards.nth(i))["y"]) for i in range(5)}
        assert len(tops) == 1  # five cards a row, as before
    finally:
        ctx.close()
