"""Kaigong (开工) dashboard: routes only. Pages live in pages/, the shared sidebar in ui/state.py."""

from pathlib import Path

import streamlit as st

from ui import admission, phone, session, state
from ui.nav import PAGES

ICON = Path(__file__).parent / "ui" / "assets" / "favicon.png"  # a local file: a material icon is fetched from Google

st.set_page_config(page_title="开工 · 百千工程调度", page_icon=str(ICON), layout="wide")
# The first page is the default, served at the root ("/"). Streamlit resolves a link by url_path and
# the default page answers to none (its own, /summary, drew 「Page not found」 over the overview), so
# the default page's path is the root itself and a hidden page at its url_path sends such a link to
# the root, filters kept.
pages = [st.Page(p.path, title=p.title, url_path="" if i == 0 else p.url_path, icon=p.icon, default=(i == 0))
         for i, p in enumerate(PAGES)]


def _to_default_page() -> None:
    st.switch_page(pages[0], query_params=[(k, v) for k in st.query_params for v in st.query_params.get_all(k)])


default_link = st.Page(_to_default_page, title=PAGES[0].title, url_path=PAGES[0].url_path, visibility="hidden")
if not session.signed_in():
    st.navigation([*pages, default_link], position="hidden")  # no page runs before sign-in
    session.sign_in_form()
    st.stop()
page = st.navigation([*pages, default_link], position="top")
phone.menu(pages)  # on a phone Streamlit folds the top menu into the sidebar; and ui/assets/phone.css
if page.url_path == default_link.url_path:
    page.run()  # switches to the root before the sidebar is drawn
with admission.slot():  # at most KAIGONG_RUN_SLOTS page runs at once in this process
    session.account_box()
    st.sidebar.page_link(pages[[p.path for p in PAGES].index("pages/help.py")], label="帮助：本角色使用手册",
                         icon=":material/help:")
    state.sidebar(session.current_user())
    page.run()
