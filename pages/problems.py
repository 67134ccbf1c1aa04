"""问题清单: open problems needing coordination, by department and region, with their age; 销号."""

import streamlit as st

from pipelines.outputs import charts
from pipelines.views import problems
from pipelines.vocab import labels
from ui import cached, fmt, session, widgets, writes

widgets.header("问题清单", "项目最新报送中「存在问题」一栏的内容；销号后移入已销号列表。")
view = widgets.require_view()
open_ = cached.open_problems(view)

formula = "问题天数 = 报告期截止日 − 首次报送该问题的报告期"
c = st.columns(3)
c[0].metric("待协调问题", f"{open_.height} 个")
c[1].metric("涉及项目", f"{open_['project_id'].n_unique()} 个")
c[2].metric("最长已挂", f"{max(open_['age_days'].drop_nulls().to_list(), default=0)} 天")

left, right = st.columns(2)
with left:
    widgets.chart(charts.count_bars(problems.counts_by(open_, "problem_department"), "problem_department",
                                    "按建议解决部门", view.as_of, formula), key="problems_by_department")
with right:
    widgets.chart(charts.count_bars(problems.counts_by(open_, "city_name"), "city_name", "按地市",
                                    view.as_of, formula), key="problems_by_city")

st.subheader("待协调问题")
if open_.is_empty():
    st.success("当前筛选下没有待协调的问题。")
else:
    shown = {**labels.columns("project_name", "tier", "city_name", "county_name", "problem", "problem_department"),
             "raised_on": "首次提出", "age_days": "已挂天数"}
    event = widgets.long_table(open_.drop("project_id").rename(shown), hide_index=True, key="problems_table",
                               on_select="rerun", selection_mode="single-row", unit="项",
                               file_name=f"待协调问题_{view.as_of}.csv")
    rows = event.selection.rows if event else []
    if not session.current_user().can("admin"):
        st.caption("销号需管理员办理。")
    elif rows:
        row = open_.row(rows[0], named=True)
        with st.form("problems_close_form", border=True):
            st.markdown(f"**销号**：{fmt.md(row['project_name'])} —— {fmt.md(row['problem'])}")
            who = st.text_input("经办人", key="problems_closed_by")
            note = st.text_input("办理结果（可选）", key="problems_note")
            if st.form_submit_button("确认销号", type="primary"):
                if not who.strip():
                    st.error("请填写经办人。")
                else:
                    writes.close_problem(row["project_id"], row["problem"], who, note)
                    st.success("已销号。")
                    st.rerun()
    else:
        st.caption("勾选一行即可销号。")

st.subheader("已销号")
closed = cached.closed_problems()
if not session.current_user().can("view_all"):
    st.caption("已销号记录仅对可查看全省数据的角色显示。")
elif closed.is_empty():
    st.caption("还没有销号记录。")
else:
    widgets.long_table(closed.drop("project_id").rename({"project_name": "项目名称", "problem": "问题", "closed_at": "销号时间",
                                                       "closed_by": "经办人", "note": "办理结果"}),
                       hide_index=True, key="problems_closed", unit="项", file_name="已销号问题.csv")
