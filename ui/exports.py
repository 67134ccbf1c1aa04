"""What a page hands out as a file: the briefing and chart images (pipelines.outputs; not cached)."""

from __future__ import annotations

import os
import time
from typing import Any

import plotly.graph_objects as go

from pipelines.metrics import View
from pipelines.outputs.png import ExportUnavailable, figure_png, require_briefing

from . import admission, cached, session


def briefing(view: View, fmt: str, progress: Any = None) -> tuple[bytes, int]:
    """The briefing for the view (pipelines.outputs.issue.issue: briefing.build's, as `kaigong brief`
    makes it), recorded as issued by the signed-in user (页面下载); the file and its number."""
    from pipelines.outputs.issue import issue

    demo = cached.is_demo()  # before the read: a read opened inside another can deadlock the gate
    with admission.released():  # the browser and weasyprint take seconds: let other pages run meanwhile
        made = issue(cached.warehouse(), session.current_user().name, "页面下载", view.as_of, year=view.year,
                     filters=view.filters, fmt=fmt, is_demo=demo, progress=progress)
    cached.changed()
    return made.payload, made.issue_id


PNG_CHECK_S = 5.0  # how long the answer below holds
_png_checked: tuple[float, tuple[str | None, ...], str | None] | None = None  # (monotonic time, settings, answer)


def png_unavailable() -> str | None:
    """Why charts cannot be downloaded as images now (pipelines.outputs.png: a few file lookups, ~1.5 ms),
    asked again after PNG_CHECK_S or when the browser settings change: every chart of every rerun asks
    (issue 32 §3, 50 sessions)."""
    global _png_checked
    from pipelines.outputs.png import png_unavailable

    now, settings = time.monotonic(), (os.environ.get("KAIGONG_BROWSER"), os.environ.get("BROWSER_PATH"))
    checked = _png_checked
    if checked is None or now - checked[0] > PNG_CHECK_S or checked[1] != settings:
        checked = _png_checked = (now, settings, png_unavailable())
    return checked[2]


def briefing_unavailable(fmt: str) -> str | None:
    """Why a briefing in fmt cannot be made here (a missing browser, font, Pango or poppler), or None."""
    try:
        require_briefing(fmt)
    except ExportUnavailable as exc:
        return str(exc)
    return None


def chart_png(fig: go.Figure) -> bytes:
    """A chart at print resolution (kaleido, one browser per process); rendered only on click."""
    copy = go.Figure(fig)
    with admission.released():  # the browser draws it
        return figure_png(copy, width=1200, height=int(copy.layout.height or 500), scale=2)
