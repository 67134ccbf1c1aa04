"""Every figure of the metric contract (shared metrics.md), computed once, here.

Pages, the CLI and the briefing exports all call these functions. Money is in 万元; rates
are fractions; schedule_gap is in percentage points.

The project set S as of report date D in year Y is every project with a report (of any
layout) dated on or before D within Y; each project's state is its latest report on or
before D, field by field where a layout does not carry a field (see warehouse/snapshots.py).
"The snapshots" below means the store's `states` view, which every query here reads: the
stored snapshot rows plus each project's first report of the year, which is its own state
and is not copied into a snapshot (warehouse/snapshots.py, STATES_VIEW_DDL).

The figures are counts and sums over S; the loader keeps them per report date and cell (see
"figure cells" below), and figures() and trend() add cells up.
"""

from __future__ import annotations

from pipelines.metrics.dates import previous_report_date, report_dates, years
from pipelines.metrics.figures import (
    GROUPINGS,
    REGION_GROUPINGS,
    dumps,
    figures,
    figures_by,
    to_json_rows,
    total,
    trend,
)
from pipelines.metrics.flags import (
    CELL_DIMS,
    CELL_SUMS,
    CELLS_FORMULA,
    COARSE_DIMS,
    FLAG_COLUMNS,
    STATE_COLUMNS,
)
from pipelines.metrics.formulas import (
    FIGURE_KEYS,
    FIGURE_ZH,
    FORMULA_ZH,
    LIGHT_ZH,
    RATE_KEYS,
    YOY_KEYS,
    Thresholds,
    double_half,
    light,
    period_start,
    time_progress,
)
from pipelines.metrics.states import Where, project_states
from pipelines.metrics.targets import targets_vs_actuals
from pipelines.metrics.view import Filters, View
from pipelines.vocab import schema  # pages read schema through metrics (metrics.schema.TIERS)

__all__ = [
    "CELLS_FORMULA", "CELL_DIMS", "CELL_SUMS", "COARSE_DIMS", "FIGURE_KEYS", "FIGURE_ZH", "FLAG_COLUMNS",
    "FORMULA_ZH", "GROUPINGS", "LIGHT_ZH", "RATE_KEYS", "REGION_GROUPINGS", "STATE_COLUMNS", "YOY_KEYS", "Filters",
    "Thresholds", "View", "Where", "double_half", "dumps", "figures", "figures_by", "light", "period_start",
    "previous_report_date", "project_states", "report_dates", "schema", "targets_vs_actuals", "time_progress",
    "to_json_rows", "total", "trend", "years",
]
