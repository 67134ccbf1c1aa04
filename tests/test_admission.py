"""At most KAIGONG_RUN_SLOTS page runs at once (ui/admission.py): a run waits its turn, bounded, and says
the server is busy past the bound; a run gives its slot back while it waits on a child, a write or the
browser (released), so one long upload never holds the other pages up."""

from __future__ import annotations

import importlib
import threading
import time

import pytest


class Stopped(Exception):
    pass


@pytest.fixture
def admission(monkeypatch):
    monkeypatch.setenv("KAIGONG_RUN_SLOTS", "1")
    monkeypatch.setenv("KAIGONG_RUN_WAIT_S", "0.3")
    import ui.admission as mod

    mod = importlib.reload(mod)
    said: list[str] = []
    monkeypatch.setattr(mod.st, "warning", lambda text, **_: said.append(text))

    def stop() -> None:
        raise Stopped

    monkeypatch.setattr(mod.st, "stop", stop)
    mod.said = said  # type: ignore[attr-defined]
    yield mod
    monkeypatch.delenv("KAIGONG_RUN_SLOTS")
    importlib.reload(mod)


def _in_thread(fn) -> list:
    out: list = []

    def run() -> None:
        try:
            out.append(fn())
        except Stopped:
            out.append("stopped")

    t = threading.Thread(target=run)
    t.start()
    t.join(timeout=10)
    assert not t.is_alive()
    return out


def test_a_second_run_waits_then_says_the_server_is_busy(admission):
    with admission.slot():
        with admission.slot():  # the same run again (nested): no deadlock
            pass
        started = time.monotonic()
        assert _in_thread(lambda: admission.slot().__enter__()) == ["stopped"]
        waited = time.monotonic() - started
    assert 0.25 <= waited < 5
    assert admission.said == ["服务器繁忙：等待超过 0.3 秒仍未轮到本页面，请稍后刷新。"]


def test_a_run_waiting_on_a_child_lets_another_run_in_and_takes_a_slot_again(admission):
    def other() -> str:
        with admission.slot():
            return "ran"

    with admission.slot():
        with admission.released():
            assert _in_thread(other) == ["ran"]  # admitted while the first waits on its child
        assert _in_thread(other) == ["stopped"]  # the first holds its slot again
    assert _in_thread(other) == ["ran"]  # and gave it back at the end


def test_no_limit_when_slots_is_zero(monkeypatch):
    monkeypatch.setenv("KAIGONG_RUN_SLOTS", "0")
    import ui.admission as mod

    mod = importlib.reload(mod)
    try:
        with mod.slot():
            assert _in_thread(lambda: mod.slot().__enter__()) == [None]
    finally:
        monkeypatch.delenv("KAIGONG_RUN_SLOTS")
        importlib.reload(mod)
