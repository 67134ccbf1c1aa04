"""The 亮灯清单 page, the ledger's lights and the 数据报送 page's 本期变动, through AppTest.

The app's fixture at 2020-03-13 (序时进度 73/366 = 19.95 %): 芯片 and 焦化 are green (20 % done, 入统 or
started less than a month ago); 新型建材 is yellow (500/6000 = 8.3 %, 11.6 points behind); 杂粮 is
yellow (0/3000, 19.9 points behind; not yet due to start). Both were yellow on 03-06 too.
"""

from __future__ import annotations

from datetime import date

from tests.conftest import app_rows, load_rows
from tests.test_app import db_env, metrics_of, run, table  # noqa: F401 (db_env is a fixture)


def test_lit_list_page(db_env):  # noqa: F811
    at = run("pages/lights.py")
    assert [t.value for t in at.title] == ["亮灯清单"]
    m = metrics_of(at)
    assert (m["红灯项目"], m["黄灯项目"], m["绿灯项目"]) == ("0 个", "2 个", "2 个")
    lit = table(at, "亮灯原因")
    rows = {r["项目名称"]: r for r in lit.to_dict("records")}
    assert set(rows) == {"新型建材生产线项目", "杂粮深加工项目"}
    assert rows["新型建材生产线项目"]["综合灯"] == "黄灯"
    assert rows["新型建材生产线项目"]["进度灯"] == "黄灯" and rows["新型建材生产线项目"]["开工灯"] == "绿灯"
    assert rows["新型建材生产线项目"]["亮灯原因"] == "投资完成率8.3%，滞后序时进度11.6个百分点"
    assert rows["新型建材生产线项目"]["较上期"] == "持续黄灯"
    assert str(rows["杂粮深加工项目"]["亮灯起始报告期"])[:10] == "2020-03-06"
    city = table(at, "地市")
    assert city.to_dict("records") == [{"地市": "太原市", "红灯": 0, "黄灯": 1, "绿灯": 1},
                               {"地市": "忻州市", "红灯": 0, "黄灯": 1, "绿灯": 1}]
    assert any("开工灯：" in c.value and "入统灯：" in c.value for c in at.caption)


def test_a_long_lit_list_sends_its_first_rows_and_downloads_whole(db_env, monkeypatch):  # noqa: F811
    """Nationally the list held ~47,000 projects (17 MB to the browser on every view): past
    widgets.TABLE_ROWS it shows that many, says how many, and offers them all as CSV."""
    from ui import widgets

    monkeypatch.setattr(widgets, "TABLE_ROWS", 1)
    at = run("pages/lights.py")
    lit = table(at, "亮灯原因")
    assert len(lit) == 1
    assert "共 2 个，表中列出前 1 个；完整名单请下载 CSV。" in [c.value for c in at.caption]
    [button] = [b for b in at.get("download_button") if b.key == "lights_list_csv"]
    assert button.proto.label == "下载完整名单（CSV）"


def test_lit_list_on_the_earlier_week_says_why(db_env):  # noqa: F811
    at = run("pages/lights.py", date="2020-03-06")
    rows = {r["项目名称"]: r for r in table(at, "亮灯原因").to_dict("records")}
    assert rows["新型建材生产线项目"]["开工灯"] == "黄灯"
    assert rows["新型建材生产线项目"]["亮灯原因"].startswith("计划2020-03-01开（复）工，截至2020-03-06未开工；")
    assert rows["新型建材生产线项目"]["较上期"] == "新亮黄灯"


def test_ledger_has_the_lights(db_env):  # noqa: F811
    at = run("pages/projects.py")
    ledger = table(at, "综合灯")
    assert dict(zip(ledger["项目名称"], ledger["综合灯"], strict=True)) == {
        "芯片封装测试基地项目": "绿灯", "新型建材生产线项目": "黄灯", "焦化余热发电技术改造项目": "绿灯",
        "杂粮深加工项目": "黄灯"}


def test_submissions_page_shows_the_period_changes(tmp_path, monkeypatch):
    from pipelines.warehouse.store import Warehouse

    wh = Warehouse(tmp_path / "c.duckdb")
    wh.init()
    for week, d in enumerate((date(2020, 3, 6), date(2020, 3, 13))):
        rows = app_rows(week)
        if week:  # the second week lowers 芯片's 本年累计 (2000 → 1500) and leaves 杂粮 out
            rows = [{**r, "ytd_completed": 1500.0} if r["project_name"].startswith("芯片") else r
                    for r in rows if not r["project_name"].startswith("杂粮")]
        load_rows(wh, d, rows, file_name=f"周报_{d:%m%d}.csv")
    monkeypatch.setenv("KAIGONG_DB", str(wh.path))
    at = run("pages/submissions.py")
    assert any("变动 2 条" in c.value for c in at.caption), [c.value for c in at.caption]
    changes = table(at, "原值").to_dict("records")
    got = {(r["项目名称"], r["变动"], r["原值"], r["新值"]) for r in changes}
    assert got == {("芯片封装测试基地项目", "本年累计完成投资减少", "2000", "1500"),
                   ("杂粮深加工项目", "本期漏报（上期报送、本期文件中没有）", "已报送", "未报送")}
    regions = table(at, "本年累计完成投资减少").to_dict("records")
    assert {r["地市"]: r["本年累计完成投资减少"] for r in regions} == {"太原市": 1, "忻州市": 0}
    log = table(at, "变动提示")
    assert log["变动提示"].to_list()[0] == 2
