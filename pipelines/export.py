"""PNG/SVG of plotly figures through one long-lived Chromium (kaleido's sync server)."""

from __future__ import annotations

import threading
import warnings
from typing import Any

_started = False
_lock = threading.Lock()

PRINT_WIDTH = 1600  # px at scale 1; with scale 2 a chart prints sharply across A4
PRINT_HEIGHT = 800
CJK_FONT = "Noto Sans CJK SC"  # fontconfig's default CJK match is the JP face: name SC explicitly


def _ensure_server() -> None:
    """Start kaleido's browser once per process: later images take ~0.3 s instead of ~3 s."""
    global _started
    with _lock:
        if not _started:
            import kaleido

            kaleido.start_sync_server(silence_warnings=True)
            _started = True


def figure_png(fig: Any, *, width: int = PRINT_WIDTH, height: int = PRINT_HEIGHT, scale: float = 2) -> bytes:
    """A figure as PNG at print resolution, with the CJK font named explicitly."""
    _ensure_server()
    fig.update_layout(font_family=CJK_FONT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with _lock:  # one browser: render one image at a time
            return fig.to_image(format="png", width=width, height=height, scale=scale)
