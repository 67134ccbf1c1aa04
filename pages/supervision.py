"""督办单: issue an order about red, overdue or problem projects; the unit replies; the issuer closes it."""

from datetime import date, timedelta

import polars as pl
import streamlit as st

from pipelines.views import procedures
from pipelines.views import supervision as supervision_view
from pipelines.vocab.findings import Refused
from pipelines.vocab.reference import counties_of, region_by_code
from ui import cached, fmt, phone, session, state, widgets, writes

widgets.header("督办单", "对红灯项目、逾期未开工项目和未解决问题下达督办单；责任单位书面回复，下达人办结或退回。")
user = session.current_user()
today = date.today()
orders = cached.supervision_orders(user, today)
totals = supervision_view.totals(orders)
c = st.columns(3)
c[0].metric("在办督办单", f"{totals['open']} 件")
c[1].metric("逾期未回复", f"{totals['overdue']} 件")
c[2].metric("已办结", f"{totals['closed']} 件")
st.caption(f"逾期：办理中且已过办理期限（今天 {today}）仍未回复。")
counts = supervision_view.counts_by_region(orders)
if not counts.is_empty():
    widgets.table(supervision_view.counts_shown(counts), hide_index=True, key="supervision_counts")

names = {code: r.name for code, r in region_by_code().items()}
if user.can("supervise"):
    st.subheader("下达督办单")
    view = state.current_view()
    pick = st.columns(2)
    city = pick[0].selectbox("责任地市", cached.options().city_codes, format_func=lambda x: names.get(x, x),
                          key="supervision_city")
    county = pick[1].selectbox("责任县区（可选，不选则督办地市）", [None, *[r.code for r in counties_of(city)]],
                            format_func=lambda x: "（地市本级）" if x is None else names.get(x, x),
                            key="supervision_county")
    unit = county or city
    cands = cached.supervision_candidates(view, unit) if view is not None else pl.DataFrame()
    options = list(range(cands.height))
    picked = st.multiselect(
        "涉及项目（该单位的红灯项目、逾期未开工项目、未解决问题）", options, key="supervision_projects",
        placeholder="选择项目（可多选）" if options else "该单位暂无红灯、逾期未开工或有未解决问题的项目",
        format_func=lambda i: f"{cands['source'][i]} · {cands['project_name'][i]}（{cands['why'][i] or ''}）")
    with st.form("supervision_issue_form", border=True):
        text = st.text_area("督办内容", key="supervision_text", placeholder="如：该项目进度滞后序时进度，请说明原因及整改措施")
        deadline = st.date_input("办理期限", value=today + timedelta(days=7), min_value=today, key="supervision_deadline",
                                 format="YYYY-MM-DD")
        if st.form_submit_button("下达督办单", type="primary"):
            chosen = cands[picked] if picked else cands.clear()
            source = chosen["source"][0] if chosen.height else "其他"
            projects = list(dict(chosen.select("project_id", "project_name").rows()).items()) if chosen.height else []
            try:
                oid = writes.issue_order(unit, text, deadline, projects=projects, source=source,
                                         department=procedures.department_for(chosen.to_dicts()))
            except Refused as exc:
                st.error(str(exc))
            else:
                st.session_state["supervision_done"] = f"已下达督办单第 {oid} 号（{names.get(unit, unit)}，期限 {deadline}）。"
                st.rerun()
if done := st.session_state.pop("supervision_done", None):
    st.success(done, icon=":material/check_circle:")

st.subheader("督办单列表")
if orders.is_empty():
    st.caption("还没有督办单。")
else:
    listed = supervision_view.shown(orders)
    with phone.wide("supervision_list"):
        widgets.table(listed, hide_index=True, key="supervision_list")
    phone.cards(listed, "supervision_list", lambda r: f"**第 {r['编号']} 号 · {fmt.md(r['单位'])}** · {fmt.md(r['状态'])}", [
        "督办内容", "涉及项目", ("来源", "办理期限"), ("下达人", "下达时间"), "单位回复", "退回原因", "办结时间"],
        unit="件")
    mine = supervision_view.awaiting(orders, user)
    if mine.is_empty():
        st.caption("没有需要您办理的督办单。")
    else:
        rows = {r["order_id"]: r for r in mine.iter_rows(named=True)}
        oid = st.selectbox("办理督办单", list(rows), key="supervision_pick",
                           format_func=lambda i: f"第 {i} 号 · {names.get(rows[i]['unit_code'], '')} · {rows[i]['state']}")
        o = rows[oid]
        with st.container(border=True, key="supervision_box"):
            st.markdown(f"**督办内容**：{fmt.md(o['text'])}（期限 {o['deadline']}）")
            if o["returned_reason"]:
                st.markdown(f"**退回原因**：{fmt.md(o['returned_reason'])}")
            try:
                if o["status"] == "办理中":
                    answer = st.text_area("书面回复", key="supervision_reply")
                    if st.button("提交回复", type="primary", key="supervision_reply_send"):
                        writes.reply_order(oid, answer)
                        st.session_state["supervision_done"] = f"已回复督办单第 {oid} 号。"
                        st.rerun()
                else:
                    st.markdown(f"**单位回复**（{fmt.md(o['replied_by'] or '')}）：{fmt.md(o['reply'] or '')}")
                    why = st.text_input("退回原因（退回时必填）", key="supervision_return_reason")
                    b = st.columns([1, 1, 4])
                    if b[0].button("办结", type="primary", key="supervision_close"):
                        writes.close_order(oid)
                        st.session_state["supervision_done"] = f"督办单第 {oid} 号已办结。"
                        st.rerun()
                    if b[1].button("退回", key="supervision_send_back"):
                        writes.send_back_order(oid, why)
                        st.session_state["supervision_done"] = f"督办单第 {oid} 号已退回，单位需重新回复。"
                        st.rerun()
            except Refused as exc:
                st.error(str(exc))
