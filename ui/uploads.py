"""The upload path of 数据报送: read-and-check once per file (kept in the session), preview, commit."""

from __future__ import annotations

import hashlib
import importlib.util
import tempfile
from datetime import date
from pathlib import Path

import streamlit as st

from pipelines import bounded
from pipelines.ingest import Prepared, layout_zh, load_prepared, preview_rows
from pipelines.store import LoadOutcome

from . import data, fmt, session, widgets

_CACHE = "_kaigong_prepared"
_MAX_SHOWN = 200  # findings listed per file (the rest are counted)


def reader_available() -> bool:
    return importlib.util.find_spec("pipelines.read") is not None


@st.cache_resource(show_spinner=False)
def template_bytes() -> bytes | None:
    """The standard template CSV (pipelines.template), or None before the reader branch is merged."""
    if importlib.util.find_spec("pipelines.template") is None:
        return None
    from pipelines.template import write_template

    with tempfile.TemporaryDirectory() as d:
        return write_template(Path(d) / "template.csv", "csv").read_bytes()


def warm() -> None:
    """Start the reading child before the first upload arrives (pipelines.bounded)."""
    bounded.warm()


def prepare(name: str, raw: bytes, report_date: date | None, tier: str | None, region: str | None) -> Prepared:
    """pipelines.bounded.prepare (a memory-bounded child, uploads queued), once per (file content,
    options) in this session; while the file waits its turn the page says 「排队中」 and its place."""
    key = (hashlib.sha256(raw).hexdigest(), name, report_date, tier, region)
    cache: dict = st.session_state.setdefault(_CACHE, {})
    if key not in cache:
        status = st.empty()

        def on_wait(place: int) -> None:
            if place:
                status.info(f"「{fmt.md(name)}」排队中：第 {place} 位，前面的文件读完后自动开始读取",
                            icon=":material/hourglass_top:")
            else:
                status.info(f"正在读取「{fmt.md(name)}」…", icon=":material/hourglass_top:")

        cache[key] = bounded.prepare(raw, name, report_date=report_date, tier=tier, region=region, on_wait=on_wait)
        status.empty()
    return cache[key]


def preview(p: Prepared) -> None:
    """One file's preview: what was recognised, the rows, every error and warning by row."""
    sub = p.submission
    if p.ok and sub is not None:
        st.markdown(f"**{fmt.md(p.file_name)}** · 可以导入 · {sub.frame.height} 个项目 · 报告期 {sub.report_date} · "
                    f"版式：{fmt.md(layout_zh(p.layout))}")
        widgets.table(preview_rows(sub), hide_index=True, height=200)
    else:
        st.markdown(f"**{fmt.md(p.file_name)}** · :red[不能导入，{len(p.errors)} 处错误]")
        for e in p.errors[:_MAX_SHOWN]:
            st.markdown(f"- :red[错误] {fmt.md(e.zh())}")
        if len(p.errors) > _MAX_SHOWN:
            st.caption(f"另有 {len(p.errors) - _MAX_SHOWN} 处错误未列出")
    for w in p.warnings[:_MAX_SHOWN]:
        st.markdown(f"- :orange[提示] {fmt.md(w.zh())}")


def commit(prepared: list[Prepared]) -> list[LoadOutcome]:
    """Load every previewed file in one transaction as the signed-in user, limited to their regions."""
    user = session.current_user()
    outcomes = load_prepared(data.warehouse(), prepared, actor=user.name, allowed_regions=user.allowed_regions())
    st.session_state.pop(_CACHE, None)
    data.changed()
    return outcomes
