"""Kaigong (开工) dashboard: routes only. Pages live in pages/, the shared sidebar in ui/state.py."""

import streamlit as st

from ui import state
from ui.nav import PAGES

st.set_page_config(page_title="开工 · 百千工程调度", page_icon=":material/construction:", layout="wide")
page = st.navigation(
    [st.Page(p.path, title=p.title, url_path=p.url_path, icon=p.icon, default=(i == 0)) for i, p in enumerate(PAGES)],
    position="top",
)
state.sidebar()
page.run()
