"""投资完成: completion rate against 序时进度 by region and tier, lights, the curve, the laggards, targets."""

import streamlit as st

from pipelines import metrics
from pipelines.outputs import charts
from pipelines.views import completion as completion_view
from pipelines.views import plans
from pipelines.vocab import formats, labels
from ui import cached, widgets

widgets.header("投资完成与序时进度", metrics.FORMULA_ZH["lights"])
view = widgets.require_view()
cp = cached.completion(view)

t = cp.total
c = st.columns(4)
c[0].metric("年度计划投资（亿元）", formats.yi_num(t["annual_plan"]))
c[1].metric("本年累计完成投资（亿元）", formats.yi_num(t["ytd_completed"]))
c[2].metric("投资完成率", formats.pct(t["completion_rate"]), help=metrics.FORMULA_ZH["completion_rate"])
c[3].metric("较序时进度（百分点）", formats.pp_num(t["schedule_gap"]), metrics.LIGHT_ZH.get(metrics.light(t["schedule_gap"]) or ""),
            delta_color="off", delta_arrow="off", help=metrics.FORMULA_ZH["schedule_gap"])
widgets.yoy_metrics(st.columns(4)[:3], t)  # 同比, where the year before has data

forms = [metrics.FORMULA_ZH["completion_rate"], metrics.FORMULA_ZH["time_progress"]]
left, right = st.columns(2)
with left:
    widgets.view_chart(cached.completion, view,
                       lambda cp: charts.rate_bars(cp.by["city"], "completion_rate", "各市投资完成率（竖线为序时进度）", cp.as_of,
                                                   marker="time_progress", colour_by_light=True, formulas=forms),
                       key="completion_city", filter_param="city")
    widgets.view_chart(cached.completion, view,
                       lambda cp: charts.rate_bars(cp.by["tier"], "completion_rate", "各层级投资完成率", cp.as_of,
                                                   marker="time_progress", colour_by_light=True, formulas=forms),
                       key="completion_tier", filter_param="tier")
with right:
    widgets.view_chart(cached.completion, view,
                       lambda cp: charts.rate_bars(cp.by["county"], "completion_rate", "各县区投资完成率（竖线为序时进度）",
                                                   cp.as_of, marker="time_progress", colour_by_light=True, formulas=forms),
                       key="completion_county", filter_param="county")
    widgets.view_chart(cached.completion, view, lambda cp: charts.cumulative_vs_plan(cp.trend, cp.as_of, view.year),
                       key="completion_curve")

yoy = completion_view.yoy_by_city(cp)
if yoy is not None:
    st.subheader("各市同比")
    st.caption(f"{metrics.FORMULA_ZH['ytd_yoy']}；{metrics.FORMULA_ZH['ytd_yoy_same']}")
    widgets.table(yoy, hide_index=True, key="completion_yoy", column_config={
        **{k: st.column_config.NumberColumn(format="%.2f") for k in yoy.columns[1:3]},
        **{k: st.column_config.NumberColumn(format="percent") for k in yoy.columns[3:]},
    })

if cp.plan_cuts is not None and not cp.plan_cuts.is_empty():
    st.subheader("年度计划调减的地市")
    st.caption("年初计划 = 项目当年首次报送的年度计划；完成率按调整后的年度计划计算（合同口径）。")
    widgets.table(cp.plan_cuts.select(list(plans.PLAN_CUT_LABELS)).rename(plans.PLAN_CUT_LABELS),
                  hide_index=True, key="completion_plan_cuts")

if cp.plan_adjustments is not None and not cp.plan_adjustments.is_empty():
    with st.expander(f"年度计划调整记录（{cp.plan_adjustments.height} 条：谁、何时、由多少调为多少）"):
        widgets.table(cp.plan_adjustments.rename(plans.ADJUSTMENT_LABELS), hide_index=True,
                      key="completion_plan_adjustments",
                      column_config={k: st.column_config.NumberColumn(format="%.0f")
                                     for k in ("调整前（万元）", "调整后（万元）")})

st.subheader("拖后腿项目（每市滞后序时计划最多的项目）")
st.caption("滞后额 = 年度计划投资 × 序时进度 − 本年累计完成投资（万元）")
if cp.draggers.is_empty():
    st.success("没有滞后于序时计划的项目。")
else:
    widgets.table(
        cp.draggers.drop("project_id").rename({
            **labels.columns("city_name", "county_name", "project_name", "tier", "annual_plan"),
            "pro_rata": "序时应完成（万元）", "ytd": labels.COLUMN_ZH["ytd_completed"], "shortfall": "滞后额（万元）",
        }),
        hide_index=True, key="completion_draggers",
        column_config={k: st.column_config.NumberColumn(format="%.0f") for k in
                       ("年度计划（万元）", "序时应完成（万元）", "本年完成（万元）", "滞后额（万元）")},
    )

st.subheader("目标任务分解与完成")
if cp.targets.is_empty():
    st.info("尚未导入目标任务分解表：可在「数据报送」上传分解表（目标任务）。")
else:
    widgets.view_chart(cached.completion, view, lambda cp: charts.targets_chart(cp.targets, cp.as_of),
                       key="completion_targets")
    widgets.table(
        cp.targets.select("region_name", "metric_zh", "target", "actual", "rate").rename({
            "region_name": "地区", "metric_zh": "指标", "target": "目标", "actual": "完成", "rate": "完成率",
        }),
        hide_index=True, key="completion_targets_table",
        column_config={"完成率": st.column_config.NumberColumn(format="percent")},
    )
