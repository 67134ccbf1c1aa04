"""Start the dashboard: `python -m ui.serve [streamlit options]` (what `make run` and the browser tests do).

First start: the database at KAIGONG_DB (or data/kaigong.duckdb) is prepared before the server
answers, progress printed in the terminal: an empty or missing one gets the demo year (演示数据,
about 10 s), an older one its figure cells. The first page a new user sees is then the overview,
not a 「正在准备数据库」 spinner. ui/cached.py keeps the same step as a fallback (a database removed
while the server runs).

Why not plain `streamlit run app.py`: a folder named pages/ next to app.py makes a fresh server's
first script run take Streamlit's automatic-pages route, which knows only the file stems. A direct
link such as /start-rates then draws a 「Page not found」 dialog over the page, although app.py's
st.navigation goes on to run the right page; the dialog also swallowed the first click on a chart.
st.navigation turns that route off for the whole process, but only once it has run. Turning it off
before the server starts spares the first visitor. `streamlit run app.py` still works; only the
first direct link after a restart shows the dialog (and the demo is built behind a spinner).

What is served is ui/kaigong_asgi.py: app.py as an `st.App` with the sign-in routes of ui/web_auth.py,
which set the session cookie a script cannot. Under plain `streamlit run app.py` the sign-in is the
in-app form and lasts only as long as the browser tab's session.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

from pipelines.warehouse.store import Store, Warehouse, open_warehouse

APP = Path(__file__).resolve().parent.parent / "app.py"
SERVED = Path(__file__).resolve().parent / "kaigong_asgi.py"  # app.py as an st.App with the sign-in routes


def _say(msg: str) -> None:
    print(f"[开工] {msg}", flush=True)


def prepare_database(target: Path | Store, say: Callable[[str], None] = _say) -> None:
    """The database ready before the server answers: the demo year in an empty one, cells up to date."""
    wh = Warehouse(target) if isinstance(target, Path) else target
    try:
        if importlib.util.find_spec("pipelines.demo") is not None and (not wh.exists() or wh.is_empty()):
            from pipelines.demo.load import build_demo_database

            say(f"首次启动：数据库 {wh.label} 为空，正在生成演示数据（约 10 秒）……")
            start = time.monotonic()
            summary = build_demo_database(wh, force=True, progress=say)
            say(f"{summary}（用时 {time.monotonic() - start:.0f} 秒）")
        elif not wh.exists():
            wh.init()
        else:
            say(f"数据库：{wh.label}")
            wh.upgrade()  # a database written before the figure cells gets them once, here
    except Exception as exc:  # the dashboard still starts; it prepares the database on first page load
        say(f"未能预先准备数据库（{exc}）：将在打开页面时再试")


def main(argv: list[str] | None = None) -> int:
    from pipelines.warehouse.lake import LakeUnavailable

    try:
        prepare_database(open_warehouse())
    except LakeUnavailable as exc:  # KAIGONG_STORE=lake: the extras not installed, or the lake not configured
        print(f"[开工] 无法启动：{exc}", file=sys.stderr, flush=True)
        return 2
    from pipelines import auth
    from ui import web_auth

    if auth.sign_in_required():
        try:
            web_auth.sessions()  # the cookie's secret read (or generated, and said so) before the first visitor
        except ValueError as exc:
            print(f"[开工] 无法启动：{exc}", file=sys.stderr, flush=True)
            return 2
    PagesManager.uses_pages_directory = False  # app.py routes with st.navigation (ui/nav.py)
    sys.argv = ["streamlit", "run", str(SERVED), *(sys.argv[1:] if argv is None else argv)]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
