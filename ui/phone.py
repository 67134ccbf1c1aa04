"""The phone layout (issue 30): the stylesheet, the one-tap menu and lists shown as cards on a phone.

Streamlit cannot tell the page the browser's width, so nothing here decides by width on the server:
the page draws both forms and ui/assets/phone.css shows one by a media query (640 px, Streamlit's own
breakpoint for stacking columns). The cards carry the first CARD_ROWS rows of the list; a longer list
says so and downloads whole as CSV, as on a wide screen.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st

from . import fmt

CSS = Path(__file__).parent / "assets" / "phone.css"
CARD_ROWS = 100  # cards a phone list draws (each is two elements; the table shows up to widgets.TABLE_ROWS)
# words that are drawn in their colour on a card (the lights are fixed vocabulary, never user text)
COLOURED = {"红灯": ":red[**红灯**]", "黄灯": ":orange[**黄灯**]", "绿灯": ":green[**绿灯**]"}


@functools.cache
def _style() -> str:
    """The stylesheet as a markdown <style>, read once per process (it was read from disk on every rerun
    of every session: a file read gives the GIL up and waits to get it back under 50 sessions)."""
    return f"<style>{CSS.read_text(encoding='utf-8')}</style>"


def menu(pages: Sequence[Any]) -> None:
    """The phone stylesheet, and a 菜单 button fixed in the header on a phone listing every page: one
    tap opens it, one goes. Both sit in one container that takes no space (hidden on a wide screen,
    fixed on a phone). The sheet is a markdown <style>: st.html sends a style-only body to the event
    container, which this app's pages never showed (the rules did not apply)."""
    with st.container(key="phone_menu"):
        st.markdown(_style(), unsafe_allow_html=True)
        with st.popover("菜单", icon=":material/menu:"):
            for p in pages:
                st.page_link(p)


@contextmanager
def wide(key: str) -> Iterator[None]:
    """A table the phone replaces by cards (the phone hides the table only: a caption or CSV download
    drawn in here stays)."""
    with st.container(key=f"phone_wide_{key}"):
        yield


def _value(v: Any) -> str:
    if isinstance(v, str):
        return COLOURED.get(v, fmt.md(v))
    if isinstance(v, datetime):  # to the minute, as the tables show it
        return fmt.md(f"{v:%Y-%m-%d %H:%M}")
    return fmt.md(str(v))


Field = str | tuple[str, ...]  # a tuple: several short fields on one line, 「名称 值 · 名称 值」


def card_text(row: dict[str, Any], title: Callable[[dict[str, Any]], str], fields: Sequence[Field]) -> str:
    """One card's markdown: the title line(s), then each non-empty field as 「名称：值」 on its own line."""
    lines = [title(row)]
    for f in fields:
        if isinstance(f, tuple):
            parts = [f"{fmt.md(g)} {_value(row[g])}" for g in f if row.get(g) not in (None, "")]
            if parts:
                lines.append(" · ".join(parts))
        elif row.get(f) not in (None, ""):
            lines.append(f"{fmt.md(f)}：{_value(row[f])}")
    return "  \n".join(lines)


def cards(frame: pl.DataFrame, key: str, title: Callable[[dict[str, Any]], str], fields: Sequence[Field], *,
          unit: str = "个") -> None:
    """The rows of frame (its shown, Chinese-headed form) as bordered cards, shown on a phone only.
    title makes a card's heading (markdown) from its row: user text in it must pass through fmt.md."""
    with st.container(key=f"phone_cards_{key}", gap="small"):
        if frame.height > CARD_ROWS:
            st.caption(f"共 {frame.height:,} {unit}，以下列出前 {CARD_ROWS} {unit}；完整名单请下载 CSV 或在电脑上查看。")
        for i, row in enumerate(frame.head(CARD_ROWS).iter_rows(named=True)):
            with st.container(border=True, key=f"phone_card_{key}_{i}"):
                st.markdown(card_text(row, title, fields))
