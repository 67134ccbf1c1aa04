"""开工: start rates by tier, city, county and industry; the trend; overdue and upcoming starts."""

import streamlit as st

from pipelines import metrics
from pipelines.outputs import charts
from pipelines.vocab import formats, labels
from ui import cached, widgets

widgets.header("开（复）工情况", "点击柱子即按该层级/地市/县区/行业筛选；左侧可清除筛选。")
view = widgets.require_view()
s = cached.starts(view)

t = s.total
c = st.columns(4)
c[0].metric("应开（复）工项目数", formats.count(t["due"]))
c[1].metric("已开（复）工项目数", formats.count(t["started"]))
c[2].metric("开（复）工率", formats.pct(t["start_rate"]), help=metrics.FORMULA_ZH["start_rate"])
c[3].metric("逾期未开工", formats.count(t["overdue"]))

left, right = st.columns(2)
with left:
    widgets.view_chart(cached.starts, view, lambda s: charts.rate_bars(s.by["tier"], "start_rate", "各层级开（复）工率", s.as_of),
                       key="starts_tier", filter_param="tier")
    widgets.view_chart(cached.starts, view, lambda s: charts.rate_bars(s.by["county"], "start_rate", "各县区开（复）工率", s.as_of),
                       key="starts_county", filter_param="county")
with right:
    widgets.view_chart(cached.starts, view, lambda s: charts.rate_bars(s.by["city"], "start_rate", "各市开（复）工率", s.as_of),
                       key="starts_city", filter_param="city")
    widgets.view_chart(cached.starts, view, lambda s: charts.rate_bars(s.by["industry"], "start_rate", "各行业开（复）工率", s.as_of),
                       key="starts_industry", filter_param="industry")

widgets.view_chart(cached.starts, view, lambda s: charts.rate_trend(s.trend, ["start_rate"], "开（复）工率走势", s.as_of),
                   key="starts_trend")

cols = {k: v for k, v in labels.COLUMN_ZH.items() if k in s.overdue.columns and k != "project_id"}
st.subheader(f"逾期未开工项目（{s.overdue.height} 个）")
if s.overdue.is_empty():
    st.success("没有逾期未开工的项目。")
else:
    widgets.long_table(s.overdue.select(list(cols)).rename(cols), hide_index=True, key="starts_overdue_table",
                       unit="个", file_name=f"逾期未开工项目_{s.as_of}.csv")

st.subheader(f"下月应开工项目（{s.as_of} 至 {s.next_month_end}，{s.due_next_month.height} 个）")
if s.due_next_month.is_empty():
    st.info("下个月没有计划开工的项目。")
else:
    widgets.long_table(s.due_next_month.select(list(cols)).rename(cols), hide_index=True, key="starts_upcoming_table",
                       unit="个", file_name=f"下月应开工项目_{s.as_of}.csv")
