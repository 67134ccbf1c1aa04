"""The dashboard through AppTest: every page renders, the sidebar filters change what renders."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines.warehouse.store import Submission, Warehouse
from tests.conftest import ROOT, app_rows
from ui.nav import PAGES

APP = str(ROOT / "app.py")


@pytest.fixture
def db_env(app_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KAIGONG_DB", str(app_db))
    return app_db


def run(page: str | None = None, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics_of(at: AppTest) -> dict[str, str]:
    """The first card of each label (the 全部项目 block comes first on the overview)."""
    out: dict[str, str] = {}
    for m in at.metric:
        out.setdefault(m.label, m.value)
    return out


def qp(at: AppTest, name: str) -> list[str]:
    v = at.query_params.get(name, [])
    return [v] if isinstance(v, str) else list(v)


def table(at: AppTest, column: str):
    """The first table that has the column (display-only tables have no widget key)."""
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with column {column!r}")


def charts_of(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_every_page_renders(db_env, spec):
    at = run(spec.path)
    assert [t.value for t in at.title] == [spec.marker]
    # every chart carries its footnote with the report date of the data
    for fig in charts_of(at):
        notes = [a.get("text", "") for a in fig["layout"].get("annotations", []) if a.get("name") == "footnote"]
        assert notes and "数据截至报告期 2020-03-13" in notes[0], fig["layout"].get("title")


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_every_multiselect_has_a_chinese_placeholder(db_env, spec):
    # without one, Streamlit draws its own 「Choose options」 in the empty box (the 督办单 page did)
    at = run(spec.path)
    assert at.multiselect, spec.path  # the sidebar's filters at least
    for box in at.multiselect:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in box.proto.placeholder), (spec.path, box.label)


def test_overview_headline_figures_and_changes(db_env):
    at = run()
    m = metrics_of(at)
    assert m["项目数（个）"] == "4"
    assert m["总投资（亿元）"] == "18.10"
    assert m["年度计划投资（亿元）"] == "5.90"
    assert m["本年累计完成投资（亿元）"] == "1.05"
    assert m["投资完成率"] == "17.8%"  # 10500 / 59000
    assert m["较序时进度（百分点）"] == "-2.1"  # 17.80 % − 73/366
    assert m["开（复）工率"] == "100.0%"
    assert m["入统率"] == "33.3%"
    start = next(x for x in at.metric if x.label == "开（复）工率")
    assert start.delta == "+33.3 个百分点"  # 2/3 on 03-06
    ytd = next(x for x in at.metric if x.label == "本年累计完成投资（亿元）")
    assert ytd.delta == "+0.55 亿元"  # 0.50 → 1.05
    # one block per tier present, in the contract's order
    assert [s.value for s in at.subheader] == ["全部项目", "省级双百·新兴", "省级双百·技改", "市级千项"]


def test_tier_filter_changes_the_figures(db_env):
    at = run()
    at.multiselect(key="sidebar_tier").set_value(["省级双百·新兴"]).run()
    m = metrics_of(at)
    assert (m["项目数（个）"], m["本年累计完成投资（亿元）"], m["投资完成率"]) == ("1", "0.40", "20.0%")
    assert qp(at, "tier") == ["省级双百·新兴"]


def test_city_filter_limits_counties_and_figures(db_env):
    at = run()
    at.multiselect(key="sidebar_city").set_value(["140900"]).run()
    m = metrics_of(at)
    assert (m["项目数（个）"], m["总投资（亿元）"], m["投资完成率"]) == ("2", "12.30", "18.2%")  # 6000 / 33000
    county = at.multiselect(key="sidebar_county")
    assert county.options and all(o.startswith("忻州市·") for o in county.options)
    at.multiselect(key="sidebar_county").set_value(["140902"]).run()
    assert metrics_of(at)["项目数（个）"] == "1"
    # an empty filter is 全部: no 「Select all」 entry in any sidebar filter (select_all 0 = never shown)
    assert [m.proto.select_all for m in at.sidebar.multiselect] == [0] * len(at.sidebar.multiselect)


def test_report_date_shows_that_week(db_env):
    at = run()
    at.selectbox(key="sidebar_date").set_value(date(2020, 3, 6)).run()
    m = metrics_of(at)
    assert (m["本年累计完成投资（亿元）"], m["开（复）工率"]) == ("0.50", "66.7%")
    assert qp(at, "date") == ["2020-03-06"]


def test_url_state_opens_the_same_view_and_ignores_bad_values(db_env):
    at = run(city="忻州市", date="2020-13-99", stage="施工中")
    warnings = " ".join(w.value for w in at.sidebar.warning)
    assert "报告期「2020-13-99」不存在" in warnings and "施工中" in warnings
    assert metrics_of(at)["项目数（个）"] == "2"
    assert at.multiselect(key="sidebar_city").value == ["140900"]
    assert qp(at, "city") == ["140900"] and qp(at, "date") == ["2020-03-13"]
    assert "stage" not in at.query_params


def test_starts_page_lists_overdue_on_the_earlier_week(db_env):
    at = run("pages/starts.py", date="2020-03-06")
    assert any(s.value.startswith("逾期未开工项目（1 个）") for s in at.subheader)
    overdue = table(at, "未开复工原因")
    assert overdue["项目名称"].to_list() == ["新型建材生产线项目"]
    assert overdue["未开复工原因"].to_list() == ["环评手续办理中"]
    assert any(s.value == "下月应开工项目（2020-03-06 至 2020-04-06，1 个）" for s in at.subheader)
    at = run("pages/starts.py")  # 03-13: the 04-01 start is within the next month
    upcoming = table(at, "计划开（复）工")
    assert upcoming["项目名称"].to_list() == ["杂粮深加工项目"]


def test_completion_page_bars_and_lights(db_env):
    at = run("pages/completion.py")
    by_title = {f["layout"]["title"]["text"]: f for f in charts_of(at)}
    city = by_title["各市投资完成率（竖线为序时进度）"]
    bars = city["data"][0]
    assert bars["y"] == ["忻州市", "太原市"]  # drawn bottom-up: 太原 first in the contract's order
    assert [round(x, 1) for x in bars["x"]] == [18.2, 17.3]  # 6000/33000, 4500/26000
    assert bars["marker"]["color"] == ["#2e7d32", "#2e7d32"]  # both within 10 pp of 序时进度: green
    draggers = table(at, "滞后额（万元）")
    assert "杂粮深加工项目" in draggers["项目名称"].to_list()


def test_regions_ranking_follows_the_weights(db_env):
    at = run("pages/regions.py")
    ranking = table(at, "综合得分")
    assert ranking["地市"].to_list()[0] == "忻州市"  # higher completion rate, equal start/report rates
    at.number_input(key="regions_w_completion_rate").set_value(0.0).run()
    at.number_input(key="regions_w_schedule_gap").set_value(0.0).run()
    ranking = table(at, "综合得分")
    assert ranking["综合得分"].to_list() == [100.0, 100.0]  # ties when only equal criteria count


def test_regions_drill_into_a_city(db_env):
    at = run("pages/regions.py", city="140100")
    detail = table(at, "县区")
    assert detail["县区"].to_list() == ["小店区", "迎泽区"]


def test_problems_page_lists_open_problems_with_age(db_env):
    at = run("pages/problems.py")
    t = table(at, "已挂天数")
    assert set(t["存在问题"].to_list()) == {"电力接入需协调", "用地指标未落实"}
    assert t["已挂天数"].to_list() == [7, 7]  # first raised 03-06, as of 03-13


def test_empty_database_says_what_to_do(tmp_path, monkeypatch):
    import pipelines.demo.load

    # no demo year on first start: the database stays empty
    monkeypatch.setattr(pipelines.demo.load, "ensure_demo", lambda wh: wh.init())
    monkeypatch.setenv("KAIGONG_DB", str(tmp_path / "empty.duckdb"))
    for spec in PAGES:
        at = run(spec.path)
        if spec.url_path not in ("upload", "briefing"):
            assert any("暂无数据" in i.value for i in at.info), spec.path


def test_demo_data_is_badged_on_every_page(tmp_path, monkeypatch):
    wh = Warehouse(tmp_path / "demo.duckdb")
    wh.init()
    import polars as pl

    frame = pl.DataFrame(app_rows(0), infer_schema_length=None)
    wh.load([Submission("演示.csv", frame, date(2020, 3, 6), raw=b"demo",
                        present_fields=tuple(frame.columns))], is_demo=True)
    monkeypatch.setenv("KAIGONG_DB", str(wh.path))
    for spec in PAGES:
        at = run(spec.path)
        assert any("演示数据" in w.value for w in at.sidebar.warning), spec.path


def test_url_paths_never_match_a_page_file():
    # see ui/nav.py: a matching stem would run the page without app.py on a fresh server
    assert all(Path(p.path).stem != p.url_path for p in PAGES)
    assert len({p.url_path for p in PAGES}) == len(PAGES)


def test_rerun_keeps_routing_through_app(db_env):
    at = run("pages/starts.py")
    at.run()  # a plain rerun stays on the page and still draws the sidebar
    assert [t.value for t in at.title] == ["开（复）工情况"]
    assert at.selectbox(key="sidebar_date").value == date(2020, 3, 13)


# ---- sign-in and roles -----------------------------------------------------------------------

@pytest.fixture
def users(db_env, tmp_path, monkeypatch) -> Path:
    from pipelines import auth

    path = tmp_path / "users.json"
    auth.add_user("xz", "xz-pass-word", "报送员", "忻州市", path=path)
    auth.add_user("ana", "ana-pass-word", "分析员", path=path)
    monkeypatch.setenv("KAIGONG_USERS", str(path))
    return path


def sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="signin_name").input(name)
    at.text_input(key="signin_password").input(password)
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_local_mode_says_so(db_env):
    at = run()
    assert any("本地模式：未启用登录" in c.value for c in at.sidebar.caption)


def test_sign_in_form_before_any_page(users):
    for spec in (None, "pages/projects.py"):
        at = run()
        if spec:
            at.switch_page(spec).run()
        assert at.text_input(key="signin_name") is not None
        assert not at.metric and not at.dataframe and not at.get("plotly_chart")
        assert not at.sidebar.multiselect  # no filters either


def test_wrong_password_shows_an_error(users):
    at = sign_in(run(), "xz", "not-the-password")
    assert any("用户名或密码不正确" in e.value for e in at.error)
    assert not at.metric


def test_submitter_sees_only_their_city(users):
    at = sign_in(run(), "xz", "xz-pass-word")
    m = metrics_of(at)
    assert (m["项目数（个）"], m["总投资（亿元）"]) == ("2", "12.30")  # 忻州市 only
    assert at.multiselect(key="sidebar_city").options == ["忻州市"]
    assert any("退出登录" in b.label for b in at.sidebar.button)
    at.switch_page("pages/projects.py").run()
    assert set(table(at, "项目名称")["地市"].to_list()) == {"忻州市"}
    # a link naming another city does not widen the view
    at2 = run(city="140100")
    at2 = sign_in(at2, "xz", "xz-pass-word")
    assert metrics_of(at2)["项目数（个）"] == "2"


def test_submitter_can_upload_analyst_cannot(users):
    at = sign_in(run(), "xz", "xz-pass-word")
    at.switch_page("pages/submissions.py").run()
    assert at.get("file_uploader")
    at = sign_in(run(), "ana", "ana-pass-word")
    at.switch_page("pages/submissions.py").run()
    assert not at.exception
    assert not at.get("file_uploader")
    assert any("不能上传" in i.value for i in at.info)


def test_only_export_roles_get_the_briefing(users):
    at = sign_in(run(), "xz", "xz-pass-word")
    at.switch_page("pages/briefing.py").run()
    assert not any(b.label == "生成简报" for b in at.button) and any("不能导出" in i.value for i in at.info)
    at = sign_in(run(), "ana", "ana-pass-word")
    at.switch_page("pages/briefing.py").run()
    assert any(b.label == "生成简报" for b in at.button)


def test_sign_out_returns_to_the_form(users):
    at = sign_in(run(), "ana", "ana-pass-word")
    assert metrics_of(at)
    at.sidebar.button(key="session_sign_out").click().run()
    assert not at.metric and at.text_input(key="signin_name") is not None


# ---- hostile user text ---------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>项目"
IMG = "<img src=x onerror=alert(1)>"
FORMULA = "=cmd|' /C calc'!A0"


@pytest.fixture
def hostile_db(tmp_path, monkeypatch) -> Path:
    from tests.conftest import load_rows

    wh = Warehouse(tmp_path / "hostile.duckdb")
    wh.init()
    for week, d in enumerate((date(2020, 3, 6), date(2020, 3, 13))):
        rows = app_rows(week)
        rows[0] = {**rows[0], "project_name": SCRIPT, "problem": IMG, "industry_name": "[点我](javascript:alert(1))"}
        rows[2] = {**rows[2], "project_name": FORMULA, "problem": "**粗体** :red[红字] $x$"}
        load_rows(wh, d, rows, file_name=f"<b>周报</b>_{d:%m%d}.csv")
    monkeypatch.setenv("KAIGONG_DB", str(wh.path))
    return wh.path


def _texts(at: AppTest) -> list[tuple[str, str, bool]]:
    out = []
    for kind in ("markdown", "caption", "subheader", "title", "header", "info", "warning", "success", "error"):
        for el in at.get(kind):
            out.append((kind, str(el.value), bool(getattr(el.proto, "allow_html", False))))
    for el in at.get("html"):
        out.append(("html", str(getattr(el.proto, "body", "")), True))
    return out


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_user_text_never_runs(hostile_db, spec):
    at = run(spec.path)
    for kind, text, html in _texts(at):
        assert "<script>" not in text and "onerror" not in text, (kind, text)
        assert not (html and "alert" in text), (kind, text)


def test_ledger_download_is_neutralised(hostile_db):
    from pipelines.metrics import View
    from pipelines.outputs.csv_safe import to_csv_bytes
    from pipelines.views import ledger

    at = run("pages/projects.py")
    assert any(b.proto.label == "下载台账（CSV）" for b in at.get("download_button"))
    with Warehouse(hostile_db).read() as con:
        frame = ledger.ledger(con, View(as_of=date(2020, 3, 13), year=2020))
    text = to_csv_bytes(frame).decode("utf-8-sig")
    assert "'=cmd|' /C calc'!A0" in text and "\n=cmd" not in text and ",=cmd" not in text


def test_repeated_wrong_passwords_lock_the_sign_in(users, monkeypatch):
    from ui import web_auth

    monkeypatch.setenv("KAIGONG_LOGIN_MAX_FAILURES", "3")
    web_auth.reset_throttle()  # one throttle per process (shared with the /signin route): start this test from a fresh one
    try:
        for _ in range(3):
            at = sign_in(run(), "ana", "wrong-pass-word")  # a new browser session each time
            assert any("用户名或密码不正确" in e.value for e in at.error)
        at = sign_in(run(), "ana", "ana-pass-word")
        assert any("登录失败次数过多" in e.value for e in at.error)
        assert not at.metric
        assert metrics_of(sign_in(run(), "xz", "xz-pass-word"))  # another user is not locked
    finally:
        web_auth.reset_throttle()


def test_the_submission_log_speaks_chinese_and_leaves_missing_values_empty(db_env):
    at = run("pages/submissions.py")
    log = table(at, "版式")
    assert list(log.columns) == ["编号", "文件", "类型", "版式", "项目数", "报告期", "频度", "地区", "层级",
                                 "导入时间", "导入人", "演示", "变动提示"]
    assert set(log["类型"]) == {"项目报送"} and set(log["版式"]) == {"标准填报模板"}, log[["类型", "版式"]]
    assert set(log["频度"]) == {"周报"}
    shown = next(df for df in at.dataframe if "版式" in df.value.columns)
    assert shown.proto.placeholder == ""  # Streamlit writes 「None」 unless told otherwise


def test_the_upload_preview_heads_its_columns_in_chinese():
    from pipelines.ingest.prepare import layout_zh, prepare, preview_rows
    from pipelines.ingest.result import ReadOptions
    from pipelines.ingest.template import template_frame

    p = prepare(template_frame().write_csv().encode("utf-8-sig"), "模板.csv", ReadOptions(report_date=date(2020, 3, 20)))
    assert p.ok and p.submission is not None, [e.zh() for e in p.errors]
    shown = preview_rows(p.submission)
    assert shown.columns == ["行号", "项目名称", "地市", "县区", "层级", "建设状态", "总投资（万元）",
                             "本年计划投资（万元）", "本年累计完成投资（万元）"]
    assert shown["行号"].to_list() == [2, 3] and shown["地市"].to_list() == ["太原市", "忻州市"]
    assert layout_zh(p.layout) == "标准填报模板" and layout_zh("new_form") == "new_form"


def test_ledger_pages_orders_and_searches_company(db_env, monkeypatch):
    from pipelines.views import ledger

    monkeypatch.setattr(ledger, "LEDGER_PAGE_SIZE", 3)  # the fixture's 4 projects on 2 pages

    def names(at: AppTest) -> list[str]:
        return table(at, "项目名称")["项目名称"].to_list()

    at = run("pages/projects.py")
    assert names(at) == ["芯片封装测试基地项目", "新型建材生产线项目", "焦化余热发电技术改造项目"]  # city, county
    assert table(at, "项目名称")["企业名称"].to_list()[0] == "潞安微电子有限公司"
    at.selectbox(key="projects_sort").select("按总投资从高到低").run()
    assert names(at) == ["焦化余热发电技术改造项目", "芯片封装测试基地项目", "新型建材生产线项目"]
    (page,) = [n for n in at.number_input if n.key.startswith("projects_page")]
    assert page.label == "页码（共 2 页，每页 3 个）"
    page.set_value(2).run()
    assert not at.exception
    assert names(at) == ["杂粮深加工项目"]
    assert any("共 4 个项目" in c.value and "本页为第 4–4 个" in c.value for c in at.caption)
    at.text_input(key="projects_search").input("潞安").run()  # the company, not the name
    assert names(at) == ["芯片封装测试基地项目"]
    assert not [n for n in at.number_input if n.key.startswith("projects_page")]
    assert any(c.value.startswith("共 1 个项目") for c in at.caption)


def test_ledger_page_is_cached_without_the_whole_ledger_and_the_csv_holds_every_match(db_env):
    """A rerun of the ledger page copies one cached page out (nationally the whole 200,000-row ledger
    was copied on every rerun, ~0.15 s); the CSV, built on click, holds every matching project in order."""
    from pipelines.metrics import Filters, View
    from ui import cached

    view = View(as_of=date(2020, 3, 13), year=2020, filters=Filters())
    shown = cached.ledger_page(view, "", "按总投资从高到低", 1, 3)
    assert shown.rows["project_name"].to_list() == ["焦化余热发电技术改造项目", "芯片封装测试基地项目", "新型建材生产线项目"]
    assert (shown.total, shown.pages, shown.matched.height) == (4, 2, 0)  # the matched rows are not carried
    lines = cached.ledger_csv(view, "", "按总投资从高到低").decode("utf-8-sig").splitlines()
    assert [line.split(",")[0] for line in lines] == [
        "项目名称", "焦化余热发电技术改造项目", "芯片封装测试基地项目", "新型建材生产线项目", "杂粮深加工项目"]
    assert [line.split(",")[0] for line in cached.ledger_csv(view, "潞安", "按地市、县区、名称")
            .decode("utf-8-sig").splitlines()] == ["项目名称", "芯片封装测试基地项目"]
