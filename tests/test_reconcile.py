"""清单核对: a department's list read by the project reader, kept (audited, whole or nothing) and
reconciled with the year's list: missing (漏报), unconfirmed (入统未确认), different, matched."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from pipelines import cli, metrics
from pipelines.ingest.reference_list import read_list
from pipelines.views import reconcile
from pipelines.vocab.findings import SubmissionRefused
from pipelines.warehouse import reference_lists
from tests.conftest import APP_DATES, app_rows, load_rows

AS_OF = APP_DATES[1]  # 2020-03-13: the fixture's four projects; 芯片封装测试基地项目 alone is 入统

# The 统计局's own form: a title, its own headers; 芯片封装测试基地项目 (ours: 入统) is not on it.
STATS_LIST = (
    "忻州市、太原市已入统工业项目清单\n"
    "序号,项目名称,所在市,所在县（市、区）,计划总投资（万元）,国民经济行业\n"
    "1,焦化余热发电技术改造项目,忻州市,忻府区,120000,石油、煤炭及其他燃料加工业\n"
    "2,新型建材生产线项目,太原市,迎泽区,9000,非金属矿物制品业\n"
)
# 行政审批局's 立项 list: 杂粮深加工 matched by name; a ≥ 500 万 project we never had; one under 500 万.
APPROVAL_LIST = (
    "项目名称,地市,县区,总投资（万元）\n"
    "杂粮深加工项目,忻州市,原平市,3000\n"
    "光伏组件扩产项目,忻州市,定襄县,6800\n"
    "小型农机维修点,忻州市,忻府区,120\n"
)


@pytest.fixture
def app_wh(wh):
    for week, d in enumerate(APP_DATES):
        load_rows(wh, d, app_rows(week), file_name=f"周报_{d:%m%d}.csv")
    return wh


def _store(wh, kind: str, text: str, name: str = "list.csv") -> None:
    raw = text.encode("utf-8")
    got = read_list(raw, name, AS_OF)
    assert got.ok, got.errors
    reference_lists.store_list(wh, "ana", kind, AS_OF, name, raw, got.frame)


def _outcomes(rec) -> dict[str, str]:
    return dict(rec.rows.select("project_name", "outcome").iter_rows())


def test_stats_list_missing_a_project_makes_its_stats_unconfirmed(app_wh):
    _store(app_wh, "入统", STATS_LIST)
    with app_wh.read() as con:
        rec = reconcile.reconcile(con, "入统", AS_OF)
        audit = con.execute("SELECT actor, action FROM audit_log WHERE action = 'reference_list'").fetchall()
    assert _outcomes(rec) == {
        "芯片封装测试基地项目": "unconfirmed",  # ours says 入统, the 统计局 does not list it
        "焦化余热发电技术改造项目": "different",  # on the list, ours not marked 入统
        "新型建材生产线项目": "different",  # 总投资 8000 here, 9000 on the list; not marked 入统 here
    }
    diffs = dict(rec.rows.select("project_name", "differences").iter_rows())
    assert "总投资：本系统 8,000 万元，清单 9,000 万元" in diffs["新型建材生产线项目"]
    assert rec.counts == {"missing": 0, "unconfirmed": 1, "different": 2, "matched": 0}
    assert audit == [("ana", "reference_list")]


def test_approval_list_lists_a_big_project_we_never_had_as_missing(app_wh):
    _store(app_wh, "立项", APPROVAL_LIST)
    with app_wh.read() as con:
        rec = reconcile.reconcile(con, "立项", AS_OF)
    assert _outcomes(rec) == {"光伏组件扩产项目": "missing", "杂粮深加工项目": "matched"}
    row = rec.rows.filter(rec.rows["outcome"] == "missing").row(0, named=True)
    assert (row["city_name"], row["county_name"], row["theirs_total"], row["source_row"]) == ("忻州市", "定襄县", 6800.0, 3)
    assert rec.skipped_small == 1  # 小型农机维修点, 120 万元: not for the 调度库
    assert "未核对" in reconcile.summary_zh(rec)


def test_name_matches_within_the_city_only(app_wh):
    # 杂粮深加工项目 is ours in 忻州市; the same name (full-width space, half-width digits aside) in 太原市 is
    # another project: missing, never matched across cities.
    text = "项目名称,地市,总投资（万元）\n杂粮深加工　项目,忻州市,3000\n杂粮深加工项目,太原市,3000\n"
    _store(app_wh, "签约", text)
    with app_wh.read() as con:
        rec = reconcile.reconcile(con, "签约", AS_OF)
    got = sorted(rec.rows.select("city_name", "outcome", "matched_by").iter_rows())
    assert got == [("太原市", "missing", None), ("忻州市", "matched", "项目名称（同地市）")]


def test_code_match_wins_over_name(wh):
    rows = app_rows(1)
    rows[3] = {**rows[3], "project_code": "2020-140981-13-03-000001"}
    load_rows(wh, AS_OF, rows)
    _store(wh, "签约", "项目代码,项目名称,地市,总投资（万元）\n2020-140981-13-03-000001,杂粮精深加工园区,忻州市,3000\n")
    with wh.read() as con:
        rec = reconcile.reconcile(con, "签约", AS_OF)
    assert rec.rows.select("project_name", "outcome", "matched_by", "project_id").rows() == [
        ("杂粮精深加工园区", "matched", "项目代码", "2020-140981-13-03-000001")]


def test_a_bad_list_stores_nothing(app_wh):
    text = "项目名称,地市,总投资（万元）\n甲项目,忻州市,3000\n乙项目,忻州市,三千\n"
    got = read_list(text.encode(), "bad.csv", AS_OF)
    assert not got.ok and any(e.row == 3 and e.column == "总投资（万元）" for e in got.errors)
    no_city = read_list("项目名称,总投资（万元）\n甲项目,3000\n".encode(), "nocity.csv", AS_OF)
    assert not no_city.ok and "缺少地区" in no_city.errors[0].message  # the reader's own check
    ok = read_list("项目名称,地市\n甲项目,忻州市\n".encode(), "x.csv", AS_OF)
    with pytest.raises(SubmissionRefused, match="清单类别「备案」无效"):
        reference_lists.store_list(app_wh, "ana", "备案", AS_OF, "x.csv", b"x", ok.frame)
    with app_wh.read() as con:
        assert reference_lists.list_in_force(con, "入统", AS_OF).is_empty()
        assert not reconcile.reconcile(con, "入统", AS_OF).loaded


def test_cli_loads_and_prints_json(app_wh, tmp_path: Path, capsys):
    f = tmp_path / "入统清单.csv"
    f.write_text(STATS_LIST, encoding="utf-8")
    code = cli.main(["--db", str(app_wh.path), "reconcile", "--kind", "入统", str(f), "--as-of", "2020-03-13",
                     "--json"])
    assert code == 0
    got = json.loads(capsys.readouterr().out)
    assert {(r["name"], r["city"], r["county"], r["outcome"]) for r in got} == {
        ("芯片封装测试基地项目", "太原市", "小店区", "unconfirmed"),
        ("焦化余热发电技术改造项目", "忻州市", "忻府区", "different"),
        ("新型建材生产线项目", "太原市", "迎泽区", "different"),
    }


def test_cli_refuses_a_bad_file_whole(app_wh, tmp_path: Path, capsys):
    f = tmp_path / "坏清单.csv"
    f.write_text("项目名称,地市,总投资（万元）\n甲项目,忻州市,3000\n乙项目,忻州市,三千\n", encoding="utf-8")
    assert cli.main(["--db", str(app_wh.path), "reconcile", "--kind", "立项", str(f), "--as-of", "2020-03-13"]) == 1
    assert "未导入" in capsys.readouterr().err
    with app_wh.read() as con:
        assert reference_lists.list_in_force(con, "立项", AS_OF).is_empty()


def test_page_view_and_briefing_section(app_wh):
    from pipelines.outputs import briefing

    _store(app_wh, "入统", STATS_LIST)
    view = metrics.View(AS_OF, 2020)
    with app_wh.read() as con:
        rec, loaded = reconcile.reconcile_page(con, view, "入统")
        data = briefing.collect(con, AS_OF, today=date(2020, 3, 20))
    shown = reconcile.shown(rec)
    assert shown.filter(shown["核对结果"] == "入统未确认（清单无）")["项目名称"].to_list() == ["芯片封装测试基地项目"]
    assert loaded.select("kind", "rows").rows() == [("入统", 2)]
    assert [(r["kind"], r["project_name"], r["outcome"]) for r in data.reconcile_rows] == [
        ("入统", "芯片封装测试基地项目", "unconfirmed")]
    html = briefing.render_html(data, [])
    assert "清单核对" in html and "入统未确认" in html and "芯片封装测试基地项目" in html
