"""区域: the 百千 tiers city by city, drill from a city into its counties, the map, 综合排名."""

import streamlit as st

from pipelines.metrics import View
from pipelines.outputs import charts
from pipelines.views import ranking
from pipelines.views import regions as regions_view
from pipelines.vocab import formats
from ui import cached, widgets

widgets.header("区域分布与排名", "点击某市的柱子或地图气泡，即下钻到该市各县区；左侧清除「地市」即返回全省。")
view = widgets.require_view()
drill = view.filters.cities[0] if len(view.filters.cities) == 1 else None
rg = cached.regions(view, drill)

def read(v: View) -> regions_view.Regions:
    return cached.regions(v, drill)  # drill follows from the view: the charts' cache key holds it


widgets.view_chart(read, view, lambda rg: charts.tier_city_investment(rg.city_tiers, rg.as_of),
                   key="regions_tiers", filter_param="city")

st.subheader("地图")
widgets.view_chart(
    read, view,
    lambda rg: charts.region_map(rg.points, rg.as_of, geojson=cached.boundaries(rg.level, rg.provinces), level=rg.level),
    key="regions_map", filter_param="county" if drill else "city",
)

level_name = "县区" if drill else "地市"
items = rg.counties if drill else rg.cities
st.subheader(f"综合排名（{level_name}）")
st.caption(ranking.FORMULA_ZH)
w = st.columns(4)
weights = {
    key: w[i].number_input(f"{label} 权重", min_value=0.0, max_value=100.0, step=5.0,
                           value=ranking.DEFAULT_WEIGHTS[key], key=f"regions_w_{key}")
    for i, (key, label) in enumerate(ranking.CRITERIA.items())
}
table = ranking.rank(items, weights)
if table.is_empty():
    st.info("当前筛选下没有可排名的地区。")
else:
    widgets.table(ranking.shown(table, level_name), hide_index=True, key="regions_ranking")

st.subheader(f"各{level_name}明细")
widgets.table(
    [{level_name: it["group"], "项目数": it["projects"], "总投资": formats.yi(it["total_investment"]),
      "本年完成": formats.yi(it["ytd_completed"]), "投资完成率": formats.pct(it["completion_rate"]),
      "较序时进度": formats.pp(it["schedule_gap"]), "开（复）工率": formats.pct(it["start_rate"])}
     for it in items if it["projects"]],
    hide_index=True, key="regions_detail",
)
