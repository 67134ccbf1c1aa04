"""Two big uploads at once in the browser (issue 18): queued, both land; the server answers meanwhile."""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path

import polars as pl
import pytest

from tests.harness import commit_upload
from tests.test_browser import TIMEOUT_MS, browser, page, server, settle  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
ROWS = 60_000  # ~21 MB of CSV, ~2–4 s to read and validate in the child on this machine kind


def _big_csv(path: Path, city: str) -> Path:
    from pipelines.ingest.template import template_frame

    t = template_frame().drop("项目代码").with_columns(pl.lit(city).alias("地市"), pl.lit(None).alias("县区"))
    f = pl.concat([t] * (ROWS // t.height)).with_columns(
        pl.format("{}{}号项目", pl.lit(city), pl.int_range(pl.len())).alias("项目名称"))
    path.write_bytes(("2020年百千工程项目周报表（截至2020年3月20日）\n" + f.write_csv()).encode("utf-8-sig"))
    return path


def test_two_big_uploads_queue_and_both_land_while_the_server_answers(server, browser, tmp_path):  # noqa: F811
    files = [_big_csv(tmp_path / "太原周报.csv", "太原市"), _big_csv(tmp_path / "忻州周报.csv", "忻州市")]
    pages = []
    for _ in files:
        ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        pg = ctx.new_page()
        pg.set_default_timeout(TIMEOUT_MS)
        pg.goto(server.url + "/upload")
        settle(pg)
        pages.append(pg)

    # a third session: the health endpoint, asked every 0.2 s while the files are read
    waits: list[float] = []
    stop = threading.Event()

    def third_session() -> None:
        while not stop.is_set():
            t = time.monotonic()
            with urllib.request.urlopen(server.url + "/_stcore/health", timeout=10) as r:
                assert r.status == 200
            waits.append(time.monotonic() - t)
            time.sleep(0.2)

    asker = threading.Thread(target=third_session, daemon=True)
    asker.start()
    for pg, f in zip(pages, files, strict=True):
        pg.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(f))

    queued = None
    deadline = time.monotonic() + 60
    while queued is None and time.monotonic() < deadline:
        for i, pg in enumerate(pages):
            if pg.get_by_text("排队中：第 1 位").count():
                queued = i
        pages[0].wait_for_timeout(100)
    assert queued is not None, "neither upload was shown as queued"
    for pg in pages:
        pg.get_by_text("可以导入").wait_for(timeout=120_000)
        assert pg.get_by_text(f"{ROWS} 个项目").count() == 1
        assert pg.get_by_text("排队中").count() == 0
    stop.set()
    asker.join(15)
    assert len(waits) >= 5 and max(waits) < 2.0, waits

    # and both land: each commits its own file
    for pg in pages:
        commit_upload(pg)
        pg.get_by_text(f"已导入 {ROWS} 个项目").wait_for(timeout=120_000)
