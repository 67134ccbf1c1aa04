"""总览: headline figures with the change since the previous report date, overall and per tier."""

import streamlit as st

from pipelines import metrics
from pipelines.outputs import charts
from pipelines.vocab import formats
from ui import cached, widgets

widgets.header("百千工程总览")
view = widgets.require_view()
ov = cached.overview(view)

t, b = ov.total, ov.total_before or {}
since = f"较上期（{ov.previous}）" if ov.previous else "（无上期数据）"
st.caption(f"报告期 {ov.as_of} · 序时进度 {formats.pct(t['time_progress'])} · 变化为{since}")
if ov.double_half is not None:
    if ov.double_half:
        st.badge("已实现双过半", icon=":material/verified:", color="green", help=metrics.FORMULA_ZH["double_half"])
    else:
        st.badge("未实现双过半", icon=":material/warning:", color="red", help=metrics.FORMULA_ZH["double_half"])


def cards(now: dict, before: dict, key: str) -> None:
    """Nine headline cards (a function only to draw the same cards per tier)."""
    row1 = st.columns(5)
    widgets.metric(row1[0], "项目数（个）", f'{now["projects"]:,}', formats.delta_count(now["projects"], before.get("projects")))
    widgets.metric(row1[1], "总投资（亿元）", formats.yi_num(now["total_investment"]),
                   formats.delta_yi(now["total_investment"], before.get("total_investment")))
    widgets.metric(row1[2], "年度计划投资（亿元）", formats.yi_num(now["annual_plan"]), formats.delta_yi(now["annual_plan"], before.get("annual_plan")))
    widgets.metric(row1[3], "本年累计完成投资（亿元）", formats.yi_num(now["ytd_completed"]),
                   formats.delta_yi(now["ytd_completed"], before.get("ytd_completed")))
    widgets.metric(row1[4], "投资完成率", formats.pct(now["completion_rate"]),
                   formats.delta_pp(now["completion_rate"], before.get("completion_rate")),
                   help=metrics.FORMULA_ZH["completion_rate"])
    row2 = st.columns(5)
    gap = now["schedule_gap"]
    widgets.metric(row2[0], "较序时进度（百分点）", formats.pp_num(gap), metrics.LIGHT_ZH.get(metrics.light(gap) or "", None),
                   delta_color="off", delta_arrow="off", help=metrics.FORMULA_ZH["schedule_gap"])
    widgets.metric(row2[1], "开（复）工率", formats.pct(now["start_rate"]), formats.delta_pp(now["start_rate"], before.get("start_rate")),
                   help=metrics.FORMULA_ZH["start_rate"])
    widgets.metric(row2[2], "竣工率", formats.pct(now["completion_count_rate"]),
                   formats.delta_pp(now["completion_count_rate"], before.get("completion_count_rate")),
                   help=metrics.FORMULA_ZH["completion_count_rate"])
    widgets.metric(row2[3], "入统率", formats.pct(now["stats_rate"]), formats.delta_pp(now["stats_rate"], before.get("stats_rate")),
                   help=metrics.FORMULA_ZH["stats_rate"])
    widgets.metric(row2[4], "录入率", formats.pct(now["reporting_rate"]),
                   formats.delta_pp(now["reporting_rate"], before.get("reporting_rate")),
                   help=metrics.FORMULA_ZH["reporting_rate"])
    widgets.yoy_metrics(st.columns(5)[:3], now)  # 同比, where the year before has data


with st.container(border=True, key="overview_total"):
    st.subheader("全部项目")
    cards(t, b, "overview_total")

if not ov.tiers:
    st.info("当前筛选下没有项目：请在左侧放宽筛选条件。")
for item in ov.tiers:
    with st.container(border=True, key=f"overview_tier_{metrics.schema.TIERS.index(item['group'])}"):
        st.subheader(item["group"])
        cards(item, ov.tiers_before.get(item["group"], {}), item["group"])

widgets.view_chart(
    cached.overview, view,
    lambda ov: charts.rate_bars(ov.tiers, "completion_rate", "各层级投资完成率与序时进度", ov.as_of,
                                marker="time_progress", colour_by_light=True,
                                formulas=[metrics.FORMULA_ZH["completion_rate"], metrics.FORMULA_ZH["time_progress"]]),
    key="overview_tier_chart", filter_param="tier",
)
