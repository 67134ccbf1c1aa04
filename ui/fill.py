"""数据报送's clerk side (issue 31): 下载本期填报表 and 在线填报 for a 报送员.

The grid is the prefilled sheet on screen: last period's values, the period's cells editable, the rest
read-only, a 本期无变化 tick per project. Each edit is kept as the user's draft (pipelines.warehouse.drafts);
the grid is then written as the sheet it stands for and read through the normal upload path (the same
reader, its errors by row and column, the change audit); 提交 commits it like an uploaded file (to 审核
where review is on), and the draft is dropped. Nothing is half-saved: a draft never reaches the figures."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import streamlit as st

from pipelines import auth
from pipelines.outputs import fill_sheet
from pipelines.views import fill as fill_view
from pipelines.vocab import schema
from pipelines.vocab.findings import SubmissionRefused
from pipelines.warehouse import drafts

from . import cached, fmt, state, uploads

_SHOWN_LOCKED = ("project_name", "county_name", "total_investment", "annual_plan")  # for context, read-only


def as_of() -> date:
    """The date the clerk's rows are read at: the page's report date (the latest by default), else today."""
    view = state.current_view()
    return view.as_of if view is not None else date.today()


def download(user: auth.User, as_of: date) -> None:
    """下载本期填报表: the unit's projects prefilled, the period's cells highlighted, the rest locked."""
    unit = user.unit_code()
    if unit is None:
        return
    sheet = cached.fill_sheet(unit, as_of)
    st.download_button("下载本期填报表", sheet.content, file_name=f"{sheet.unit_name}_{sheet.report_date:%m%d}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key="submissions_fill_sheet", icon=":material/edit_document:")
    st.caption(sheet.summary_zh() + "；确无变化的项目在「本期无变化」列填「是」，否则不计入本期录入率。")


def _column_config() -> dict[str, Any]:
    cfg: dict[str, Any] = {"project_id": None}
    for name in fill_view.SHEET_FIELDS:
        f = schema.FIELD[name]
        label = f.zh + ("（万元）" if f.kind == "money" else "")
        if f.kind == "money":
            cfg[name] = st.column_config.NumberColumn(label, min_value=0.0, format="%.2f")
        elif f.kind == "date":
            cfg[name] = st.column_config.DateColumn(label, format="YYYY-MM-DD")
        elif f.kind == "bool":
            cfg[name] = st.column_config.CheckboxColumn(label)
        elif name == "stage":
            cfg[name] = st.column_config.SelectboxColumn(label, options=list(schema.STAGES))
        else:
            cfg[name] = st.column_config.TextColumn(label)
    cfg[fill_view.NO_CHANGE] = st.column_config.CheckboxColumn(fill_view.NO_CHANGE_ZH)
    return cfg


def grid(user: auth.User, as_of: date) -> None:
    """在线填报: the unit's rows in a grid, kept as a draft, checked and audited as a file, then 提交."""
    unit = user.unit_code()
    if unit is None:
        return
    g = cached.fill_grid(unit, as_of)
    if g.frame.is_empty():
        st.caption(f"{g.unit_name} 本年尚无报送的项目：请先上传本期报表。")
        return
    wh = cached.warehouse()
    saved = drafts.load(wh, user.name, g.unit_code, g.report_date)
    start = fill_view.grid_from_draft(g, saved[0]) if saved else g.frame
    since = f"上期（{g.last_report_date}）" if g.last_report_date else "上期"
    st.caption(f"{g.unit_name} 报告期 {g.report_date}：{g.frame.height} 个项目，按{since}数据预填；可修改的是本期需更新的列，"
               "确无变化的项目勾选「本期无变化」。修改随时保存为草稿，提交前不计入任何指标。"
               + (f"（已恢复 {saved[1]:%Y-%m-%d %H:%M} 保存的草稿）" if saved else ""))
    order = [*_SHOWN_LOCKED, *fill_view.UPDATE_FIELDS, fill_view.NO_CHANGE]
    disabled = [c for c in g.frame.columns if c not in (*fill_view.UPDATE_FIELDS, fill_view.NO_CHANGE)]
    edited = st.data_editor(start, column_config=_column_config(), column_order=order, disabled=disabled,
                            hide_index=True, num_rows="fixed", key=f"submissions_grid_{g.report_date}")
    rows = edited if isinstance(edited, pl.DataFrame) else pl.from_pandas(edited)
    rows = rows.select([pl.col(c).cast(g.frame.schema[c]) for c in g.frame.columns])
    if not rows.equals(start):  # an edit: kept as the draft before anything else
        drafts.save(wh, user.name, g.unit_code, g.report_date, rows)
    name, content = fill_sheet.grid_file(g, rows)
    p = uploads.prepare(name, content, None, None, None)
    with st.container(border=True, key="submissions_grid_check"):
        if p.ok and p.submission is not None:
            st.markdown(f"**核对通过**：{p.submission.frame.height} 个项目 · 报告期 {p.submission.report_date}，提交前请看本期变动：")
            for w in p.warnings[:200]:
                st.markdown(f"- :orange[提示] {fmt.md(w.zh())}")
            uploads.changes(p.submission)  # the change audit, as for an uploaded file
        else:
            st.markdown(f":red[有 {len(p.errors)} 处错误，改正后才能提交：]")
            names = rows["project_name"].to_list()
            for e in p.errors[:200]:
                i = (e.row or 0) - fill_sheet.HEADER_ROW - 2  # the sheet's row → the grid's
                who = f"项目「{names[i]}」" if 0 <= i < len(names) else ""
                col = f"「{e.column}」" if e.column else ""
                val = f"值「{e.value}」" if e.value is not None else ""
                st.markdown(f"- :red[错误] {fmt.md(who + col + val)}：{fmt.md(e.message)}")
    reviewed = uploads.needs_review()
    verb = "提交审核" if reviewed else "提交"
    if st.button(verb, type="primary", disabled=not p.ok, key="submissions_grid_submit"):
        try:
            outcomes = uploads.commit([p])
        except SubmissionRefused as exc:
            st.error(f"未提交：共 {len(exc.errors)} 处错误。")
            st.text("\n".join(e.zh() for e in exc.errors[:200]))
        else:
            drafts.discard(wh, user.name, g.unit_code, g.report_date)
            cached.changed()
            st.session_state["submissions_done"] = [o.summary_zh() for o in outcomes]
            st.rerun()
    if saved and st.button("放弃草稿，按上期数据重新填写", key="submissions_grid_discard"):
        drafts.discard(wh, user.name, g.unit_code, g.report_date)
        st.session_state.pop(f"submissions_grid_{g.report_date}", None)
        st.rerun()
