"""简报: a PDF, PNG or Word briefing for the current filters, the same as `kaigong brief`."""

import streamlit as st

from pipelines.outputs.briefing import FORMATS
from pipelines.outputs.png import ExportUnavailable
from pipelines.views import issued as issued_view
from pipelines.views.options import filter_lines
from ui import cached, exports, fmt, session, widgets

widgets.header("简报", "按当前筛选条件生成 A4 简报（PDF、PNG，或可编辑的 Word 公文格式）：通报语句、主要指标、图表、滞后地区、逾期未开工项目和待协调问题。")
view = widgets.require_view()
st.markdown("\n".join(f"- {label}：{fmt.md(value)}" for label, value in filter_lines(view.year, view.as_of, view.filters)))
if not session.current_user().can("export"):
    st.info(f"当前角色（{session.current_user().role}）不能导出简报。", icon=":material/lock:")
    st.stop()
chosen = st.radio("格式", list(FORMATS), format_func=lambda k: FORMATS[k][0], horizontal=True, key="briefing_format")
problem = exports.briefing_unavailable(chosen)
if problem is not None:  # said before the click, in place of the download
    st.error(f"不能生成简报：{fmt.md(problem)}", icon=":material/error:")
    st.session_state.pop("briefing_payload", None)
    st.stop()
if st.button("生成简报", type="primary", key="briefing_build", icon=":material/description:"):
    failed = None
    with st.status("正在生成简报……", expanded=False) as status:
        try:
            payload, number = exports.briefing(view, chosen, status.write)
        except ExportUnavailable as exc:  # a browser that failed or hung while rendering
            failed = str(exc)
            status.update(label="未能生成简报", state="error")
        else:
            status.update(label="简报已生成", state="complete")
    if failed is not None:
        st.error(f"不能生成简报：{fmt.md(failed)}", icon=":material/error:")
        st.session_state.pop("briefing_payload", None)
        st.stop()
    st.session_state["briefing_payload"] = (chosen, view.as_of, payload)
    st.session_state["briefing_number"] = number
if "briefing_payload" in st.session_state:
    kind, as_of, payload = st.session_state["briefing_payload"]
    label, mime = FORMATS[kind]
    st.download_button(
        "下载 Word" if kind == "docx" else f"下载简报（{label}）", payload, file_name=f"简报_{as_of}.{kind}",
        mime=mime, key="briefing_download",
        icon=":material/download:",
    )
    if "briefing_number" in st.session_state:
        st.caption(f"已登记为第 {st.session_state['briefing_number']} 号简报（数字、参数、文件校验和发出人均已记录，"
                   f"可用 `kaigong brief --reissue {st.session_state['briefing_number']}` 原样重印）。")
    if kind == "png":
        st.image(payload, caption="简报预览")

st.subheader("已发简报")
sent = cached.issued_briefings(50)
if sent.is_empty():
    st.caption("尚无已发简报。")
else:
    widgets.table(issued_view.shown(sent), hide_index=True, key="briefing_issued")

pushed = cached.briefing_deliveries(50)
if not pushed.is_empty():  # kaigong notify's scheduled pushes (docs/briefings.md)
    st.subheader("定时推送记录")
    st.caption("每个报告期、每个接收方只推送一次；失败的在下次定时运行时重试。")
    widgets.table(pushed, hide_index=True, key="briefing_deliveries")
