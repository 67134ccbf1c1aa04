"""Write the sample uploads under data/samples/ and their expected staged frames under tests/data/.

Run: `python -m tests.make_samples`. Each project below is written twice: messily into the sample
(as a clerk would: 太原 vs 太原市, full-width digits, 亿元, merged headers, a 合计 row, notes) and
cleanly into the expected CSV (万元, GB/T codes), so the expected values are stated by hand, not read back.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter
import xlwt

from pipelines.ingest.template import write_template
from pipelines.vocab.schema import STAGED_SCHEMA

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
EXPECTED = ROOT / "tests" / "data"
D = dt.date

# ---- 附件2 周报表 (省级双百·新兴, report date 2020-03-27) -----------------------------------------
# raw cells as written | clean values. start: (raw, expected actual, expected planned).
WEEKLY: list[dict[str, Any]] = [
    dict(city="太原", city_code="140100", city_name="太原市", company="山西晋芯半导体有限公司",
         name="碳化硅功率器件生产线项目", ind="电子信息", ind_code="39", ind_name="计算机、通信和其他电子设备制造业",
         stage_raw="在建", stage="在建", total=("120,000", 120000.0), cby=("35000", 35000.0), plan=("40000", 40000.0),
         ytd=("6,500", 6500.0), image="主体结构施工", start=(D(2020, 2, 24), D(2020, 2, 24), D(2020, 2, 24)), reason=None,
         approval="已备案", land="已取得", planning="已完成", eia="已批复", covid=("是", True), factors="外地工人返岗不足",
         problem="协调外地技术人员返岗", contact="王建国 13903510001", dept="省工信厅"),
    dict(city=" 晋中市 ", city_code="140700", city_name="晋中市", company="晋中智能装备制造有限公司",
         name="智能煤机装备产业园项目", ind="装备制造", ind_code="35", ind_name="专用设备制造业",
         stage_raw="新开工", stage="新开工", total=("８００００", 80000.0), cby=("", None), plan=("30000", 30000.0),
         ytd=("0", 0.0), image="场地平整", start=("2020.4", None, D(2020, 4, 30)), reason="环评审批中",
         approval="已备案", land="预审中", planning="已完成", eia="办理中", covid=("是", True), factors="审批窗口受疫情影响",
         problem="加快环评审批", contact="李明 13803540002", dept="省生态环境厅"),
    dict(city="大同市", city_code="140200", city_name="大同市", company="大同碳谷新材料有限公司",
         name="年产5万吨石墨烯导热膜项目", ind="新材料", ind_code="30", ind_name="非金属矿物制品业",
         stage_raw="储备", stage="储备", total=("5.2亿", 52000.0), cby=("—", None), plan=("10000", 10000.0),
         ytd=("-", None), image="前期工作", start=("2020年6月", None, D(2020, 6, 30)), reason="土地手续办理中",
         approval="办理中", land="未取得", planning="办理中", eia="未启动", covid=("否", False), factors=None,
         problem="协调用地指标", contact="赵磊 13603520003", dept="省自然资源厅"),
    dict(city="长治市", city_code="140400", city_name="长治市", company="长治光电科技股份有限公司",
         name="LED外延片及芯片扩产项目", ind="计算机、通信和其他电子设备制造业", ind_code="39",
         ind_name="计算机、通信和其他电子设备制造业", stage_raw="在建", stage="在建", total=("65000", 65000.0),
         cby=("20000", 20000.0), plan=("25000", 25000.0), ytd=("4200", 4200.0), image="设备安装",
         start=("2020/3/2", D(2020, 3, 2), D(2020, 3, 2)), reason=None, approval="已备案", land="已取得",
         planning="已完成", eia="已批复", covid=("是", True), factors="进口设备到货延迟", problem=None,
         contact="孙强 13503550004", dept=None),
    dict(city="忻州", city_code="140900", city_name="忻州市", company="忻州生物医药有限公司",
         name="生物制药产业化基地项目", ind="生物医药", ind_code="27", ind_name="医药制造业",
         stage_raw="新开工", stage="新开工", total=("30000", 30000.0), cby=("0", 0.0), plan=("15000", 15000.0),
         ytd=("800", 800.0), image="基础施工", start=("2020年3月10日", D(2020, 3, 10), D(2020, 3, 10)), reason=None,
         approval="已核准", land="已出让", planning="已完成", eia="已批复", covid=("否", False), factors=None,
         problem=None, contact="周红 13703500005", dept=None),
    dict(city="吕梁市", city_code="141100", city_name="吕梁市", company="吕梁氢能科技有限公司",
         name="氢燃料电池电堆生产线项目", ind="氢能", ind_code=None, ind_name="氢能",
         stage_raw="新开工", stage="新开工", total=("45000", 45000.0), cby=("", None), plan=("18000", 18000.0),
         ytd=("", None), image="未开工", start=("2020.03.20", None, D(2020, 3, 20)), reason="设备供应商受疫情影响延期",
         approval="已备案", land="已取得", planning="已完成", eia="已批复", covid=("是", True), factors="设备、原材料",
         problem="协调设备供应", contact="吴涛 13903580006", dept="省工信厅"),
    dict(city="运城市", city_code="140800", city_name="运城市", company="运城铝业新材料有限公司",
         name="高端铝合金轮毂项目", ind="有色", ind_code="32", ind_name="有色金属冶炼和压延加工业",
         stage_raw="在建", stage="在建", total=("88000", 88000.0), cby=("50000", 50000.0), plan=("30000", 30000.0),
         ytd=("9000", 9000.0), image="生产线调试", start=(D(2020, 2, 27), D(2020, 2, 27), D(2020, 2, 27)), reason=None,
         approval="已备案", land="已取得", planning="已完成", eia="已批复", covid=("否", False), factors=None,
         problem=None, contact="郑伟 13803590007", dept=None),
    dict(city="晋城市", city_code="140500", city_name="晋城市", company="晋城光机电有限公司",
         name="精密光学元件生产线项目", ind="仪器仪表", ind_code="40", ind_name="仪器仪表制造业",
         stage_raw="在建", stage="在建", total=("12500", 12500.0), cby=("6000", 6000.0), plan=("4000", 4000.0),
         ytd=("1500", 1500.0), image="厂房装修", start=("20200305", D(2020, 3, 5), D(2020, 3, 5)), reason=None,
         approval="已备案", land="已取得", planning="已完成", eia="已批复", covid=("是", True), factors="物流运输",
         problem=None, contact="冯丽 13603560008", dept=None),
    dict(city="阳泉市", city_code="140300", city_name="阳泉市", company="阳泉数据科技有限公司",
         name="大数据中心二期项目", ind="大数据", ind_code="65", ind_name="软件和信息技术服务业",
         stage_raw="在建", stage="在建", total=("36000", 36000.0), cby=("10000", 10000.0), plan=("12000", 12000.0),
         ytd=("2,000", 2000.0), image="机房建设", start=("2020.3.16", D(2020, 3, 16), D(2020, 3, 16)), reason=None,
         approval="已备案", land="已取得", planning="已完成", eia="不需要", covid=("否", False), factors=None,
         problem=None, contact="陈刚 13503530009", dept=None),
    dict(city="朔州市", city_code="140600", city_name="朔州市", company="朔州陶瓷新材料有限公司",
         name="高端日用陶瓷生产线项目", ind="陶瓷", ind_code=None, ind_name="陶瓷",
         stage_raw="新开工", stage="新开工", total=("15000", 15000.0), cby=("", None), plan=("8000", 8000.0),
         ytd=("0", 0.0), image=None, start=("2020年5月", None, D(2020, 5, 31)), reason="资金未到位",
         approval="已备案", land="办理中", planning="办理中", eia="办理中", covid=("否", False), factors=None,
         problem="协调银行贷款", contact="褚军 13703490010", dept="省地方金融监管局"),
]

WEEKLY_TOP = ["序号", "地市", "企业名称", "项目名称", "行业", "建设类型", "项目进展情况", None, None, None, None, None,
              "前期手续办理情况", None, None, None, "项目存在问题", None, None, None, "项目联系人及电话", "建议解决部门"]
WEEKLY_SUB = [None] * 6 + ["总投资", "2019 年底累计完成投资", "2020 年计划投资", "2020 年截至目前累计完成投资",
                           "工程形象进度", "开复工时间", "立项手续（审批、核准、备案）", "土地预审或土地出让手续", "规划选址",
                           "环评", "未开复工原因", "是否受疫情影响", "受疫情影响因素", "需要省级层面协调解决的问题", None, None]
WEEKLY_TITLE = "2020 年省级双百工业转型升级重点项目周报表"
WEEKLY_NOTES = ["注：1.建设类型：储备/新开工/在建；",
                "2.受疫情影响因素：详细描述，如工人、设备、资金、原材料等受影响程度；",
                "3.开复工时间：已开复工项目，填写实际开复工时间；未开复工项目，填写计划开复工时间，并在未开复工原因一栏详细描述，如受手续、资金等影响。"]


def _weekly_cells(p: dict[str, Any], i: int) -> list[Any]:
    return [i, p["city"], p["company"], p["name"], p["ind"], p["stage_raw"], p["total"][0], p["cby"][0], p["plan"][0],
            p["ytd"][0], p["image"], p["start"][0], p["approval"], p["land"], p["planning"], p["eia"], p["reason"],
            p["covid"][0], p["factors"], p["problem"], p["contact"], p["dept"]]


def _weekly_total_row() -> list[Any]:
    tot = sum(p["total"][1] for p in WEEKLY)
    return ["合计", None, None, None, None, None, tot, None, sum(p["plan"][1] for p in WEEKLY)] + [None] * 13


_WORK_UNDER_WAY = {"主体结构施工", "设备安装", "基础施工", "生产线调试", "厂房装修"}


def _weekly_expected(tier: str) -> pl.DataFrame:
    rows = []
    for i, p in enumerate(WEEKLY):
        rows.append(dict(
            source_row=5 + i, project_name=p["name"], company=p["company"], city_code=p["city_code"],
            city_name=p["city_name"], industry_code=p["ind_code"], industry_name=p["ind_name"], tier=tier,
            stage=p["stage"], total_investment=p["total"][1], completed_before_year=p["cby"][1],
            annual_plan=p["plan"][1], ytd_completed=p["ytd"][1], image_progress=p["image"],
            planned_start_date=p["start"][2], actual_start_date=p["start"][1], not_started_reason=p["reason"],
            # a reason given says not started; 在建 in 建设类型 says nothing; 工程形象进度 that states work under
            # way (施工, 安装, 调试, 装修) says started
            start_stated=False if p["reason"] else (True if p["image"] in _WORK_UNDER_WAY else None),
            approval_status=p["approval"], land_status=p["land"], planning_status=p["planning"], eia_status=p["eia"],
            covid_affected=p["covid"][1], covid_factors=p["factors"], problem=p["problem"],
            problem_department=p["dept"], contact=p["contact"]))
    return _frame(rows)


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame([{k: r.get(k) for k in STAGED_SCHEMA} for r in rows], schema=STAGED_SCHEMA)


def write_weekly_xlsx(path: Path) -> None:
    """附件2 as a clerk's xlsx: title, 单位 row, two-row merged header, 10 projects, 合计, notes."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("周报表")
    bold = wb.add_format({"bold": True, "align": "center", "valign": "vcenter", "text_wrap": True, "border": 1})
    datef = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.merge_range(0, 0, 0, 21, WEEKLY_TITLE + "（截至2020年3月27日）", bold)
    ws.write_string(1, 0, "单位：万元")
    for j, (t, s) in enumerate(zip(WEEKLY_TOP, WEEKLY_SUB, strict=True)):
        if t and not s:
            ws.merge_range(2, j, 3, j, t, bold)
        elif s:
            ws.write_string(3, j, s, bold)
    for first, last, label in ((6, 11, "项目进展情况"), (12, 15, "前期手续办理情况"), (16, 19, "项目存在问题")):
        ws.merge_range(2, first, 2, last, label, bold)
    for i, p in enumerate(WEEKLY):
        for j, v in enumerate(_weekly_cells(p, i + 1)):
            if isinstance(v, dt.date):
                ws.write_datetime(4 + i, j, dt.datetime(v.year, v.month, v.day), datef)
            elif isinstance(v, int):
                ws.write_number(4 + i, j, v)
            elif v is not None:
                ws.write_string(4 + i, j, v)
    r = 4 + len(WEEKLY)
    for j, v in enumerate(_weekly_total_row()):
        if isinstance(v, float):
            ws.write_number(r, j, v)
        elif v is not None:
            ws.write_string(r, j, v)
    for k, note in enumerate(WEEKLY_NOTES):
        ws.write_string(r + 2 + k, 0, note)
    wb.close()


def write_weekly_xls(path: Path) -> None:
    """The same report as an old-style .xls (xlwt), merged header cells, no date in the title."""
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Sheet1")
    datef = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    ws.write_merge(0, 0, 0, 21, WEEKLY_TITLE)
    ws.write(1, 0, "单位：万元")
    for j, (t, s) in enumerate(zip(WEEKLY_TOP, WEEKLY_SUB, strict=True)):
        if t and not s:
            ws.write_merge(2, 3, j, j, t)
        elif s:
            ws.write(3, j, s)
    for first, last, label in ((6, 11, "项目进展情况"), (12, 15, "前期手续办理情况"), (16, 19, "项目存在问题")):
        ws.write_merge(2, 2, first, last, label)
    for i, p in enumerate(WEEKLY):
        for j, v in enumerate(_weekly_cells(p, i + 1)):
            if isinstance(v, dt.date):
                ws.write(4 + i, j, dt.datetime(v.year, v.month, v.day), datef)
            elif v is not None:
                ws.write(4 + i, j, v)
    r = 4 + len(WEEKLY)
    for j, v in enumerate(_weekly_total_row()):
        if v is not None:
            ws.write(r, j, v)
    for k, note in enumerate(WEEKLY_NOTES):
        ws.write(r + 2 + k, 0, note)
    wb.save(str(path))


# ---- flat export: one header row, amounts in 亿元 ---------------------------------------------

FLAT_HEADER = ["序号", "地市", "企业名称", "项目名称", "行业", "建设类型", "总 投 资（亿元）", "2019年底累计完成投资（亿元）",
               "2020年计划投资（亿元）", "2020年截至目前累计完成投资（亿元）", "工程形象进度", "开复工时间", "立项手续",
               "土地预审或土地出让手续", "规划选址", "环评", "未开复工原因", "是否受疫情影响", "受疫情影响因素",
               "需要省级层面协调解决的问题", "项目联系人及电话", "建议解决部门", ""]


def _yi(x: float | None) -> str:
    return "" if x is None else f"{x / 10000:g}"


def flat_rows() -> list[list[str]]:
    """The flat export as text cells: a title row, one header row, projects in 亿元, a 合计 row."""
    out = [["2020年省级双百工业转型升级重点项目周报表（截至2020年3月27日）"] + [""] * 22, FLAT_HEADER]
    for i, p in enumerate(WEEKLY):
        start = p["start"][0]
        start = start.strftime("%Y-%m-%d") if isinstance(start, dt.date) else start
        out.append([str(i + 1), p["city"], p["company"], p["name"], p["ind"], p["stage_raw"], _yi(p["total"][1]),
                    _yi(p["cby"][1]) if p["cby"][0] not in ("—",) else "—", _yi(p["plan"][1]), _yi(p["ytd"][1]),
                    p["image"] or "", start, p["approval"], p["land"], p["planning"], p["eia"], p["reason"] or "",
                    p["covid"][0], p["factors"] or "", p["problem"] or "", p["contact"], p["dept"] or "", ""])
    out.append(["合计", "", "", "", "", "", _yi(sum(p["total"][1] for p in WEEKLY))] + [""] * 16)
    return out


def flat_csv_bytes(encoding: str) -> bytes:
    """The flat export encoded (gbk, gb18030, utf-8-sig …), CRLF line ends as Excel writes them."""
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(flat_rows())
    return buf.getvalue().encode(encoding)


def _flat_expected() -> pl.DataFrame:
    df = _weekly_expected("省级双百·新兴")
    return df.with_columns(source_row=pl.int_range(3, 3 + df.height, dtype=pl.Int64))


# ---- 附件1 台账 as a table (省级双百·技改, given at load; report date 2020-02-14) ----------------------

LEDGER_HEADER = ["项目名称", "项目单位", "企业简介", "建设地点", "行业类别", "所在开发区", "是否贫困县项目", "项目类别",
                 "建设类型", "项目建设周期", "2020 年预计开复工时间", "建设规模及建设内容", "总投资", "截至 2019 年底完成投资",
                 "2020 年计划投资", "2021 年计划投资", "2022 年计划投资", "目前形象进度", "2020 年推进目标", "项目进展",
                 "投产效益", "项目亮点"]
# (name, company, location as written, city, county, industry as written, ind code/name, poverty, build type raw→clean,
#  start raw→date, total, cby, plan, next, after)
LEDGER: list[tuple[Any, ...]] = [
    ("焦炉煤气综合利用技术改造项目", "山西潞宝焦化集团有限公司", "长治市潞州区", ("140400", "长治市"), ("140403", "潞州区"),
     "焦化", ("25", "石油、煤炭及其他燃料加工业"), ("否", False), ("技术改造", "技术改造"), ("2020.03", D(2020, 3, 31)),
     68000.0, 20000.0, 30000.0, 18000.0, None),
    ("智能化矿山装备升级改造项目", "太重煤机有限公司", "太原市 万柏林区", ("140100", "太原市"), ("140109", "万柏林区"),
     "装备制造", ("35", "专用设备制造业"), ("否", False), ("技改", "技术改造"), ("2020.10", D(2020, 10, 31)),
     25000.0, None, 15000.0, 10000.0, None),
    ("特种钢材轧制线改扩建项目", "山西建龙钢铁有限公司", "运城市闻喜县", ("140800", "运城市"), ("140823", "闻喜县"),
     "钢铁", ("31", "黑色金属冶炼和压延加工业"), ("是", True), ("改扩建", "改扩建"), ("2020年4月", D(2020, 4, 30)),
     150000.0, 60000.0, 50000.0, 40000.0, None),
    ("电解铝节能改造项目", "山西兆丰铝业有限公司", "忻州市原平市", ("140900", "忻州市"), ("140981", "原平市"),
     "铝", ("32", "有色金属冶炼和压延加工业"), ("否", False), ("技术改造", "技术改造"), ("2020-05-15", D(2020, 5, 15)),
     32000.0, 5000.0, 20000.0, 7000.0, None),
    ("白酒酿造智能化改造项目", "山西杏花村汾酒厂股份有限公司", "吕梁市汾阳市", ("141100", "吕梁市"), ("141182", "汾阳市"),
     "白酒", ("15", "酒、饮料和精制茶制造业"), ("否", False), ("扩建", "扩建"), ("2020.6", D(2020, 6, 30)),
     45000.0, 12000.0, 18000.0, 10000.0, 5000.0),
    ("水泥窑协同处置固废改造项目", "晋中冀东水泥有限公司", "晋中市 寿阳县", ("140700", "晋中市"), ("140725", "寿阳县"),
     "水泥", ("30", "非金属矿物制品业"), ("是", True), ("改建", "改建"), ("2020年3月15日", D(2020, 3, 15)),
     9800.0, None, 9800.0, None, None),
    ("焦化废水深度处理改造项目", "山西安泰集团股份有限公司", "晋中市介休市", ("140700", "晋中市"), ("140781", "介休市"),
     "炼焦", (None, "炼焦"), ("否", False), ("技术改造", "技术改造"), ("2020.04", D(2020, 4, 30)),
     12000.0, 3000.0, 9000.0, None, None),
    ("煤层气液化调峰储备技改项目", "山西易高煤层气有限公司", "晋城市沁水县", ("140500", "晋城市"), ("140521", "沁水县"),
     "燃气", ("45", "燃气生产和供应业"), ("否", False), ("技改", "技术改造"), ("2020.7", D(2020, 7, 31)),
     56000.0, 16000.0, 25000.0, 15000.0, None),
]


def _ledger_cells(t: tuple[Any, ...]) -> list[Any]:
    name, comp, loc, _c, _k, ind, _i, poor, bt, start, total, cby, plan, nxt, aft = t
    money = [("" if x is None else f"{x:g}") for x in (total, cby, plan, nxt, aft)]
    return [name, comp, f"{comp}成立于2005年，主营{ind}", loc, ind, "", poor[0], "传统技改", bt[0], "2020-2022", start[0],
            f"{name}：改造生产线，购置设备", *money, "前期工作完成", "年内完成设备安装", "已完成备案", "年新增产值2亿元", "节能降耗"]


def write_ledger_xlsx(path: Path) -> None:
    """附件1 台账 as one project a row, with a title and 单位：万元 row and one 合计 row."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("台账")
    ws.write_string(0, 0, "山西省工业转型升级重点项目台账")
    ws.write_string(1, 0, "单位：万元")
    for j, h in enumerate(LEDGER_HEADER):
        ws.write_string(2, j, h)
    for i, t in enumerate(LEDGER):
        for j, v in enumerate(_ledger_cells(t)):
            if v not in ("", None):
                ws.write_string(3 + i, j, v)
    ws.write_string(3 + len(LEDGER), 0, "合计")
    ws.write_number(3 + len(LEDGER), 12, sum(t[10] for t in LEDGER))
    wb.close()


# 附件1 台账 as printed in 晋工信投资字〔2020〕29号: (label, value column index in LEDGER_HEADER or None) pairs
# a row, with the card's section rows (一、企业简介 carries its value).
CARD_ROWS: list[list[tuple[str, int | None]]] = [
    [("项目名称", 0)], [("项目单位", 1)], [("一、企业简介", 2)], [("二、项目信息", None)],
    [("建设地点", 3), ("行业类别", 4)], [("所在开发区", 5), ("是否贫困县项目", 6)], [("项目类别", 7), ("建设类型", 8)],
    [("项目建设周期", 9), ("2020 年预计开复工时间", 10)], [("建设规模及建设内容", 11)], [("三、投资情况", None)],
    [("总投资", 12), ("截至 2019 年底完成投资", 13)], [("2020 年计划投资", 14), ("2021 年计划投资", 15), ("2022 年计划投资", 16)],
    [("四、建设进度", None)], [("目前形象进度", 17), ("2020 年推进目标", 18)], [("项目进展", 19)], [("五、效益亮点", None)],
    [("投产效益", 20)], [("项目亮点", 21)],
]


def write_ledger_cards_xlsx(path: Path) -> None:
    """The same projects as ledger.xlsx, as the printed 附件1 台账: a card a sheet (label, value beside it),
    after a cover sheet."""
    assert [LEDGER_HEADER[j] for row in CARD_ROWS for label, j in row if j is not None] == [
        LEDGER_HEADER[j] for j in range(22)], "the card carries every column of the one-row ledger"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("填报说明").write_string(0, 0, "每个项目填写一张台账（一个工作表）")
    for i, t in enumerate(LEDGER):
        ws = wb.add_worksheet(f"项目{i + 1}")
        ws.write_string(0, 0, "山西省工业转型升级重点项目台账")
        ws.write_string(1, 0, "单位：万元")
        cells = _ledger_cells(t)
        for r, row in enumerate(CARD_ROWS):
            for k, (label, j) in enumerate(row):
                ws.write_string(2 + r, 2 * k, label)
                if j is not None and cells[j] not in ("", None):
                    ws.write_string(2 + r, 2 * k + 1, cells[j])
    wb.close()


def _ledger_expected() -> pl.DataFrame:
    rows = []
    for i, t in enumerate(LEDGER):
        name, comp, _loc, c, k, ind, icode, poor, bt, start, total, cby, plan, nxt, aft = t
        rows.append(dict(
            source_row=4 + i, project_name=name, company=comp, company_intro=f"{comp}成立于2005年，主营{ind}",
            city_code=c[0], city_name=c[1], county_code=k[0], county_name=k[1], industry_code=icode[0],
            industry_name=icode[1], tier="省级双百·技改", category="传统技改", build_type=bt[1], poverty_county=poor[1],
            construction_period="2020-2022", planned_start_date=start[1], scale_content=f"{name}：改造生产线，购置设备",
            start_stated=False if start[1] > D(2020, 2, 14) else None,  # a start planned after D: not started
            total_investment=total, completed_before_year=cby, annual_plan=plan, plan_next_year=nxt, plan_year_after=aft,
            image_progress="前期工作完成", year_goal="年内完成设备安装", progress_note="已完成备案",
            benefits="年新增产值2亿元", highlights="节能降耗"))
    return _frame(rows)


# ---- Tongling 附件3 在建项目进展情况表 (region 铜陵市 at load, report date 2020-05-25) ---------------

PROGRESS_HEADER = ["序号", "项目名称", "项目单位", "建设规模与内容", "总投资（万元）", "2020年完成投资（万元）", "开竣工情况",
                   "是否入库", "存在问题"]
# (name, company, total raw→万元, ytd raw→万元, 开竣工情况, expected (stage, actual, planned, done, planned done), 入库)
PROGRESS: list[tuple[Any, ...]] = [
    ("年产10万吨高精度铜板带项目", "铜陵有色金属集团铜冠铜材有限公司", ("120000", 120000.0), ("35,000", 35000.0),
     "2019年5月开工，预计2020年10月竣工", ("续建", D(2019, 5, 1), D(2019, 5, 1), None, D(2020, 10, 31)), ("是", True)),
    ("电子铜箔二期项目", "铜陵华科电子材料有限公司", ("56000", 56000.0), ("12000", 12000.0),
     "2020年3月开工", ("新开工", D(2020, 3, 1), D(2020, 3, 1), None, None), ("已入库", True)),
    ("精细化工中间体项目", "安徽泰合精细化工有限公司", ("23000", 23000.0), ("23000", 23000.0),
     "已竣工", ("竣工", None, None, D(2020, 5, 25), None), ("是", True)),
    ("高端装备铸件项目", "铜陵天海装备有限公司", ("18000", 18000.0), ("0", 0.0),
     "计划2020年6月开工", ("新开工", None, D(2020, 6, 30), None, None), ("否", False)),
    ("半导体封装材料项目", "铜陵富仕三佳机器有限公司", ("３２０００", 32000.0), ("6,800", 6800.0),
     "2018年12月开工，2020年4月竣工", ("竣工", D(2018, 12, 1), D(2018, 12, 1), D(2020, 4, 1), None), ("√", True)),
    ("锂电池隔膜项目", "铜陵金泰新能源有限公司", ("1.5亿", 15000.0), ("3000", 3000.0),
     "2019年10月开工，预计2021年6月竣工", ("续建", D(2019, 10, 1), D(2019, 10, 1), None, D(2021, 6, 30)), ("未入库", False)),
    ("智能电表生产线项目", "安徽铜峰电子股份有限公司", ("9000", 9000.0), ("2000", 2000.0),
     "2020年4月15日开工", ("新开工", D(2020, 4, 15), D(2020, 4, 15), None, None), ("是", True)),
    ("再生铜资源综合利用项目", "铜陵市再生资源有限公司", ("42000", 42000.0), ("", None),
     "已开工", ("在建", None, None, None, None), ("否", False)),
]


def write_progress_xlsx(path: Path) -> None:
    """附件3 with a title row, no region column (region given at load), a 合计 row and a 注 row."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Sheet1")
    ws.merge_range(0, 0, 0, 8, "铜陵市2020年工业在建项目进展情况表")
    for j, h in enumerate(PROGRESS_HEADER):
        ws.write_string(1, j, h)
    for i, t in enumerate(PROGRESS):
        name, comp, total, ytd, sc, _e, ruku = t
        for j, v in enumerate([str(i + 1), name, comp, f"{name}，建设厂房及生产线", total[0], ytd[0], sc, ruku[0],
                               "用地指标紧张" if i % 3 == 0 else ""]):
            if v:
                ws.write_string(2 + i, j, v)
    ws.write_string(2 + len(PROGRESS), 1, "合计")
    ws.write_string(4 + len(PROGRESS), 0, "注：每月25日前报")
    wb.close()


def _progress_expected() -> pl.DataFrame:
    rows = []
    for i, t in enumerate(PROGRESS):
        name, comp, total, ytd, _sc, e, ruku = t
        rows.append(dict(
            source_row=3 + i, project_name=name, company=comp, scale_content=f"{name}，建设厂房及生产线",
            city_code="340700", city_name="铜陵市", tier="其他", stage=e[0], total_investment=total[1],
            ytd_completed=ytd[1], actual_start_date=e[1], planned_start_date=e[2], completion_date=e[3],
            planned_completion_date=e[4], stats_registered=ruku[1], problem="用地指标紧张" if i % 3 == 0 else None,
            start_stated=e[2] is None or e[2] <= D(2020, 5, 25)))  # a start or completion stated; 计划6月开工: not yet
    return _frame(rows)


# ---- Tongling 附件2 谋划项目表: reserve projects (储备) ----------------------------------------------

PLANNING_HEADER = ["序号", "项目名称", "总投资（万元）", "所属区域", "建设规模与内容", "目前进展情况", "2020年工作目标",
                   "项目单位", "项目单位责任人", "牵头协调推进责任单位"]
PLANNING: list[tuple[Any, ...]] = [
    ("铜基新材料产业园项目", "500000", 500000.0, "经开区", ("340771", "铜陵经济技术开发区")),
    ("高纯铜靶材项目", "120,000", 120000.0, "铜陵经开区", ("340771", "铜陵经济技术开发区")),
    ("枞阳港临港产业园项目", "80000", 80000.0, "枞阳县", ("340722", "枞阳县")),
    ("绿色建材产业基地项目", "60000", 60000.0, "枞阳", ("340722", "枞阳县")),
    ("循环经济产业园项目", "45000", 45000.0, "郊区", ("340711", "郊区")),
    ("义安区电子元器件产业园项目", "70000", 70000.0, "义安区", ("340706", "义安区")),
    ("智能制造装备产业园项目", "3.5亿", 35000.0, "义安", ("340706", "义安区")),
    ("铜官区数字经济产业园项目", "25000", 25000.0, "铜官区", ("340705", "铜官区")),
    ("磷化工精深加工项目", "150000", 150000.0, "枞阳县", ("340722", "枞阳县")),
]


def write_planning_csv(path: Path) -> None:
    """附件2 as a UTF-8-BOM CSV: title row, header, 9 projects, a 合计 row, a 注 row."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["铜陵市2020年工业谋划项目表"] + [""] * 9)
    w.writerow(PLANNING_HEADER)
    for i, (name, raw, _v, reg, _r) in enumerate(PLANNING):
        w.writerow([i + 1, name, raw, reg, f"{name}，规划用地500亩", "正在洽谈", "完成签约", f"{name[:2]}公司",
                    "张经理 0562-2800000", "市经信局"])
    w.writerow(["", "合计", f"{sum(p[2] for p in PLANNING):g}", "", "", "", "", "", "", ""])
    w.writerow(["注：每月25日前报"] + [""] * 9)
    path.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))


def _planning_expected() -> pl.DataFrame:
    rows = []
    for i, (name, _raw, v, _reg, r) in enumerate(PLANNING):
        rows.append(dict(
            source_row=3 + i, project_name=name, total_investment=v, city_code="340700", city_name="铜陵市",
            county_code=r[0], county_name=r[1], scale_content=f"{name}，规划用地500亩", progress_note="正在洽谈",
            year_goal="完成签约", company=f"{name[:2]}公司", contact="张经理 0562-2800000", lead_unit="市经信局",
            tier="其他", stage="储备"))
    return _frame(rows)


# ---- Tongling 附件1 目标任务分解表 (transposed: metrics down, regions across) -----------------------

TARGET_ROWS: list[list[str]] = [
    ["铜陵市2020年“重大工业项目攻坚年”目标任务分解表", "", "", "", "", "", ""],
    ["包保领导", "", "李勇", "程军", "周金生", "查钱林", "李直刚"],
    ["包保县区园区", "总目标", "经开区", "枞阳县", "郊区", "义安区", "铜官区"],
    ["重点项目投资任务（亿元）", "200", "64", "50", "14", "40", "32"],
    ["新开工重点项目（个）", "50", "16", "12", "4", "10", "8"],
    ["续建重点项目（个）", "60", "20", "14", "5", "12", "9"],
    ["统计入库项目（个）", "120", "33", "27", "13", "24", "23"],
    ["谋划项目总投资（亿元）", "750", "250", "150", "80", "150", "120"],
    ["谋划项目（个）", "150", "50", "30", "16", "30", "24"],
    ["其中1-5亿/5-10亿/10亿以上", "76/50/24", "26/16/8", "15/10/5", "8/6/2", "15/10/5", "12/8/4"],
    ["责任科室", "", "综合科、中小局、铜产业办", "工业投资科、节能办、经协科", "产业规划科、企业科", "技装科、信息化科、消费品科",
     "经济运行处、矿管科"],
    ["注：表中项目指工业项目，统计入库项目总投资原则上不低于1000万元，谋划项目总投资不低于1亿元。", "", "", "", "", "", ""],
]


def write_targets_xlsx(path: Path) -> None:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("附件1")
    for i, row in enumerate(TARGET_ROWS):
        for j, v in enumerate(row):
            if v:
                ws.write_string(i, j, v)
    wb.close()


# ---- broken weekly: every kind of row error once ------------------------------------------------

BROKEN_ROWS: list[list[str]] = [
    ["2020年省级双百工业转型升级重点项目周报表（截至2020年3月27日）"],
    ["序号", "地市", "企业名称", "项目名称", "行业", "建设类型", "总投资", "2019年底累计完成投资", "2020年计划投资",
     "2020年截至目前累计完成投资", "开复工时间", "未开复工原因"],
    ["1", "太原市", "山西甲科技有限公司", "新型显示材料项目", "电子信息", "在建", "abc", "100", "2000", "500", "2020.2.20", ""],
    ["2", "火星市", "乙公司", "氢能重卡项目", "汽车", "在建", "30000", "", "10000", "1000", "2020.3.1", ""],
    ["3", "大同市", "丙公司", "光伏组件项目", "光伏", "停工待定", "20000", "", "8000", "", "2020.5", "资金"],
    ["4", "长治市", "丁公司", "精密铸造项目", "装备制造", "新开工", "-500", "", "300", "", "2020.6", "手续"],
    ["5", "太原", "山西甲科技有限公司", "新型显示材料 项目", "电子信息", "在建", "5000", "", "2000", "", "2020.2.20", ""],
    ["6", "忻州市", "戊公司", "碳纤维项目", "新材料", "新开工", "8000", "", "3000", "", "3月中旬", "设备未到"],
    ["合计", "", "", "", "", "", "63000", "", "", "", "", ""],
]


def write_broken_csv(path: Path) -> None:
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(BROKEN_ROWS)
    path.write_bytes(buf.getvalue().encode("utf-8"))


# ---- writer ----------------------------------------------------------------------------------


def write_expected(df: pl.DataFrame, path: Path) -> None:
    df.write_csv(path)


def main() -> None:
    SAMPLES.mkdir(parents=True, exist_ok=True)
    EXPECTED.mkdir(parents=True, exist_ok=True)
    write_weekly_xlsx(SAMPLES / "shanxi_weekly.xlsx")
    write_weekly_xls(SAMPLES / "shanxi_weekly.xls")
    write_expected(_weekly_expected("省级双百·新兴"), EXPECTED / "shanxi_weekly_expected.csv")
    (SAMPLES / "flat_weekly_gbk.csv").write_bytes(flat_csv_bytes("gbk"))
    write_expected(_flat_expected(), EXPECTED / "flat_weekly_expected.csv")
    write_ledger_xlsx(SAMPLES / "ledger.xlsx")
    write_expected(_ledger_expected(), EXPECTED / "ledger_expected.csv")
    write_ledger_cards_xlsx(SAMPLES / "ledger_cards.xlsx")
    write_progress_xlsx(SAMPLES / "tongling_progress.xlsx")
    write_expected(_progress_expected(), EXPECTED / "tongling_progress_expected.csv")
    write_planning_csv(SAMPLES / "tongling_planning.csv")
    write_expected(_planning_expected(), EXPECTED / "tongling_planning_expected.csv")
    write_targets_xlsx(SAMPLES / "tongling_targets.xlsx")
    write_broken_csv(SAMPLES / "broken_weekly.csv")
    write_template(SAMPLES / "standard_template.csv", "csv")
    write_template(SAMPLES / "standard_template.xlsx", "xlsx")


if __name__ == "__main__":
    main()
