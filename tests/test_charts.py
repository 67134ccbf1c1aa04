"""Chart builders: what a figure carries (labels, click data, footnotes), not how it looks."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from pathlib import Path

from pipelines.outputs import charts

ROOT = Path(__file__).resolve().parent.parent


def test_long_category_names_are_cut_on_the_axis_but_whole_in_hover_and_click_data():
    items = [
        {"group": "石油、煤炭及其他燃料加工业", "group_code": "25", "start_rate": 0.5},
        {"group": "食品制造业", "group_code": "14", "start_rate": 1.0},
    ]
    fig = charts.rate_bars(items, "start_rate", "各行业开（复）工率", date(2020, 3, 13))
    bar = fig.data[0]
    assert list(bar.y) == ["食品制造业", "石油、煤炭及其他燃料加工业"]  # first item drawn on top
    assert [c[0] for c in bar.customdata] == ["14", "25"]  # a click filters by the code
    assert list(fig.layout.yaxis.ticktext) == ["食品制造业", "石油、煤炭及其他…"]
    assert list(fig.layout.yaxis.tickvals) == list(bar.y)
    assert "%{y}" in bar.hovertemplate
    assert not fig.layout.xaxis.title.text  # an axis title sat on top of the footnote
    assert "数据截至报告期 2020-03-13" in charts.footnote_text(fig)


def test_charts_import_the_modules_plotly_peeks_at_before_any_chart_is_built():
    """plotly's validators read numpy and pandas from sys.modules without importing them; a chart
    built while another thread was first importing pandas got a half-initialised module (the load
    test's 投资完成 page died with "partially initialized module 'pandas'"). Importing charts must
    leave both fully imported, so a thread that can build a chart never sees them half-done."""
    code = (
        "import sys\n"
        "assert 'pandas' not in sys.modules and 'numpy' not in sys.modules, sorted(sys.modules)\n"
        "import pipelines.outputs.charts\n"
        "assert hasattr(sys.modules['pandas'], 'Series') and hasattr(sys.modules['pandas'], 'Index')\n"
        "assert hasattr(sys.modules['numpy'], 'ndarray')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_reporting_heatmap_runs_from_0_to_100_percent():
    import polars as pl

    from pipelines import metrics

    d = date(2020, 3, 13)
    matrix = pl.DataFrame({"report_date": [d, d], "group": ["太原市", "忻州市"], "group_code": ["140100", "140900"],
                           "reporting_base": [3, 2], "reported": [3, 1], "reporting_rate": [1.0, 0.5]})
    fig = charts.reporting_heatmap(matrix, d)
    heat = fig.data[0]
    assert [row[0] for row in heat.z] == [100.0, 50.0]
    assert (heat.zmin, heat.zmax) == (0, 100)  # 录入率 is never above 100 %: no scale beyond it
    assert [tuple(s) for s in heat.colorscale] == [(0, "#c62828"), (0.5, "#ffe082"), (1, "#2e7d32")]
    note = charts.footnote_text(fig).replace("<br>", "")
    assert metrics.FORMULA_ZH["reporting_rate"] in note and "漏报" in note
    assert "超过100%" not in note and "蓝色" not in note


def test_ranking_scores_the_reporting_rate_min_max_like_the_others():
    from pipelines.views import ranking

    items = [
        {"group": "太原市", "group_code": "140100", "projects": 3, "start_rate": 0.5, "completion_rate": 0.2,
         "schedule_gap": -5.0, "reporting_rate": 1.0},
        {"group": "忻州市", "group_code": "140900", "projects": 3, "start_rate": 0.5, "completion_rate": 0.2,
         "schedule_gap": -5.0, "reporting_rate": 0.75},
        {"group": "大同市", "group_code": "140200", "projects": 3, "start_rate": 0.5, "completion_rate": 0.2,
         "schedule_gap": -5.0, "reporting_rate": 0.5},
    ]
    table = ranking.rank(items)
    scores = dict(zip(table["group"].to_list(), table["reporting_rate_score"].to_list(), strict=True))
    assert scores == {"太原市": 100.0, "忻州市": 50.0, "大同市": 0.0}
    assert table["group"].to_list() == ["太原市", "忻州市", "大同市"]
    shown = ranking.shown(table, "地市")
    assert shown["录入率%"].to_list() == [100.0, 75.0, 50.0]
    assert "100%" not in ranking.FORMULA_ZH  # no cap to explain any more


def test_charts_carry_plotly_white_for_the_trace_types_they_draw_and_no_others():
    """Building a figure copies its template: the house one keeps plotly_white's look for the traces
    drawn (bar, scatter, heatmap) and leaves out the other 21 types (~5 ms and 3.3 KB a chart)."""
    import plotly.io as pio
    import polars as pl

    white = pio.templates["plotly_white"].to_plotly_json()
    items = [{"group": "太原市", "group_code": "140100", "start_rate": 0.5, "schedule_gap": -0.1,
              "time_progress": 0.3, "completion_rate": 0.2}]
    figs = [
        charts.rate_bars(items, "completion_rate", "t", date(2020, 3, 31), marker="time_progress"),
        charts.rate_trend(pl.DataFrame({"report_date": [date(2020, 3, 27)], "start_rate": [0.5]}), ["start_rate"],
                          "t", date(2020, 3, 31)),
    ]
    for fig in figs:
        template = fig.layout.template.to_plotly_json()
        assert template["layout"] == white["layout"]
        assert set(template["data"]) == set(charts.TRACE_TYPES)
        assert {t.type for t in fig.data} <= set(charts.TRACE_TYPES)
        for kind in charts.TRACE_TYPES:
            assert template["data"][kind] == white["data"][kind]
    # every trace type the builders construct is one the template carries
    source = Path(charts.__file__).read_text(encoding="utf-8")
    drawn = {name.lower() for name in re.findall(r"go\.([A-Z][a-z]+)\(", source)} - {"figure"}
    assert drawn <= set(charts.TRACE_TYPES), drawn


def test_count_bars_tick_whole_numbers_only():
    # one open problem drew ticks at 0, 0.2, …, 1 「个」: a count axis steps by whole numbers
    import polars as pl

    few = charts.count_bars(pl.DataFrame({"city_name": ["忻州市"], "count": [1]}), "city_name", "按地市",
                            date(2020, 12, 25), "问题天数")
    assert few.layout.xaxis.dtick == 1 and few.layout.xaxis.tick0 == 0
    many = charts.count_bars(pl.DataFrame({"city_name": ["忻州市", "太原市"], "count": [40, 7]}), "city_name",
                             "按地市", date(2020, 12, 25), "问题天数")
    assert many.layout.xaxis.dtick is None  # plotly's own steps (5, 10, …) are whole already


def test_a_chart_keeps_the_house_template_after_streamlit_sets_its_own():
    """Streamlit's plotly module sets the process's default template to "streamlit" (placeholder colours
    #000001… that only its front end replaces) when it is first imported, which may be after charts: a
    chart built then must still carry the house colours, else the PNG/PDF exports come out near black."""
    import plotly.io as pio
    from streamlit.elements.lib.streamlit_plotly_theme import configure_streamlit_plotly_theme

    configure_streamlit_plotly_theme()
    assert pio.templates.default == "streamlit"
    fig = charts.rate_bars([{"group": "太原市", "group_code": "140100", "completion_rate": 0.2,
                             "time_progress": 0.3}], "completion_rate", "t", date(2020, 3, 31), marker="time_progress")
    colorway = fig.layout.template.layout.colorway
    assert colorway == pio.templates["plotly_white"].layout.colorway
    assert "#000001" not in fig.to_json()
