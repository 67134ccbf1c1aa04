"""调度库: the year's list at the report date, its movements (纳入 / 调出, who, when, why), and for 管理员 /
分析员 the admit and 调出 forms (pipelines/views/yearlist.py; writes through ui/writes.py)."""

import streamlit as st

from pipelines.views import yearlist
from pipelines.vocab.findings import Refused
from ui import cached, fmt, session, widgets, writes

widgets.header("调度库", "本年工业重点项目调度库：上年续建结转项目全部纳入，当年完成立项且总投资达到门槛的项目全部纳入，"
               "也可手动纳入；调出须注明原因。")
view = widgets.require_view()
page = cached.yearlist_page(view)
user = session.current_user()

c = st.columns(4)
c[0].metric("在库项目", page.counts["listed"])
c[1].metric("本年尚未报送", page.counts["not_reported"])
c[2].metric("续建结转待确认", page.counts["unconfirmed"])
c[3].metric("已调出", page.counts["removed"])
st.markdown(fmt.md(f"{view.year} 年调度库（截至 {view.as_of}）：{yearlist.summary_zh(page.counts)}"))

if user.role in ("管理员", "分析员"):
    with st.expander("纳入调度库", expanded=False):
        on = st.date_input("纳入日期（自该日起计入统计范围）", value=view.as_of, key="yl_admit_on", format="YYYY-MM-DD")
        if st.button("按规则纳入（续建结转、已立项且总投资达到门槛）", key="yl_rules"):
            try:
                got = writes.admit_to_year_list_by_rules(view.year, on)
                st.success("已按规则纳入：" + "，".join(f"{k} {v} 个" for k, v in got.items()))
            except Refused as exc:
                st.error(str(exc))
        names = dict(zip(page.candidates["project_id"].to_list(),
                         [f"{n}（{c or ''}）" for n, c in zip(page.candidates["project_name"].to_list(),
                                                           page.candidates["city_name"].to_list(), strict=True)],
                         strict=True))
        chosen = st.multiselect("手动纳入的项目", list(names), format_func=lambda p: names.get(p, p), key="yl_admit",
                                placeholder="选择要纳入的项目")
        reason = st.text_input("纳入理由", key="yl_admit_reason")
        if st.button("纳入", type="primary", key="yl_admit_go", disabled=not chosen):
            try:
                n = writes.admit_to_year_list(view.year, chosen, on, reason)
                st.success(f"已纳入 {n} 个项目（{on} 起）。")
            except Refused as exc:
                st.error(str(exc))
    inside = page.listed.filter(page.listed["status"] == "在库")
    if inside.height:
        with st.expander("调出调度库", expanded=False):
            listed_names = dict(zip(inside["project_id"].to_list(), inside["project_name"].to_list(), strict=True))
            pid = st.selectbox("调出的项目", list(listed_names), format_func=lambda p: listed_names.get(p, p),
                               key="yl_remove")
            off = st.date_input("调出日期（自该日起不再计入）", value=view.as_of, key="yl_remove_on", format="YYYY-MM-DD")
            why = st.text_input("调出原因（必填）", key="yl_remove_reason")
            if st.button("调出", type="primary", key="yl_remove_go", disabled=pid is None):
                try:
                    writes.remove_from_year_list(view.year, str(pid), off, why)
                    st.success(f"已将「{fmt.md(listed_names.get(str(pid), str(pid)))}」自 {off} 起调出。")
                except Refused as exc:
                    st.error(str(exc))

pending = page.listed.filter((page.listed["status"] == "在库") & (page.listed["how"] == "续建结转")
                             & page.listed["confirmed_by"].is_null())
if pending.height:
    with st.expander(f"确认续建结转（{pending.height} 个待确认）", expanded=False):
        carried = dict(zip(pending["project_id"].to_list(), pending["project_name"].to_list(), strict=True))
        sure = st.multiselect("本单位确认继续调度的续建项目", list(carried), format_func=lambda p: carried.get(p, p),
                              key="yl_confirm", placeholder="选择要确认的项目")
        if st.button("确认", type="primary", key="yl_confirm_go", disabled=not sure):
            try:
                n = writes.confirm_carried_over(view.year, sure)
                st.success(f"已确认 {n} 个续建结转项目。")
            except Refused as exc:
                st.error(str(exc))

st.subheader("调度库清单")
if page.listed.height:
    widgets.long_table(yearlist.shown(page.listed, yearlist.LIST_HEADERS), hide_index=True, key="yl_rows",
                       unit="个", file_name=f"调度库_{view.as_of}.csv")
else:
    st.info(f"{view.year} 年尚未建立调度库：统计范围为本年有报送的项目。", icon=":material/inbox:")
st.subheader("纳入与调出记录")
if page.moves.height:
    widgets.table(yearlist.shown(page.moves, yearlist.MOVE_HEADERS), hide_index=True, key="yl_moves")
else:
    st.caption("本年暂无纳入或调出记录。")
st.caption("注：" + yearlist.NOTE_ZH)
