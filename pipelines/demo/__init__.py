"""Built-in demo year 2020 for Shanxi's 百千工程: a deterministic, calibrated data generator.

The demo is a 台账 (ledger, one row per project) plus a 周报 every Friday from 2020-02-14 (the
first Friday after 晋工信投资字〔2020〕29号 of 2020-02-06) to 2020-12-25, in STAGED_SCHEMA.

Calibration (metrics.md definitions, D = 2020-03-31, latest report per project on or before D —
no quarter-end report is emitted, so that is the 2020-03-27 report, or an earlier one for a project
that missed that week; every project reports at least once in 2020-03-13…2020-03-27):
  * 省级双百·新兴 total investment 16,420,000 万元, 省级双百·技改 10,680,000 万元 (exact);
  * 双百 ytd completed 586,000 万元 (exact), start rate 132 / 160 = 82.5 % (exact);
  * 市级千项 total 66,360,000 万元 (6,636 亿元), of which category `新兴` 47,800,000 (72.0 %);
    ytd completed 1,425,000 万元 (exact), start rate 540 / 680 = 79.41 % (79.4 % to 0.1 pp).
A 千项 project is "emerging" when its `category` is `新兴` (the 台账's 项目类别), else `技改`.

Annual plans are 15–40 % of total investment, so Q1 completion sits near 11 % of the annual plan,
well below the 24.9 % 序时进度 (as in the press reports of the time): regions are mostly yellow at
end-March; laggards (阳泉, 忻州) fall into red by mid-year and catch up in the fourth quarter.
(A red light at end-March is impossible under the default thresholds: gap < −30 pp would need a
negative completion rate when 序时进度 is 24.9 %.)

Everything is vectorised with numpy/polars and seeded (no wall clock): same seed → same frames.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.vocab.reference import Region, cities, counties_of, divisions
from pipelines.vocab.schema import FIELD, FIELD_NAMES, STAGED_SCHEMA, STATS_THRESHOLD

YEAR = 2020
DEMO_SEED = 20200206  # the notice's date
LEDGER_DATE = date(2020, 2, 6)  # the 台账 is as of the notice; weekly reports follow from 02-14
FIRST_REPORT = date(2020, 2, 14)
LAST_REPORT = date(2020, 12, 25)
Q1_DATE = date(2020, 3, 31)

TIER_NEW, TIER_TECH, TIER_CITY = "省级双百·新兴", "省级双百·技改", "市级千项"
DEMO_COUNTS = (100, 100, 1040)  # projects per tier: 新兴, 技改, 千项

# Calibration targets, money in 万元 (published figures, seed 001 / SOURCES.md).
TOTAL_TARGET = {TIER_NEW: 16_420_000.0, TIER_TECH: 10_680_000.0}
CITY_TOTAL_TARGET = {"新兴": 47_800_000.0, "技改": 18_560_000.0}  # 千项 by category: 6,636 亿元
YTD_Q1_TARGET = {"双百": 586_000.0, "千项": 1_425_000.0}
START_RATE_Q1 = {"双百": 0.825, "千项": 0.794}

_JAN1 = date(YEAR, 1, 1)
_EPOCH = (_JAN1 - date(1970, 1, 1)).days  # polars Date = days since 1970-01-01
_DAYS = 366  # 2020 is a leap year
NEVER = 100_000  # day offset for "not within the horizon" (never started / never completed)
_Q1 = (Q1_DATE - _JAN1).days  # 90

# Fields each weekly frame states (the loader records them as present); REPORT_FIELDS order.
_WEEKLY = {
    "project_code", "project_name", "company", "city_code", "city_name", "county_code",
    "county_name", "tier", "category", "industry_code", "industry_name", "stage",
    "total_investment", "completed_before_year", "annual_plan", "ytd_completed", "image_progress",
    "planned_start_date", "actual_start_date", "not_started_reason", "approval_status",
    "land_status", "planning_status", "eia_status", "covid_affected", "covid_factors", "problem",
    "problem_department", "contact", "stats_registered", "completion_date",
}  # fmt: skip
WEEKLY_FIELDS: tuple[str, ...] = tuple(n for n in FIELD_NAMES if n in _WEEKLY)
# Fields the 台账 (附件1) states.
_LEDGER = {
    "project_code", "project_name", "company", "city_code", "city_name", "county_code",
    "county_name", "dev_zone", "industry_code", "industry_name", "tier", "category", "build_type",
    "stage", "poverty_county", "construction_period", "scale_content", "total_investment",
    "completed_before_year", "annual_plan", "plan_next_year", "plan_year_after", "image_progress",
    "planned_start_date", "planned_completion_date", "year_goal", "progress_note", "benefits",
    "highlights", "company_intro", "contact", "lead_unit",
}  # fmt: skip
LEDGER_FIELDS: tuple[str, ...] = tuple(n for n in FIELD_NAMES if n in _LEDGER)

# ---- vocabulary -------------------------------------------------------------------------------

# Stage codes used internally; the ledger says 续建 for continuing projects, the 周报 (附件2:
# 储备/新开工/在建) says 在建.
_STAGE = ("储备", "前期", "新开工", "续建", "在建", "竣工", "投产")
S_RESERVE, S_PRE, S_NEW, S_CONT, S_BUILD, S_DONE, S_PROD = range(7)

_CITY_SHORT = ("太原", "大同", "阳泉", "长治", "晋城", "朔州", "晋中", "运城", "忻州", "临汾", "吕梁")
# Projects per city per tier (sum 100 / 100 / 1,040); the big industrial cities carry more.
_CITY_WEIGHTS = {
    TIER_NEW: (28, 8, 3, 11, 9, 4, 12, 10, 5, 5, 5),
    TIER_TECH: (10, 6, 4, 14, 11, 5, 10, 11, 4, 12, 13),
    TIER_CITY: (150, 75, 45, 120, 105, 60, 110, 115, 60, 100, 100),
}
# Per city: (year-end pace = share of annual plan done by 12-25, timing exponent: >1 back-loaded).
_CITY_PACE = (
    (1.02, 0.9), (0.92, 1.25), (0.85, 1.9), (1.08, 0.55), (1.06, 0.6), (0.95, 1.15),
    (0.98, 1.1), (1.0, 1.0), (0.88, 1.6), (0.96, 1.2), (1.0, 0.95),
)  # fmt: skip
# Share of 千项 projects in category 技改 per city (coal/coke cities higher).
_CITY_TECH_SHARE = (0.3, 0.4, 0.45, 0.4, 0.4, 0.45, 0.4, 0.4, 0.4, 0.5, 0.55)

# Stage mix per tier: (储备, 前期, 新开工, 续建); the demo counts are exactly these.
_STAGE_MIX = {TIER_NEW: (3, 5, 42, 50), TIER_TECH: (0, 4, 40, 56), TIER_CITY: (30, 50, 460, 500)}
# Share of 新开工 projects planned to start by 31 March (the due ones at Q1): 28/42, 26/40, 180/460.
_DUE_NEW_SHARE = {TIER_NEW: 28 / 42, TIER_TECH: 26 / 40, TIER_CITY: 180 / 460}

# Industry (GB/T 4754 division) weights by kind; city boosts below.
_EMERGING = {
    "39": 20,
    "38": 17,
    "35": 10,
    "34": 7,
    "36": 10,
    "27": 10,
    "30": 8,
    "28": 3,
    "32": 7,
    "37": 5,
    "40": 3,
}
_TRADITIONAL = {"31": 18, "25": 20, "30": 12, "26": 15, "32": 11, "06": 8, "44": 8, "15": 3, "14": 3, "13": 2}
_FOOD = ("13", "14", "15")  # not in 双百·技改 (冶金、焦化、建材 …)
_CITY_BOOST: dict[str, dict[str, float]] = {
    "太原": {"39": 2, "31": 2, "35": 1.5, "37": 1.5, "27": 1.3},
    "大同": {"38": 1.5, "36": 1.5, "27": 1.3, "06": 1.5, "44": 1.5},
    "阳泉": {"32": 2, "06": 2, "39": 1.2, "30": 1.5},
    "长治": {"39": 2, "38": 1.5, "25": 1.5, "31": 1.5},
    "晋城": {"39": 1.5, "26": 1.5, "31": 1.5, "06": 1.5},
    "朔州": {"30": 2.5, "44": 1.5, "06": 1.5},
    "晋中": {"35": 2, "34": 1.5, "25": 1.5, "27": 1.5, "14": 1.5},
    "运城": {"32": 2.5, "36": 1.5, "13": 1.5},
    "忻州": {"30": 1.5, "32": 1.5, "38": 1.5, "13": 1.5},
    "临汾": {"25": 2.5, "31": 2, "26": 1.3},
    "吕梁": {"25": 2.5, "26": 1.5, "15": 2, "32": 1.5},
}

# Per division: words in company names, and project templates (before, n_lo, n_hi, after); a
# template with n_lo = 0 carries no number.
_INDUSTRY: dict[str, tuple[tuple[str, ...], tuple[tuple[str, int, int, str], ...]]] = {
    "39": (("电子科技", "半导体科技", "光电科技", "信息技术"), (
        ("年产", 5, 30, "万片碳化硅衬底"), ("年产", 10, 80, "亿只LED芯片"),
        ("年产", 50, 500, "万台智能终端"), ("年产", 10, 100, "万套信创计算机整机"),
        ("", 0, 0, "半导体封装测试基地"), ("年产", 20, 200, "万平方米柔性电路板"))),
    "38": (("新能源科技", "储能科技", "电气", "光伏科技"), (
        ("", 1, 10, "GW高效异质结光伏电池"), ("年产", 1, 20, "GWh锂离子储能电池"),
        ("年产", 10, 100, "万台高效永磁电机"), ("年产", 1, 10, "万套氢燃料电池系统"))),
    "35": (("智能装备", "重工", "煤机装备"), (
        ("年产", 100, 600, "台（套）智能化综采装备"), ("年产", 100, 500, "台大型矿用挖掘机"),
        ("年产", 1000, 8000, "台智能农机装备"), ("", 0, 0, "煤矿智能化成套装备产业化"))),
    "34": (("机械制造", "精密机械", "机器人"), (
        ("年产", 10, 100, "万套精密轴承"), ("年产", 1000, 10000, "台工业机器人"),
        ("年产", 5, 50, "万台高效节能泵阀"))),
    "36": (("新能源汽车", "汽车", "汽车零部件"), (
        ("年产", 5, 20, "万辆新能源乘用车"), ("年产", 1, 10, "万辆纯电动物流车"),
        ("年产", 10, 60, "万套新能源汽车动力总成"), ("年产", 1000, 5000, "辆氢燃料电池重卡"))),
    "27": (("生物医药", "制药", "药业"), (
        ("年产", 100, 2000, "吨原料药"), ("年产", 5, 50, "亿片（粒）中药制剂"),
        ("", 0, 0, "生物疫苗产业化"), ("年产", 1000, 10000, "万支注射剂"))),
    "30": (("新材料", "建材", "陶瓷", "玻璃纤维"), (
        ("年产", 5, 30, "万吨玻璃纤维"), ("年产", 1000, 5000, "万件高档日用陶瓷"),
        ("年产", 1000, 10000, "吨碳化硅粉体"), ("年产", 10, 60, "万吨特种耐火材料"),
        ("", 2500, 5000, "吨/日水泥熟料生产线智能化改造"), ("年产", 100, 300, "万吨绿色建材"))),
    "28": (("碳纤维", "新材料"), (
        ("年产", 1, 5, "万吨高性能碳纤维"), ("年产", 1, 10, "千吨聚酰亚胺纤维"))),
    "32": (("铝业", "镁业", "新材料", "有色金属"), (
        ("年产", 10, 50, "万吨高端铝合金型材"), ("年产", 1, 10, "万吨镁合金压铸件"),
        ("", 20, 60, "万吨电解铝节能降耗改造"), ("年产", 10, 50, "万吨再生铝"),
        ("", 0, 0, "氧化铝生产线提质增效改造"))),
    "37": (("轨道交通装备", "航空科技", "通用航空"), (
        ("年产", 200, 1000, "辆轨道交通车辆"), ("年产", 50, 300, "架通用飞机"),
        ("年产", 10, 100, "万件高铁关键零部件"))),
    "40": (("仪器仪表", "智能仪表"), (
        ("年产", 10, 100, "万台智能仪表"), ("年产", 1, 20, "万套煤矿安全监测仪器"))),
    "25": (("焦化", "煤焦", "能源"), (
        ("", 100, 300, "万吨/年焦化升级改造"), ("", 100, 260, "万吨/年干熄焦技术改造"),
        ("", 0, 0, "焦炉煤气综合利用改造"), ("", 0, 0, "焦化超低排放改造"))),
    "31": (("钢铁", "特钢", "不锈钢"), (
        ("年产", 30, 200, "万吨高端冷轧不锈钢"), ("", 0, 0, "钢铁超低排放改造"),
        ("", 1000, 3000, "立方米高炉节能改造"), ("年产", 50, 200, "万吨优特钢棒线材"))),
    "26": (("化工", "煤化工", "化学"), (
        ("年产", 20, 60, "万吨乙二醇技术改造"), ("年产", 10, 50, "万吨焦炉煤气制LNG"),
        ("年产", 30, 100, "万吨甲醇节能改造"), ("年产", 5, 20, "万吨高端聚氨酯材料"))),
    "06": (("煤业", "矿业", "能源"), (
        ("", 90, 500, "万吨/年矿井智能化改造"), ("", 120, 600, "万吨/年选煤厂技术改造"))),
    "44": (("热电", "发电", "能源"), (
        ("2×", 300, 660, "MW热电联产机组超低排放改造"), ("", 10, 60, "MW余热余压发电"),
        ("", 0, 0, "燃煤机组灵活性改造"))),
    "15": (("酒业", "酿造"), (("年产", 1000, 20000, "吨清香型白酒技改"),)),
    "14": (("食品", "醋业"), (("年产", 5, 20, "万吨老陈醋"), ("年产", 5, 30, "万吨杂粮食品"))),
    "13": (("农牧", "食品"), (("年产", 10, 50, "万吨饲料"), ("", 50, 200, "万头生猪屠宰及肉制品加工"))),
}  # fmt: skip
_DIVS: tuple[str, ...] = tuple(sorted(_INDUSTRY))

_BRAND_CHARS = (
    "鑫华泰晟瑞通宇达恒盛源德丰诚信正兴龙凯嘉天科创博润安宏昌隆耀远航鼎聚汇金海新光明诺威旭亿辰峰腾"
)
# Pairs that spell well-known real firms; never generated.
_BRAND_BLOCK = {
    "华润",
    "安泰",
    "宏达",
    "华信",
    "宇通",
    "金龙",
    "光明",
    "海信",
    "华泰",
    "华新",
    "天安",
    "通达",
    "新华",
    "恒通",
    "亿华",
    "海天",
    "新希",
    "科华",
    "华宇",
    "鼎盛",
    "天瑞",
    "汇源",
}
_SUFFIX = ("有限公司", "有限公司", "有限责任公司", "股份有限公司", "集团有限公司")

# 国家扶贫开发工作重点县 / 连片特困县 of Shanxi as commonly listed (all exited by 2020); an
# approximate demo flag, not an authoritative list.
_POVERTY = {
    "140123", "140221", "140222", "140223", "140224", "140225", "140215", "140425", "140427",
    "140429", "140623", "140722", "140723", "140922", "140924", "140925", "140926", "140927",
    "140928", "140929", "140930", "140931", "140932", "140923", "141028", "141030", "141031",
    "141032", "141034", "141123", "141124", "141126", "141127", "141128", "141129",
}  # fmt: skip
# Industrial counties get more projects; 功能区 (统计用代码) host many; the scenic area none.
_COUNTY_BOOST = {
    "140171": 5.0, "140271": 3.0, "140671": 3.0, "140121": 2.0, "141181": 2.0, "140781": 2.0,
    "140882": 2.0, "140581": 2.0, "140525": 2.0, "140423": 2.0, "140406": 2.0, "140681": 2.0,
    "140981": 2.0, "141081": 2.0, "141024": 2.0, "141122": 2.0, "140702": 2.0, "140802": 2.0,
    "140971": 0.0,
}  # fmt: skip
# The city-level 开发区 each city's projects may sit in.
_CITY_ZONE = (
    "山西转型综合改革示范区", "大同经济技术开发区", "阳泉经济技术开发区", "长治高新技术产业开发区",
    "晋城经济技术开发区", "山西朔州经济开发区", "晋中经济技术开发区", "运城经济技术开发区",
    "忻州经济开发区", "临汾经济开发区", "吕梁经济技术开发区",
)  # fmt: skip

_NOT_STARTED = (
    "受疫情影响，工人未返岗",  # 0: while the project's epidemic impact lasts
    "环评手续未批复",
    "资金未落实",
    "土地手续正在办理",
    "规划许可正在办理",
    "设备订货未到位",
    "施工许可正在办理",
    "未到计划开工时间",  # 7: planned date still ahead
    "项目处于储备阶段",  # 8: 储备
)
_COVID_FACTORS = (
    "外地务工人员返岗受限，现场用工不足",
    "设备厂家复工延迟，关键设备到货推迟",
    "原材料运输受阻，供应紧张",
    "外籍技术人员无法入境，设备安装调试推迟",
    "企业资金回笼慢，流动资金紧张",
    "施工单位防疫物资不足，复工审批时间长",
)
_PROBLEMS = (
    ("项目融资困难，需协调银行给予贷款支持", "人民银行太原中心支行"),
    ("项目用地指标不足，土地征收尚未完成", "省自然资源厅"),
    ("环评审批进度较慢，需协调加快办理", "省生态环境厅"),
    ("能耗指标不足，需省级统筹解决", "省发改委"),
    ("进口设备到货延迟，需协调通关", "省商务厅"),
    ("受疫情影响用工短缺，需协调外地工人返岗", "省人社厅"),
    ("电力接入工程滞后，需协调加快建设", "国网山西省电力公司"),
    ("申请省级技改专项资金支持", "省工信厅"),
    ("天然气供气指标不足", "省能源局"),
)
# A not-started reason that points at a coordination problem (reason → problem index).
_REASON_PROBLEM = {1: 2, 2: 0, 3: 1, 5: 4}
_PROC_STATUS = ("未办理", "办理中", "已完成")
_YEAR_GOAL = (
    "年内建成投产", "完成主体工程建设", "完成设备安装调试", "年内开工建设，完成基础工程",
    "完成前期手续办理，力争年内开工", "完成项目谋划和可行性研究",
)  # fmt: skip
_HIGHLIGHTS = (
    "填补省内产业链空白", "采用国际先进工艺，智能化水平国内领先", "延伸产业链条，带动上下游配套",
    "节能降耗效果显著，实现超低排放", "与省内高校院所开展产学研合作", "产品替代进口，打破国外垄断",
)  # fmt: skip
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟段雷钱汤尹常武乔贺赖龚文"
_GIVEN = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞",
    "平", "刚", "建军", "建华", "志强", "晓东", "海燕", "文杰", "国平", "晋生", "晋华", "玉梅",
    "永刚", "俊峰", "瑞鹏", "慧敏", "宏伟", "文斌", "卫东", "红霞", "小红", "海军", "志刚",
)  # fmt: skip
_MOBILE = ("135", "136", "138", "139", "150", "151", "152", "158", "159", "182", "187", "188", "137")
_PHASE = (
    "",
    "（二期）",
    "（三期）",
    "（四期）",
    "（五期）",
    "（六期）",
    "（七期）",
    "（八期）",
    "（九期）",
    "（十期）",
)


# ---- small helpers ------------------------------------------------------------------------------


def _apportion(n: int, weights: tuple[float, ...]) -> np.ndarray:
    """Split n into integer counts proportional to weights (largest remainder, ties by position)."""
    w = np.asarray(weights, dtype=float)
    raw = n * w / w.sum()
    counts = np.floor(raw + 1e-9).astype(np.int64)
    rest = n - counts.sum()
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[:rest]] += 1
    return counts


def _pick(vocab: Sequence[str | None], codes: np.ndarray) -> pl.Series:
    """Strings by index into a small vocabulary (vectorised gather; None entries give nulls)."""
    return pl.Series(values=list(vocab), dtype=pl.String).gather(np.asarray(codes, dtype=np.int64))


def _cat(parts: list[pl.Series | pl.Expr | str], separator: str = "") -> pl.Series:
    """Concatenate string series and literals row-wise (null if any part is null)."""
    exprs = [p if isinstance(p, pl.Expr) else pl.lit(p) for p in parts]
    return pl.select(pl.concat_str(exprs, separator=separator).alias("s")).to_series()


def _date_series(days: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    """Day offsets from 2020-01-01 as a Date series; null where not valid."""
    s = pl.Series(values=(np.asarray(days, dtype=np.int64) + _EPOCH).astype(np.int32)).cast(pl.Date)
    if valid is not None and not valid.all():
        s = s.scatter(np.flatnonzero(~valid), None)
    return s


_NICE = np.array([1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0])


def _nice_numbers(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> pl.Series:
    """Capacities as project names write them (年产8000台, 1.5GW): log-uniform, round mantissas."""
    lo_f, hi_f = np.maximum(lo, 1).astype(float), np.maximum(hi, 1).astype(float)
    x = np.exp(np.log(lo_f) + rng.random(len(lo)) * (np.log(hi_f) - np.log(lo_f)))
    e = np.floor(np.log10(x))
    mant = x / 10**e
    nice = _NICE[np.abs(mant[:, None] - _NICE[None, :]).argmin(axis=1)] * 10**e
    nice = np.clip(nice, lo_f, hi_f)
    whole = np.round(nice)
    as_int = pl.Series(whole.astype(np.int64)).cast(pl.String)
    return as_int.zip_with(
        pl.Series(np.abs(nice - whole) < 1e-9), pl.Series(np.round(nice, 1)).cast(pl.String)
    )


def _intensity_curve() -> np.ndarray:
    """Cumulative share of a full year's site work done before day d (length 367, Bc[366] = 1).

    Daily intensity: January before the Spring Festival at 0.8 (winter); 23 Jan – 9 Feb nearly
    stopped (festival, then the epidemic lockdown); 10–29 Feb first 复工 at 0.4; March 0.9;
    April–June the catch-up push (1.45, 掀起项目建设高潮); July–September 1.1; October–November
    0.95; December slowed by winter (0.7).
    """
    w = np.full(_DAYS, 1.1)
    w[:22] = 0.8
    w[22:40] = 0.02
    w[40:60] = 0.4
    w[60:91] = 0.9
    w[91:182] = 1.45
    w[274:335] = 0.95
    w[335:] = 0.7
    return np.concatenate([[0.0], np.cumsum(w) / w.sum()])


def report_dates(weeks: int = 46) -> list[date]:
    """Report Fridays of 2020: from 2020-02-14 for up to 46 weeks, else backwards from 2020-12-25."""
    if not 1 <= weeks <= 52:
        raise ValueError(f"weeks must be within 1..52 (the Fridays of {YEAR}), got {weeks}")
    if weeks <= 46:
        return [FIRST_REPORT + timedelta(days=7 * i) for i in range(weeks)]
    return [LAST_REPORT - timedelta(days=7 * i) for i in reversed(range(weeks))]


# ---- the generator ----------------------------------------------------------------------------


@dataclass
class _World:
    """Everything generated for one run: project arrays, the static frame, weekly matrices."""

    dates: list[date]
    static: pl.DataFrame  # one row per project, ledger fields
    static_weekly: pl.DataFrame  # the weekly frames' per-project columns
    a: dict[str, np.ndarray]  # per-project parameters (day offsets from 2020-01-01)
    present: np.ndarray  # (n, W) bool: the project reported that week
    ytd: np.ndarray  # (n, W) float 万元: ytd completed as reported that week


def _cities() -> list[Region]:
    """Shanxi's 11 cities in GB/T 2260 order (the reference also holds 铜陵 for other layouts)."""
    cs = sorted((c for c in cities() if c.parent_code == "140000"), key=lambda r: r.code)
    assert tuple(c.name.removesuffix("市") for c in cs) == _CITY_SHORT, cs
    return cs


def _normalise_totals(raw: np.ndarray, target: float, floor: float, unit: float) -> np.ndarray:
    """Scale raw amounts to sum exactly to target (万元), each ≥ floor, rounded to unit.

    The rounding residual (a multiple of unit) goes to the largest project.
    """
    x = raw.astype(float).copy()
    for _ in range(20):  # clipping at the floor moves the sum; a few rounds converge
        x = np.maximum(x * target / x.sum(), floor)
    x = np.round(x / unit) * unit
    x[int(np.argmax(x))] += target - x.sum()
    return x


def _build(counts: tuple[int, int, int], dates: list[date], seed: int, calibrate: bool) -> _World:
    """Generate the projects and their weekly reports; calibrate to the published Q1 figures if asked."""
    rng = np.random.default_rng(seed)
    city_regions = _cities()
    n = sum(counts)
    tiers = (TIER_NEW, TIER_TECH, TIER_CITY)

    # -- tier, city, stage ---------------------------------------------------------------------
    tier = np.repeat(np.arange(3), counts)
    city = np.concatenate(
        [
            np.repeat(np.arange(11), _apportion(c, _CITY_WEIGHTS[t]))
            for t, c in zip(tiers, counts, strict=True)
        ]
    )
    stage0 = np.empty(n, dtype=np.int64)  # S_RESERVE / S_PRE / S_NEW / S_CONT
    due_new = np.zeros(n, dtype=bool)  # 新开工 planned to start by 31 March
    for ti, t in enumerate(tiers):
        idx = np.flatnonzero(tier == ti)
        k = _apportion(len(idx), _STAGE_MIX[t])
        st = rng.permutation(np.repeat([S_RESERVE, S_PRE, S_NEW, S_CONT], k))
        stage0[idx] = st
        new_idx = idx[st == S_NEW]
        n_due = round(_DUE_NEW_SHARE[t] * len(new_idx))
        due_new[rng.permutation(new_idx)[:n_due]] = True
    cont = stage0 == S_CONT

    # -- county, category, industry --------------------------------------------------------------
    county_code = np.empty(n, dtype=object)
    county_name = np.empty(n, dtype=object)
    county_list: list[Region] = []
    county_idx = np.empty(n, dtype=np.int64)
    for ci, c in enumerate(city_regions):
        cs = counties_of(c.code)
        w = np.array([_COUNTY_BOOST.get(r.code, 1.0) for r in cs])
        sel = np.flatnonzero(city == ci)
        pick = rng.choice(len(cs), size=len(sel), p=w / w.sum())
        county_idx[sel] = pick + len(county_list)
        county_list.extend(cs)
    county_code = np.array([r.code for r in county_list], dtype=object)[county_idx]
    county_name = np.array([r.name for r in county_list], dtype=object)[county_idx]

    tech_share = np.asarray(_CITY_TECH_SHARE)[city]
    emerging = np.where(tier == 0, True, np.where(tier == 1, False, rng.random(n) >= tech_share))
    div_idx = np.empty(n, dtype=np.int64)
    for ci, cname in enumerate(_CITY_SHORT):
        boost = _CITY_BOOST.get(cname, {})
        for kind, base in (("em", _EMERGING), ("tr_prov", _TRADITIONAL), ("tr_city", _TRADITIONAL)):
            if kind == "em":
                sel = np.flatnonzero((city == ci) & emerging)
            elif kind == "tr_prov":
                sel = np.flatnonzero((city == ci) & ~emerging & (tier == 1))
            else:
                sel = np.flatnonzero((city == ci) & ~emerging & (tier == 2))
            if len(sel) == 0:
                continue
            codes = [d for d in base if not (kind == "tr_prov" and d in _FOOD)]
            w = np.array([base[d] * boost.get(d, 1.0) for d in codes])
            div_idx[sel] = np.searchsorted(
                _DIVS, np.array(codes)[rng.choice(len(codes), size=len(sel), p=w / w.sum())]
            )
    div_code = np.asarray(_DIVS)[div_idx]

    # -- money (万元) -----------------------------------------------------------------------------
    total = np.zeros(n)
    for ti, t in enumerate(tiers):
        if t == TIER_CITY:
            for cat, em in (("新兴", True), ("技改", False)):
                sel = np.flatnonzero((tier == ti) & (emerging == em))
                if len(sel) == 0:
                    continue
                target = CITY_TOTAL_TARGET[cat]
                if not calibrate:  # keep the demo's mean per project, not its sum
                    target = target / (DEMO_COUNTS[2] * (0.6 if em else 0.4)) * len(sel)
                total[sel] = _normalise_totals(rng.lognormal(0, 1.1, len(sel)), target, 2_000.0, 10.0)
        else:
            sel = np.flatnonzero(tier == ti)
            if len(sel) == 0:
                continue
            target = TOTAL_TARGET[t] if calibrate else TOTAL_TARGET[t] / 100 * len(sel)
            sigma = 1.0 if t == TIER_NEW else 0.9
            total[sel] = _normalise_totals(rng.lognormal(0, sigma, len(sel)), target, 10_000.0, 100.0)

    # Planned completion (day offset; ≥ 366 means 2021 or later). Continuing projects finish in
    # 2020 about a third of the time; few new ones do.
    pc = np.where(
        cont,
        np.where(rng.random(n) < 0.33, rng.integers(152, 366, n), rng.integers(366, 366 + 730, n)),
        np.where(
            (stage0 == S_NEW) & (rng.random(n) < 0.08),
            rng.integers(274, 366, n),
            rng.integers(366, 366 + 1095, n),
        ),
    )
    before_share = np.where(
        cont,
        np.where(pc < 366, rng.uniform(0.5, 0.8, n), rng.uniform(0.2, 0.65, n)),
        np.where(rng.random(n) < 0.3, rng.uniform(0.0, 0.03, n), 0.0),
    )
    before = np.round(total * before_share / 10) * 10
    remaining = total - before
    plan_share = np.select(
        [stage0 == S_RESERVE, stage0 == S_PRE, stage0 == S_NEW],
        [0.0, rng.uniform(0.03, 0.1, n), rng.uniform(0.15, 0.35, n)],
        rng.uniform(0.2, 0.4, n),
    )
    plan = np.minimum(total * plan_share, 0.85 * remaining)  # ≤ 85 %: room for a 115 % year
    plan = np.where(pc < 366, 0.85 * remaining, plan)  # finishing this year: the rest of it
    plan = np.round(plan / 10) * 10
    rest = remaining - plan
    next_share = np.where(pc < 366 + 366, 1.0, rng.uniform(0.45, 0.7, n))
    plan_next = np.where(pc < 366, 0.0, np.round(rest * next_share / 10) * 10)
    plan_after = np.where(pc < 366, 0.0, np.round((rest - plan_next) / 10) * 10)

    # -- planned and actual (re)start, day offsets -------------------------------------------------
    planned = np.select(
        [cont, due_new, stage0 == S_NEW, stage0 == S_PRE],
        [
            rng.integers(40, 80, n),  # 复工 planned 10 Feb – 19 Mar
            47 + np.floor(44 * rng.beta(2.0, 1.0, n)).astype(np.int64),  # 17 Feb – 31 Mar, mostly March
            91 + np.floor(213 * rng.beta(1.2, 2.5, n)).astype(np.int64),  # April – October
            rng.integers(182, 335, n),  # 前期: July – November
        ],
        rng.integers(366 + 59, 366 + 240, n),  # 储备: some time in 2021
    )
    never = rng.random(n)
    actual = np.select(
        [cont, stage0 == S_NEW, stage0 == S_PRE],
        [
            np.where(
                rng.random(n) < 0.05,
                rng.integers(0, 10, n),
                40 + np.round(rng.gamma(2.0, 14.0, n)).astype(np.int64),
            ),
            planned + np.where(rng.random(n) < 0.35, 0, np.round(rng.exponential(25.0, n)).astype(np.int64)),
            planned + np.round(rng.exponential(30.0, n)).astype(np.int64),
        ],
        NEVER,
    )
    actual = np.where((stage0 == S_NEW) & (never < 0.05) | (stage0 == S_PRE) & (never < 0.15), NEVER, actual)
    actual = np.where(actual > 358, NEVER, actual)  # not started by the last report: never in 2020

    # -- who reports which week (漏报) ---------------------------------------------------------------
    days = np.array([(d - _JAN1).days for d in dates], dtype=np.int64)
    W = len(dates)
    n_counties = len(county_list)
    county_miss = np.where(rng.random(n_counties) < 0.2, rng.uniform(0.12, 0.3, n_counties), 0.01)
    week_miss = np.zeros(W)
    for i, d in enumerate(dates):
        week_miss[i] = {date(2020, 2, 14): 0.15, date(2020, 6, 26): 0.12, date(2020, 10, 2): 0.45}.get(d, 0.0)
    # whole-county misses (a clerk did not file) plus single-project misses
    cw_miss = rng.random((n_counties, W)) < county_miss[:, None] * 0.6
    present = ~(
        cw_miss[county_idx]
        | (rng.random((n, W)) < 0.02 + county_miss[county_idx, None] * 0.3 + week_miss[None, :])
    )

    q1_weeks = np.flatnonzero(days <= _Q1)
    anchor = np.full(n, -1)
    if calibrate:
        # Every project reports at least once in the last three weeks of Q1 (13–27 March), so
        # its latest report on or before 31 March is a weekly one.
        last3 = q1_weeks[-3:]
        none = ~present[:, last3].any(axis=1)
        present[none, last3[-1]] = True
        anchor = np.where(present[:, q1_weeks], q1_weeks[None, :], -1).max(axis=1)
        anchor_day = days[anchor]

        # Calibrate starts: exactly round(rate × due) of the projects due by 31 March have
        # started by their latest report; the others start after 27 March or never.
        due = (stage0 != S_RESERVE) & (cont | (due_new & (planned <= _Q1)))
        eligible = due & (cont | (planned <= anchor_day))
        pace_c = np.asarray([p for p, _ in _CITY_PACE])[city]
        score = rng.random(n) + 0.35 * cont + 1.5 * (pace_c - 1.0)
        for group, rate in (("双百", START_RATE_Q1["双百"]), ("千项", START_RATE_Q1["千项"])):
            gmask = tier < 2 if group == "双百" else tier == 2
            n_started = round(rate * int((due & gmask).sum()))
            cand = np.flatnonzero(eligible & gmask)
            assert len(cand) >= n_started, (group, len(cand), n_started)
            chosen = cand[np.argsort(-score[cand], kind="stable")[:n_started]]
            is_chosen = np.zeros(n, dtype=bool)
            is_chosen[chosen] = True
            lo = np.where(cont, 40, planned)
            pull = is_chosen & (actual > anchor_day)
            actual = np.where(
                pull, lo + np.floor(rng.random(n) * (anchor_day - lo + 1)).astype(np.int64), actual
            )
            push = due & gmask & ~is_chosen & (actual <= 86)
            late = 87 + np.round(rng.exponential(35.0, n)).astype(np.int64)
            actual = np.where(push, np.where(rng.random(n) < 0.1, NEVER, np.minimum(late, 358)), actual)

    # -- completion and production --------------------------------------------------------------
    completion = np.where(
        (pc < 366) & (actual < NEVER),
        np.maximum(pc + rng.integers(0, 60, n), np.maximum(actual + 120, 121)),
        NEVER,
    )
    completion = np.where(completion > 358, NEVER, completion)  # after the last report
    production = np.where(
        (completion < NEVER) & (rng.random(n) < 0.6), completion + rng.integers(14, 60, n), NEVER
    )
    production = np.where(production > 358, NEVER, production)
    # Production within three weeks of completion is reported with it, as 投产 (建成投产): a
    # project's report of 竣工/投产 is its last (below), so a later 投产 is never reported.
    production = np.where(production - completion < 21, completion, production)

    # A project stops reporting after the week it reports 竣工/投产 (the first report dated on or
    # after its completion; a missed week moves it to the next one it files). Completions are
    # from May on, so the first quarter (calibrated above) is untouched.
    reports_done = present & (days[None, :] >= completion[:, None])
    last_week = np.where(reports_done.any(axis=1), reports_done.argmax(axis=1), W)
    present &= np.arange(W)[None, :] <= last_week[:, None]

    # -- ytd completed investment (万元) ----------------------------------------------------------
    Bc = _intensity_curve()
    pace_c = np.asarray([p for p, _ in _CITY_PACE])[city]
    gamma_c = np.asarray([g for _, g in _CITY_PACE])[city]
    pace = np.clip(pace_c * np.exp(rng.normal(0, 0.12, n)), 0.55, 1.15)
    pace = np.where(completion < NEVER, np.minimum(rng.uniform(0.97, 1.08, n), 1.15), pace)
    gamma = gamma_c * np.exp(rng.normal(0, 0.1, n))
    # Work pauses from lo until the (re)start: continuing projects worked in January, then
    # stopped at the Spring Festival (23 Jan, day 22); new projects do nothing before starting.
    lo = np.where(cont, 22, 0)
    hi = np.maximum(np.minimum(actual, _DAYS), lo)

    def worked(t: np.ndarray) -> np.ndarray:
        """Share-of-year work done through day t (broadcast over projects × t)."""
        t1 = np.minimum(t + 1, _DAYS)
        return Bc[t1] - (Bc[np.minimum(t1, hi[:, None])] - Bc[np.minimum(t1, lo[:, None])])

    end = np.minimum(completion, _DAYS - 1)
    denom = np.where(actual <= end, worked(end[:, None])[:, 0], 1.0)
    denom = np.maximum(denom, 1e-6)
    u = np.clip(worked(np.minimum(days[None, :], end[:, None])) / denom[:, None], 0.0, 1.0)
    F = pace[:, None] * u ** gamma[:, None]  # share of the annual plan done by each report

    def ytd_for(kmult: np.ndarray) -> np.ndarray:
        # kmult scales the first quarter (calibration) and fades out by 30 May (day 150).
        ramp = np.clip((150 - days) / (150 - _Q1), 0.0, 1.0)
        m = 1.0 + (kmult[:, None] - 1.0) * ramp[None, :]
        return np.minimum(np.round(plan[:, None] * F * m), remaining[:, None])

    kmult = np.ones(n)
    ytd = ytd_for(kmult)
    if calibrate:
        rows = np.arange(n)
        for group in ("双百", "千项"):
            gmask = tier < 2 if group == "双百" else tier == 2
            raw = (plan * F[rows, anchor])[gmask].sum()
            kmult[gmask] = YTD_Q1_TARGET[group] / raw
        ytd = ytd_for(kmult)
        for group in ("双百", "千项"):
            gmask = tier < 2 if group == "双百" else tier == 2
            at = ytd[rows, anchor]
            res = round(YTD_Q1_TARGET[group] - float(at[gmask].sum()))
            if res == 0:
                continue
            prev = np.where(anchor > 0, ytd[rows, np.maximum(anchor - 1, 0)], 0.0)
            ok = gmask & ((at - prev >= 1) if res < 0 else (at >= 1))
            cand = np.flatnonzero(ok)
            chosen = cand[np.argsort(-at[cand], kind="stable")[: abs(res)]]
            assert len(chosen) == abs(res), (group, res)
            ytd[chosen, anchor[chosen]] += np.sign(res)
    ytd = np.maximum.accumulate(ytd, axis=1)  # cumulative figures never fall

    # -- procedures, epidemic, problems, 入统 ------------------------------------------------------
    # The project's own not-started reason (1..6); a continuing project has its procedures, so
    # only money (2) or equipment (5) can hold up its 复工.
    reason = np.where(cont, np.where(rng.random(n) < 0.6, 2, 5), rng.integers(1, 7, n))
    started_by = np.minimum(actual, NEVER)
    # Day each procedure is done: before the start; the one named by the reason only just before.
    proc_done = {}
    for pi, name in enumerate(("approval", "land", "planning", "eia")):
        earlier = np.where(cont, -400, planned - rng.integers(20, 200, n))
        tied = reason == {0: 99, 1: 3, 2: 4, 3: 1}[pi]
        just = np.where(actual < NEVER, actual - rng.integers(0, 14, n), NEVER)
        done = np.where(tied & ~cont, just, np.minimum(earlier, started_by - 1))
        done = np.where((stage0 == S_RESERVE) & (pi > 0), NEVER, done)
        done = np.where((stage0 == S_RESERVE) & (pi == 0) & (rng.random(n) < 0.6), NEVER, done)
        proc_done[name] = done
    proc_begin = {k: v - rng.integers(30, 150, n) for k, v in proc_done.items()}

    covid = (rng.random(n) < np.where(stage0 == S_RESERVE, 0.3, 0.88)) & (actual > 21)
    covid_end = 65 + np.round(rng.gamma(2.0, 12.0, n) * np.where(gamma_c > 1.3, 1.6, 1.0)).astype(np.int64)
    covid_factor = rng.integers(0, len(_COVID_FACTORS), n)

    prob = np.where(rng.random(n) < 0.3, rng.integers(0, len(_PROBLEMS), n), -1)
    p_start = rng.integers(40, 300, n)
    p_end = p_start + 7 * rng.integers(3, 20, n)
    tie = (
        (actual > 86) & (stage0 != S_RESERVE) & np.isin(reason, list(_REASON_PROBLEM)) & (rng.random(n) < 0.7)
    )
    prob = np.where(tie, np.vectorize(lambda r: _REASON_PROBLEM.get(int(r), -1))(reason), prob)
    p_start = np.where(tie, np.minimum(planned, 40), p_start)
    p_end = np.where(tie, np.minimum(actual, NEVER), p_end)

    reg_day = np.where(
        cont & (rng.random(n) < 0.92), -1, np.where(actual < NEVER, actual + rng.integers(7, 60, n), NEVER)
    )
    reg_day = np.where(total >= STATS_THRESHOLD, reg_day, NEVER)

    a = {
        "tier": tier, "city": city, "stage0": stage0, "cont": cont, "planned": planned, "actual": actual,
        "completion": completion, "production": production, "reason": reason, "covid": covid,
        "covid_end": covid_end, "covid_factor": covid_factor, "prob": prob, "p_start": p_start,
        "p_end": p_end, "reg_day": reg_day, "total": total, "before": before, "plan": plan,
        "reserve_to_pre": np.where((stage0 == S_RESERVE) & (rng.random(n) < 0.4), rng.integers(150, 300, n), NEVER),
        **{f"done_{k}": v for k, v in proc_done.items()}, **{f"begin_{k}": v for k, v in proc_begin.items()},
    }  # fmt: skip

    static = _static_frame(
        rng, a, city_regions, county_code, county_name, div_code, emerging, pc, plan_next, plan_after
    )
    static_weekly = static.select(_STATIC_WEEKLY)
    return _World(dates=dates, static=static, static_weekly=static_weekly, a=a, present=present, ytd=ytd)


def _static_frame(
    rng: np.random.Generator,
    a: dict[str, np.ndarray],
    city_regions: list[Region],
    county_code: np.ndarray,
    county_name: np.ndarray,
    div_code: np.ndarray,
    emerging: np.ndarray,
    pc: np.ndarray,
    plan_next: np.ndarray,
    plan_after: np.ndarray,
) -> pl.DataFrame:
    """The ledger fields of every project: names, codes, texts (vectorised string building)."""
    n = len(div_code)
    city, tier, stage0, cont = a["city"], a["tier"], a["stage0"], a["cont"]
    div_names = {d.code: d.name for d in divisions()}

    # Company: 「山西鑫泰新材料有限公司」 — prefix, a two-character brand, an industry word, a form.
    pairs = [x + y for x in _BRAND_CHARS for y in _BRAND_CHARS if x != y and x + y not in _BRAND_BLOCK]
    brand = _pick(pairs, rng.integers(0, len(pairs), n))
    prefix = pl.Series(
        np.where(rng.random(n) < 0.55, "山西", np.asarray(_CITY_SHORT, dtype=object)[city]).astype(str)
    )
    words_flat = [w for d in _DIVS for w in _INDUSTRY[d][0]]
    w_off = np.cumsum([0] + [len(_INDUSTRY[d][0]) for d in _DIVS])[:-1]
    w_cnt = np.array([len(_INDUSTRY[d][0]) for d in _DIVS])
    d_idx = np.searchsorted(_DIVS, div_code)
    word = _pick(words_flat, w_off[d_idx] + np.floor(rng.random(n) * w_cnt[d_idx]).astype(np.int64))
    suffix = _pick(_SUFFIX, rng.integers(0, len(_SUFFIX), n))

    # Project: company + template (+ phase) + 项目.
    tpl_flat = [t for d in _DIVS for t in _INDUSTRY[d][1]]
    t_off = np.cumsum([0] + [len(_INDUSTRY[d][1]) for d in _DIVS])[:-1]
    t_cnt = np.array([len(_INDUSTRY[d][1]) for d in _DIVS])
    t_idx = t_off[d_idx] + np.floor(rng.random(n) * t_cnt[d_idx]).astype(np.int64)
    t_lo = np.array([t[1] for t in tpl_flat])[t_idx]
    t_hi = np.array([t[2] for t in tpl_flat])[t_idx]
    num_s = _nice_numbers(rng, t_lo, t_hi).zip_with(pl.Series(t_lo > 0), pl.Series([""] * n))
    product = _cat(
        [_pick([t[0] for t in tpl_flat], t_idx), num_s, _pick([t[3] for t in tpl_flat], t_idx)], separator=""
    ).rename("product")

    city_code = np.asarray([c.code for c in city_regions], dtype=object)[city]
    city_name = np.asarray([c.name for c in city_regions], dtype=object)[city]

    df = pl.DataFrame(
        {
            "city_code": pl.Series(city_code.astype(str)),
            "company": _cat([prefix, brand, word, suffix]),
            "product": product,
        }
    )
    df = df.with_columns(base=_cat([df["company"], df["product"]]))
    phase = df.select(k=pl.int_range(pl.len()).over("city_code", "base"))["k"].to_numpy()
    big = _cat([pl.lit("（第"), pl.Series(phase + 1).cast(pl.String), pl.lit("期）")])
    phase_s = _pick(_PHASE, np.minimum(phase, len(_PHASE) - 1)).zip_with(pl.Series(phase < len(_PHASE)), big)
    project_name = _cat([df["base"], phase_s, pl.lit("项目")], separator="")

    # 项目代码: year-county-division-type-serial; 03 备案 for most, 02 核准 for coal/power/steel.
    code_year = np.where(
        cont, rng.integers(2017, 2020, n), np.where(stage0 == S_NEW, rng.integers(2019, 2021, n), 2020)
    )
    code_type = np.where(np.isin(div_code, ["06", "44", "31", "25"]) & (rng.random(n) < 0.5), "02", "03")
    serial = rng.choice(1_000_000 - 1, size=n, replace=False) + 1 if n < 900_000 else np.arange(1, n + 1)
    has_code = rng.random(n) < np.select([cont, stage0 == S_NEW, stage0 == S_PRE], [0.97, 0.92, 0.6], 0.15)
    code = _cat(
        [
            pl.Series(code_year).cast(pl.String),
            pl.lit("-"),
            pl.Series(county_code.astype(str)),
            pl.lit("-"),
            pl.Series(div_code.astype(str)),
            pl.lit("-"),
            pl.Series(code_type.astype(str)),
            pl.lit("-"),
            pl.Series(serial).cast(pl.String).str.zfill(6),
        ]
    )
    code = code.zip_with(pl.Series(has_code), pl.Series([None] * n, dtype=pl.String))

    # Location attributes.
    poverty = np.isin(county_code.astype(str), list(_POVERTY))
    county_short = pl.Series(county_name.astype(str)).str.replace(r"(区|县|市)$", "")
    zone_r = rng.random(n)
    is_fz = np.char.endswith(county_code.astype(str), "71")  # 功能区: the county is the zone
    dev_zone = (
        pl.DataFrame(
            {
                "cz": _pick(_CITY_ZONE, city),
                "kz": _cat(["山西", county_short, "经济开发区"]),
                "cn": county_name.astype(str),
            }
        )
        .select(
            pl.when(pl.Series(is_fz))
            .then(pl.col("cn"))
            .when(pl.Series(zone_r < 0.4))
            .then(pl.col("cz"))
            .when(pl.Series((zone_r < 0.7) & np.char.endswith(county_name.astype(str), "县")))
            .then(pl.col("kz"))
            .otherwise(None)
        )
        .to_series()
    )

    # Texts.
    mu = np.round(a["total"] / rng.uniform(80, 200, n)).astype(np.int64) + 10  # 亩
    sqm = (np.round(mu * rng.uniform(200, 400, n) / 100) * 100).astype(np.int64)
    equip = np.round(a["total"] / rng.uniform(30, 120, n)).astype(np.int64) + 5
    scale_content = _cat(
        [
            pl.lit("项目总投资"),
            pl.Series(a["total"].astype(np.int64)).cast(pl.String),
            pl.lit("万元，占地约"),
            pl.Series(mu).cast(pl.String),
            pl.lit("亩，新建厂房及配套设施"),
            pl.Series(sqm).cast(pl.String),
            pl.lit("平方米，购置主要设备"),
            pl.Series(equip).cast(pl.String),
            pl.lit("台（套），建设"),
            product,
            pl.lit("及配套设施。"),
        ]
    )
    revenue = np.round(a["total"] * rng.uniform(0.8, 2.0, n) / 10_000, 1)
    benefits = _cat(
        [
            pl.lit("达产后可实现年销售收入"),
            pl.Series(revenue).cast(pl.String),
            pl.lit("亿元，利税"),
            pl.Series(np.round(revenue * rng.uniform(0.08, 0.2, n), 1)).cast(pl.String),
            pl.lit("亿元，新增就业"),
            pl.Series((np.round(a["total"] / rng.uniform(50, 200, n)) + 20).astype(np.int64)).cast(pl.String),
            pl.lit("人。"),
        ]
    )
    founded = rng.integers(1985, 2019, n)
    company_intro = _cat(
        [
            df["company"],
            pl.lit("成立于"),
            pl.Series(founded).cast(pl.String),
            pl.lit("年，注册资本"),
            pl.Series(rng.integers(5, 500, n) * 100).cast(pl.String),
            pl.lit("万元，主要从事"),
            pl.Series([div_names[d] for d in div_code]).str.strip_chars().str.replace("业$", ""),
            pl.lit("相关产品的研发、生产和销售。"),
        ]
    )
    goal = np.select(
        [stage0 == S_RESERVE, stage0 == S_PRE, stage0 == S_NEW, pc < 366],
        [5, 4, 3, 0],
        rng.integers(1, 3, n),
    )
    progress_note = np.select([stage0 == S_RESERVE, stage0 == S_PRE, stage0 == S_NEW], [0, 1, 2], 3)
    notes = (
        "正在开展项目谋划和可行性研究",
        "正在办理立项、土地、环评等前期手续",
        "前期手续基本完备，计划年内开工建设",
        "项目续建，春节后组织复工",
    )
    surname = _pick(list(_SURNAMES), rng.integers(0, len(_SURNAMES), n))
    given = _pick(_GIVEN, rng.integers(0, len(_GIVEN), n))
    contact = _cat(
        [
            surname,
            given,
            pl.lit(" "),
            _pick(_MOBILE, rng.integers(0, len(_MOBILE), n)),
            pl.lit("****"),
            pl.Series(rng.integers(0, 10_000, n)).cast(pl.String).str.zfill(4),
        ]
    )  # middle digits masked, as published lists do: no real numbers
    lead_unit = _cat(
        [
            pl.Series(city_name.astype(str)),
            pl.Series(np.where(tier < 2, "人民政府", "工业和信息化局").astype(str)),
        ]
    )
    start_for_period = np.where(
        cont, rng.integers(-1000, -60, n), np.minimum(a["planned"], 365 + 730)
    )  # continuing: started 2017–2019
    period = _cat(
        [
            _date_series(start_for_period).dt.strftime("%Y.%m"),
            pl.lit("-"),
            _date_series(pc).dt.strftime("%Y.%m"),
        ]
    )
    build_type = np.where(
        emerging,
        np.where(rng.random(n) < 0.75, "新建", "扩建"),
        np.where(rng.random(n) < 0.7, "技术改造", np.where(rng.random(n) < 0.5, "改建", "扩建")),
    )
    stage_ledger = np.where(cont, S_CONT, stage0)

    cols: dict[str, pl.Series] = {
        "project_code": code,
        "project_name": project_name,
        "company": df["company"],
        "city_code": pl.Series(city_code.astype(str)),
        "city_name": pl.Series(city_name.astype(str)),
        "county_code": pl.Series(county_code.astype(str)),
        "county_name": pl.Series(county_name.astype(str)),
        "dev_zone": dev_zone,
        "industry_code": pl.Series(div_code.astype(str)),
        "industry_name": pl.Series([div_names[d] for d in div_code]),
        "tier": _pick([TIER_NEW, TIER_TECH, TIER_CITY], tier),
        "category": pl.Series(np.where(emerging, "新兴", "技改").astype(str)),
        "build_type": pl.Series(build_type.astype(str)),
        "stage": _pick(_STAGE, stage_ledger),
        "poverty_county": pl.Series(poverty),
        "construction_period": period,
        "scale_content": scale_content,
        "total_investment": pl.Series(a["total"]),
        "completed_before_year": pl.Series(a["before"]),
        "annual_plan": pl.Series(a["plan"]),
        "plan_next_year": pl.Series(plan_next.astype(float)),
        "plan_year_after": pl.Series(plan_after.astype(float)),
        "image_progress": _pick(notes, progress_note),
        "planned_start_date": _date_series(a["planned"]),
        "planned_completion_date": _date_series(pc),
        "year_goal": _pick(_YEAR_GOAL, goal),
        "progress_note": _pick(notes, progress_note),
        "benefits": benefits,
        "highlights": _pick(_HIGHLIGHTS, rng.integers(0, len(_HIGHLIGHTS), n)),
        "company_intro": company_intro,
        "contact": contact,
        "lead_unit": lead_unit,
    }
    return pl.DataFrame({k: v.rename(k) for k, v in cols.items()})


# ---- frames -------------------------------------------------------------------------------------

_PROGRESS = (
    "项目储备阶段，正在开展可行性研究",  # 0 储备
    "正在办理前期手续",  # 1 not due yet
    "春节后停工，正在落实复工条件",  # 2 continuing, not yet resumed
    "施工准备中，正在进行场地平整",  # 3 due, not yet started
    "场地平整及桩基施工",  # 4 started, < 10 % of the works
    "基础及主体结构施工",  # 5 < 30 %
    "主厂房钢结构安装，设备基础施工",  # 6 < 55 %
    "主要设备安装中",  # 7 < 80 %
    "设备安装调试，部分生产线试运行",  # 8 ≥ 80 %
    "项目已竣工，正在试生产",  # 9 竣工
    "项目已建成投产",  # 10 投产
)
_STATIC_WEEKLY = tuple(
    f for f in WEEKLY_FIELDS
    if f not in {"stage", "ytd_completed", "image_progress", "actual_start_date", "not_started_reason",
                 "approval_status", "land_status", "planning_status", "eia_status", "covid_affected",
                 "covid_factors", "problem", "problem_department", "stats_registered", "completion_date"}
)  # fmt: skip


def _staged(cols: dict[str, pl.Series], n: int) -> pl.DataFrame:
    """A frame in STAGED_SCHEMA order: given columns, typed nulls elsewhere, source_row = row + 1."""
    out: list[pl.Series] = [pl.Series("source_row", np.arange(2, n + 2, dtype=np.int64))]
    for name, dtype in STAGED_SCHEMA.items():
        if name == "source_row":
            continue
        s = cols.get(name)
        out.append(s.rename(name).cast(dtype) if s is not None else pl.Series(name, [None] * n, dtype=dtype))
    return pl.DataFrame(out)


def _ledger_frame(world: _World) -> pl.DataFrame:
    """The 台账: one row per project, the ledger fields stated, the others null."""
    return _staged({c: world.static[c] for c in LEDGER_FIELDS}, world.static.height)


def _week_frame(world: _World, w: int) -> pl.DataFrame:
    """The weekly report of week w: one row per project that reported that week."""
    a = world.a
    t = (world.dates[w] - _JAN1).days
    idx = np.flatnonzero(world.present[:, w])
    m = len(idx)

    def g(key: str) -> np.ndarray:
        return a[key][idx]

    cont, stage0, planned, actual = g("cont"), g("stage0"), g("planned"), g("actual")
    started = actual <= t
    completed = g("completion") <= t
    produced = g("production") <= t
    stage = np.select(
        [produced, completed, cont, stage0 == S_NEW, stage0 == S_PRE, g("reserve_to_pre") <= t],
        [S_PROD, S_DONE, S_BUILD, S_NEW, np.where(started, S_NEW, S_PRE), S_PRE],
        S_RESERVE,
    )
    due_now = (stage != S_RESERVE) & (cont | (planned <= t))
    covid_on = g("covid") & (t < g("covid_end")) & ~completed
    none_reason = len(_NOT_STARTED)
    reason = np.select([started, stage == S_RESERVE, ~due_now, covid_on], [none_reason, 8, 7, 0], g("reason"))
    prob = g("prob")
    prob_on = (prob >= 0) & (g("p_start") <= t) & (t <= g("p_end")) & ~produced
    prob_i = np.where(prob_on, prob, len(_PROBLEMS))

    ytd = world.ytd[idx, w]
    total, before = g("total"), g("before")
    phys = (before + ytd) / total  # physical progress ≈ investment progress
    pct = np.clip(np.round(phys * 100), 1, 99).astype(np.int64)
    bucket = np.select(
        [produced, completed, stage == S_RESERVE, ~started & ~due_now, ~started & cont, ~started],
        [10, 9, 0, 1, 2, 3],
        4 + np.searchsorted([0.1, 0.3, 0.55, 0.8], phys, side="right"),
    )
    text = _pick(_PROGRESS, bucket)
    with_pct = _cat([text, "，完成总工程量的", pl.Series(pct).cast(pl.String), "%"])
    image = with_pct.zip_with(pl.Series((bucket >= 5) & (bucket <= 8)), text)

    cols: dict[str, pl.Series] = {c: world.static_weekly[c].gather(idx) for c in _STATIC_WEEKLY}
    cols.update(
        stage=_pick(_STAGE, stage),
        ytd_completed=pl.Series(ytd),
        image_progress=image,
        actual_start_date=_date_series(np.minimum(actual, NEVER), started),
        not_started_reason=_pick((*_NOT_STARTED, None), reason),
        covid_affected=pl.Series(covid_on),
        covid_factors=_pick(
            (*_COVID_FACTORS, None), np.where(covid_on, g("covid_factor"), len(_COVID_FACTORS))
        ),
        problem=_pick((*(p for p, _ in _PROBLEMS), None), prob_i),
        problem_department=_pick((*(d for _, d in _PROBLEMS), None), prob_i),
        stats_registered=pl.Series(started & (g("reg_day") <= t)),
        completion_date=_date_series(np.minimum(g("completion"), NEVER), completed),
    )
    for name in ("approval", "land", "planning", "eia"):
        status = np.where(g(f"done_{name}") <= t, 2, np.where(g(f"begin_{name}") <= t, 1, 0))
        cols[f"{name}_status"] = _pick(_PROC_STATUS, status)
    return _staged(cols, m)


def _frames(world: _World) -> Iterator[tuple[date, pl.DataFrame]]:
    for w, d in enumerate(world.dates):
        yield d, _week_frame(world, w)


# ---- public API ---------------------------------------------------------------------------------


@cache
def _demo_world() -> _World:
    return _build(DEMO_COUNTS, report_dates(46), DEMO_SEED, calibrate=True)


def demo_ledger() -> pl.DataFrame:
    """The demo 台账: 1,240 projects (100 新兴 + 100 技改 + 1,040 千项) in STAGED_SCHEMA."""
    return _ledger_frame(_demo_world())


def demo_weekly_reports() -> Iterator[tuple[date, pl.DataFrame]]:
    """(report date, staged frame) for each of the 46 Fridays 2020-02-14 … 2020-12-25."""
    return _frames(_demo_world())


def scale(projects: int, weeks: int, seed: int) -> tuple[pl.DataFrame, Iterator[tuple[date, pl.DataFrame]]]:
    """A larger synthetic set from the same generator (uncalibrated): ledger and weekly frames.

    Projects split over the tiers as the demo does (100 : 100 : 1,040); weeks ≤ 46 start on
    2020-02-14, 47–52 weeks end on 2020-12-25 and so start in January.
    """
    if projects < 3:
        raise ValueError("projects must be at least 3 (one per tier)")
    counts = tuple(int(c) for c in _apportion(projects, DEMO_COUNTS))
    world = _build((counts[0], counts[1], counts[2]), report_dates(weeks), seed, calibrate=False)
    return _ledger_frame(world), _frames(world)


def flat_frame(frame: pl.DataFrame, fields: tuple[str, ...] = WEEKLY_FIELDS) -> pl.DataFrame:
    """A staged frame in the standard flat layout: Chinese headers, ISO dates, 是/否, money in 万元."""
    exprs: list[pl.Expr] = []
    for name in fields:
        f, col = FIELD[name], pl.col(name)
        if f.kind == "money":  # whole 万元 written without a trailing .0
            e = (
                pl.when(col == col.round(0))
                .then(col.cast(pl.Int64).cast(pl.String))
                .otherwise(col.cast(pl.String))
            )
        elif f.kind == "bool":
            e = pl.when(col).then(pl.lit("是")).when(~col).then(pl.lit("否"))
        elif f.kind == "date":
            e = col.dt.strftime("%Y-%m-%d")
        else:
            e = col.cast(pl.String)
        exprs.append(e.alias(f.zh))
    return frame.select(exprs)


def write_flat_csv(frame: pl.DataFrame, path: Path, fields: tuple[str, ...] = WEEKLY_FIELDS) -> Path:
    """Write a staged frame as a UTF-8-BOM CSV in the standard flat layout."""
    path.parent.mkdir(parents=True, exist_ok=True)
    flat_frame(frame, fields).write_csv(path, include_bom=True)
    return path


SAMPLE_WEEK = date(2020, 3, 27)
SAMPLE_PATH = Path(__file__).resolve().parents[2] / "data" / "samples" / "demo_week_2020-03-27.csv"


def write_sample(path: Path = SAMPLE_PATH) -> Path:
    """Write the demo week of 2020-03-27 (the Q1 calibration week) for upload demos."""
    frame = next(f for d, f in demo_weekly_reports() if d == SAMPLE_WEEK)
    return write_flat_csv(frame, path)


if __name__ == "__main__":
    print(write_sample())
