"""Exports fail fast, in Chinese, when what they need is missing, and never wait without a bound."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines.outputs import png
from tests.conftest import ROOT

APP = str(ROOT / "app.py")
MISSING = "/nonexistent/chromium"
FIGURE_PNG = (
    "import plotly.graph_objects as go\n"
    "from pipelines.outputs.png import ExportUnavailable, figure_png\n"
    "try:\n"
    "    figure_png(go.Figure(go.Bar(x=['忻州'], y=[1])), width=300, height=200, scale=1)\n"
    "except ExportUnavailable as exc:\n"
    "    print(exc)\n"
    "    raise SystemExit(1)\n"
    "print('rendered')\n"
)


def timed(args: list[str], env: dict[str, str], limit: float) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run a command that must end by itself well within limit seconds (the test fails, not hangs)."""
    start = time.monotonic()
    run = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env={**os.environ, **env}, timeout=limit)
    return run, time.monotonic() - start


@pytest.fixture
def hanging_browser(tmp_path: Path) -> str:
    """An executable that starts and never answers, as a browser that hangs does."""
    path = tmp_path / "chromium"
    path.write_text("#!/bin/sh\nexec sleep 300\n")
    path.chmod(0o755)
    return str(path)


def test_missing_browser_is_said_at_once(monkeypatch):
    monkeypatch.setenv("KAIGONG_BROWSER", MISSING)
    start = time.monotonic()
    with pytest.raises(png.ExportUnavailable, match="未找到 Chromium 浏览器") as info:
        png.figure_png(__import__("plotly.graph_objects").graph_objects.Figure())
    assert time.monotonic() - start < 2
    assert MISSING in str(info.value) and "apt-get install -y chromium" in str(info.value)
    assert png.png_unavailable() == str(info.value)


def test_figure_png_without_a_browser_fails_within_seconds():
    run, took = timed([sys.executable, "-c", FIGURE_PNG], {"KAIGONG_BROWSER": MISSING}, 60)
    assert run.returncode == 1, run.stderr
    assert run.stdout.startswith(f"未找到 Chromium 浏览器（KAIGONG_BROWSER={MISSING} 不存在或不可执行）")
    assert "make sysdeps" in run.stdout
    assert took < 20


def test_figure_png_with_a_hanging_browser_stops_at_the_bound(hanging_browser):
    run, took = timed([sys.executable, "-c", FIGURE_PNG],
                      {"KAIGONG_BROWSER": hanging_browser, "KAIGONG_EXPORT_TIMEOUT": "3"}, 60)
    assert run.returncode == 1, run.stderr
    assert run.stdout.startswith(f"Chromium 浏览器（{hanging_browser}）在 3 秒内未能启动，已中止"), run.stdout
    assert took < 25


@pytest.mark.parametrize("out", ["简报.pdf", "简报.png"])
def test_brief_without_a_browser_fails_within_seconds(app_db, tmp_path, out):
    target = tmp_path / out
    run, took = timed([sys.executable, "-m", "pipelines.cli", "--db", str(app_db), "brief", "--as-of", "2020-03-13",
                       "--out", str(target)], {"KAIGONG_BROWSER": MISSING}, 60)
    assert run.returncode != 0
    assert f"未生成简报：未找到 Chromium 浏览器（KAIGONG_BROWSER={MISSING} 不存在或不可执行）" in run.stderr
    assert "[简报]" not in run.stderr  # refused before any work
    assert not target.exists()
    assert took < 20


def test_brief_with_a_hanging_browser_stops_at_the_bound(app_db, tmp_path, hanging_browser):
    target = tmp_path / "简报.pdf"
    run, took = timed([sys.executable, "-m", "pipelines.cli", "--db", str(app_db), "brief", "--as-of", "2020-03-13",
                       "--out", str(target)], {"KAIGONG_BROWSER": hanging_browser, "KAIGONG_EXPORT_TIMEOUT": "3"}, 90)
    assert run.returncode != 0
    assert f"未生成简报：Chromium 浏览器（{hanging_browser}）在 3 秒内未能启动" in run.stderr
    assert not target.exists()
    assert took < 30


def page(path: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(path).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_briefing_page_says_what_is_missing_instead_of_a_download(app_db, monkeypatch):
    monkeypatch.setenv("KAIGONG_DB", str(app_db))
    monkeypatch.setenv("KAIGONG_BROWSER", MISSING)
    at = page("pages/briefing.py")
    [error] = at.error
    assert error.value.startswith("不能生成简报：未找到 Chromium 浏览器")
    assert "apt\\-get install \\-y chromium" in error.value  # as markdown: shown literally
    assert not [b for b in at.button if b.key == "briefing_build"]
    assert not at.get("download_button")


def test_chart_png_buttons_give_way_to_the_message(app_db, monkeypatch):
    monkeypatch.setenv("KAIGONG_DB", str(app_db))
    at = page("pages/starts.py")
    buttons = [b.proto.label for b in at.get("download_button")]
    assert "下载图片（PNG）" in buttons  # with a browser: the buttons are there
    monkeypatch.setenv("KAIGONG_BROWSER", MISSING)
    at = page("pages/starts.py")
    assert "下载图片（PNG）" not in [b.proto.label for b in at.get("download_button")]
    warnings = [w.value for w in at.warning if w.value.startswith("不能下载图片：未找到 Chromium 浏览器")]
    assert len(warnings) == len(buttons)


PRESTARTED = (
    "import time\n"
    "import plotly.graph_objects as go\n"
    "from pipelines.outputs import png\n"
    "png.prestart()\n"
    "assert png._starting is not None and png._starting.is_alive()  # starting in the background\n"
    "figs = [(go.Figure(go.Bar(x=['忻州'], y=[i])), 300 + 100 * i, 200) for i in range(3)]\n"
    "try:\n"
    "    out = png.figures_png(figs, scale=1)\n"
    "except png.ExportUnavailable as exc:\n"
    "    print(exc)\n"
    "    raise SystemExit(1)\n"
    "from PIL import Image\n"
    "import io\n"
    "print([Image.open(io.BytesIO(b)).size for b in out])\n"
)


def test_prestarted_browser_renders_several_figures_in_order():
    """`kaigong brief` starts the browser while it collects the figures, then renders its charts in one call."""
    if png.png_unavailable() is not None:
        pytest.skip(png.png_unavailable())
    run, _took = timed([sys.executable, "-c", PRESTARTED], {}, 120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().splitlines()[-1] == "[(300, 200), (400, 200), (500, 200)]"


def test_prestart_with_a_hanging_browser_is_reported_by_the_first_image(tmp_path):
    launches = tmp_path / "launches"
    browser = tmp_path / "chromium"  # starts, says so, and never answers
    browser.write_text(f"#!/bin/sh\necho started >> {launches}\nexec sleep 300\n")
    browser.chmod(0o755)
    code = PRESTARTED.replace("png.figures_png(figs, scale=1)", "png.figures_png(figs[:1], scale=1)")
    run, took = timed([sys.executable, "-c", code], {"KAIGONG_BROWSER": str(browser), "KAIGONG_EXPORT_TIMEOUT": "3"},
                      60)
    assert run.returncode == 1, run.stderr
    assert run.stdout.startswith(f"Chromium 浏览器（{browser}）在 3 秒内未能启动，已中止"), run.stdout
    assert launches.read_text().count("started") == 1  # the failed start is said, not tried again
    assert took < 25
