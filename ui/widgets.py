"""Small page furniture: headers with the demo badge, empty states, charts that filter on click."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from pipelines.metrics import View
from pipelines.outputs import csv_safe
from pipelines.vocab import formats

from . import cached, exports, fmt, session, state

# Rows a list sends to the browser. The whole of a long list (thousands of overdue projects or open
# problems nationally) went over the websocket on every view of its page (1.4–2 MB); the table shows
# the first rows in the list's order and the whole list downloads as CSV.
TABLE_ROWS = 500
PLOTLY_CONFIG = {"displaylogo": False, "locale": "zh-CN", "modeBarButtonsToRemove": ["lasso2d", "select2d"],
                 "responsive": True}  # redrawn to its width when a phone turns


def header(title: str, caption: str | None = None) -> None:
    """Page title; the 「演示数据」 badge when the data is demo."""
    st.title(title)
    if cached.is_demo():
        st.badge("演示数据", icon=":material/science:", color="orange",
                 help="当前数据库为演示数据（模拟生成），上传真实报表后请重新建库")
    if caption:
        st.caption(caption)


def metric(where: Any, label: str, value: str, delta: str | None = None, **kwargs: Any) -> None:
    """st.metric on where (a column); a change of zero (formats.FLAT) shows as 「持平」 in grey, without an arrow."""
    if delta == formats.FLAT:
        kwargs.update(delta_color="off", delta_arrow="off")
    where.metric(label, value, delta, **kwargs)


def yoy_metrics(cols: Sequence[Any], fig: dict[str, Any]) -> bool:
    """The 同比 cards (上年同期累计完成投资, 同比 against last year's list, 同口径同比) in three columns, each
    labelled with what it compares; nothing when the year before has no data (ytd_completed_prev is None).
    True when drawn."""
    from pipelines import metrics

    if fig.get("ytd_completed_prev") is None:
        return False
    metric(cols[0], f"{metrics.FIGURE_ZH['ytd_completed_prev']}（亿元）", formats.yi_num(fig["ytd_completed_prev"]),
           help=metrics.FORMULA_ZH["ytd_completed_prev"])
    for col, key in zip(cols[1:3], ("ytd_yoy", "ytd_yoy_same"), strict=True):
        metric(col, metrics.FIGURE_ZH[key], formats.pct_signed(fig.get(key)), help=metrics.FORMULA_ZH[key])
    return True


def require_view() -> View:
    """The sidebar's view, or an empty state saying what to do (and stop the page)."""
    view = state.current_view()
    if view is None:
        st.info(
            "暂无数据。请到「数据报送」页面上传周报表或台账（CSV/Excel），"
            "或在命令行运行 `make demo` 载入演示数据。",
            icon=":material/inbox:",
        )
        st.page_link("pages/submissions.py", label="去上传数据", icon=":material/upload_file:")
        st.stop()
    return view


def chart(fig: go.Figure, key: str, filter_param: str | None = None) -> None:
    """Draw a figure with a print-resolution PNG download; with filter_param, a click filters."""
    if filter_param is None:
        st.plotly_chart(fig, key=key, config=PLOTLY_CONFIG)
    else:
        st.plotly_chart(
            fig, key=key, config=PLOTLY_CONFIG, on_select=partial(state.select_from_chart, key, filter_param),
            selection_mode="points",
        )
    if not session.current_user().can("export"):
        return
    problem = exports.png_unavailable()
    if problem is not None:  # in place of a button that would fail
        st.warning(f"不能下载图片：{fmt.md(problem)}", icon=":material/image_not_supported:")
        return
    title = (fig.layout.title.text or key) if fig.layout.title else key
    st.download_button(
        "下载图片（PNG）", partial(exports.chart_png, fig), file_name=f"{title}.png", mime="image/png",
        key=f"{key}_png", on_click="ignore", icon=":material/image:",
    )


def view_chart(read: Callable[[View], Any], view: View, build: Callable[[Any], go.Figure], key: str,
               filter_param: str | None = None) -> None:
    """chart() of build(read(view)), built once per data version and view for all sessions
    (cached.figure; key names the chart). build must draw only from its argument."""
    chart(cached.figure(key, read, view, build), key, filter_param)


def table(frame: Any, **kwargs: Any) -> Any:
    """st.dataframe with dates shown as dates (a Date column otherwise showed 「2020-04-01 00:00:00」)
    and a missing value as an empty cell, as in Excel (Streamlit writes 「None」 by default)."""
    config: dict[str, Any] = {}
    schema = frame.schema if isinstance(frame, pl.DataFrame) else {}
    for name, dtype in schema.items():
        if dtype == pl.Date:
            config[name] = st.column_config.DateColumn(format="YYYY-MM-DD")
        elif isinstance(dtype, pl.Datetime):
            config[name] = st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")
    config.update(kwargs.pop("column_config", None) or {})
    kwargs.setdefault("placeholder", "")
    return st.dataframe(frame, column_config=config, **kwargs)


def long_table(frame: pl.DataFrame, *, key: str, unit: str, file_name: str, **kwargs: Any) -> Any:
    """A list that can run to thousands of rows: its first TABLE_ROWS rows in the table, a caption
    saying how many there are, and (for roles that export) the whole list as a CSV download."""
    if frame.height <= TABLE_ROWS:
        return table(frame, key=key, **kwargs)
    st.caption(f"共 {frame.height:,} {unit}，表中列出前 {TABLE_ROWS:,} {unit}；完整名单请下载 CSV。")
    if session.current_user().can("export"):  # formula-like cells are neutralised, built only on click
        st.download_button(
            "下载完整名单（CSV）", partial(csv_safe.to_csv_bytes, frame), file_name=file_name, mime="text/csv",
            key=f"{key}_csv", on_click="ignore", icon=":material/download:",
        )
    return table(frame.head(TABLE_ROWS), key=key, **kwargs)
