"""End to end, the reporting loop in headless Chromium: upload → 待审核 → 通过 by another user → the
figure changes; a 督办单 issued, replied and closed. Users are signed in through the form."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from pipelines import auth
from tests.conftest import build_app_db
from tests.test_browser import ARTIFACTS, TIMEOUT_MS, Server, browser, metric, settle, shot  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def loop_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    users = tmp_path / "users.json"
    monkeypatch.setenv("KAIGONG_USERS", str(users))  # the server inherits the environment
    monkeypatch.setenv("KAIGONG_REVIEW", "review")
    auth.add_user("xz_clerk", "clerk-pass-1", "报送员", "忻州市", path=users)
    auth.add_user("xz_review", "review-pass-1", "审核员", "忻州市", path=users)
    auth.add_user("ty_clerk", "clerk-pass-2", "报送员", "太原市", path=users)
    auth.add_user("ana", "analyst-pass-1", "分析员", path=users)
    s = Server(build_app_db(tmp_path / "loop.duckdb"))
    yield s
    s.stop()


class Visitor:
    """One user's browser: each visit is a fresh page load (a new Streamlit session); the first signs in."""

    def __init__(self, browser, server: Server, name: str, password: str):  # noqa: F811 (the fixture's value)
        self.ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
        self.pg = self.ctx.new_page()
        self.pg.set_default_timeout(TIMEOUT_MS)
        self.server, self.name, self.password = server, name, password

    def visit(self, path: str = ""):
        pg = self.pg
        pg.goto(f"{self.server.url}/{path}")
        pg.wait_for_load_state()
        if "/signin" in pg.url:  # the first visit signs in; the session cookie keeps the later ones signed in
            pg.get_by_label("用户名").fill(self.name)
            pg.get_by_label("密码").fill(self.password)
            pg.get_by_role("button", name="登录").click()
        pg.get_by_text(f"当前用户：{self.name}").wait_for(timeout=TIMEOUT_MS)
        settle(pg)
        return pg


def test_upload_waits_for_review_then_counts_once_approved(loop_server, browser):  # noqa: F811
    server = loop_server
    rv, cv = Visitor(browser, server, "xz_review", "review-pass-1"), Visitor(browser, server, "xz_clerk", "clerk-pass-1")
    reviewer, clerk = rv.visit(), cv.pg
    try:
        assert metric(reviewer, "项目数", "2") == "2"  # the reviewer of 忻州 sees 忻州's 2 projects
        from pipelines.ingest.template import template_frame

        csv_path = ARTIFACTS / "xz_week_2020-03-20.csv"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        xz = template_frame().filter(pl.col("地市") == "忻州市")
        csv_path.write_bytes(("2020年百千工程项目周报表（截至2020年3月20日）\n" + xz.write_csv()).encode("utf-8-sig"))
        cv.visit("upload")
        clerk.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(csv_path))
        settle(clerk)
        clerk.get_by_text("可以导入").wait_for(timeout=TIMEOUT_MS)
        clerk.get_by_role("button", name="提交审核 1 个文件").click()
        clerk.get_by_text("已提交审核（待审核").wait_for(timeout=TIMEOUT_MS)
        settle(clerk)
        assert clerk.locator(".st-key-submissions_review_latest").get_by_text("：待审核").count() == 1
        shot(clerk, "20_loop_submitted")

        rv.visit()
        assert metric(reviewer, "项目数", "2") == "2"  # 待审核: not counted
        rv.visit("upload")
        box = reviewer.locator(".st-key-submissions_review_box")
        box.get_by_text("1 个项目 · 报告期 2020-03-20").wait_for(timeout=TIMEOUT_MS)
        # the preview's rows (the grid's cells are in the page, drawn on a canvas)
        box.get_by_text("示例：焦化余热发电技术改造项目").first.wait_for(state="attached", timeout=TIMEOUT_MS)
        shot(reviewer, "21_loop_review")
        box.get_by_role("button", name="通过").click()
        reviewer.get_by_text("审核通过").first.wait_for(timeout=TIMEOUT_MS)
        settle(reviewer)
        rv.visit()
        assert metric(reviewer, "项目数", "3") == "3"  # approved: the new project counts

        cv.visit("upload")
        status = clerk.locator(".st-key-submissions_review_latest")
        status.get_by_text("：已通过（xz_review").wait_for(timeout=TIMEOUT_MS)
    finally:
        rv.ctx.close()
        cv.ctx.close()


def test_supervision_order_issued_replied_and_closed(loop_server, browser):  # noqa: F811
    server = loop_server
    av, cv = Visitor(browser, server, "ana", "analyst-pass-1"), Visitor(browser, server, "ty_clerk", "clerk-pass-2")
    analyst, clerk = av.pg, cv.pg
    try:
        av.visit("supervise")
        # 太原市 is the first city: its open problem (用地指标未落实) is offered as a project to supervise
        analyst.locator('[data-testid="stMultiSelect"]', has_text="涉及项目").click()
        analyst.get_by_role("option", name="问题未解决 · 芯片封装测试基地项目").click()
        analyst.locator("h1").first.click()
        settle(analyst)
        analyst.get_by_label("督办内容").fill("芯片封装测试基地项目用地指标未落实，请说明协调进展")
        analyst.get_by_role("button", name="下达督办单").click()
        analyst.get_by_text("已下达督办单第 1 号（太原市").wait_for(timeout=TIMEOUT_MS)
        settle(analyst)
        assert metric(analyst, "在办督办单", "1 件") == "1 件"

        cv.visit("supervise")
        # the order as the clerk's box shows it (the list above is a data grid whose cells are not visible text)
        clerk.locator(".st-key-supervision_box").get_by_text("芯片封装测试基地项目用地指标未落实，请说明协调进展").wait_for(
            timeout=TIMEOUT_MS)
        clerk.get_by_label("书面回复").fill("已与自然资源部门对接，4月底前落实用地指标")
        clerk.get_by_role("button", name="提交回复").click()
        clerk.get_by_text("已回复督办单第 1 号").wait_for(timeout=TIMEOUT_MS)
        shot(clerk, "22_loop_replied")

        av.visit("supervise")
        box = analyst.locator(".st-key-supervision_box")
        box.get_by_text("已与自然资源部门对接，4月底前落实用地指标").wait_for(timeout=TIMEOUT_MS)
        box.get_by_role("button", name="办结").click()
        analyst.get_by_text("督办单第 1 号已办结").wait_for(timeout=TIMEOUT_MS)
        settle(analyst)
        assert metric(analyst, "已办结", "1 件") == "1 件"
        assert metric(analyst, "在办督办单", "0 件") == "0 件"
        shot(analyst, "23_loop_closed")
    finally:
        av.ctx.close()
        cv.ctx.close()
