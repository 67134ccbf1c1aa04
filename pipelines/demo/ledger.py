"""The 台账's columns of every project: names, codes, places and texts, built as vectorised strings.

Each step draws from the run's generator in the order static_frame calls them; that order is part
of the demo's output (same seed → same names).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.demo.campaign import CITY_SHORT, S_CONT, S_NEW, S_PRE, S_RESERVE, STAGE_NAMES
from pipelines.demo.frames import cat, date_series, pick
from pipelines.demo.projects import TIERS, Projects
from pipelines.demo.words import (
    BRAND_BLOCK,
    BRAND_CHARS,
    CITY_ZONE,
    DIVS,
    GIVEN,
    HIGHLIGHTS,
    INDUSTRY,
    MOBILE,
    PHASE,
    POVERTY,
    SUFFIX,
    SURNAMES,
    YEAR_GOAL,
)
from pipelines.vocab.reference import divisions

_NICE = np.array([1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0])
_NOTES = (
    "正在开展项目谋划和可行性研究",
    "正在办理立项、土地、环评等前期手续",
    "前期手续基本完备，计划年内开工建设",
    "项目续建，春节后组织复工",
)  # the 台账's 形象进度 and 进展情况 by stage


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


def _by_division(rng: np.random.Generator, d_idx: np.ndarray, part: int) -> tuple[list, np.ndarray]:
    """(flat list of INDUSTRY entries part 0 = company words / 1 = templates, one index per project)."""
    flat = [x for d in DIVS for x in INDUSTRY[d][part]]
    off = np.cumsum([0] + [len(INDUSTRY[d][part]) for d in DIVS])[:-1]
    cnt = np.array([len(INDUSTRY[d][part]) for d in DIVS])
    return flat, off[d_idx] + np.floor(rng.random(len(d_idx)) * cnt[d_idx]).astype(np.int64)


def companies(rng: np.random.Generator, p: Projects, d_idx: np.ndarray) -> pl.Series:
    """「山西鑫泰新材料有限公司」: a prefix, a two-character brand, an industry word, a legal form."""
    n = len(d_idx)
    pairs = [x + y for x in BRAND_CHARS for y in BRAND_CHARS if x != y and x + y not in BRAND_BLOCK]
    brand = pick(pairs, rng.integers(0, len(pairs), n))
    prefix = pl.Series(
        np.where(rng.random(n) < 0.55, "山西", np.asarray(CITY_SHORT, dtype=object)[p.city]).astype(str)
    )
    words_flat, w_idx = _by_division(rng, d_idx, 0)
    word = pick(words_flat, w_idx)
    suffix = pick(SUFFIX, rng.integers(0, len(SUFFIX), n))
    return cat([prefix, brand, word, suffix])


def products(rng: np.random.Generator, d_idx: np.ndarray) -> pl.Series:
    """What the project builds, from its division's templates: 「年产8000台智能农机装备」."""
    n = len(d_idx)
    tpl_flat, t_idx = _by_division(rng, d_idx, 1)
    t_lo = np.array([t[1] for t in tpl_flat])[t_idx]
    t_hi = np.array([t[2] for t in tpl_flat])[t_idx]
    num_s = _nice_numbers(rng, t_lo, t_hi).zip_with(pl.Series(t_lo > 0), pl.Series([""] * n))
    return cat(
        [pick([t[0] for t in tpl_flat], t_idx), num_s, pick([t[3] for t in tpl_flat], t_idx)], separator=""
    ).rename("product")


def project_names(city_code: np.ndarray, company: pl.Series, product: pl.Series) -> pl.Series:
    """Company + product (+ phase when a city has the same one twice) + 项目."""
    df = pl.DataFrame({"city_code": pl.Series(city_code.astype(str)), "company": company, "product": product})
    df = df.with_columns(base=cat([df["company"], df["product"]]))
    phase = df.select(k=pl.int_range(pl.len()).over("city_code", "base"))["k"].to_numpy()
    big = cat([pl.lit("（第"), pl.Series(phase + 1).cast(pl.String), pl.lit("期）")])
    phase_s = pick(PHASE, np.minimum(phase, len(PHASE) - 1)).zip_with(pl.Series(phase < len(PHASE)), big)
    return cat([df["base"], phase_s, pl.lit("项目")], separator="")


def project_codes(rng: np.random.Generator, p: Projects) -> pl.Series:
    """项目代码: year-county-division-type-serial; 03 备案 for most, 02 核准 for coal/power/steel."""
    n, cont, stage0, div_code = len(p.div_code), p.cont, p.stage0, p.div_code
    code_year = np.where(
        cont, rng.integers(2017, 2020, n), np.where(stage0 == S_NEW, rng.integers(2019, 2021, n), 2020)
    )
    code_type = np.where(np.isin(div_code, ["06", "44", "31", "25"]) & (rng.random(n) < 0.5), "02", "03")
    serial = rng.choice(1_000_000 - 1, size=n, replace=False) + 1 if n < 900_000 else np.arange(1, n + 1)
    has_code = rng.random(n) < np.select([cont, stage0 == S_NEW, stage0 == S_PRE], [0.97, 0.92, 0.6], 0.15)
    code = cat(
        [
            pl.Series(code_year).cast(pl.String),
            pl.lit("-"),
            pl.Series(p.counties.code.astype(str)),
            pl.lit("-"),
            pl.Series(div_code.astype(str)),
            pl.lit("-"),
            pl.Series(code_type.astype(str)),
            pl.lit("-"),
            pl.Series(serial).cast(pl.String).str.zfill(6),
        ]
    )
    return code.zip_with(pl.Series(has_code), pl.Series([None] * n, dtype=pl.String))


def dev_zones(rng: np.random.Generator, p: Projects) -> pl.Series:
    """开发区: a 功能区 county is its own zone; else the city's zone, a county zone, or none."""
    county_code, county_name = p.counties.code, p.counties.name
    county_short = pl.Series(county_name.astype(str)).str.replace(r"(区|县|市)$", "")
    zone_r = rng.random(len(county_code))
    is_fz = np.char.endswith(county_code.astype(str), "71")  # 功能区: the county is the zone
    return (
        pl.DataFrame(
            {
                "cz": pick(CITY_ZONE, p.city),
                "kz": cat(["山西", county_short, "经济开发区"]),
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


def scale_contents(rng: np.random.Generator, p: Projects, product: pl.Series) -> pl.Series:
    """建设规模及内容: total, land (亩), floor area (m²), equipment, product."""
    total, n = p.total, len(p.total)
    mu = np.round(total / rng.uniform(80, 200, n)).astype(np.int64) + 10  # 亩
    sqm = (np.round(mu * rng.uniform(200, 400, n) / 100) * 100).astype(np.int64)
    equip = np.round(total / rng.uniform(30, 120, n)).astype(np.int64) + 5
    return cat(
        [
            pl.lit("项目总投资"),
            pl.Series(total.astype(np.int64)).cast(pl.String),
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


def benefits(rng: np.random.Generator, p: Projects) -> pl.Series:
    """效益: sales (亿元), taxes, jobs."""
    total, n = p.total, len(p.total)
    revenue = np.round(total * rng.uniform(0.8, 2.0, n) / 10_000, 1)
    return cat(
        [
            pl.lit("达产后可实现年销售收入"),
            pl.Series(revenue).cast(pl.String),
            pl.lit("亿元，利税"),
            pl.Series(np.round(revenue * rng.uniform(0.08, 0.2, n), 1)).cast(pl.String),
            pl.lit("亿元，新增就业"),
            pl.Series((np.round(total / rng.uniform(50, 200, n)) + 20).astype(np.int64)).cast(pl.String),
            pl.lit("人。"),
        ]
    )


def company_intros(
    rng: np.random.Generator, company: pl.Series, industry_name: pl.Series
) -> pl.Series:
    """企业简介: founded, registered capital (万元), line of business."""
    n = len(company)
    founded = rng.integers(1985, 2019, n)
    return cat(
        [
            company,
            pl.lit("成立于"),
            pl.Series(founded).cast(pl.String),
            pl.lit("年，注册资本"),
            pl.Series(rng.integers(5, 500, n) * 100).cast(pl.String),
            pl.lit("万元，主要从事"),
            industry_name.str.strip_chars().str.replace("业$", ""),
            pl.lit("相关产品的研发、生产和销售。"),
        ]
    )


def year_goals(rng: np.random.Generator, p: Projects) -> np.ndarray:
    """Index into YEAR_GOAL by stage (finishing in 2020: 建成投产)."""
    stage0 = p.stage0
    return np.select(
        [stage0 == S_RESERVE, stage0 == S_PRE, stage0 == S_NEW, p.completion_planned < 366],
        [5, 4, 3, 0],
        rng.integers(1, 3, len(stage0)),
    )


def contacts(rng: np.random.Generator, n: int) -> pl.Series:
    """联系人: a name and a mobile number with the middle digits masked, as published lists do."""
    surname = pick(list(SURNAMES), rng.integers(0, len(SURNAMES), n))
    given = pick(GIVEN, rng.integers(0, len(GIVEN), n))
    return cat(
        [
            surname,
            given,
            pl.lit(" "),
            pick(MOBILE, rng.integers(0, len(MOBILE), n)),
            pl.lit("****"),
            pl.Series(rng.integers(0, 10_000, n)).cast(pl.String).str.zfill(4),
        ]
    )  # no real numbers


def construction_periods(rng: np.random.Generator, p: Projects) -> pl.Series:
    """建设周期 「2019.04-2021.10」: continuing projects started 2017–2019."""
    n = len(p.stage0)
    start = np.where(p.cont, rng.integers(-1000, -60, n), np.minimum(p.planned, 365 + 730))
    return cat(
        [date_series(start).dt.strftime("%Y.%m"), pl.lit("-"), date_series(p.completion_planned).dt.strftime("%Y.%m")]
    )


def build_types(rng: np.random.Generator, p: Projects) -> np.ndarray:
    """建设性质: 新建/扩建 for 新兴, mostly 技术改造 for 技改."""
    n = len(p.emerging)
    return np.where(
        p.emerging,
        np.where(rng.random(n) < 0.75, "新建", "扩建"),
        np.where(rng.random(n) < 0.7, "技术改造", np.where(rng.random(n) < 0.5, "改建", "扩建")),
    )


def static_frame(rng: np.random.Generator, p: Projects) -> pl.DataFrame:
    """The ledger fields of every project, one row each (the steps above, in their draw order)."""
    n = len(p.div_code)
    div_names = {d.code: d.name for d in divisions()}
    industry_name = pl.Series([div_names[d] for d in p.div_code])
    d_idx = np.searchsorted(DIVS, p.div_code)
    company = companies(rng, p, d_idx)
    product = products(rng, d_idx)
    city_code = np.asarray([c.code for c in p.city_regions], dtype=object)[p.city]
    city_name = np.asarray([c.name for c in p.city_regions], dtype=object)[p.city]
    project_name = project_names(city_code, company, product)
    code = project_codes(rng, p)
    dev_zone = dev_zones(rng, p)
    scale_content = scale_contents(rng, p, product)
    benefit = benefits(rng, p)
    company_intro = company_intros(rng, company, industry_name)
    goal = year_goals(rng, p)
    contact = contacts(rng, n)
    period = construction_periods(rng, p)
    build_type = build_types(rng, p)
    highlights = pick(HIGHLIGHTS, rng.integers(0, len(HIGHLIGHTS), n))
    note = pick(_NOTES, np.select([p.stage0 == S_RESERVE, p.stage0 == S_PRE, p.stage0 == S_NEW], [0, 1, 2], 3))
    lead_unit = cat(
        [pl.Series(city_name.astype(str)), pl.Series(np.where(p.tier < 2, "人民政府", "工业和信息化局").astype(str))]
    )
    m = p.money
    cols: dict[str, pl.Series] = {
        "project_code": code,
        "project_name": project_name,
        "company": company,
        "city_code": pl.Series(city_code.astype(str)),
        "city_name": pl.Series(city_name.astype(str)),
        "county_code": pl.Series(p.counties.code.astype(str)),
        "county_name": pl.Series(p.counties.name.astype(str)),
        "dev_zone": dev_zone,
        "industry_code": pl.Series(p.div_code.astype(str)),
        "industry_name": industry_name,
        "tier": pick(TIERS, p.tier),
        "category": pl.Series(np.where(p.emerging, "新兴", "技改").astype(str)),
        "build_type": pl.Series(build_type.astype(str)),
        "stage": pick(STAGE_NAMES, np.where(p.cont, S_CONT, p.stage0)),
        "poverty_county": pl.Series(np.isin(p.counties.code.astype(str), list(POVERTY))),
        "construction_period": period,
        "scale_content": scale_content,
        "total_investment": pl.Series(p.total),
        "completed_before_year": pl.Series(m.before),
        "annual_plan": pl.Series(m.plan),
        "plan_next_year": pl.Series(m.plan_next.astype(float)),
        "plan_year_after": pl.Series(m.plan_after.astype(float)),
        "image_progress": note,
        "planned_start_date": date_series(p.planned),
        "planned_completion_date": date_series(p.completion_planned),
        "year_goal": pick(YEAR_GOAL, goal),
        "progress_note": note,
        "benefits": benefit,
        "highlights": highlights,
        "company_intro": company_intro,
        "contact": contact,
        "lead_unit": lead_unit,
    }
    return pl.DataFrame({k: v.rename(k) for k, v in cols.items()})
