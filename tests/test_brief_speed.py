"""`kaigong brief`'s overlaps (#32 §2): weasyprint's quick library lookup finds what ctypes finds, and
the charts drawn early are the briefing's, or none."""

from __future__ import annotations

import ctypes.util
import subprocess
import sys
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from pipelines.outputs import briefing, weasy
from pipelines.outputs.png import ExportUnavailable


@pytest.mark.parametrize("name", [*weasy._REQUIRED, "harfbuzz-subset", "harfbuzz-vector", "gobject-2.0-0",
                                  "libgobject-2.0-0", "no-such-library-kaigong"])
def test_quick_lookup_answers_as_ctypes(name: str) -> None:
    assert weasy._find_library(name) == ctypes.util.find_library(name)


def test_quick_lookup_is_put_back() -> None:
    original = ctypes.util.find_library
    with weasy._quick_lookup():
        pass
    assert ctypes.util.find_library is original


_LIBS = ("import sys; sys.path.insert(0, '.'); {load}; from weasyprint.text import ffi; "
         "print([getattr(ffi, n) is None for n in ('gobject', 'pango', 'harfbuzz', 'harfbuzz_subset', "
         "'harfbuzz_vector', 'fontconfig', 'pangoft2')])")


def test_weasyprint_loads_the_same_libraries_either_way() -> None:
    quick, plain = (subprocess.run([sys.executable, "-c", _LIBS.format(load=load)], capture_output=True, text=True,
                                   check=True, timeout=120).stdout
                    for load in ("from pipelines.outputs import weasy; weasy.load()", "import weasyprint"))
    assert quick == plain
    assert quick.startswith("[False, False, False")  # gobject, pango, harfbuzz loaded


def _data(regions: list[dict[str, Any]], as_of: date = date(2020, 12, 25), level: str = "city") -> Any:
    return SimpleNamespace(regions=regions, as_of=as_of, region_level=level)


def test_early_charts_are_the_regions_or_none(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[Any] = []

    def draw(figs: Any) -> list[tuple[str, bytes]]:
        drawn.append(figs)
        return [("图", b"png")]

    monkeypatch.setattr(briefing, "chart_figures", lambda regions, as_of, level: [("图", (len(regions), as_of, level))])
    monkeypatch.setattr(briefing, "figure_pngs", draw)
    said: list[str] = []
    early = briefing.EarlyCharts(said.append)
    regions = [{"group": "太原市", "projects": 3}]
    assert early.result(_data(regions)) is None  # not started
    early.start(regions, date(2020, 12, 25), "city")
    assert said == ["渲染图表 1 张：图"]
    assert early.result(_data(regions)) == [("图", b"png")]
    assert drawn == [[("图", (1, date(2020, 12, 25), "city"))]]
    assert early.result(_data(list(regions))) is None  # other regions: drawn again by render()
    assert early.result(_data(regions, date(2020, 12, 18))) is None


def test_early_charts_raise_the_drawings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(_figs: Any) -> Any:
        raise ExportUnavailable("Chromium 浏览器（x）在 1 秒内未能启动")

    monkeypatch.setattr(briefing, "chart_figures", lambda *_a: [("图", None)])
    monkeypatch.setattr(briefing, "figure_pngs", fail)
    early = briefing.EarlyCharts()
    regions: list[dict[str, Any]] = []
    early.start(regions, date(2020, 12, 25), "city")
    with pytest.raises(ExportUnavailable, match="未能启动"):
        early.result(_data(regions))
