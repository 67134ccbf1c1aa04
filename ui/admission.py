"""At most KAIGONG_RUN_SLOTS page runs at once in this server process (default 2; 0: no limit).

Every session's script runs in a thread of one process, so Python work is shared by the GIL: fifty
sessions switching pages at once each got a fiftieth of it and all finished late, the GIL passed back and
forth between them (bench: `wire`). Runs wait their turn here instead, first come first served, and each
runs at full speed once admitted. The wait is bounded (KAIGONG_RUN_WAIT_S, default 60 s): past it the page
says the server is busy rather than hang. A run gives its slot back while it waits on something outside the
GIL for long (`released()`: the bounded reader's child, a load's write, the browser making a 简报 or a
chart image), so an upload or a briefing never holds the others up.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st


def _setting(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        return float(raw) if raw else default
    except ValueError:
        return default


_SLOTS = int(_setting("KAIGONG_RUN_SLOTS", 2))
_GATE = threading.BoundedSemaphore(_SLOTS) if _SLOTS > 0 else None
_HELD = threading.local()  # whether this thread (one session's run) holds a slot


def _acquire() -> None:
    assert _GATE is not None
    wait = _setting("KAIGONG_RUN_WAIT_S", 60.0)
    if not _GATE.acquire(timeout=wait):
        st.warning(f"服务器繁忙：等待超过 {wait:g} 秒仍未轮到本页面，请稍后刷新。", icon=":material/hourglass_top:")
        st.stop()
    _HELD.on = True


def _release() -> None:
    assert _GATE is not None
    _HELD.on = False
    _GATE.release()


@contextmanager
def slot() -> Iterator[None]:
    """Hold one of the process's run slots while the page draws (bounded wait)."""
    if _GATE is None or getattr(_HELD, "on", False):
        yield
        return
    _acquire()
    try:
        yield
    finally:
        if getattr(_HELD, "on", False):
            _release()


@contextmanager
def released() -> Iterator[None]:
    """Give this run's slot back while it waits on a child process, a write or the browser; take one again
    after (bounded, as at the start)."""
    if _GATE is None or not getattr(_HELD, "on", False):
        yield
        return
    _release()
    try:
        yield
    finally:
        _acquire()
