"""简报: placeholder until the PNG/PDF export lands; shows the filters the briefing will use."""

import streamlit as st

from ui import state, widgets

widgets.header("简报")
st.info("简报导出（PNG/PDF）正在开发中，即将上线。届时将按下列筛选条件生成。", icon=":material/schedule:")
view = state.current_view()
if view is None:
    st.caption("暂无数据。")
else:
    st.markdown("\n".join(f"- {line}" for line in state.describe(view)))
