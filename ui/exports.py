"""What a page hands out as a file: the briefing and chart images (pipelines.outputs; not cached)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from pipelines.metrics import View
from pipelines.outputs.png import ExportUnavailable, figure_png, require_briefing

from . import cached


def briefing(view: View, fmt: str, progress: Any = None) -> bytes:
    """The briefing for the view (pipelines.outputs.briefing.build, the same as `kaigong brief`)."""
    from pipelines.outputs.briefing import build

    wh = cached.warehouse()
    demo = cached.is_demo()  # before the read: a read opened inside another can deadlock the gate
    with wh.read() as con:
        return build(con, view.as_of, year=view.year, filters=view.filters, is_demo=demo, fmt=fmt,
                     progress=progress)


def png_unavailable() -> str | None:
    """Why charts cannot be downloaded as images now (pipelines.outputs.png; a few file lookups, not cached)."""
    from pipelines.outputs.png import png_unavailable

    return png_unavailable()


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
    return figure_png(copy, width=1200, height=int(copy.layout.height or 500), scale=2)
