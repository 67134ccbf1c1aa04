"""Chart builders: what a figure carries (labels, click data, footnotes), not how it looks."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

from pipelines import charts

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
        "import pipelines.charts\n"
        "assert hasattr(sys.modules['pandas'], 'Series') and hasattr(sys.modules['pandas'], 'Index')\n"
        "assert hasattr(sys.modules['numpy'], 'ndarray')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_reporting_heatmap_shows_rates_above_100_percent_as_such():
    import polars as pl

    from pipelines import metrics

    d = date(2020, 3, 13)
    matrix = pl.DataFrame({"report_date": [d, d], "group": ["太原市", "忻州市"], "group_code": ["140100", "140900"],
                           "reported": [3, 2], "reporting_rate": [1.0, 2.0]})
    fig = charts.reporting_heatmap(matrix, d)
    heat = fig.data[0]
    assert [row[0] for row in heat.z] == [100.0, 200.0]  # not clipped
    assert (heat.zmin, heat.zmax) == (0, 200.0)
    stops = [tuple(s) for s in heat.colorscale]
    assert stops[2] == (0.5, "#2e7d32")  # 100 % is green, halfway up a scale that runs to 200 %
    assert stops[-1] == (1, charts.OVER_FULL)
    note = charts.footnote_text(fig).replace("<br>", "")
    assert "超过100%" in note and metrics.FORMULA_ZH["reporting_rate"] in note
    # at most 100 %: the scale ends at 100 % in green, and no note about more
    fig = charts.reporting_heatmap(matrix.with_columns(reporting_rate=pl.lit(0.5)), d)
    assert fig.data[0].zmax == 100.0 and tuple(fig.data[0].colorscale[-1]) == (1.0, "#2e7d32")
    assert "超过100%" not in charts.footnote_text(fig).replace("<br>", "")


def test_ranking_scores_a_reporting_rate_above_100_percent_as_100_percent():
    from pipelines import ranking

    items = [
        {"group": "太原市", "group_code": "140100", "projects": 3, "start_rate": 0.5, "completion_rate": 0.2,
         "schedule_gap": -5.0, "reporting_rate": 1.0},
        {"group": "忻州市", "group_code": "140900", "projects": 3, "start_rate": 0.5, "completion_rate": 0.2,
         "schedule_gap": -5.0, "reporting_rate": 2.0},
        {"group": "大同市", "group_code": "140200", "projects": 3, "start_rate": 0.5, "completion_rate": 0.2,
         "schedule_gap": -5.0, "reporting_rate": 0.5},
    ]
    table = ranking.rank(items)
    scores = dict(zip(table["group"].to_list(), table["reporting_rate_score"].to_list(), strict=True))
    assert scores == {"太原市": 100.0, "忻州市": 100.0, "大同市": 0.0}
    assert table["group"].to_list() == ["太原市", "忻州市", "大同市"]  # the tie by region code
    shown = ranking.shown(table, "地市")
    assert shown["录入率%"].to_list() == [100.0, 200.0, 50.0]  # the table shows the rate itself
    assert "超过100%" in ranking.FORMULA_ZH
