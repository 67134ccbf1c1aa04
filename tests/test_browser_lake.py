"""End to end over one DuckLake store: two dashboard servers on different ports (and nginx in front of
them, with the repo's deploy/nginx.conf), one PostgreSQL catalog and one data path. A file uploaded on
one server shows on the other, and through the proxy, without a restart: a second server is
configuration only (docs/deployment.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import APP_DATES, app_rows, load_rows
from tests.harness import Proxy, Server, commit_upload
from tests.pg import PgServer
from tests.test_browser import ARTIFACTS, TIMEOUT_MS, browser, metric, settle, shot  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def lake_servers(tmp_path: Path) -> Iterator[tuple[Server, Server, Proxy]]:
    from pipelines.warehouse.lake import LakeConfig, LakeWarehouse

    with PgServer() as pg:
        env = {"KAIGONG_STORE": "lake", "KAIGONG_LAKE_CATALOG": pg.create_database("kaigong_two"),
               "KAIGONG_LAKE_DATA": str(tmp_path / "shared")}
        wh = LakeWarehouse(LakeConfig(env["KAIGONG_LAKE_CATALOG"], Path(env["KAIGONG_LAKE_DATA"])))
        wh.init()
        for week, d in enumerate(APP_DATES):  # the dashboard's test data, loaded into the lake
            load_rows(wh, d, app_rows(week), file_name=f"周报_{d:%m%d}.csv")
        # KAIGONG_DB points each server's log at its own place; in lake mode no file is opened
        for d in ("one", "two"):
            (tmp_path / d).mkdir()
        one = Server(tmp_path / "one" / "unused.duckdb", env=env)
        try:
            two = Server(tmp_path / "two" / "unused.duckdb", env=env)
            try:
                proxy = Proxy([one.port, two.port], tmp_path / "nginx")
                try:
                    yield one, two, proxy
                finally:
                    proxy.stop()
            finally:
                two.stop()
        finally:
            one.stop()
        assert not (tmp_path / "one" / "unused.duckdb").exists()  # neither server made a file of its own


def _page(browser: Any):  # noqa: F811 (the fixture's value)
    ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    return ctx, pg


def _upload_week(pg, url: str, name: str) -> None:
    """Upload the standard template dated 2020-03-20 at url and commit it (2 projects)."""
    from pipelines.ingest.template import template_frame

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    csv_path = ARTIFACTS / name
    csv_path.write_bytes(
        ("2020年百千工程项目周报表（截至2020年3月20日）\n" + template_frame().write_csv()).encode("utf-8-sig"))
    pg.goto(url + "/upload")
    settle(pg)
    pg.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(csv_path))
    settle(pg)
    pg.get_by_text("可以导入").wait_for(timeout=TIMEOUT_MS)
    commit_upload(pg)
    settle(pg)
    pg.get_by_text("已导入 2 个项目").wait_for(timeout=TIMEOUT_MS)


def test_a_file_uploaded_on_one_server_shows_on_the_other_and_through_the_proxy(lake_servers, browser):  # noqa: F811
    one, two, proxy = lake_servers
    (ctx1, p1), (ctx2, p2), (ctx3, p3) = _page(browser), _page(browser), _page(browser)
    try:
        p2.goto(f"{two.url}/?date=2020-03-20")
        settle(p2)
        assert metric(p2, "项目数", "4") == "4"  # the 4 projects of 03-13, carried forward

        _upload_week(p1, one.url, "lake_week_2020-03-20.csv")

        # the other server: a new view of the same link reads the new snapshot (its caches are keyed
        # on the catalog's data version)
        p2.goto(f"{two.url}/?date=2020-03-20")
        settle(p2)
        assert metric(p2, "项目数", "6") == "6"  # 4 carried forward + the template's 2
        assert metric(p2, "总投资", "23.90") == "23.90"
        shot(p2, "40_lake_second_server_after_upload")

        # through nginx (deploy/nginx.conf): the page, its websocket and the figures
        p3.goto(f"{proxy.url}/?date=2020-03-20")
        settle(p3)
        assert metric(p3, "项目数", "6") == "6"
        assert p3.locator('[data-testid="stException"]').count() == 0
    finally:
        for ctx in (ctx1, ctx2, ctx3):
            ctx.close()


def test_an_upload_through_the_proxy_reaches_the_server_holding_the_session(lake_servers, browser):  # noqa: F811
    """The upload is an HTTP PUT beside the websocket: with affinity it lands on the session's server."""
    one, two, proxy = lake_servers
    ctx, pg = _page(browser)
    try:
        _upload_week(pg, proxy.url, "lake_proxy_week_2020-03-20.csv")
        for server in (one, two):
            pg.goto(f"{server.url}/?date=2020-03-20")
            settle(pg)
            assert metric(pg, "项目数", "6") == "6", server.url
    finally:
        ctx.close()
