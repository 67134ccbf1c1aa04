"""在线填报 in headless Chromium (issue 31): a 报送员 edits a cell of the grid, the change audit shows it,
the draft survives a reload, 提交 puts it in 审核, and it counts once approved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from pipelines import auth
from tests.conftest import build_app_db
from tests.test_browser import TIMEOUT_MS, Server, browser, settle, shot  # noqa: F401 (fixture)
from tests.test_browser_loop import Visitor

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def fill_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    users = tmp_path / "users.json"
    monkeypatch.setenv("KAIGONG_USERS", str(users))
    monkeypatch.setenv("KAIGONG_REVIEW", "review")
    auth.add_user("xz_clerk", "clerk-pass-1", "报送员", "忻州市", path=users)
    auth.add_user("xz_review", "review-pass-1", "审核员", "忻州市", path=users)
    s = Server(build_app_db(tmp_path / "fill.duckdb"))
    s.db_path = tmp_path / "fill.duckdb"  # type: ignore[attr-defined]
    yield s
    s.stop()


def _edit_cell(pg, grid, column_steps: int, old: str, value: str) -> None:
    """Type value into the first row's cell column_steps to the right of the first column (the grid is a canvas:
    click a first cell, move with the arrow keys, open the cell's editor, type, Enter). The editor must open on
    a cell that holds old (else the keys went elsewhere: a slow grid took the click late); tried three times."""
    editor = pg.locator("input.gdg-input, textarea.gdg-input").first
    for _ in range(3):
        box = grid.locator("canvas").first.bounding_box()  # the grid's cells (the header row and a row are 35 px)
        pg.mouse.click(box["x"] + 30, box["y"] + 35 + 17)
        pg.wait_for_timeout(300)
        for _ in range(column_steps):
            pg.keyboard.press("ArrowRight")
        pg.keyboard.press("Enter")  # open the cell's editor
        try:
            editor.wait_for(state="visible", timeout=5_000)
        except PlaywrightTimeout:
            continue
        if editor.input_value() != old:
            pg.keyboard.press("Escape")
            editor.wait_for(state="hidden", timeout=5_000)
            continue
        editor.fill(value)
        pg.keyboard.press("Enter")
        editor.wait_for(state="hidden", timeout=5_000)
        settle(pg)
        return
    raise AssertionError(f"the grid's cell (first row, column {column_steps + 1}) did not open an editor holding {old}")


def test_the_grid_edits_audits_keeps_a_draft_and_submits_to_review(fill_server, browser):  # noqa: F811
    cv = Visitor(browser, fill_server, "xz_clerk", "clerk-pass-1")
    try:
        clerk = cv.visit("upload")
        clerk.get_by_role("button", name="下载本期填报表").wait_for(timeout=TIMEOUT_MS)
        clerk.get_by_text("报告期 2020-03-20：2 个项目，按上期（2020-03-13）数据预填").wait_for(timeout=TIMEOUT_MS)
        grid = clerk.locator(".st-key-submissions_grid_2020-03-20")
        grid.wait_for(timeout=TIMEOUT_MS)
        # the first row is 杂粮深加工项目 (本年累计 0); 本年累计完成投资 is the sixth column
        _edit_cell(clerk, grid, 5, "0", "800")
        check = clerk.locator(".st-key-submissions_grid_check")
        check.get_by_text("杂粮深加工项目：本期填报修改，本年累计完成投资 0 → 800").wait_for(timeout=TIMEOUT_MS)
        check.get_by_text("焦化余热发电技术改造项目：未修改且未标「本期无变化」").wait_for(timeout=TIMEOUT_MS)
        shot(clerk, "31_fill_grid")

        clerk = cv.visit("upload")  # a new session: the draft is back
        clerk.get_by_text("保存的草稿").first.wait_for(timeout=TIMEOUT_MS)
        check = clerk.locator(".st-key-submissions_grid_check")
        check.get_by_text("杂粮深加工项目：本期填报修改，本年累计完成投资 0 → 800").wait_for(timeout=TIMEOUT_MS)
        clerk.get_by_role("button", name="提交审核", exact=True).click()
        clerk.get_by_text("已提交审核（待审核").wait_for(timeout=TIMEOUT_MS)
        settle(clerk)
        assert clerk.locator(".st-key-submissions_review_latest").get_by_text("：待审核").count() == 1
        assert clerk.get_by_text("保存的草稿").count() == 0  # submitted: the draft is gone
    finally:
        cv.ctx.close()
    fill_server.stop()
    with duckdb.connect(str(fill_server.db_path), read_only=True) as con:
        assert con.execute("SELECT status, file_name, rows FROM pending_submissions").fetchall() == [
            ("待审核", "忻州市_在线填报_20200320.xlsx", 2)]  # both rows kept; the load leaves 焦化 out
        assert con.execute("SELECT count(*) FROM fill_drafts").fetchall() == [(0,)]
