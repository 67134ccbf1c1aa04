"""清单核对: a department's list (行政审批局 立项, 统计局 入统, 商务局 签约) against the year's list: 漏报,
入统未确认, 信息不一致, 一致 (pipelines/views/reconcile.py)."""

import streamlit as st

from pipelines.views import reconcile
from ui import cached, fmt, session, widgets, writes

widgets.header("部门清单核对", "各部门每季度报送的清单（行政审批局立项、统计局入统、商务局签约）与调度库逐项核对："
               "按项目代码匹配，没有代码的按地市内的项目名称匹配。")
view = widgets.require_view()
kind = st.radio("清单类别", list(reconcile.KINDS), horizontal=True, key="reconcile_kind",
                format_func=lambda k: f"{k}（{reconcile.KIND_SOURCE[k]}）")

user = session.current_user()
if user.can("supervise"):
    with st.expander("导入部门清单", expanded=False):
        up = st.file_uploader("部门清单（xlsx/xls/csv，部门自己的表式或标准模板）", type=["xlsx", "xls", "csv"],
                              key="reconcile_file")
        as_of = st.date_input("清单截止日期", value=view.as_of, key="reconcile_as_of", format="YYYY-MM-DD")
        if up is not None and st.button("导入并核对", type="primary", key="reconcile_load"):
            lines, errors, n = writes.load_reference_list(kind, as_of, up.name, up.getvalue())
            if lines:
                st.markdown("\n".join(f"- {fmt.md(line)}" for line in lines))
            if errors:
                st.error("清单未导入：\n" + "\n".join(f"- {fmt.md(e)}" for e in errors))
            else:
                st.success(f"已导入{kind}清单 {fmt.md(up.name)}（{n} 个项目，截至 {as_of}）。")

rec, loaded = cached.reconcile_page(view, kind)
st.subheader(f"{kind}清单核对（报告期 {view.as_of}）")
st.markdown(fmt.md(reconcile.summary_zh(rec)))
if rec.loaded:
    c = st.columns(4)
    for col, outcome in zip(c, reconcile.OUTCOMES, strict=True):
        col.metric(reconcile.OUTCOME_ZH[outcome], rec.counts[outcome])
    widgets.long_table(reconcile.shown(rec), hide_index=True, key="reconcile_rows", unit="个",
                       file_name=f"{kind}清单核对_{view.as_of}.csv")
else:
    st.info(f"{view.year} 年尚未导入截至 {view.as_of} 的{kind}清单。", icon=":material/inbox:")
if loaded.height:
    st.markdown("**本年已导入的清单**")
    widgets.table(reconcile.loaded_shown(loaded), hide_index=True, key="reconcile_loaded")
st.caption("注：" + reconcile.NOTE_ZH)
