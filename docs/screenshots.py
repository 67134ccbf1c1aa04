"""Every picture the docs use, taken from the demo in headless Chromium: `make screenshots`.

Builds the demo database in a scratch folder, starts the dashboard on it (tests/harness.Server, loopback,
a free port), and saves each page at 1440 px wide into docs/images/ (the phone pictures at 390 × 844
into docs/images/phone/ come from the phone tests). A page that does not draw within the timeout stops
the script with the page's name; nothing here waits without a bound.

    python docs/screenshots.py [--only overview,lights]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harness import CHROMIUM, LAUNCH_ARGS, Server  # noqa: E402

IMAGES = ROOT / "docs" / "images"
SAMPLES = ROOT / "data" / "samples"
# The 数据报送 preview of a file in a seed's layout (read, with what was inferred), and of a file with errors.
UPLOADS = {"upload-preview": SAMPLES / "shanxi_weekly.xlsx", "upload-error": SAMPLES / "broken_weekly.csv"}
TIMEOUT_MS = 60_000

# name → (url path, a text the page shows when drawn). The docs link docs/images/<name>.png.
SHOTS: dict[str, tuple[str, str]] = {
    "overview": ("/", "百千工程总览"),
    "starts": ("/start-rates", "开（复）工情况"),
    "completion": ("/investment", "投资完成与序时进度"),
    "regions": ("/region-map", "区域分布与排名"),
    "ledger": ("/ledger", "项目台账"),
    "lights": ("/light-list", "亮灯清单"),
    "problems": ("/issues", "问题清单"),
    "submissions": ("/upload", "数据报送"),
    "yearlist": ("/year-list", "调度库"),
    "reconcile": ("/list-check", "部门清单核对"),
    "supervision": ("/supervise", "督办单"),
    "briefing": ("/brief", "简报"),
    "help": ("/manual", "使用帮助"),
    "filtered": ("/?city=140900", "百千工程总览"),  # a city chosen in the filter bar (忻州市)
}


def settle(pg) -> None:  # type: ignore[no-untyped-def]
    """Wait until the script run has finished and nothing is stale (bounded by TIMEOUT_MS)."""
    pg.wait_for_selector('[data-testid="stMain"] h1', timeout=TIMEOUT_MS)
    pg.wait_for_timeout(300)
    pg.wait_for_function(
        """() => !document.querySelector('[data-testid="stStatusWidget"]')
                 && document.querySelectorAll('[data-stale="true"]').length === 0""", timeout=TIMEOUT_MS)
    pg.wait_for_timeout(800)  # charts draw after the run


def shot(pg, path: Path, max_height: int = 2400) -> None:  # type: ignore[no-untyped-def]
    """The page's first screens (Streamlit scrolls inside stMain: grow the viewport, up to max_height)."""
    size = pg.viewport_size
    height = pg.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    pg.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), max_height)})
    pg.wait_for_timeout(600)
    path.parent.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(path))
    pg.set_viewport_size(size)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join([*SHOTS, *UPLOADS, "signin"]))
    args = ap.parse_args()
    only = set(args.only.split(","))
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        sys.exit(f"没有找到 Chromium（{CHROMIUM}）：请先运行 make sysdeps")
    work = Path(tempfile.mkdtemp(prefix="kaigong-shots-"))
    db = work / "demo.duckdb"
    subprocess.run([sys.executable, "-m", "pipelines.cli", "--db", str(db), "demo"], cwd=ROOT, check=True,
                   timeout=600, stdout=subprocess.DEVNULL)
    server = Server(db, start_timeout=120, without=("KAIGONG_USERS",),
                    env={"KAIGONG_USERS": str(work / "no-users.json")})
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
            pg = ctx.new_page()
            pg.set_default_timeout(TIMEOUT_MS)
            for name, (path, marker) in SHOTS.items():
                if name not in only:
                    continue
                pg.goto(server.url + path)
                settle(pg)
                pg.get_by_text(marker).first.wait_for(timeout=TIMEOUT_MS)
                shot(pg, IMAGES / f"{name}.png")
                print(f"docs/images/{name}.png", flush=True)
            for name, sample in UPLOADS.items():  # the preview of a file dropped on 数据报送, before 确认导入
                if name not in only:
                    continue
                pg.goto(server.url + "/upload")
                settle(pg)
                pg.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(sample))
                pg.get_by_role("button", name="确认导入 1 个文件").wait_for(timeout=TIMEOUT_MS)
                settle(pg)
                shot(pg, IMAGES / f"{name}.png", max_height=1600)
                print(f"docs/images/{name}.png", flush=True)
            ctx.close()
            browser.close()
    finally:
        server.stop()
    if "signin" in only:
        _signin_shot(work, db)
    shutil.rmtree(work, ignore_errors=True)


def _signin_shot(work: Path, db: Path) -> None:
    """The sign-in form, on a server with one user."""
    from playwright.sync_api import sync_playwright

    from pipelines import auth

    users = work / "users.json"
    auth.add_user("张科长", "demo-password-1", "领导", path=users)
    server = Server(db, start_timeout=120, env={"KAIGONG_USERS": str(users)})
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            pg = browser.new_page(viewport={"width": 1440, "height": 700}, locale="zh-CN")
            pg.goto(server.url + "/")
            pg.get_by_role("button", name="登录").wait_for(timeout=TIMEOUT_MS)
            pg.wait_for_timeout(800)
            pg.screenshot(path=str(IMAGES / "signin.png"))
            print("docs/images/signin.png", flush=True)
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
