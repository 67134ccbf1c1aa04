"""Start the dashboard: `python -m ui.serve [streamlit options]` (what `make run` and the browser tests do).

Why not plain `streamlit run app.py`: a folder named pages/ next to app.py makes a fresh server's
first script run take Streamlit's automatic-pages route, which knows only the file stems. A direct
link such as /start-rates then draws a 「Page not found」 dialog over the page, although app.py's
st.navigation goes on to run the right page; the dialog also swallowed the first click on a chart.
st.navigation turns that route off for the whole process, but only once it has run. Turning it off
before the server starts spares the first visitor. `streamlit run app.py` still works; only the
first direct link after a restart shows the dialog.
"""

from __future__ import annotations

import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

APP = Path(__file__).resolve().parent.parent / "app.py"


def main(argv: list[str] | None = None) -> int:
    PagesManager.uses_pages_directory = False  # app.py routes with st.navigation (ui/nav.py)
    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
