"""The page views: the metric queries, an AppTest rerun, the PDF and `kaigong brief`, memory, the browser."""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench import data as bdata
from bench.common import AS_OF, ROOT, _choices, log, median_of


def bench_pages(db: Path, repeat: int, with_peer: bool) -> dict:
    from bench import pages, peer
    from pipelines.warehouse.store import Warehouse

    wh = Warehouse(db)
    cities, inds = _choices(wh)
    out: dict = {}
    P = None
    if with_peer:
        t = time.perf_counter()
        with wh.read() as con:
            P = peer.load_peer(con)
        out["peer_load_s"] = time.perf_counter() - t
        log(f"  peer: {len(P.reports):,} report rows in pandas, loaded in {out['peer_load_s']:.0f} s")
    rng = random.Random(20200206)
    # agreement on a sample of views (asserted), then the timed views
    if P is not None:
        for _ in range(3):
            f, city = pages.random_view(rng, cities, inds)
            with wh.read() as con:
                mine = pages.our_page(con, AS_OF, f, city, trend=False)
            pages.check_equal(mine, pages.peer_page(P, AS_OF, f, city))
        log("  peer figures equal ours on 3 sampled views")
    views = [pages.random_view(rng, cities, inds) for _ in range(repeat)]
    with wh.read() as con:  # one warm-up (file in the OS cache, imports done)
        pages.our_page(con, AS_OF, *views[0], trend=False)
    from pipelines import metrics

    ours, ours_trend, theirs, trend_only = [], [], [], []
    parts: dict[str, list[float]] = {}  # each metric call of the view with its trend, in its read
    # Ours first, then the peer's: a view timed right after the peer's pandas run (seconds of work
    # over gigabytes) paid ~40 ms for the memory the peer had just churned, which a page does not.
    for f, city in views:
        # the whole view in one read, as a page makes it; then the parts the peer also does, and the trend
        t = time.perf_counter()
        with wh.read() as con:
            pages.our_page(con, AS_OF, f, city, trend=True, parts=parts)
        ours_trend.append(time.perf_counter() - t)
        t = time.perf_counter()
        with wh.read() as con:
            pages.our_page(con, AS_OF, f, city, trend=False)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        with wh.read() as con:
            metrics.trend(con, AS_OF, filters=f)
        trend_only.append(time.perf_counter() - t)
    for f, city in views if P is not None else ():
        t = time.perf_counter()
        pages.peer_page(P, AS_OF, f, city)
        theirs.append(time.perf_counter() - t)
    out["ours_s"] = statistics.median(ours)
    out["ours_with_trend_s"] = statistics.median(ours_trend)
    out["trend_s"] = statistics.median(trend_only)
    out["parts_s"] = {name: statistics.median(v) for name, v in parts.items()}
    if theirs:
        out["peer_s"] = statistics.median(theirs)
    out["samples"] = {"ours_with_trend": ours_trend, "ours": ours, "trend": trend_only, "peer": theirs}
    return out


# ---- AppTest rerun, PDF, memory ---------------------------------------------------------------------


def bench_apptest(db: Path, repeat: int) -> dict:
    app = ROOT / "app.py"
    if not app.exists():
        return {"skipped": "app not present"}
    os.environ["KAIGONG_DB"] = str(db)
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(app), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    from pipelines.vocab import schema
    from ui.state import MULTI

    # A filter change as a user makes it: the tier filter (raw values, not display strings).
    choices = [[t] for t in schema.TIERS[:3]] + [[]]
    times = []
    for i in range(repeat):
        at.sidebar.multiselect(key=MULTI["tier"]).set_value(choices[i % len(choices)])
        t = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t)
        assert not at.exception, at.exception
    return {"ours_s": statistics.median(times), "samples": times}


def bench_pdf(db: Path, repeat: int) -> dict:
    from pipelines.outputs import briefing
    from pipelines.warehouse.store import Warehouse

    wh = Warehouse(db)

    def once() -> None:
        with wh.read() as con:
            data = briefing.collect(con, AS_OF)
        pdf = briefing.render_pdf(data, [])
        assert pdf[:4] == b"%PDF"

    once()  # warm (fonts, weasyprint import)
    med, times = median_of(once, repeat)
    return {"ours_s": med, "samples": times}


# `kaigong brief`'s progress lines (stderr) that end one phase and begin the next, and the phases
_BRIEF_MARKS = ("计算指标", "渲染图表", "排版", "已登记")
_BRIEF_PHASES = ("start-up (imports, the store opened)", "the figures", "the charts (Chromium, kaleido)",
                 "the PDF's layout (weasyprint)", "recorded as issued, written out")


def _read_marks(stream: Any, started: float, lines: list[str], marks: dict[str, float]) -> None:
    """Each line of stream as it comes into lines, and when (since started) each of _BRIEF_MARKS first shows."""
    for line in stream:
        lines.append(line)
        for word in _BRIEF_MARKS:
            if word in line and word not in marks:
                marks[word] = time.perf_counter() - started


def bench_brief(db: Path, repeat: int, bound_s: float = 300) -> dict:
    """`kaigong brief` from the command line (a fresh process: start-up, browser and three charts
    included), timed whole and by the phases its progress lines mark on stderr; each run bounded by bound_s."""
    out = bdata.CACHE / "brief.pdf"
    cmd = [sys.executable, "-u", "-m", "pipelines.cli", "--db", str(db), "brief", "--as-of", str(AS_OF),
           "--out", str(out)]
    times, phases = [], []
    for _ in range(repeat):
        marks: dict[str, float] = {}
        lines: list[str] = []
        t = time.perf_counter()
        with subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              start_new_session=True) as proc:  # its own group: the browser it starts goes with it
            reader = threading.Thread(target=_read_marks, args=(proc.stderr, t, lines, marks), daemon=True)
            reader.start()
            try:
                rc = proc.wait(timeout=bound_s)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                raise TimeoutError(f"kaigong brief 超过 {bound_s:.0f} 秒未完成，已终止") from None
            times.append(time.perf_counter() - t)
            reader.join(timeout=10)
        if rc:
            raise RuntimeError(f"kaigong brief 退出码 {rc}：{''.join(lines[-5:]).strip()}")
        edges = [0.0, *(marks.get(w, float("nan")) for w in _BRIEF_MARKS), times[-1]]
        phases.append([b - a for a, b in itertools.pairwise(edges)])
    out.unlink(missing_ok=True)
    return {"ours_s": statistics.median(times), "samples": times,
            "phases_s": {n: statistics.median(ph[i] for ph in phases) for i, n in enumerate(_BRIEF_PHASES)}}


_PROBE = r"""
import json, random, sys
sys.path.insert(0, {root!r})
from datetime import date
from bench import pages
from bench.common import _choices, AS_OF
from pipelines.warehouse.store import Warehouse
wh = Warehouse({db!r})
cities, inds = _choices(wh)
rng = random.Random(1)
for _ in range({views}):
    f, city = pages.random_view(rng, cities, inds)
    with wh.read() as con:
        pages.our_page(con, AS_OF, f, city, trend=True)
status = open("/proc/self/status").read()
print(json.dumps({{k: int(v.split()[0]) for k, v in (l.split(":", 1) for l in status.splitlines())
                  if k in ("VmHWM", "VmRSS")}}))
"""


def bench_memory(db: Path) -> dict:
    """Peak RSS (VmHWM) of a fresh process that serves page views on the database."""
    app = ROOT / "app.py"
    env = {**os.environ, "KAIGONG_DB": str(db)}
    if app.exists():
        code = _APP_PROBE.format(root=str(ROOT), app=str(app))
        what = "AppTest process: every page of app.py"
    else:
        code = _PROBE.format(root=str(ROOT), db=str(db), views=5)
        what = "query process (app not present): 5 page views incl. trend"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=1800)
    if res.returncode:
        raise RuntimeError(res.stderr[-3000:])
    out = json.loads(res.stdout.strip().splitlines()[-1])
    if isinstance(out, dict):  # the query process: its peak alone
        return {"peak_mib": out["VmHWM"] / 1024, "what": what}
    # where the peak comes from: the process after its imports, and the step that raised it most
    rises = [(b["VmHWM"] - a["VmHWM"], b["step"]) for a, b in itertools.pairwise(out)]
    rise, step = max(rises) if rises else (0, "")
    return {"peak_mib": out[-1]["VmHWM"] / 1024, "what": what, "imports_mib": out[0]["VmRSS"] / 1024,
            "top_step": step, "top_rise_mib": rise / 1024, "steps": out}


_APP_PROBE = r"""
import json, sys
from pathlib import Path
sys.path.insert(0, {root!r})


def mem(step):
    status = open("/proc/self/status").read()
    vals = {{k: int(v.split()[0]) for k, v in (l.split(":", 1) for l in status.splitlines()) if k in ("VmHWM", "VmRSS")}}
    steps.append({{"step": step, **vals}})


steps = []
from streamlit.testing.v1 import AppTest
import pipelines.metrics, pipelines.outputs.charts, pipelines.warehouse.store  # what every page imports
mem("imports")
at = AppTest.from_file({app!r}, default_timeout=600)
at.run()
mem("app.py")
pages = sorted(p for p in (Path({root!r}) / "pages").glob("*.py"))
for p in pages:
    at.switch_page(str(p.relative_to(Path({root!r}))))
    at.run()
    mem(p.stem)
print(json.dumps(steps))
"""


def bench_browser(db: Path, rounds: int) -> dict:
    """Click → heading and every chart drawn, in headless Chromium (bench/browser.py)."""
    from bench import browser

    return browser.bench_browser(db, bdata.CACHE, rounds=rounds)


def bench_sessions(db: Path, count: int) -> dict:
    """count sessions at once on one server: its memory per session, page switches under that load."""
    from bench import browser

    return browser.bench_sessions(db, bdata.CACHE, count=count)
