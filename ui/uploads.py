"""The upload path of 数据报送: read-and-check once per file (kept in the session), preview, commit."""

from __future__ import annotations

import hashlib
import tempfile
from datetime import date
from pathlib import Path

import polars as pl
import streamlit as st

from pipelines.ingest import bounded
from pipelines.ingest.prepare import Prepared, layout_zh, preview_rows
from pipelines.ingest.result import ReadOptions
from pipelines.ingest.template import write_template
from pipelines.views.changes import line_zh
from pipelines.warehouse import intake, review
from pipelines.warehouse.store import LoadOutcome, Submission

from . import admission, cached, fmt, session, widgets

_CACHE = "_kaigong_prepared"
_CHANGES = "_kaigong_prepared_changes"
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


def warm() -> None:
    """Start the reading child before the first upload arrives (pipelines.ingest.bounded)."""
    bounded.warm()


def prepare(name: str, raw: bytes, report_date: date | None, tier: str | None, region: str | None,
            frequency: str | None = None) -> Prepared:
    """pipelines.ingest.bounded.prepare (a memory-bounded child, uploads queued), once per (file content,
    options) in this session; while the file waits its turn the page says 「排队中」 and its place."""
    key = (hashlib.sha256(raw).hexdigest(), name, report_date, tier, region, frequency)
    cache: dict = st.session_state.setdefault(_CACHE, {})
    if key not in cache:
        status = st.empty()

        def on_wait(place: int) -> None:
            if place:
                status.info(f"「{fmt.md(name)}」排队中：第 {place} 位，前面的文件读完后自动开始读取",
                            icon=":material/hourglass_top:")
            else:
                status.info(f"正在读取「{fmt.md(name)}」…", icon=":material/hourglass_top:")

        opts = ReadOptions(report_date=report_date, tier=tier, region=region, frequency=frequency)
        with admission.released():  # the read is a child process's work: let other pages run meanwhile
            p = bounded.prepare(raw, name, opts, on_wait=on_wait)
        cache[key] = cached.layout_memory(p) if p.ok else p
        status.empty()
    return cache[key]


def preview(p: Prepared) -> None:
    """One file's preview: what was recognised, the rows, every error and warning by row."""
    sub = p.submission
    if p.ok and sub is not None:
        st.markdown(f"**{fmt.md(p.file_name)}** · 可以导入 · {sub.frame.height} 个项目 · 报告期 {sub.report_date} · "
                    f"版式：{fmt.md(layout_zh(p.layout))}")
        _reading(p)
        widgets.table(preview_rows(sub), hide_index=True, height=200)
    else:
        st.markdown(f"**{fmt.md(p.file_name)}** · :red[不能导入，{len(p.errors)} 处错误]")
        _reading(p)
        for e in p.errors[:_MAX_SHOWN]:
            st.markdown(f"- :red[错误] {fmt.md(e.zh())}")
        if len(p.errors) > _MAX_SHOWN:
            st.caption(f"另有 {len(p.errors) - _MAX_SHOWN} 处错误未列出")
    for w in p.warnings[:_MAX_SHOWN]:
        st.markdown(f"- :orange[提示] {fmt.md(w.zh())}")
    if p.ok and sub is not None and sub.kind == "reports":
        _changes(sub)


def _reading(p: Prepared) -> None:
    """What the reader inferred (pipelines.ingest.reading): the lines a clerk checks before 确认导入."""
    lines = p.reading_lines()
    if not lines:
        return
    st.markdown("**读取情况**（请核对）\n" + "\n".join(f"- {fmt.md(line)}" for line in lines))
    st.caption("报告期或报送周期不对时，在上方「可选」中指定，文件会按指定的重新读取。")


def preview_pending(sub: Submission) -> None:
    """A submission awaiting review as its 审核员 sees it: the rows, the reader's warnings and the
    change audit against the data as it is now."""
    st.markdown(f"**{fmt.md(sub.file_name)}** · {sub.frame.height} 个项目 · 报告期 {sub.report_date} · "
                f"版式：{fmt.md(layout_zh(sub.layout))}")
    widgets.table(preview_rows(sub), hide_index=True, height=200)
    for w in sub.warnings[:_MAX_SHOWN]:
        st.markdown(f"- :orange[提示] {fmt.md(w.zh())}")
    if sub.kind == "reports":
        _changes(sub)


def changes(sub: Submission) -> None:
    """The change audit of a staged file (the 在线填报 grid's, ui/fill.py), as the preview shows it."""
    _changes(sub)


def _changes(sub: Submission) -> None:
    """The change audit against each project's previous report (warnings only: the file still loads)."""
    cache: dict = st.session_state.setdefault(_CHANGES, {})
    key = (sub.digest(), sub.file_name, sub.report_date, sub.region_code)
    if key not in cache:
        cache[key] = cached.change_preview(sub)
    found, later = cache[key]
    listed = found.filter(pl.col("kind") != "new")
    new = found.height - listed.height
    head = f"**与上期相比的变动**：{listed.height} 条" + (f"，本期新增项目 {new} 个" if new else "")
    st.markdown(head + "（仅作提示，不影响导入）")
    if later:
        st.warning(f"该文件的报告期 {sub.report_date} 早于已导入的报告期，属于更正；导入后其后各期（"
                   + "、".join(d.isoformat() for d in later) + "）的项目状态将重新计算。", icon=":material/history:")
    if listed.height:
        for row in listed.head(_MAX_SHOWN).iter_rows(named=True):
            st.markdown(f"- :orange[变动] {fmt.md(line_zh(row))}")
        if listed.height > _MAX_SHOWN:
            st.caption(f"另有 {listed.height - _MAX_SHOWN} 条变动未列出")


def needs_review() -> bool:
    """Whether the signed-in user's files wait for an 审核员 (pipelines.warehouse.review)."""
    return review.reviewed(session.current_user(), cached.review_modes())


def commit(prepared: list[Prepared]) -> list[LoadOutcome] | list[review.PendingOutcome]:
    """Load every previewed file in one transaction as the signed-in user, limited to their regions;
    under review, keep them as 待审核 instead (they count once approved)."""
    modes = cached.review_modes()
    with admission.released():  # the write waits on the store's lock and DuckDB, not on the GIL
        outcomes = intake.commit(cached.warehouse(), prepared, session.current_user(), modes)
    st.session_state.pop(_CACHE, None)
    st.session_state.pop(_CHANGES, None)
    cached.changed()
    return outcomes
