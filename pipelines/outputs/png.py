"""PNG of plotly figures through one long-lived Chromium (kaleido), checked first and bounded in time.

Every export first checks what it needs (a Chromium executable, the Noto Sans CJK font; Pango and
poppler for the briefing) and raises ExportUnavailable, a Chinese message naming what is missing and
the command that installs it. kaleido's own sync server would wait forever when its browser cannot
start (its thread dies, the caller waits on Queue.join), so the browser runs here on an event loop
of our own and every wait on it has a bound (KAIGONG_EXPORT_TIMEOUT, default 60 s).

The browser is the one KAIGONG_BROWSER names; unset, the one kaleido would choose itself
(choreographer: BROWSER_PATH, then chromium/chrome on PATH and their usual places).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
import warnings
from collections.abc import Coroutine
from typing import Any

PRINT_WIDTH = 1600  # px at scale 1; with scale 2 a chart prints sharply across A4
PRINT_HEIGHT = 800
CJK_FONT = "Noto Sans CJK SC"  # fontconfig's default CJK match is the JP face: name SC explicitly
DEFAULT_TIMEOUT_S = 60.0  # browser start ~3 s and a chart ~0.3 s on this machine kind; a bound, not an estimate
FAILURE_MEMORY_S = 60.0  # after a browser failed, pages say so for this long instead of offering the button


def _install(packages: str) -> str:
    return f"请以 root 运行 make sysdeps，或 apt-get install -y {packages}"


class ExportUnavailable(RuntimeError):
    """An image or briefing cannot be made on this machine now; str() is the Chinese message for the user."""


def timeout_s() -> float:
    """The bound on each wait for the browser, in seconds (KAIGONG_EXPORT_TIMEOUT)."""
    raw = os.environ.get("KAIGONG_EXPORT_TIMEOUT", "")
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT_S
    except ValueError:
        raise ExportUnavailable(f"KAIGONG_EXPORT_TIMEOUT={raw!r} 不是秒数（如 60）") from None
    return value if value > 0 else DEFAULT_TIMEOUT_S


def _is_exe(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def browser_path() -> str:
    """The Chromium executable exports use, or ExportUnavailable saying how to get one."""
    configured = os.environ.get("KAIGONG_BROWSER")
    if configured:
        if _is_exe(configured):
            return configured
        raise ExportUnavailable(
            f"未找到 Chromium 浏览器（KAIGONG_BROWSER={configured} 不存在或不可执行）：{_install('chromium')}，"
            "或把 KAIGONG_BROWSER 指向浏览器的可执行文件"
        )
    from choreographer.browsers.chromium import Chromium

    found = Chromium.find_browser(skip_local=False)  # what kaleido would pick by itself
    if found and _is_exe(found):
        return found
    where = f"BROWSER_PATH={os.environ['BROWSER_PATH']} 不存在或不可执行" if os.environ.get("BROWSER_PATH") else \
        "导出图片需要它"
    raise ExportUnavailable(
        f"未找到 Chromium 浏览器（{where}）：{_install('chromium')}；装在别处时设 KAIGONG_BROWSER=浏览器路径"
    )


_font_seen = False


def _require_font() -> None:
    global _font_seen
    if _font_seen:
        return
    fc_list = shutil.which("fc-list")
    families = ""
    if fc_list:
        try:
            families = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True,
                                      timeout=15).stdout
        except subprocess.TimeoutExpired:
            raise ExportUnavailable("查询字体（fc-list）超过 15 秒未返回：请稍后再试") from None
    if CJK_FONT not in families:
        raise ExportUnavailable(
            f"未找到 Noto Sans CJK 字体（图表和简报中的中文需要）：{_install('fonts-noto-cjk fontconfig')}"
        )
    _font_seen = True


def require_png() -> None:
    """Raise ExportUnavailable unless a chart can be rendered here (browser and CJK font)."""
    browser_path()
    _require_font()


def require_briefing(fmt: str) -> None:
    """Raise ExportUnavailable unless a briefing in fmt ("pdf", "png" or "docx") can be made here."""
    require_png()  # its charts
    if fmt == "docx":  # python-docx lays it out: no Pango
        return
    if fmt == "png" and shutil.which("pdftoppm") is None:
        raise ExportUnavailable(f"未找到 pdftoppm（PNG 简报需要）：{_install('poppler-utils')}")
    from pipelines.outputs import weasy

    if not weasy.preloading():  # weasyprint being imported in the background: weasyprint() says if it failed
        weasyprint()


def weasyprint() -> Any:
    """The weasyprint module (after its background import, if one is under way: outputs/weasy.py), or
    ExportUnavailable: Pango missing, or the import not done within the bound."""
    from pipelines.outputs import weasy

    bound = timeout_s()
    try:
        return weasy.module(bound)  # loads Pango through cffi: a missing library is an OSError
    except TimeoutError:
        raise ExportUnavailable(f"加载排版库 weasyprint 超过 {bound:.0f} 秒未完成，已中止："
                                "请稍后再试，或设 KAIGONG_EXPORT_TIMEOUT 放宽时限") from None
    except OSError:
        raise ExportUnavailable(
            f"未找到 Pango 库（排版 PDF 简报需要）：{_install('libpango-1.0-0 libpangoft2-1.0-0')}"
        ) from None


_failure: tuple[float, str] | None = None  # (monotonic time, message) of the last browser failure


def png_unavailable() -> str | None:
    """Why a chart cannot be rendered now (missing part, or a browser that just failed), or None."""
    try:
        require_png()
    except ExportUnavailable as exc:
        return str(exc)
    if _failure is not None and time.monotonic() - _failure[0] < FAILURE_MEMORY_S:
        return _failure[1]
    return None


class _Browser:
    """One kaleido (one Chromium) on an event loop in a thread of its own; every wait bounded."""

    def __init__(self, path: str, bound: float) -> None:
        self.path = path
        self.kaleido: Any = None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="kaigong-chromium", daemon=True)
        self.thread.start()
        try:
            self.wait(self._open(bound), bound, f"Chromium 浏览器（{path}）在 {bound:.0f} 秒内未能启动")
        except BaseException:
            self.kill()
            raise

    async def _open(self, bound: float) -> None:
        import kaleido

        # mathjax=False: no chart of ours has LaTeX, and kaleido's default loads MathJax from a CDN into
        # every page it opens (~1 s of the browser's start here; an intranet without it waits longer).
        self.kaleido = kaleido.Kaleido(path=self.path, timeout=bound, mathjax=False)
        await self.kaleido.open()

    def wait(self, coro: Coroutine[Any, Any, Any], bound: float, late: str) -> Any:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout=bound)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise ExportUnavailable(f"{late}，已中止：请检查浏览器能否运行（{_install('chromium')}），"
                                    "或设 KAIGONG_EXPORT_TIMEOUT 放宽时限") from None
        except ExportUnavailable:
            raise
        except Exception as exc:  # the browser's own errors, in its words after ours
            raise ExportUnavailable(f"Chromium 浏览器（{self.path}）出错：{exc}") from exc

    def png(self, fig: Any, opts: dict[str, Any], bound: float) -> bytes:
        return bytes(self.wait(self.kaleido.calc_fig(fig, opts=opts), bound, f"图表渲染超过 {bound:.0f} 秒未完成"))

    def pngs(self, jobs: list[tuple[Any, dict[str, Any]]], bound: float) -> list[bytes]:
        """Several figures in one request, in order; bound for the whole."""
        async def every() -> list[bytes]:
            return list(await asyncio.gather(*(self.kaleido.calc_fig(f, opts=o) for f, o in jobs)))

        return [bytes(b) for b in self.wait(every(), bound, f"图表渲染超过 {bound:.0f} 秒未完成")]

    def kill(self) -> None:
        """Stop the browser (its whole process group) and the loop, without waiting on either."""
        proc = getattr(self.kaleido, "subprocess", None)
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # choreographer starts it in a session of its own
            except (ProcessLookupError, PermissionError):
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=2)  # reaped, not left a zombie
        self.loop.call_soon_threadsafe(self.loop.stop)

    def close(self) -> None:
        if self.kaleido is not None:
            with contextlib.suppress(ExportUnavailable):
                self.wait(self.kaleido.close(), 5, "关闭浏览器超时")
        self.kill()


_browser: _Browser | None = None
_lock = threading.Lock()  # one browser: one request (an image, or a briefing's images) at a time
_starting: threading.Thread | None = None  # prestart()'s thread while it starts the browser
_start_error: ExportUnavailable | None = None  # why prestart() could not start it (the next image says so)


def prestart() -> None:
    """Start the browser in a background thread now, so that its start (~3 s) overlaps the work
    before the first image (a briefing's figures). ExportUnavailable at once when a part is missing;
    a browser that fails or hangs while starting is reported by the next image, within the bound."""
    global _starting
    require_png()
    if _browser is not None or (_starting is not None and _starting.is_alive()):
        return
    path, bound = browser_path(), timeout_s()

    def start() -> None:
        global _browser, _start_error, _failure
        with _lock:
            if _browser is not None:
                return
            try:
                _browser = _Browser(path, bound)
            except ExportUnavailable as exc:
                _start_error = exc
                _failure = (time.monotonic(), str(exc))

    _starting = threading.Thread(target=start, name="kaigong-chromium-start", daemon=True)
    _starting.start()


def _acquire(bound: float) -> None:
    """The browser's lock, after a prestart() under way has ended (it is bounded by the same bound)."""
    starting = _starting
    if starting is not None:
        starting.join(timeout=bound + 5)
    if not _lock.acquire(timeout=bound):
        raise ExportUnavailable(f"另一张图片生成超过 {bound:.0f} 秒仍未完成：请稍后再试")


def _ready_browser(path: str, bound: float) -> _Browser:
    """The running browser (under _lock), started if there is none; prestart()'s failure raised as is."""
    global _browser, _start_error
    if _browser is not None and _browser.path != path:  # KAIGONG_BROWSER changed
        _browser.close()
        _browser = None
    if _browser is None and _start_error is not None:
        exc, _start_error = _start_error, None
        raise exc
    if _browser is None:
        _browser = _Browser(path, bound)
    return _browser


_one_shot = False  # close the browser after the next request (a command's: no image follows)


def close_after_next() -> None:
    """Close the browser as soon as the next request's images are made (`kaigong brief`: its charts are
    drawn in a thread while the figures are read, so closing it there overlaps the PDF's layout instead
    of delaying the command's exit)."""
    global _one_shot
    _one_shot = True


_closing: threading.Thread | None = None  # _close_soon()'s thread


def _close_now() -> None:
    global _browser
    if not _lock.acquire(timeout=timeout_s()):  # a request under way ends within its bounds
        return
    try:
        if _browser is not None:
            _browser.close()
            _browser = None
    finally:
        _lock.release()


def _close_soon() -> None:
    """Close the browser in a thread of its own (the caller goes on; exit waits for it)."""
    global _closing
    if _closing is None or not _closing.is_alive():
        _closing = threading.Thread(target=_close_now, name="kaigong-chromium-close", daemon=True)
        _closing.start()


def wait_closed() -> None:
    """Wait (bounded) for a browser being closed by _close_soon(): before the interpreter's exit, whose
    clean-up of the browser's temporary profile would race the browser's own."""
    if _closing is not None and _closing.is_alive():
        _closing.join(timeout=timeout_s() + 10)


@atexit.register
def _close_browser() -> None:
    if _starting is not None and _starting.is_alive():  # a browser being started is closed, not orphaned
        _starting.join(timeout=timeout_s() + 5)
    wait_closed()  # as is one being closed
    if _browser is not None:
        _browser.close()


def figure_png(fig: Any, *, width: int = PRINT_WIDTH, height: int = PRINT_HEIGHT, scale: float = 2) -> bytes:
    """A figure as PNG at print resolution, with the CJK font named explicitly; ExportUnavailable
    (within seconds when something is missing, within the bound when the browser hangs) otherwise."""
    return figures_png([(fig, width, height)], scale=scale)[0]


def figures_png(figs: list[tuple[Any, int, int]], *, scale: float = 2) -> list[bytes]:
    """Several figures (figure, width, height) as PNGs in one request to the browser; as figure_png."""
    global _browser, _failure, _one_shot
    require_png()
    path, bound = browser_path(), timeout_s()
    for fig, _w, _h in figs:
        fig.update_layout(font_family=CJK_FONT)
    _acquire(bound)
    try:
        try:
            browser = _ready_browser(path, bound)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                jobs = [(fig, {"format": "png", "width": w, "height": h, "scale": scale}) for fig, w, h in figs]
                pngs = [browser.png(*jobs[0], bound)] if len(jobs) == 1 else browser.pngs(jobs, bound * len(jobs))
        except ExportUnavailable as exc:
            if _browser is not None:
                _browser.kill()  # a browser that failed once is not trusted with the next image
                _browser = None
            _failure = (time.monotonic(), str(exc))
            raise
        _failure = None
        return pngs
    finally:
        _lock.release()
        if _one_shot and _browser is not None:
            _one_shot = False
            _close_soon()
