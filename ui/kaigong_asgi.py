"""The dashboard as an `st.App`: app.py plus the sign-in routes and gate of ui/web_auth.py.

ui/serve.py runs `streamlit run` on this file; Streamlit finds the App below and serves it (the same
server, options and .streamlit/config.toml as app.py alone, with three routes and one middleware more).
"""

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from ui import web_auth

APP = Path(__file__).resolve().parent.parent / "app.py"

app = st.App(APP, routes=web_auth.routes(), middleware=[Middleware(web_auth.SignInGate)])
