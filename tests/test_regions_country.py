"""Regions of the whole country (issue 25): every GB/T 2260 division, former names mapped to the current
division, shared county names resolved within the file's city, region heading rows, and the map of any
province. Test files are built here (xlsxwriter / CSV in tmp_path)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from pipelines.ingest import headers as H
from pipelines.ingest.read import read_submission
from pipelines.ingest.result import ReadOptions, ReadResult
from pipelines.outputs import charts, geo
from pipelines.views.regions import region_points
from pipelines.vocab.reference import (
    REFERENCE_DIR,
    county_candidates,
    find_city,
    find_county,
    find_region,
    region_by_code,
    region_error,
    regions,
)

# ---- the reference ---------------------------------------------------------------------------------


def test_every_province_city_and_county_of_the_country():
    levels = {lv: sum(1 for r in regions() if r.level == lv) for lv in ("province", "city", "county")}
    assert levels["province"] == 34
    assert 330 <= levels["city"] <= 380 and 2800 <= levels["county"] <= 2900
    assert find_region("西安市").code == "610100"  # type: ignore[union-attr]
    assert find_region("西安").code == "610100"  # type: ignore[union-attr]
    assert find_region("雁塔区").code == "610113"  # type: ignore[union-attr]
    assert find_region("雁塔").code == "610113"  # type: ignore[union-attr]
    assert find_region("610113").name == "雁塔区"  # type: ignore[union-attr]
    assert find_city("恩施州").code == "422800"  # type: ignore[union-attr]  # 恩施土家族苗族自治州
    assert find_city("北京").code == "110100"  # type: ignore[union-attr]  # a municipality's city: xx0100
    assert find_county("丰都县").parent_code == "500100"  # type: ignore[union-attr]
    assert find_county("忻府").code == "140902"  # type: ignore[union-attr]
    assert find_city("忻州").code == "140900"  # type: ignore[union-attr]


def test_shanxi_and_tongling_files_resolve_as_before():
    """Every code of the hand-kept files names the same division (the national rows never override them)."""
    for fname in ("shanxi_divisions.csv", "extra_divisions.csv"):
        with (REFERENCE_DIR / fname).open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                r = region_by_code()[row["adcode"]]
                assert (r.name, r.level, r.parent_code or "") == (row["name"], row["level"], row["parent_adcode"])
    assert region_by_code()["140105"].longitude == 112.565659  # a kept centroid stays
    assert region_by_code()["140213"].longitude is not None  # one the kept file lacks comes from the national file
    assert find_county("经开区", "340700").code == "340771"  # type: ignore[union-attr]
    assert find_county("山西转型综合改革示范区").code == "140171"  # type: ignore[union-attr]


@pytest.mark.parametrize(("written", "city", "code"), [
    ("高陵县", None, "610117"), ("户县", None, "610118"), ("铜陵县", None, "340706"), ("铜陵县", "340700", "340706"),
    ("狮子山区", "340700", "340705"), ("铜官山区", None, "340705"), ("大同县", None, "140215"),
    ("城区", "140200", "140213"), ("郊区", "140400", "140403"), ("郊区", "140300", "140311"),
    ("340721", None, "340706"), ("原平县", None, "140981"),
])
def test_former_names_and_codes_give_the_current_division(written, city, code):
    assert find_county(written, city).code == code  # type: ignore[union-attr]


def test_a_shared_county_name_needs_its_city():
    assert find_region("郊区") is None
    assert {(r.code, r.parent_name) for r in county_candidates("郊区")} == {
        ("140311", "阳泉市"), ("340711", "铜陵市"), ("230811", "佳木斯市")}
    msg = region_error("郊区")
    assert all(c in msg for c in ("阳泉市", "铜陵市", "佳木斯市"))
    assert find_county("郊区", "340700").code == "340711"  # type: ignore[union-attr]
    assert find_county("铜陵市郊区").code == "340711"  # type: ignore[union-attr]
    assert find_county("新城区", "610100").code == "610102"  # type: ignore[union-attr]
    # a county name beginning with a city's (朝阳区, 淮安区) is not that city
    assert find_city("朝阳区") is None and find_region("淮安区").code == "320803"  # type: ignore[union-attr]


# ---- Tongling 在建项目进展情况表 with district block headings -------------------------------------------

PROGRESS_HEAD = ["序号", "项目名称", "项目单位", "总投资（万元）", "2020年完成投资（万元）", "开竣工情况", "是否入库"]
TONGLING_TITLE = "铜陵市2020年工业在建项目进展情况表"


def _progress_rows(headings: tuple[str, str, str] = ("一、铜官区", "二、义安区", "三、郊区")) -> list[list[Any]]:
    a, b, c = headings
    return [
        [a],
        [1, "铜板带项目", "甲公司", 120000, 35000, "2019年5月开工", "是"],
        [2, "电子铜箔项目", "乙公司", 56000, 12000, "2020年3月开工", "是"],
        [None, "小计", None, 176000, 47000],
        [b],
        [3, "化工中间体项目", "丙公司", 23000, 23000, "2020年2月开工", "是"],
        [None, "小计", None, 23000, 23000],
        [c],
        [4, "装备铸件项目", "丁公司", 18000, 0, "计划2020年6月开工", "否"],
        [None, "小计", None, 18000, 0],
        [None, "合计", None, 217000, 70000],
    ]


def _xlsx(path: Path, title: str, head: list[str], rows: list[list[Any]]) -> Path:
    with xlsxwriter.Workbook(path) as wb:
        ws = wb.add_worksheet()
        ws.write(0, 0, title)
        ws.write_row(1, 0, head)
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                if v is not None:
                    ws.write(2 + i, j, v)
    return path


def _read(path: Path, **kw: Any) -> ReadResult:
    kw.setdefault("tier", "其他")
    return read_submission(path, path.name, ReadOptions(**kw))


def _regions_of(r: ReadResult) -> list[tuple[Any, ...]]:
    assert r.errors == [], [(e.row, e.column, e.value, e.message) for e in r.errors]
    return r.frame.select("project_name", "city_code", "county_code", "county_name").rows()


TONGLING_EXPECTED = [("铜板带项目", "340700", "340705", "铜官区"), ("电子铜箔项目", "340700", "340705", "铜官区"),
                     ("化工中间体项目", "340700", "340706", "义安区"), ("装备铸件项目", "340700", "340711", "郊区")]


def test_district_headings_set_the_county_of_their_block(tmp_path):
    path = _xlsx(tmp_path / "tl.xlsx", TONGLING_TITLE, PROGRESS_HEAD, _progress_rows())
    r = _read(path, region="铜陵市", report_date=date(2020, 5, 25))
    assert _regions_of(r) == TONGLING_EXPECTED
    assert r.frame["source_row"].to_list() == [4, 5, 8, 11]  # headings, 小计 and 合计 are never projects
    assert r.reading.rows["区县标题"] == 3


@pytest.mark.parametrize("headings", [
    ("（一）铜官区", "（二）义安区", "（三）郊区"),
    ("铜官区：", "义安区：", "郊区："),
    ("一、铜官区（2个）", "二、义安区（1个）", "三、郊区（1个）"),
])
def test_heading_forms(tmp_path, headings):
    path = _xlsx(tmp_path / "tl.xlsx", TONGLING_TITLE, PROGRESS_HEAD, _progress_rows(headings))
    assert _regions_of(_read(path, region="铜陵市", report_date=date(2020, 5, 25))) == TONGLING_EXPECTED


def test_a_heading_with_its_sums_or_its_number_beside_it_is_a_heading(tmp_path):
    rows = _progress_rows()
    rows[0] = ["一", "铜官区", None, 176000, 47000]  # 序号 beside the name, sums across
    rows[4] = [None, "二、义安区", None, 23000, 23000]
    rows[7] = ["三、郊区", None, None, 18000, 0]  # in the 序号 column, sums across
    path = _xlsx(tmp_path / "tl.xlsx", TONGLING_TITLE, PROGRESS_HEAD, rows)
    r = _read(path, region="铜陵市", report_date=date(2020, 5, 25))
    assert _regions_of(r) == TONGLING_EXPECTED
    assert r.reading.rows["区县标题"] == 3


def test_the_title_city_resolves_a_shared_name_and_says_so(tmp_path):
    """No region at upload: 郊区 is read within the title's 铜陵市, and the counties give the city."""
    path = _xlsx(tmp_path / "tl.xlsx", TONGLING_TITLE, PROGRESS_HEAD, _progress_rows())
    r = _read(path, report_date=date(2020, 5, 25))
    assert _regions_of(r) == TONGLING_EXPECTED
    assert "同名县区（郊区）按标题中的地市「铜陵市」识别" in r.reading.inferred


def test_a_shared_heading_without_a_city_is_an_error_naming_the_candidates(tmp_path):
    path = _xlsx(tmp_path / "tl.xlsx", "2020年工业在建项目进展情况表", PROGRESS_HEAD, _progress_rows())
    r = _read(path, report_date=date(2020, 5, 25))
    heading_errors = [e for e in r.errors if e.row == 10]
    assert len(heading_errors) == 1 and heading_errors[0].value == "三、郊区"
    assert all(c in heading_errors[0].message for c in ("郊区", "阳泉市", "铜陵市", "佳木斯市"))
    r = _read(path, report_date=date(2020, 5, 25), region="铜陵市")  # kaigong ingest --region 铜陵市
    assert _regions_of(r) == TONGLING_EXPECTED


def test_a_subtotal_ends_the_heading_block(tmp_path):
    rows = _progress_rows()
    rows.insert(4, [9, "无标题项目", "戊公司", 5000, 100, "2020年1月开工", "是"])  # after 铜官区's 小计
    path = _xlsx(tmp_path / "tl.xlsx", TONGLING_TITLE, PROGRESS_HEAD, rows)
    r = _read(path, region="铜陵市", report_date=date(2020, 5, 25))
    got = dict(((n, cc) for n, _c, cc, _cn in _regions_of(r)))
    assert got["无标题项目"] is None and got["电子铜箔项目"] == "340705" and got["化工中间体项目"] == "340706"


def test_a_heading_of_another_city_is_an_error(tmp_path):
    rows = _progress_rows(("一、铜官区", "二、雁塔区", "三、郊区"))
    path = _xlsx(tmp_path / "tl.xlsx", TONGLING_TITLE, PROGRESS_HEAD, rows)
    r = _read(path, region="铜陵市", report_date=date(2020, 5, 25))
    assert [(e.row, e.value) for e in r.errors if "雁塔区" in e.message] == [(7, "二、雁塔区")]


def test_a_county_column_is_read_within_the_city(tmp_path):
    head = ["序号", "项目名称", "项目单位", "所在县区", "总投资（万元）", "2020年完成投资（万元）"]
    rows: list[list[Any]] = [[1, "甲项目", "甲公司", "铜官区", 1000, 10], [2, "乙项目", "乙公司", "郊区", 2000, 20],
                             [3, "丙项目", "丙公司", "铜陵县", 3000, 30]]
    path = _xlsx(tmp_path / "c.xlsx", TONGLING_TITLE, head, rows)
    r = _read(path, region="铜陵市", report_date=date(2020, 5, 25))
    assert _regions_of(r) == [("甲项目", "340700", "340705", "铜官区"), ("乙项目", "340700", "340711", "郊区"),
                              ("丙项目", "340700", "340706", "义安区")]
    assert [w.value for w in r.warnings if "2016年起为「义安区」" in w.message] == ["铜陵县"]


# ---- Xi'an quarterly 投资进度表 --------------------------------------------------------------------

XIAN_TITLE = "西安市2020年市级重点工业技术改造项目投资进度表"
XIAN_ROWS: list[list[Any]] = [
    [1, "航空零部件技改项目", "甲公司", "雁塔区", 50000, 20000, 4000],
    [2, "汽车配件智能化改造", "乙公司", "高陵县", 30000, 10000, 2600],
    [3, "食品生产线升级", "丙公司", "户县", 8000, 5000, 1200],
    [4, "印刷设备更新", "丁公司", "新城区", 6000, 3000, 900],
]
XIAN_EXPECTED = [("航空零部件技改项目", "610100", "610113", "雁塔区"), ("汽车配件智能化改造", "610100", "610117", "高陵区"),
                 ("食品生产线升级", "610100", "610118", "鄠邑区"), ("印刷设备更新", "610100", "610102", "新城区")]


def _xian(tmp_path: Path, county_header: str = "区县", title: str = XIAN_TITLE) -> Path:
    head = ["序号", "项目名称", "项目单位", county_header, "总投资", "2020年计划投资", "2020年截至目前累计完成投资"]
    return _xlsx(tmp_path / "xian.xlsx", title, head, XIAN_ROWS)


def test_xian_quarterly_with_its_own_districts(tmp_path):
    r = _read(_xian(tmp_path), region="西安市", report_date=date(2020, 3, 31), frequency="quarter")
    assert _regions_of(r) == XIAN_EXPECTED
    former = sorted((w.row, w.value) for w in r.warnings if "撤销" in w.message)
    assert former == [(4, "高陵县"), (5, "户县")]  # each former name said beside its row
    assert r.frame["ytd_completed"].sum() == 8700.0


def test_xian_without_region_reads_new_city_district_within_the_title_city(tmp_path):
    r = _read(_xian(tmp_path), report_date=date(2020, 3, 31), frequency="quarter")
    assert _regions_of(r) == XIAN_EXPECTED  # 新城区 (also 呼和浩特's) within the title's 西安市
    r = _read(_xian(tmp_path, title="2020年市级重点工业技术改造项目投资进度表"), report_date=date(2020, 3, 31))
    assert [(e.row, e.value) for e in r.errors if "呼和浩特市" in e.message] == [(6, "新城区")]


@pytest.mark.skipif(H.header_key("所在区县") is None, reason="「所在区县」 comes with the values branch's header synonyms")
def test_xian_county_column_headed_suozai_quxian(tmp_path):
    r = _read(_xian(tmp_path, "所在区县"), region="西安市", report_date=date(2020, 3, 31), frequency="quarter")
    assert _regions_of(r) == XIAN_EXPECTED


def test_region_given_as_a_county_of_any_province(tmp_path):
    head = ["序号", "项目名称", "项目单位", "总投资", "2020年计划投资", "2020年截至目前累计完成投资"]
    path = _xlsx(tmp_path / "yt.xlsx", "雁塔区2020年工业项目投资进度表", head, [r[:3] + r[4:] for r in XIAN_ROWS[:2]])
    r = _read(path, region="雁塔区", report_date=date(2020, 3, 31))
    assert {row[1:] for row in _regions_of(r)} == {("610100", "610113", "雁塔区")}
    r = _read(path, region="郊区", report_date=date(2020, 3, 31))
    assert r.errors[0].message.startswith("上传时选择的地区「郊区」有多个同名县区")
    assert all(c in r.errors[0].message for c in ("阳泉市", "铜陵市", "佳木斯市"))


# ---- the map of any province --------------------------------------------------------------------


def test_the_map_of_anhui_draws_its_cities_and_a_drilled_citys_counties():
    items = [{"group": "铜陵市", "group_code": "340700", "projects": 4, "total_investment": 217000.0,
              "completion_rate": 0.3, "schedule_gap": -2.0},
             {"group": "合肥市", "group_code": "340100", "projects": 2, "total_investment": 50000.0,
              "completion_rate": 0.5, "schedule_gap": 5.0}]
    points = region_points(items)
    assert points["code"].to_list() == ["340700", "340100"]
    cities = geo.boundaries("city", geo.province_codes(points["code"].to_list()))
    assert cities is not None and len(cities["features"]) == 16  # Anhui's 16 cities
    fig = charts.region_map(points, date(2020, 5, 25), geojson=cities, level="city")
    filled = [t for t in fig.data if t.fill == "toself"]
    assert len(filled) == 16 and sum(t.fillcolor != "#fafafa" for t in filled) == 2
    counties = geo.boundaries("county", ("34",))
    assert counties is not None
    county_points = region_points([{"group": "郊区", "group_code": "340711", "projects": 1, "total_investment": 1.0,
                                    "completion_rate": None, "schedule_gap": None}])
    fig = charts.region_map(county_points, date(2020, 5, 25), geojson=counties, level="county")
    assert len([t for t in fig.data if t.fill == "toself"]) == 4  # 铜陵's 铜官区, 义安区, 郊区, 枞阳县


def test_the_map_of_a_municipality_and_its_districts():
    cities = geo.boundaries("city", ("11",))
    assert cities is not None and [f["id"] for f in cities["features"]] == ["110100"]
    counties = geo.boundaries("county", ("11",))
    assert counties is not None and {f["properties"]["parent"] for f in counties["features"]} == {"110100"}
    assert len(counties["features"]) == 16


# ---- kaigong ingest --region 西安市, then the figures by county ------------------------------------


def test_cli_ingest_with_a_city_of_another_province_groups_by_its_districts(tmp_path, capsys, monkeypatch):
    from pipelines.cli import main

    # the reading child imports this checkout's pipelines (in a git worktree the editable install points elsewhere)
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))

    db = str(tmp_path / "k.duckdb")
    path = _xian(tmp_path)
    assert main(["--db", db, "ingest", str(path), "--region", "西安市", "--tier", "其他",
                 "--report-date", "2020-03-31", "--frequency", "quarter"]) == 0
    capsys.readouterr()
    assert main(["--db", db, "metrics", "--as-of", "2020-03-31", "--by", "county", "--json"]) == 0
    import json

    got = {it["group_code"]: (it["group"], it["ytd_completed"]) for it in json.loads(capsys.readouterr().out)}
    assert got == {"610113": ("雁塔区", 4000.0), "610117": ("高陵区", 2600.0), "610118": ("鄠邑区", 1200.0),
                   "610102": ("新城区", 900.0)}
    with pytest.raises(SystemExit, match=r"阳泉市.*铜陵市.*佳木斯市"):
        main(["--db", db, "metrics", "--as-of", "2020-03-31", "--county", "郊区"])


# ---- development zones: an attribute, never a region ---------------------------------------------


def test_a_development_zone_heading_is_the_blocks_zone_not_a_region(tmp_path):
    rows = _progress_rows(("一、铜官区", "二、义安区", "三、高新区"))
    path = _xlsx(tmp_path / "tl.xlsx", TONGLING_TITLE, PROGRESS_HEAD, rows)
    r = _read(path, region="铜陵市", report_date=date(2020, 5, 25))
    assert _regions_of(r)[3] == ("装备铸件项目", "340700", None, None)
    assert r.frame["dev_zone"].to_list() == [None, None, None, "高新区"]
    assert [(w.row, w.value) for w in r.warnings if "开发区" in w.message] == [(10, "三、高新区")]
    assert r.reading.rows["区县标题"] == 3  # the zone heading too: it opens a block


def test_a_development_zone_in_the_county_column_is_the_rows_zone(tmp_path):
    rows = [*XIAN_ROWS[:3], [4, "印刷设备更新", "丁公司", "高新区", 6000, 3000, 900]]
    head = ["序号", "项目名称", "项目单位", "区县", "总投资", "2020年计划投资", "2020年截至目前累计完成投资"]
    r = _read(_xlsx(tmp_path / "x.xlsx", XIAN_TITLE, head, rows), region="西安市", report_date=date(2020, 3, 31))
    assert _regions_of(r)[3] == ("印刷设备更新", "610100", None, None)
    assert r.frame["dev_zone"].to_list() == [None, None, None, "高新区"]
    assert "dev_zone" in r.present_fields


def test_tier_and_district_headings_with_their_sums(tmp_path):
    head = ["序号", "项目名称", "项目单位", "总投资（万元）", "2020年完成投资（万元）"]
    rows: list[list[Any]] = [
        [None, "一、省级双百·新兴项目", None, 3000, 30],
        [None, "（一）铜官区", None, 1000, 10],
        [1, "甲项目", "甲公司", 1000, 10],
        [None, "（二）郊区", None, 2000, 20],
        [2, "1.新兴材料项目", None, 2000, 20],  # numbered like a heading, but a project
        [None, "二、省级双百·技改项目", None, 500, 5],
        [None, "（一）义安区", None, 500, 5],
        [3, "丙项目", "丙公司", 500, 5],
    ]
    r = _read(_xlsx(tmp_path / "t.xlsx", TONGLING_TITLE, head, rows), tier=None, region="铜陵市",
              report_date=date(2020, 5, 25))
    assert r.errors == [], [(e.row, e.message) for e in r.errors]
    assert r.frame.select("project_name", "tier", "county_name").rows() == [
        ("甲项目", "省级双百·新兴", "铜官区"), ("1.新兴材料项目", "省级双百·新兴", "郊区"), ("丙项目", "省级双百·技改", "义安区")]
    assert r.reading.rows["区县标题"] == 3


def test_city_then_county_headings_nest_and_subtotals_close_them_innermost_first(tmp_path):
    """A provincial file: 城区 under 阳泉市 is 140302, under 晋城市 140502; 小计 ends the county block,
    the city's 小计 the city's."""
    head = ["序号", "项目名称", "项目单位", "总投资（万元）", "2020年完成投资（万元）"]
    rows: list[list[Any]] = [
        ["一、阳泉市"], ["（一）城区"], [1, "甲项目", "甲公司", 100, 1], [None, "小计", None, 100, 1],
        [2, "乙项目", "乙公司", 200, 2],  # under 阳泉市, no county
        [None, "阳泉市小计", None, 300, 3],
        ["二、晋城市"], ["（一）城区"], [3, "丙项目", "丙公司", 300, 3], [None, "小计", None, 300, 3],
        [None, "合计", None, 600, 6],
    ]
    r = _read(_xlsx(tmp_path / "p.xlsx", "2020年全省工业项目进展情况表", head, rows), report_date=date(2020, 5, 25))
    assert _regions_of(r) == [("甲项目", "140300", "140302", "城区"), ("乙项目", "140300", None, None),
                              ("丙项目", "140500", "140502", "城区")]
    assert r.reading.rows["区县标题"] == 4
