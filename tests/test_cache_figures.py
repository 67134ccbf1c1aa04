"""The pages' charts are built once per data version and view and shared by the sessions (ui.cached.figure,
issue 32 §3): a second session asking the same view builds nothing, another view builds its own, and a
load (straight through the warehouse, as another process's write) shows in the next view."""

from __future__ import annotations

import json
from datetime import date

from streamlit.testing.v1 import AppTest

from pipelines.outputs import charts
from pipelines.warehouse.store import Warehouse
from tests.conftest import ROOT, app_rows, load_rows
from ui.state import MULTI

APP = str(ROOT / "app.py")



def starts_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/starts.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def city_bars(at: AppTest) -> dict[str, float]:
    """The 各市开（复）工率 chart as the browser gets it: city → rate in %."""
    for el in at.get("plotly_chart"):
        spec = json.loads(el.proto.spec)
        if spec["layout"]["title"]["text"] == "各市开（复）工率":
            bars = spec["data"][0]
            return {y: round(x, 1) for y, x in zip(bars["y"], bars["x"], strict=True)}
    raise AssertionError("no 各市开（复）工率 chart")


def test_a_second_session_reuses_the_charts_and_another_view_builds_its_own(own_db, monkeypatch):
    built: list[str] = []
    real = charts.rate_bars

    def counting(rows, rate, title, *args, **kwargs):
        if rate == "start_rate":  # the overview, drawn first, has a chart of its own
            built.append(title)
        return real(rows, rate, title, *args, **kwargs)

    monkeypatch.setattr(charts, "rate_bars", counting)
    first = starts_page()
    assert sorted(built) == sorted(["各层级开（复）工率", "各县区开（复）工率", "各市开（复）工率", "各行业开（复）工率"])
    built.clear()
    second = starts_page()  # another session, the same view
    assert built == []
    assert city_bars(second) == city_bars(first) == {"忻州市": 100.0, "太原市": 100.0}
    second.sidebar.multiselect(key=MULTI["tier"]).set_value(["市级千项"]).run()  # another view
    assert not second.exception
    assert len(built) == 4
    assert city_bars(second) == {"太原市": 100.0}  # 新型建材 started 03-10; 杂粮 (忻州) not due until 04-01


def test_a_load_shows_in_the_next_view_without_clearing_any_cache(own_db):
    assert city_bars(starts_page()) == {"忻州市": 100.0, "太原市": 100.0}
    # A correction of 03-13 loaded by another process: 新型建材 (太原) had not started after all.
    rows = app_rows(1)
    for r in rows:
        if r["project_name"] == "新型建材生产线项目":
            r.update(actual_start_date=None, not_started_reason="环评手续办理中", stage="新开工")
    load_rows(Warehouse(own_db), date(2020, 3, 13), rows, file_name="更正0313.csv")
    assert city_bars(starts_page()) == {"忻州市": 100.0, "太原市": 50.0}  # 1 of the 2 due in 太原
