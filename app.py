"""Kaigong (开工) dashboard: routes only. Pages live in pages/, the shared sidebar in ui/state.py."""

from pathlib import Path

import streamlit as st

from ui import session, state
from ui.nav import PAGES

ICON = Path(__file__).parent / "ui" / "assets" / "favicon.png"  # a local file: a material icon is fetched from Google

st.set_page_config(page_title="开工 · 百千工程调度", page_icon=str(ICON), layout="wide")
pages = [st.Page(p.path, title=p.title, url_path=p.url_path, icon=p.icon, default=(i == 0))
         for i, p in enumerate(PAGES)]
if not session.signed_in():
    st.navigation(pages, position="hidden")  # no page runs before sign-in
    session.sign_in_form()
    st.stop()
page = st.navigation(pages, position="top")
session.account_box()
state.sidebar(session.current_user())
page.run()
