"""Header recognition: one synonym table from what clerks write in a header cell to a staged field.

A header is normalised (NFKC, no whitespace, units in brackets taken out) and matched whole.
Keys are schema field names, or a few reader-side keys that need more than one cell to resolve
(region, industry, the weekly 开复工时间, year-bearing investment columns).
"""

from __future__ import annotations

import re
import unicodedata

from pipelines.vocab.schema import REPORT_FIELDS

_WS = re.compile(r"\s+")
_BRACKETS = re.compile(r"[(\[【〔<《]([^)\]】〕>》]*)[)\]】〕>》]")

# Reader-side keys (not schema fields).
SEQ = "_seq"
CITY = "_city"
COUNTY = "_county"
LOCATION = "_location"  # 建设地点 / 所在地 / 所属区域: city and/or county in one cell
CITY_CODE = "_city_code"
COUNTY_CODE = "_county_code"
INDUSTRY = "_industry"
INDUSTRY_CODE = "_industry_code"
STAGE_OR_TYPE = "_stage_or_type"  # 建设类型: holds stages (weekly) or build types (ledger)
START_TIME = "_start_time"  # 开复工时间: actual or planned, read with 未开复工原因
COMPLETION_TIME = "_completion_time"  # 竣工时间 without 计划/实际: ≤ D actual, else planned
START_COMPLETION = "_start_completion"  # 开竣工情况: free text → stage + dates
REPORT_DATE_COL = "_report_date"
# Year-bearing keys: resolved against the report year Y.
Y_COMPLETED = "_y_completed"  # X 年底累计完成 → X = Y-1
Y_PLAN = "_y_plan"  # X 年计划投资 → Y / Y+1 / Y+2
Y_YTD = "_y_ytd"  # X 年完成投资 → X = Y
Y_START = "_y_start"  # X 年预计开复工时间
Y_COMPLETION = "_y_completion"  # X 年预计竣工时间
Y_GOAL = "_y_goal"  # X 年推进目标

# Group headers of two-row headers: never a column themselves.
GROUP_WORDS = frozenset(
    {
        "项目进展情况",
        "前期手续办理情况",
        "前期手续",
        "手续办理情况",
        "项目存在问题",
        "存在问题",
        "投资情况",
        "投资完成情况",
        "建设进度",
        "效益亮点",
        "项目信息",
        "基本情况",
        "项目基本情况",
        "企业简介",
        "建设内容",
        "开复工情况",
        "开竣工情况",
    }
)

_EXACT: dict[str, str] = {}


def _add(key: str, *names: str) -> None:
    for n in names:
        _EXACT[n] = key


_add(SEQ, "序号", "编号", "序", "no", "no.", "序列号", "排序")
_add("project_code", "项目代码", "项目编码", "项目统一代码", "统一项目代码", "备案代码", "项目备案代码", "项目代码备案号", "备案号", "赋码")
_add("project_name", "项目名称", "项目", "项目名", "项目全称")
_add("company", "企业名称", "项目单位", "建设单位", "项目建设单位", "项目业主", "业主单位", "企业", "单位名称", "项目法人", "实施单位", "项目实施单位", "项目承建单位", "承建单位", "项目单位名称", "企业全称")
_add(CITY, "地市", "市", "设区市", "所在市", "所属市", "地级市", "城市", "市别", "所在地市", "市州", "所属地市", "地市名称")
_add(COUNTY, "县区", "县", "县市区", "区县", "所在县区", "所属县区", "县区名称", "县市", "县(市、区)", "县(市区)", "所在县", "所属县",
     "所在区县", "所属区县", "区县名称", "县(区)", "区", "所在区", "所属区", "县市区名称", "所在县市区", "所属县市区")
_add(LOCATION, "所在地", "建设地点", "项目地点", "项目所在地", "所属区域", "所在区域", "区域", "地区", "所在地区", "项目建设地点", "建设地址", "属地", "所属地区", "项目所在区域")
_add(CITY_CODE, "地市代码", "城市代码")
_add(COUNTY_CODE, "县区代码")
_add("dev_zone", "所在开发区", "开发区", "所在园区", "园区", "所属园区", "所属开发区", "所在开发区园区")
_add(INDUSTRY, "行业", "行业类别", "所属行业", "行业分类", "所属行业类别", "产业类型", "所属产业类别", "产业类别", "所属产业", "产业", "产业领域", "行业领域", "所属领域", "国民经济行业分类", "行业名称", "产业分类")
_add(INDUSTRY_CODE, "行业代码")
_add("tier", "层级", "项目层级", "项目级别", "级别", "层次", "项目分级", "项目层次")
_add("category", "项目类别", "类别", "项目分类", "项目类型")
_add(STAGE_OR_TYPE, "建设类型", "类型")
_add("build_type", "建设性质")
_add("stage", "建设状态", "项目状态", "建设阶段", "项目阶段", "状态", "项目建设状态", "建设情况", "项目建设阶段", "建设进展状态")
_add("poverty_county", "是否贫困县项目", "是否贫困县", "贫困县项目", "贫困县")
_add("construction_period", "项目建设周期", "建设周期", "建设年限", "建设起止年限", "起止年限", "建设期限", "建设起止时间")
_add("scale_content", "建设规模及建设内容", "建设规模与内容", "建设规模及内容", "建设内容", "主要建设内容", "建设规模", "建设内容及规模", "项目建设内容", "主要建设内容及规模", "建设规模和内容", "建设规模与建设内容", "项目内容")
_add("total_investment", "总投资", "项目总投资", "计划总投资", "总投资额", "投资总额", "估算总投资")
_add("image_progress", "工程形象进度", "形象进度", "目前形象进度", "当前形象进度", "项目形象进度", "工程进度")
_add(START_TIME, "开复工时间", "开工时间", "开工日期", "开复工日期", "开工复工时间")
_add("planned_start_date", "计划开工时间", "预计开工时间", "计划开复工时间", "预计开复工时间", "计划开工日期", "计划开工",
     "预计开工日期", "计划开复工日期", "预计开复工日期", "拟开工时间", "计划开工年月", "预计开工年月")
_add("actual_start_date", "实际开工时间", "实际开复工时间", "实际开工日期", "实际开工", "实际开复工日期", "实际开工年月",
     "已开工时间")
_add("not_started_reason", "未开复工原因", "未开工原因", "未复工原因", "未开工复工原因")
_add("planned_completion_date", "计划竣工时间", "预计竣工时间", "计划竣工日期", "预计投产时间", "计划投产时间", "预计竣工投产时间",
     "预计竣工日期", "计划竣工投产时间", "计划完工时间", "预计完工时间")
_add("completion_date", "实际竣工时间", "实际竣工日期")
_add(COMPLETION_TIME, "竣工时间", "竣工日期", "竣工投产时间")
_add(START_COMPLETION, "开竣工情况", "开工竣工情况", "开竣工时间", "开竣工", "开复工情况", "开工情况", "开复工进展", "开竣工进展")
_add("approval_status", "立项手续", "立项", "立项情况", "审批核准备案", "立项审批")
_add("land_status", "土地预审或土地出让手续", "土地手续", "用地手续", "土地", "用地", "土地情况", "用地情况")
_add("planning_status", "规划选址", "规划", "规划手续", "选址", "规划许可")
_add("eia_status", "环评", "环评手续", "环境影响评价", "环评批复", "环评情况")
_add("covid_affected", "是否受疫情影响", "受疫情影响", "是否受疫情")
_add("covid_factors", "受疫情影响因素", "疫情影响因素", "疫情影响")
_add("problem", "需要省级层面协调解决的问题", "需要协调解决的问题", "需协调解决的问题", "存在问题", "项目存在问题", "存在的问题", "问题", "困难和问题", "存在困难", "存在问题及建议", "需要市级层面协调解决的问题", "需要解决的问题", "存在的困难和问题")
_add("problem_department", "建议解决部门", "建议协调部门", "协调部门", "建议协调解决部门")
_add("stats_registered", "是否入统", "是否入库", "入统", "入库", "是否纳统", "纳统", "是否纳统入库", "是否入统入库情况", "是否纳入统计", "是否入统入库", "入统情况", "入库情况", "是否统计入库")
_add("year_goal", "本年推进目标", "年度推进目标", "推进目标", "工作目标", "年度目标", "年度工作目标")
_add("progress_note", "项目进展", "目前进展情况", "进展情况", "项目进展情况", "最新进展", "进展", "推进情况", "项目推进情况", "目前进展")
_add("benefits", "投产效益", "效益", "预期效益", "经济效益", "投产后效益")
_add("highlights", "项目亮点", "亮点")
_add("company_intro", "企业简介", "企业基本情况", "公司简介", "企业情况")
_add("contact", "项目联系人及电话", "联系人及电话", "联系人", "联系电话", "联系方式", "项目联系人", "项目单位责任人", "责任人", "项目负责人", "负责人及电话", "联系人电话")
_add("lead_unit", "牵头协调推进责任单位", "牵头单位", "责任单位", "牵头协调单位", "推进责任单位", "牵头责任单位")
_add("leader", "责任领导", "包保领导", "包联领导", "包保责任领导", "联系领导", "分包领导", "包抓领导", "项目包保领导",
     "县级包保领导", "市级包保领导", "包保县级领导", "包保市级领导", "责任市领导", "责任县领导")
_add(REPORT_DATE_COL, "报告期", "报告日期", "报告期截止日")
_add("completed_before_year", "截至上年底累计完成投资", "以前年度累计完成投资", "以前年度完成投资", "往年累计完成投资", "上年底累计完成投资")
_add("annual_plan", "本年计划投资", "年度计划投资", "计划投资", "本年度计划投资", "今年计划投资", "年计划投资", "当年计划投资")
_add("plan_next_year", "次年计划投资", "明年计划投资", "下年计划投资")
_add("plan_year_after", "第三年计划投资", "后年计划投资")
_add("ytd_completed", "本年累计完成投资", "本年完成投资", "今年累计完成投资", "本年度累计完成投资", "年度累计完成投资", "当年累计完成投资", "本年截至目前累计完成投资", "截至目前本年累计完成投资")

# Fields the reader derives and no file states: never a header, never in the template.
DERIVED_FIELDS = frozenset({"start_stated"})

# Our own template writes each field's Chinese term: those are recognised too.
_FIELD_BY_ZH = {f.zh: f.name for f in REPORT_FIELDS if f.name not in DERIVED_FIELDS}
_FIELD_BY_ZH.update({"地市": CITY, "县区": COUNTY, "地市代码": CITY_CODE, "县区代码": COUNTY_CODE, "行业": INDUSTRY, "行业代码": INDUSTRY_CODE})

_Y = r"(\d{4})年?度?"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), k)
    for p, k in (
        (rf"(?:截至|截止|至)?{_Y}(?:底|末|年底|12月底|12月末)(?:前)?(?:累计)?(?:已)?完成(?:投资|投资额)?", Y_COMPLETED),
        (rf"{_Y}及以前(?:年度)?(?:累计)?完成(?:投资|投资额)?", Y_COMPLETED),
        (rf"{_Y}(?:计划|预计)(?:完成)?投资(?:额)?", Y_PLAN),
        (
            rf"{_Y}(?:截至|截止)?(?:目前|当前|本周|本月|今|1?-?\d{{1,2}}月(?:底|末|份)?|一季度|上半年|前三季度)?(?:累计)?(?:已)?完成(?:投资|投资额)?",
            Y_YTD,
        ),
        (rf"{_Y}(?:预计|计划)?开(?:复)?工(?:时间|日期)?", Y_START),
        (rf"{_Y}(?:预计|计划)?(?:竣工|投产|竣工投产)(?:时间|日期)?", Y_COMPLETION),
        (rf"{_Y}(?:推进|工作|建设)?目标(?:任务)?", Y_GOAL),
        (r"(?:1-)?\d{1,2}-\d{1,2}月(?:份)?(?:累计)?完成(?:投资|投资额)?", "ytd_completed"),
        (r"1?-?\d{1,2}月(?:底|末|份)?(?:累计)?完成(?:投资|投资额)?", "ytd_completed"),
        (r"(?:截至|截止)?上年(?:底|末)(?:累计)?完成(?:投资|投资额)?", "completed_before_year"),
    )
)


def unit_factor_of(text: str) -> float | None:
    """10000 when a text names 亿元 as the unit, 1 for 万元, 0.0001 for 元; None when it names none."""
    t = unicodedata.normalize("NFKC", text)
    if "亿元" in t or re.search(r"单位[:：]?亿", t):
        return 10_000.0
    if "万元" in t:
        return 1.0
    if re.search(r"单位[:：]?元", t) or t.strip("()（）") == "元":
        return 0.0001
    return None


def normalise_header(text: str) -> tuple[str, float | None]:
    """(header without whitespace, brackets and unit; the unit factor it names or None)."""
    t = _WS.sub("", unicodedata.normalize("NFKC", str(text))).strip("*※★▲△●")
    unit = None
    for m in _BRACKETS.finditer(t):
        unit = unit_factor_of(m.group(1)) or unit
    t = _BRACKETS.sub("", t)
    tail = re.search(r"[/:：]?(亿元|万元)$", t)
    if tail and len(t) > len(tail.group(0)):
        unit = unit_factor_of(tail.group(1))
        t = t[: tail.start()]
    return t.lower() if t.isascii() else t, unit


def header_key(text: str) -> tuple[str, int | None] | None:
    """(key, year or None) for a header cell, or None when not understood."""
    raw = _WS.sub("", unicodedata.normalize("NFKC", str(text)))
    if raw in _FIELD_BY_ZH:
        return _FIELD_BY_ZH[raw], None
    t, _ = normalise_header(text)
    if not t:
        return None
    # 开工时间（实际）, 竣工日期(计划): the bracket says which date it is.
    for b in _BRACKETS.finditer(raw):
        q = b.group(1)
        if q in ("实际", "计划", "预计") and q + t in _EXACT:
            return _EXACT[q + t], None
    if t in _EXACT:
        return _EXACT[t], None
    if t in _FIELD_BY_ZH:
        return _FIELD_BY_ZH[t], None
    for pat, key in _PATTERNS:
        m = pat.fullmatch(t)
        if m:
            year = int(m.group(1)) if key.startswith("_y_") else None
            return key, year
    return None


def is_headerish(text: str) -> bool:
    """A header term or a known group header."""
    t, _ = normalise_header(text)
    return bool(t) and len(t) <= 40 and (t in GROUP_WORDS or header_key(text) is not None)


MONEYISH = re.compile(r"投资|金额|资金|万元|亿元|产值|营收|税")
