"""数据报送: drag files in, preview every row's errors and warnings, load them all in one transaction."""


import streamlit as st

from pipelines.outputs import charts
from pipelines.views import changes as changes_view
from pipelines.views import corrections as corrections_view
from pipelines.views import overdue_reports, review_status, submissions
from pipelines.vocab import schema
from pipelines.vocab.findings import Refused, SubmissionRefused
from ui import cached, fill, fmt, session, state, uploads, widgets, writes

widgets.header("数据报送", "上传周报表、台账或目标任务分解表（CSV、XLSX、XLS）；先预览，确认无误后一次性导入。")

user = session.current_user()
if not user.can("upload"):
    st.info(f"当前角色（{user.role}）不能上传数据，只能查看报送情况。", icon=":material/lock:")
else:
    uploads.warm()  # the reading child starts before the first file arrives
    st.download_button("下载标准填报模板（CSV）", uploads.template_bytes(), file_name="开工_标准填报模板.csv",
                       mime="text/csv", key="submissions_template", icon=":material/download:")
    fill.download(user, fill.as_of())  # a 报送员: their unit's 本期填报表, prefilled
    with st.expander("可选：报告期、报送周期、层级、地区（文件中没有或读得不对时指定）", expanded=False):
        c = st.columns(4)
        report_date = c[0].date_input("报告期截止日", value=None, key="submissions_date", format="YYYY-MM-DD")
        frequency = c[1].selectbox("报送周期", [None, *schema.FREQUENCIES], key="submissions_frequency",
                                   format_func=lambda f: "（按文件判断）" if f is None else schema.FREQUENCY_ZH[f])
        tier = c[2].selectbox("层级", [None, *schema.TIERS], key="submissions_tier",
                              format_func=lambda t: "（按文件）" if t is None else t)
        region = c[3].text_input("地区（地市或县区）", key="submissions_region", placeholder="如：忻州市")
    files = st.file_uploader(uploads.uploader_label(), type=list(uploads.UPLOAD_TYPES), accept_multiple_files=True,
                             key=f"submissions_files_{st.session_state.get('submissions_round', 0)}")
    st.caption(uploads.UPLOADER_WORDS)
    prepared = [uploads.prepare(f.name, f.getvalue(), report_date, tier, region or None, frequency)
                for f in files or []]
    for p in prepared:
        with st.container(border=True, key=f"submissions_preview_{prepared.index(p)}"):
            uploads.preview(p)
    reviewed = uploads.needs_review()
    if reviewed:
        st.caption("本级报送需审核：提交后为「待审核」，审核员通过后才计入各项指标；被退回时在下方「报送审核状态」中查看原因。")
    if prepared:
        ok = all(p.ok for p in prepared)
        verb = "提交审核" if reviewed else "确认导入"
        questions = [(p.file_name, q) for p in prepared if p.ok for q in p.questions]
        if questions:
            st.warning("以下读取是推断的，导入前请核对：\n" + "\n".join(f"- {fmt.md(f)}：{fmt.md(q)}" for f, q in questions),
                       icon=":material/help:")
            confirmed = st.checkbox("我已核对以上读取，按此导入（下次同一表式将按此读取）", key="submissions_confirm_reading")
        else:
            confirmed = True
        if st.button(f"{verb} {len(prepared)} 个文件", type="primary", disabled=not ok or not confirmed,
                     key="submissions_commit"):
            try:
                outcomes = uploads.commit(prepared)
            except SubmissionRefused as exc:
                st.error(f"未导入：共 {len(exc.errors)} 处错误，所有文件均未导入。")
                st.text("\n".join(e.zh() for e in exc.errors[:200]))
            else:
                st.session_state["submissions_done"] = [o.summary_zh() for o in outcomes]
                st.session_state["submissions_round"] = st.session_state.get("submissions_round", 0) + 1
                st.rerun()
        if not ok:
            st.caption("有文件存在错误：请修改后重新上传（整批文件要么全部导入，要么都不导入）。")
if user.can("upload") and user.unit_code() is not None:
    st.subheader("在线填报")
    fill.grid(user, fill.as_of())
for line in st.session_state.pop("submissions_done", []):
    st.success(line, icon=":material/check_circle:")

if user.can("review"):
    st.subheader("待审核报送")
    waiting = cached.review_awaiting(user)
    if waiting.is_empty():
        st.caption("没有待审核的报送。")
    else:
        widgets.table(review_status.shown(waiting), hide_index=True, key="submissions_review_list")
        rows = {r["pending_id"]: r for r in waiting.iter_rows(named=True)}
        pid = st.selectbox("审核一次报送", list(rows), key="submissions_review_pick",
                           format_func=lambda i: review_status.label(rows[i]))
        with st.container(border=True, key="submissions_review_box"):
            uploads.preview_pending(cached.review_pending(pid))
            reason = st.text_input("退回原因（退回时必填）", key="submissions_review_reason")
            buttons = st.columns([1, 1, 4])
            approve = buttons[0].button("通过", type="primary", key="submissions_approve", icon=":material/check:")
            send_back = buttons[1].button("退回", key="submissions_send_back", icon=":material/undo:")
            if approve or send_back:
                try:
                    if approve:
                        outcome = writes.approve(pid)
                        done = f"第 {pid} 号报送审核通过：" + outcome.summary_zh()
                    else:
                        writes.send_back(pid, reason)
                        done = f"第 {pid} 号报送已退回，报送员将看到退回原因。"
                except (Refused, SubmissionRefused) as exc:
                    st.error(str(exc) if isinstance(exc, Refused) else
                             "未导入：" + "；".join(e.zh() for e in exc.errors[:20]))
                else:
                    st.session_state["submissions_done"] = [done]
                    st.rerun()

# A 报送员 sees their own submissions' review status; roles that view everything see all.
statuses = cached.review_listing(submitted_by=None if user.can("view_all") else user.name, limit=200)
if not statuses.is_empty():
    st.subheader("报送审核状态")
    with st.container(key="submissions_review_latest"):
        for r in statuses.head(5).iter_rows(named=True):
            line = review_status.status_line(r)
            if r["status"] == "已退回":
                st.warning(line, icon=":material/undo:")
            else:
                st.markdown("- " + fmt.md(line))
    widgets.table(review_status.shown(statuses), hide_index=True, key="submissions_review_status")

view = state.current_view()
if view is not None:
    st.subheader("各市报送情况（漏报）")
    matrix = cached.reporting_matrix(view)
    widgets.chart(charts.reporting_heatmap(matrix, view.as_of), key="submissions_heatmap", filter_param="city")
    missing = submissions.missing_reports(matrix, view.as_of)
    if missing.is_empty():
        st.caption(f"报告期 {view.as_of}：各市均已报送。")
    else:
        st.warning(f"报告期 {view.as_of} 未报送：{'、'.join(missing['group'].to_list())}")

    st.subheader("催报：本期未报送的单位")
    late = cached.overdue_reports(view.as_of, filters=view.filters)
    if late.is_empty():
        st.caption(f"报告期 {view.as_of}：应报送的单位均已报送。")
    else:
        st.caption(f"报告期 {view.as_of}：{late.height} 个单位有应报送项目但一个也未报送（联系人取自其最近一次报送）。")
        widgets.table(overdue_reports.shown(late), hide_index=True, key="submissions_overdue_reports")

    st.subheader("本期变动（与上期相比）")
    period = cached.changes_for_period(view.as_of, (*view.filters.cities, *view.filters.counties))
    listed = period.filter(period["kind"] != "new")
    if period.is_empty():
        st.caption(f"报告期 {view.as_of}：没有与上期相比的变动。")
    else:
        st.caption(f"报告期 {period['report_date'][0]}：变动 {listed.height} 条，新增项目 "
                   f"{period.height - listed.height} 个（累计投资减少、状态倒退、开工时间修改、投资变动超过 "
                   f"{changes_view.change_share():.0%}、漏报；仅作提示）。")
        widgets.table(changes_view.by_region(period), hide_index=True, key="submissions_changes_regions")
        if listed.height:
            widgets.table(changes_view.shown(listed), hide_index=True, key="submissions_changes_list")

    if user.can("review"):  # 审核员, 管理员
        st.subheader("更正说明：上期简报发出后对较早报告期的更正")
        fixed = cached.corrections(view.as_of, view.filters)
        if fixed.since_issue is None:
            st.caption(f"报告期 {view.as_of} 之前尚无已发简报。")
        elif not fixed.rows:
            st.caption(f"第 {fixed.since_issue} 号简报发出后，没有对其报告期及以前数据的更正。")
        else:
            st.caption(f"第 {fixed.since_issue} 号简报发出后的更正 {len(fixed.rows)} 条（下期简报的「更正说明」将列出）。")
            widgets.table(corrections_view.shown(fixed), hide_index=True, key="submissions_corrections")
            for line in fixed.effects:
                st.markdown("- " + fmt.md(line))

st.subheader("报送记录")
# A 报送员 sees the submissions they made themselves; roles that view everything see all.
log = cached.submission_log(200, None if user.can("view_all") else user.name)
if log.is_empty():
    st.caption("还没有报送记录。")
else:
    counts = cached.changes_counts(log["submission_id"].to_list())
    widgets.table(
        submissions.submission_log_shown(changes_view.log_with_counts(log, counts)).rename({"changes": "变动提示"}),
        hide_index=True, key="submissions_log",
    )
    with_changes = [sid for sid in log["submission_id"].to_list() if counts.get(sid)]
    if with_changes:
        sid = st.selectbox("查看一次报送的变动", with_changes, key="submissions_changes_pick",
                           format_func=lambda i: f"第 {i} 号报送（{counts[i]} 条变动）")
        found = cached.changes_for_submission(sid)
        widgets.table(changes_view.shown(found.filter(found["kind"] != "new")), hide_index=True,
                      key="submissions_changes_of")
