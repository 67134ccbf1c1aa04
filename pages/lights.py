"""亮灯清单: every project's red/yellow/green light (开工, 进度, 入统), the counts, and the lit list."""

import streamlit as st

from pipelines.metrics import lights
from pipelines.views import lights as lights_view
from pipelines.views import procedures
from pipelines.vocab import formats
from ui import cached, fmt, phone, widgets

widgets.header("亮灯清单", "每个项目按开工、进度、入统三盏灯亮灯，综合灯取最差者；红灯、黄灯项目列入清单，供调度会逐项督办。")
view = widgets.require_view()
lp = cached.lights_page(view)

t = lp.total
c = st.columns(3)
c[0].metric("红灯项目", formats.count(t["lights_red"]))
c[1].metric("黄灯项目", formats.count(t["lights_yellow"]))
c[2].metric("绿灯项目", formats.count(t["lights_green"]))

left, middle, right = st.columns(3)
with left:
    st.markdown("**各市亮灯**")
    widgets.table(lights_view.counts_shown(lp.by["city"], "地市"), hide_index=True, key="lights_city")
with middle:
    st.markdown("**各层级亮灯**")
    widgets.table(lights_view.counts_shown(lp.by["tier"], "层级"), hide_index=True, key="lights_tier")
with right:
    st.markdown("**各行业亮灯**")
    widgets.table(lights_view.counts_shown(lp.by["industry"], "行业"), hide_index=True, key="lights_industry")

st.subheader(f"红灯、黄灯项目（{lp.lit.height} 个，报告期 {view.as_of}）")
if lp.lit.is_empty():
    st.success("没有亮红灯或黄灯的项目。")
else:
    caught_up = lp.lit.filter(lp.lit["light_change"] == "由红转黄").height
    if caught_up:
        st.caption(f"其中 {caught_up} 个项目由红灯转为黄灯（较上期有追赶）。")
    lit = procedures.lit_shown(lp.lit)
    with phone.wide("lights_list"):
        widgets.long_table(lit, hide_index=True, key="lights_list", unit="个", file_name=f"红黄灯项目_{view.as_of}.csv")
    phone.cards(lit, "lights_list", lambda r: f"{phone.COLOURED.get(r['综合灯'], '')} **{fmt.md(r['项目名称'])}**", [
        ("较上期", "上期"), ("地市", "县区"), ("层级", "行业"), "建设状态", ("开工灯", "进度灯", "入统灯"),
        "亮灯原因", "亮灯起始报告期", procedures.BLOCKING_HEADER])
if not lp.stale.is_empty():
    st.markdown(f"**停滞项目**（{lp.stale.height} 个：在建项目连续多期本年累计完成投资未变，取自本期变动；不改变亮灯）")
    widgets.table(lights_view.stale_shown(lp.stale), hide_index=True, key="lights_stale")
st.caption("注：" + "；".join(lights.formulas_zh()) + f"；{procedures.BLOCKING_HEADER}：逾期未开工项目第一项待办理的前期手续"
           "（依次为立项、土地、规划、环评）及其主管部门。")

st.subheader("逾期未开工项目前期手续")
matrix = cached.procedures_matrix(view)
if matrix.is_empty():
    st.success("没有逾期未开工项目。")
else:
    st.caption(procedures.MATRIX_NOTE)
    widgets.table(procedures.matrix_shown(matrix), hide_index=True, key="procedures_matrix")
