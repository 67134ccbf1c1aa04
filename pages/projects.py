"""项目台账: the filterable ledger; selecting a project shows its history across report dates."""

from functools import partial

import streamlit as st

from pipelines.metrics import lights
from pipelines.outputs import charts
from pipelines.views import history
from pipelines.views import leaders as leaders_view
from pipelines.views import ledger as ledger_view
from pipelines.views import lights as lights_view
from pipelines.views.ledger import LEDGER_COLUMNS, LEDGER_SORTS
from pipelines.vocab import labels
from pipelines.vocab.findings import Refused
from ui import cached, fmt, session, widgets, writes

widgets.header("项目台账", "在表格左侧勾选一个项目，查看它历次报送的投资进度、状态变化和问题。")
view = widgets.require_view()

left, right = st.columns([3, 2])
search = left.text_input("按项目名称或企业搜索", key="projects_search", placeholder="输入关键字")
sort = right.selectbox("排序", list(LEDGER_SORTS), key="projects_sort")
page_key = f"projects_page|{search}|{sort}|{view}"  # a new search, order or view starts at page 1
size = ledger_view.LEDGER_PAGE_SIZE  # read here, so a test can make pages small
shown = cached.ledger_page(view, search, sort, st.session_state.get(page_key, 1), size)
if shown.pages > 1:
    pager, _ = st.columns([1, 2])
    pager.number_input(f"页码（共 {shown.pages} 页，每页 {size:,} 个）", min_value=1,
                       max_value=shown.pages, step=1, key=page_key)
    st.caption(f"共 {shown.total:,} 个项目（报告期 {view.as_of}），本页为第 {shown.first:,}–"
               f"{shown.first + shown.rows.height - 1:,} 个；下载的台账含全部 {shown.total:,} 个")
else:
    st.caption(f"共 {shown.total:,} 个项目（报告期 {view.as_of}）")
if session.current_user().can("export"):  # formula-like cells are neutralised (pipelines.outputs.csv_safe)
    st.download_button(
        "下载台账（CSV）", partial(cached.ledger_csv, view, search, sort),
        file_name=f"项目台账_{view.as_of}.csv", mime="text/csv", key="projects_csv", on_click="ignore",
        icon=":material/download:",
    )
event = widgets.table(
    shown.rows.rename(LEDGER_COLUMNS), hide_index=True, key=f"projects_table|{page_key}|{shown.page}",
    on_select="rerun", selection_mode="single-row", column_order=[v for k, v in LEDGER_COLUMNS.items() if k != "project_id"],
    column_config={labels.COLUMN_ZH[c]: st.column_config.NumberColumn(format="%.0f") for c in
                   ("total_investment", "annual_plan", "ytd_completed")},
)
rows = event.selection.rows if event else []
if not rows:
    st.info("勾选一个项目查看其历史。")
    st.stop()

chosen = shown.rows.row(rows[0], named=True)
hist = cached.project_history(chosen["project_id"])
st.subheader(fmt.md(chosen["project_name"]))
found = cached.leader_of(chosen["project_id"])  # 责任领导 (issue 31): from the 台账, or set by a 管理员
st.caption(fmt.md(leaders_view.leader_line(found)))
if session.current_user().can("admin"):
    with st.expander("修改责任领导（管理员）", expanded=False), st.form(key="projects_leader_form"):
        c = st.columns(3)
        leader = c[0].text_input("责任领导（包保领导）", value=found["leader"] or "", key="projects_leader")
        lead_unit = c[1].text_input("责任单位", value=found["lead_unit"] or "", key="projects_lead_unit")
        contact = c[2].text_input("联系人", value=found["contact"] or "", key="projects_contact")
        if st.form_submit_button("保存", type="primary"):
            try:
                writes.set_project_leader(chosen["project_id"], leader, lead_unit, contact)
            except Refused as exc:
                st.error(str(exc))
            else:
                st.success("已保存：" + leaders_view.leader_line(
                    {"leader": leader.strip(), "lead_unit": lead_unit.strip(), "contact": contact.strip()}))
widgets.chart(charts.project_history_chart(hist.reports, hist.stage_changes, chosen["project_name"]),
              key="projects_history_chart")
left, right = st.columns(2)
with left:
    st.markdown("**建设状态变化**")
    widgets.table(hist.stage_changes.rename({"report_date": "报告期", "stage_from": "原状态", "stage_to": "新状态"}),
                 hide_index=True, key="projects_stages")
with right:
    st.markdown("**提出与销号的问题**")
    widgets.table(hist.problems.rename({"problem": "问题", "department": "建议解决部门", "raised_on": "首次提出",
                                       "last_seen": "最近报送", "closed_at": "销号时间", "closed_by": "销号人",
                                       "note": "说明"}),
                 hide_index=True, key="projects_problems")
st.markdown("**亮灯记录**（各报告期的开工灯、进度灯、入统灯与综合灯）")
light_hist = cached.light_history(chosen["project_id"])
red_ended = light_hist.filter(light_hist["light_change"].str.starts_with("由红转"))
for r in red_ended.iter_rows(named=True):
    st.caption(f"{r['report_date']}：{r['light_change']}（红灯解除）")
widgets.table(lights_view.shown(light_hist).rename({"report_date": "报告期", "light_change": "较上期", **lights.LIGHT_NAMES_ZH,
                                               "light_reason": "亮灯原因"}), hide_index=True, key="projects_lights")
if hist.versions is not None and hist.versions.height > hist.versions["report_date"].n_unique():
    st.markdown("**报告的各版本**（更正后原报告保留为历史版本；指标按现行版本计算）")
    widgets.table(hist.versions.select(list(history.VERSION_LABELS)).rename(history.VERSION_LABELS),
                  hide_index=True, key="projects_versions")
st.markdown("**历次报送**")
report_cols = labels.columns("report_date", "file_name", "stage", "ytd_completed", "annual_plan", "image_progress",
                             "not_started_reason", "problem")
widgets.table(
    hist.reports.select(list(report_cols)).rename(report_cols),
    hide_index=True, key="projects_reports",
)
