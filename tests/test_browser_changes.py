"""End to end: an upload that lowers a project's 本年累计 shows the change in the preview, before commit."""

from __future__ import annotations

import polars as pl
import pytest

from tests.conftest import app_rows
from tests.harness import commit_upload
from tests.test_browser import (  # noqa: F401 (fixtures)
    ARTIFACTS,
    TIMEOUT_MS,
    browser,
    page,
    server,
    settle,
    shot,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

HEADS = {"project_name": "项目名称", "city_name": "地市", "county_name": "县区", "tier": "层级", "stage": "建设状态",
         "total_investment": "总投资", "annual_plan": "本年计划投资", "ytd_completed": "本年累计完成投资"}


def test_a_lowered_ytd_is_named_in_the_preview_before_commit(server, page):  # noqa: F811
    # 芯片's 本年累计 was 4000 万元 on 03-13; this week's file says 3000
    rows = [{**r, "ytd_completed": 3000.0} if r["project_name"].startswith("芯片") else r for r in app_rows(1)]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "lowered_2020-03-20.csv"
    body = pl.DataFrame(rows, infer_schema_length=None).select(list(HEADS)).rename(HEADS).write_csv()
    path.write_bytes(("2020年百千工程项目周报表（截至2020年3月20日）\n" + body).encode("utf-8-sig"))
    page.goto(server.url + "/upload")
    settle(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    settle(page)
    page.get_by_text("可以导入").wait_for(timeout=TIMEOUT_MS)
    finding = page.get_by_text("芯片封装测试基地项目：本年累计完成投资减少，本年累计完成投资 4000 → 3000")
    finding.wait_for(timeout=TIMEOUT_MS)
    assert "上期报告期 2020-03-13" in finding.inner_text()
    assert page.get_by_text("仅作提示，不影响导入").count() == 1
    shot(page, "20_upload_preview_changes")
    # a warning only: the file still loads, and the page lists the change under 本期变动
    commit_upload(page)
    settle(page)
    page.get_by_text("已导入 4 个项目").wait_for(timeout=TIMEOUT_MS)
    page.goto(server.url + "/upload?date=2020-03-20")
    settle(page)
    page.get_by_text("本期变动（与上期相比）").wait_for(timeout=TIMEOUT_MS)
    assert page.get_by_text("变动 1 条").count() == 1
    shot(page, "21_upload_period_changes")
