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
