"""帮助: the signed-in role's user guide (docs/zh/), offline; any other guide by choice."""

import streamlit as st

from ui import guide, session, widgets

widgets.header("使用帮助", "本手册随系统安装，离线可读；各角色手册和指标口径可在下方切换。")
user = session.current_user()
names = list(guide.GUIDES)
chosen = st.segmented_control("手册", names, default=guide.default_guide(user.role), key="help_guide")
guide.show(chosen or guide.default_guide(user.role))
