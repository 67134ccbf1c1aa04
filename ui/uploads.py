"""The upload path of 数据报送: read-and-check once per file (kept in the session), preview, commit."""

from __future__ import annotations

import hashlib
import tempfile
from datetime import date
from pathlib import Path

import streamlit as st

from pipelines.ingest.prepare import Prepared, layout_zh, load_prepared, preview_rows
from pipelines.ingest.prepare import prepare as _prepare
from pipelines.ingest.template import write_template
from pipelines.warehouse.store import LoadOutcome

from . import cached, fmt, session, widgets

_CACHE = "_kaigong_prepared"
_MAX_SHOWN = 200  # findings listed per file (the rest are counted)


UPLOAD_TYPES = ("csv", "xlsx", "xls")


def uploader_label() -> str:
    """The uploader's label: what to drop and the size limit (server.maxUploadSize, as Streamlit enforces it)."""
    mb = int(st.get_option("server.maxUploadSize"))
    kinds = "、".join(t.upper() for t in UPLOAD_TYPES)
    return f"拖入文件：周报表、台账或目标任务分解表（{kinds}，可一次多个，每个文件不超过 {mb} MB）"


# Streamlit 1.67 lets an app set the uploader's label and help, not the words inside its box (no
# parameter; streamlit/streamlit#13500 asks for one): say in Chinese what they mean.
UPLOADER_WORDS = "框中的英文是 Streamlit 自带的：「Drag and drop files here」即把文件拖到这里，「Upload」即选择文件，「per file」即每个文件的大小上限。"


@st.cache_resource(show_spinner=False)
def template_bytes() -> bytes:
    """The standard template CSV (pipelines.ingest.template, the same as `kaigong template`)."""
    with tempfile.TemporaryDirectory() as d:
        return write_template(Path(d) / "template.csv", "csv").read_bytes()


def prepare(name: str, raw: bytes, report_date: date | None, tier: str | None, region: str | None) -> Prepared:
    """pipelines.ingest.prepare.prepare, once per (file content, options) in this session."""
    key = (hashlib.sha256(raw).hexdigest(), name, report_date, tier, region)
    cache: dict = st.session_state.setdefault(_CACHE, {})
    if key not in cache:
        cache[key] = _prepare(raw, name, report_date=report_date, tier=tier, region=region)
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
    outcomes = load_prepared(cached.warehouse(), prepared, actor=user.name, allowed_regions=user.allowed_regions())
    st.session_state.pop(_CACHE, None)
    cached.changed()
    return outcomes
