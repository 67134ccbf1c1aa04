"""The per-row rules: region, industry, tier, stage and dates, plausibility warnings; each reads one row's cells."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from pipelines.ingest import headers as H
from pipelines.ingest.detect import SECTION_PREFIX, Col, section_text
from pipelines.ingest.parse import (
    BUILD_TYPES,
    UNSTARTED,
    clean,
    is_empty,
    parse_date,
    parse_stage,
    parse_tier,
    resolve_unstarted,
)
from pipelines.ingest.result import Found
from pipelines.ingest.stated import (
    NOT_RESTARTED_WORDS,
    parse_start_completion,
    reading_words,
    start_completion_stated,
)
from pipelines.vocab.reference import (
    Region,
    candidates_text,
    county_candidates,
    find_city,
    find_county,
    find_division,
    former_note,
    region_by_code,
    resolve_code,
    short_names,
)


def _resolve_location(text: str, hint: str | None) -> tuple[Region | None, Region | None]:
    """(city, county) from 建设地点-like text: 忻州市忻府区, 忻府区, 太原市小店区XX路, 经开区."""
    t = clean(text)
    county = find_county(t, hint)
    if county:
        return region_by_code().get(county.parent_code or ""), county
    city = find_city(t)
    rest = t
    if city:
        for prefix in (city.name, city.name.removesuffix("市")):
            if prefix in t:
                rest = t[t.index(prefix) + len(prefix) :]
                break
        hint = city.code
    for k in range(min(len(rest), 12), 1, -1):
        c = find_county(rest[:k], hint)
        if c:
            return region_by_code().get(c.parent_code or "") or city, c
    return city, None


CellFn = Callable[[str], "tuple[str, Col] | None"]

# A heading that names a development zone: an attribute, never a region; it ends the block above it.
_ZONE_HEADING = re.compile(r"(开发区|高新区|经开区|园区|示范区|产业集聚区|新区)(管委会)?$")


# Cells that may be a region heading (checked exactly by read_region_heading): a short name ending as a
# division's does, with a 序号 prefix, a count or a colon (a Rust regex, for Polars).
_PREFIX_RX = r"([一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]|\d+[、.．])"
HEADING_CANDIDATE = (r"^\s*" + _PREFIX_RX + r"?\s*[\p{Han}·]{1,14}(区|县|市|旗|州|盟)\s*([(（][^)）]*[)）])?\s*[:：]?\s*$"
                     r"|^\s*" + _PREFIX_RX + r"\s*[^，,]{0,6}(双百|千项|新兴|技改|技术改造)[^，,]{0,8}$")


def heading_name(text: str) -> str:
    """The name a heading row gives: 「一、铜官区」, 「（二）忻府区」, 「忻府区：」, 「铜官区（5个）」 → the region's name."""
    t = SECTION_PREFIX.sub("", clean(text)).strip()
    t = re.sub(r"[(（][^()（）]*[)）]$", "", t).rstrip(":：").strip()
    return t.removesuffix("项目").removesuffix("合计").removesuffix("小计") if len(t) > 3 else t


def read_section(text: str, section: dict[str, Any], city: Region | None = None, out: Found | None = None) -> bool:
    """A one-cell row like 「一、新兴产业项目」, 「太原市」 or 「一、铜官区」 sets tier/stage/city/county for the
    rows below it (city: the file's city, for a county name several cities have); True when it names a region."""
    if read_region_heading(text, section, city, out if out is not None else Found()):
        return True
    t = section_text(text)
    if not t or len(t) > 20:
        return False
    tier, _ = parse_tier(t)
    if tier and ("新兴" in t or "技改" in t or "千项" in t or "技术改造" in t):
        section["tier"] = tier
    stage, _, err = parse_stage(t)
    if stage and not err and stage != UNSTARTED:
        section["stage"] = stage
    return False


_TIER_HEADING = re.compile(r"(省级)?(双百)?[·.・]?(新兴产业|新兴|传统产业技改|技改|技术改造|市级千项|千项)(产业)?")


def read_tier_heading(text: str, section: dict[str, Any]) -> bool:
    """A numbered heading naming a tier (「一、省级双百·新兴项目」) on a row that also carries the block's sums:
    it sets the tier of the rows below. True when it is one."""
    if not SECTION_PREFIX.match(clean(text)):
        return False
    t = section_text(text)
    if not _TIER_HEADING.fullmatch(t):
        return False  # 「1.新兴材料项目」 is a project
    tier, err = parse_tier(t)
    if tier is None or err:
        return False
    section["tier"] = tier
    return True


def read_region_heading(text: str, section: dict[str, Any], file_city: Region | None, out: Found) -> bool:
    """A heading naming a city or a county: it sets the region of the rows below until the next heading or
    subtotal. A county name several cities have is resolved within the city above it (a city heading) or the
    file's city, else an error naming the candidates; a development zone ends the block (county unknown)."""
    name = heading_name(text)
    if not name or len(name) > 16:
        return False
    city = find_city(name)
    if city is not None and name in (city.name, city.code, *short_names(city.name, "city")):
        section["city"] = city
        section.pop("county", None)
        section.pop("dev_zone", None)
        return True
    section.pop("dev_zone", None)
    hint = section.get("city") or file_city
    cands = county_candidates(name, hint.code if hint else None)
    if len(cands) == 1:
        county = cands[0]
        if (note := former_note(name, county)) is not None:
            out.warn(f"分组标题：{note}", None, text)
        section["county"] = county
        return True
    if not cands and hint is not None:
        cands = county_candidates(name)
        if cands:
            out.err(f"分组标题「{name}」不是{hint.name}的县区（{candidates_text(cands)}）", None, text)
            section["county"] = None
            return True
    if len(cands) > 1:
        out.err(f"分组标题「{name}」有多个同名县区：{candidates_text(cands)}，无法确定所属地市："
                "请在上传时选择地市，或在标题、「地市」列中写明", None, text)
        section["county"] = None
        return True
    if _ZONE_HEADING.search(name) and (SECTION_PREFIX.match(clean(text)) or clean(text).endswith((":", "："))):
        out.warn(f"分组标题「{name}」是开发区/园区，不是行政区划：其下项目记为所在开发区「{name}」，县区按各行所填"
                 "（未填则为空）", None, text)
        section["county"] = None
        section["dev_zone"] = name
        return True
    return False


def end_of_block(section: dict[str, Any]) -> bool:
    """A subtotal row ends the innermost region block (a county heading's, else a city heading's): True when
    it ended one."""
    for key in ("county", "city"):
        if key in section:
            del section[key]
            section.pop("dev_zone", None)
            return True
    return False


def row_region(cell: CellFn, cols: dict[str, Col], out: Found, section: dict[str, Any], region: Region | None,
               region_city: Region | None, region_county: Region | None,
               title_city: Region | None = None) -> tuple[Region | None, Region | None, bool, str | None]:
    """(city, county, missing, development zone): missing when no city is found and no error already says why.
    Where the row names no county, the county of the heading above it (「一、铜官区」) is taken; a development
    zone written as the county (高新区), or heading the block, is the row's zone, never a region."""
    n_errors = out.n_errors()
    city, county, zone = _region_cells(cell, out, section, region_city, title_city)
    if county is None and out.n_errors() == n_errors and section.get("county") is not None:
        county = section["county"]
        if city is not None and county.parent_code != city.code:
            out.err(f"县区「{county.name}」（分组标题）不属于地市「{city.name}」",
                    cols[H.CITY].name if H.CITY in cols else None, city.name)
            county = None
    if county is not None and city is None:
        city = region_by_code().get(county.parent_code or "")
    if county is not None and city is not None and county.parent_code != city.code:
        out.err(f"县区「{county.name}」不属于地市「{city.name}」", cols[H.COUNTY].name if H.COUNTY in cols else None,
                county.name)
    if city is None:
        city = section.get("city") or region_city
    if county is None and region_county is not None and city is not None and city.code == region_county.parent_code:
        county = region_county
    if region_city is not None and city is not None and city.code != region_city.code:
        col = next((cols[k].name for k in (H.CITY, H.COUNTY, H.LOCATION, H.CITY_CODE) if k in cols), None)
        out.err(f"地市「{city.name}」与上传时选择的地区「{region.name if region else ''}」不一致", col, city.name)
    elif region_county is not None and county is not None and county.code != region_county.code:
        col = next((cols[k].name for k in (H.COUNTY, H.LOCATION, H.COUNTY_CODE) if k in cols), None)
        out.err(f"县区「{county.name}」与上传时选择的地区「{region_county.name}」不一致", col, county.name)
    missing = city is None and out.n_errors() == n_errors  # an unknown city was already reported for this row
    return city, county, missing, zone or section.get("dev_zone")


def _filled(cell: CellFn, key: str) -> tuple[str, str] | None:
    """(text, column name) of the row's cell for key, None when absent or empty."""
    c = cell(key)
    if c is None or is_empty(c[0]):
        return None
    return c[0], c[1].name


def _coded_region(cell: CellFn, key: str, level: str, out: Found) -> Region | None:
    """The region of that level the row's code cell for key names (a former code gives the division that
    holds it now); a code that names none is an error."""
    if (v := _filled(cell, key)) is None:
        return None
    r = resolve_code(clean(v[0]))
    if r is None or r.level != level:
        out.err(f"无法识别的{'地市' if level == 'city' else '县区'}代码", v[1], v[0])
        return None
    if (note := former_note(clean(v[0]), r)) is not None:
        out.warn(note, v[1], v[0])
    return r


def _county_cell(text: str, column: str, hint: Region | None, out: Found) -> tuple[Region | None, str | None]:
    """(county, development zone) a 县区 cell names, the county within the hint city; a former name is said,
    a shared or foreign name is an error naming the candidates, a development zone (高新区) is the row's zone."""
    county = find_county(text, hint.code if hint else None)
    if county is not None:
        if (note := former_note(text, county)) is not None:
            out.warn(note, column, text)
        return county, None
    zone = clean(text)
    if _ZONE_HEADING.search(zone) and len(zone) <= 20:
        out.warn(f"「{zone}」是开发区/园区，不是行政区划：记为所在开发区，县区未填", column, text)
        return None, zone
    cands = county_candidates(text)
    if hint is None and len(cands) > 1:
        out.err(f"县区「{clean(text)}」有多个同名：{candidates_text(cands)}，无法确定所属地市：请在上传时选择地市，"
                "或在标题、「地市」列中写明", column, text)
    elif hint is not None and cands:
        out.err(f"县区「{clean(text)}」不属于{hint.name}（{candidates_text(cands)}）", column, text)
    else:
        out.err("无法识别的县区" + ("（请核对所属地市）" if hint else ""), column, text)
    return None, None


def _region_cells(cell: CellFn, out: Found, section: dict[str, Any], region_city: Region | None,
                  title_city: Region | None = None) -> tuple[Region | None, Region | None, str | None]:
    """(city, county) as the row's own cells name them: codes first, then names, then 建设地点. A county name
    is resolved within the row's city, else the upload's, a city heading's, or the title's."""
    city = _coded_region(cell, H.CITY_CODE, "city", out)
    county: Region | None = None
    if city is None and (v := _filled(cell, H.CITY)) is not None:
        city = find_city(v[0])
        if city is None:
            c2 = find_county(v[0], region_city.code if region_city else None)
            if c2 is not None:  # a county written in the 地市 column
                county, city = c2, region_by_code().get(c2.parent_code or "")
            else:
                out.err("无法识别的地市", v[1], v[0])
    hint = city or region_city or section.get("city") or title_city
    county = _coded_region(cell, H.COUNTY_CODE, "county", out) or county
    zone = None
    if county is None and (v := _filled(cell, H.COUNTY)) is not None:
        county, zone = _county_cell(v[0], v[1], hint, out)
    if county is None and (v := _filled(cell, H.LOCATION)) is not None:
        c_city, c_county = _resolve_location(v[0], hint.code if hint else None)
        if c_county is not None:
            county = c_county
        if city is None and c_city is not None:
            city = c_city
        if c_city is None and c_county is None and city is None and region_city is None:
            out.err("无法识别的地区（应为地市或县区名称）", v[1], v[0])
    return city, county, zone


def row_industry(cell: CellFn) -> tuple[str | None, str | None]:
    """(industry_code, industry_name)."""
    code_cell, text_cell = cell(H.INDUSTRY_CODE), cell(H.INDUSTRY)
    div = None
    if code_cell and not is_empty(code_cell[0]):
        div = find_division(code_cell[0])
    text = text_cell[0].strip() if text_cell and not is_empty(text_cell[0]) else None
    if div is None and text:
        div = find_division(text)
    if div is not None:
        return div.code, div.name
    return None, text  # free text that names no division: kept as written, never dropped


def row_tier(cell: CellFn, out: Found, section: dict[str, Any], tier_arg: str | None, title_tier: str | None,
              title_ambiguous: bool) -> str | None:
    tier: str | None = None
    c = cell("tier")
    if c and not is_empty(c[0]):
        t, e = parse_tier(c[0])
        if e:
            if tier_arg is None:
                out.err(e, c[1].name, c[0])
            else:
                out.warn(f"{e}；按上传时选择的层级「{tier_arg}」处理", c[1].name, c[0])
        elif tier_arg is not None and t != tier_arg:
            out.err(f"层级「{t}」与上传时选择的层级「{tier_arg}」不一致", c[1].name, c[0])
        tier = t
    # The upload's choice, then a title that names one tier (千项 files group their projects under
    # 新兴/传统 section rows that are not the provincial tiers), then a section row.
    if tier is None:
        tier = tier_arg
    if tier is None and not title_ambiguous:
        tier = title_tier
    if tier is None:
        tier = section.get("tier")
    if tier is None and title_ambiguous:
        cat = cell("category")
        if cat and ("新兴" in cat[0] or "技改" in cat[0] or "技术改造" in cat[0]):
            tier, _ = parse_tier(cat[0])
    if tier is None:
        tier = title_tier
    return tier


def row_stage_dates(rec: dict[str, Any], cell: CellFn, out: Found, d: date | None, year: int | None,
                    section: dict[str, Any], default_stage: str | None) -> None:
    """rec's stage, build_type, dates and start_stated from the row's stage, type and date cells (rec holds
    the fields parsed before; not_started_reason is whether one is given). rec["_sc"] is what the
    开竣工情况 text was read as, in words (for the preview), when the row has one."""
    stage, status = _stage_of_cells(rec, cell, out)
    _start_time(rec, cell, out, d)
    _completion_time(rec, cell, out, d)
    sc_stage, sc_stated = _start_completion(rec, cell, out, d, year)
    # The row's own word on starting (contract "Stage words and starting"): a status of 在建/已开工/竣工/
    # 投产 or a text that states a start says started; 未开工, 尚未复工, 停工 or a reason given say not, and win.
    # A free-text progress column (项目进展, 形象进度) is read for the same (rec["_progress"]: its word on
    # starting; the stage and dates it states fill what the row leaves empty, after this rule).
    p_stated = rec.pop("_progress", None)
    says_not = (status is False or sc_stated is False or p_stated is False
                or bool(rec.get("not_started_reason")))
    rec["start_stated"] = False if says_not else (True if status or sc_stated or p_stated else None)
    if stage is None:
        stage = sc_stage
    if stage is None:
        stage = section.get("stage") or default_stage
    if stage == UNSTARTED:
        stage = resolve_unstarted(rec.get("planned_start_date"), year)
    rec["stage"] = stage
    # A weekly reason given with a date before D is 逾期未开工 even without the 开复工时间 column rule.
    if (cell(H.START_TIME) is None and d is not None and rec.get("not_started_reason")
            and rec.get("planned_start_date") and rec["planned_start_date"] <= d and rec.get("actual_start_date") is None):
        out.warn("逾期未开工：计划开工时间已过报告期截止日，但填写了未开复工原因",
                 _col_name(cell, "planned_start_date"), str(rec["planned_start_date"]))


_STATUS_STARTED = ("在建", "竣工", "投产")


def _stage_of_cells(rec: dict[str, Any], cell: CellFn, out: Found) -> tuple[str | None, bool | None]:
    """(stage, what it says of starting) from the 建设状态 / 项目类型 / 建设性质 cells (the first that
    states a stage); rec's build_type from them. In a status column (建设状态, 项目进展 …) 在建/已开工/竣工/
    投产 say started (True); in a type column (建设类型) 在建 means continuing and says nothing of starting.
    In either, 未开工/未复工/停工 say not (re)started (False)."""
    stage: str | None = None
    status: bool | None = None
    for key, type_col in (("stage", False), (H.STAGE_OR_TYPE, True), ("build_type", True)):
        c = cell(key)
        if not c or is_empty(c[0]):
            continue
        if key != "build_type":
            word = clean(c[0])
            if any(w in word for w in NOT_RESTARTED_WORDS):
                status = False
            elif key == "stage" and status is None and parse_stage(c[0])[0] in _STATUS_STARTED:
                status = True
        if key == "build_type":
            t = clean(c[0])
            if t in BUILD_TYPES:
                rec["build_type"] = BUILD_TYPES[t]
                continue
            rec["build_type"] = c[0].strip()
        s, bt, e = parse_stage(c[0], type_column=type_col)
        if e and key != "build_type":
            out.err(e, c[1].name, c[0])
        if bt and key != "build_type":
            rec["build_type"] = bt
        if s and stage is None:
            stage = s
    return stage, status


def _date_cell(cell: CellFn, key: str, out: Found) -> tuple[date, tuple[str, Col]] | None:
    """The date in the row's cell for key, with the cell; None when empty, not a date (an error to out) or no date."""
    c = cell(key)
    if not c or is_empty(c[0]):
        return None
    dt, e = parse_date(c[0])
    if e:
        out.err(e, c[1].name, c[0])
        return None
    return None if dt is None else (dt, c)


def _start_time(rec: dict[str, Any], cell: CellFn, out: Found, d: date | None) -> None:
    """Weekly 开复工时间 read with 未开复工原因 (contract § Reading submissions): a month alone is an actual
    date (its 1st) when started, a planned one (its last day) when a reason is given or it is after D."""
    if (got := _date_cell(cell, H.START_TIME, out)) is None:
        return
    dt, c = got
    if (d is None or dt <= d) and not rec.get("not_started_reason"):
        # Started. The form has one date for "actual if started, else planned": the planned
        # date is unknown, so it is taken as the actual one (the project was due by then).
        rec["actual_start_date"] = dt
        rec["planned_start_date"] = rec.get("planned_start_date") or dt
    else:
        rec["planned_start_date"] = _as_planned(dt, c[0])
        if d is not None and dt <= d:
            out.warn("逾期未开工：开复工时间已过报告期截止日，但填写了未开复工原因", c[1].name, c[0])


def _completion_time(rec: dict[str, Any], cell: CellFn, out: Found, d: date | None) -> None:
    """竣工时间: the completion date when on or before D, else the planned one."""
    if (got := _date_cell(cell, H.COMPLETION_TIME, out)) is None:
        return
    dt, c = got
    if d is None or dt <= d:
        rec["completion_date"] = dt
    else:
        rec["planned_completion_date"] = _as_planned(dt, c[0])


def _as_planned(dt: date, text: str) -> date:
    """A date read as planned: a month alone (2020.06, 2020年6月) is the month's last day."""
    planned, _ = parse_date(text, planned=True)
    return planned if isinstance(planned, date) else dt


def _start_completion(rec: dict[str, Any], cell: CellFn, out: Found, d: date | None,
                      year: int | None) -> tuple[str | None, bool | None]:
    """开竣工情况 (free text): the dates it gives where rec has none; (the stage it implies, what it says of
    starting). rec["_sc"]: the reading in words, shown beside the text in the preview."""
    c = cell(H.START_COMPLETION)
    if not c or is_empty(c[0]):
        return None, None
    sc, e = parse_start_completion(c[0], d, year)
    if e:
        out.err(e, c[1].name, c[0])
        return None, None
    for k in ("actual_start_date", "planned_start_date", "completion_date", "planned_completion_date"):
        if sc.get(k) is not None and rec.get(k) is None:
            rec[k] = sc[k]
    stated = start_completion_stated(sc)
    if (sc.get("stage") == "在建" and rec.get("actual_start_date") is None and stated
            and any(w in clean(c[0]) for w in ("开工", "复工"))):  # 已开工 with no date (not 设备安装中)
        out.warn("只写了已开工、未写开工时间：按口径计为已开（复）工（开工时间不详），"
                 "请补填开工年月（如“2020年3月开工”）", c[1].name, c[0])
    rec["_sc"] = reading_words(sc)
    return sc.get("stage"), stated


def _col_name(cell: CellFn, key: str) -> str | None:
    c = cell(key)
    return c[1].name if c else None


def row_warnings(rec: dict[str, Any], cols: dict[str, Col], out: Found) -> None:
    total, cby = rec.get("total_investment"), rec.get("completed_before_year")
    plan, ytd = rec.get("annual_plan"), rec.get("ytd_completed")
    name = {k: c.name for k, c in cols.items()}
    if ytd is not None and plan and ytd > plan * 1.5:
        out.warn(f"本年累计完成投资 {ytd:g} 万元超过年度计划投资 {plan:g} 万元的 1.5 倍，请核对",
                 name.get("ytd_completed"), f"{ytd:g}")
    if total is not None and (cby is not None or ytd is not None) and (cby or 0) + (ytd or 0) > total + 1e-6:
        out.warn(f"累计完成投资 {(cby or 0) + (ytd or 0):g} 万元超过总投资 {total:g} 万元，请核对",
                 name.get("total_investment"), f"{total:g}")
    if rec.get("stage") == "竣工" and total and (cby is not None or ytd is not None) and (cby or 0) + (ytd or 0) < total * 0.5:
        out.warn("状态为竣工，但累计完成投资不足总投资的 50%，请核对", name.get("stage") or name.get(H.STAGE_OR_TYPE),
                 "竣工")
