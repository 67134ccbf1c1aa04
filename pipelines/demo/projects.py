"""Who the demo's projects are, as the 台账 of 2020-02-06 has them: tier, city, stage, county,
industry, money (万元) and planned dates (day offsets from 2020-01-01).

Every step draws from the run's one generator in a fixed order; a step that is moved, or a draw
that is added, changes every later draw and so the whole demo year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from pipelines.demo.campaign import (
    CITY_BOOST,
    CITY_SHORT,
    CITY_TECH_SHARE,
    CITY_TOTAL_TARGET,
    CITY_WEIGHTS,
    COUNTY_BOOST,
    DEMO_COUNTS,
    DUE_NEW_SHARE,
    EMERGING,
    FOOD,
    S_CONT,
    S_NEW,
    S_PRE,
    S_RESERVE,
    STAGE_MIX,
    TIER_CITY,
    TIER_NEW,
    TIER_TECH,
    TOTAL_TARGET,
    TRADITIONAL,
    apportion,
)
from pipelines.demo.words import DIVS
from pipelines.demo.year import JAN1
from pipelines.vocab.reference import Region, counties_of

TIERS = (TIER_NEW, TIER_TECH, TIER_CITY)


@dataclass(frozen=True)
class Run:
    """What every step of one generation shares: the seeded draws, tier sizes, report dates."""

    rng: np.random.Generator
    counts: tuple[int, int, int]  # projects per tier: 新兴, 技改, 千项
    dates: list[date]  # the report Fridays
    calibrate: bool  # hit the published Q1 figures (the demo year) or not (bench scales)

    @property
    def n(self) -> int:
        return sum(self.counts)

    @property
    def days(self) -> np.ndarray:
        """Day offsets of the report dates from 2020-01-01."""
        return np.array([(d - JAN1).days for d in self.dates], dtype=np.int64)


@dataclass(frozen=True)
class Counties:
    """Each project's county: an index into all counties of the 11 cities, code and name."""

    index: np.ndarray
    count: int  # counties in all
    code: np.ndarray
    name: np.ndarray


@dataclass(frozen=True)
class Money:
    """Each project's money in 万元: done before 2020, left to do, and the plans of 2020–2022."""

    before: np.ndarray
    remaining: np.ndarray
    plan: np.ndarray
    plan_next: np.ndarray
    plan_after: np.ndarray


@dataclass(frozen=True)
class Projects:
    """One entry per project (arrays of length n): what the 台账 states and the draws behind it."""

    city_regions: list[Region]
    tier: np.ndarray  # 0 新兴, 1 技改, 2 千项
    city: np.ndarray  # index into city_regions
    stage0: np.ndarray  # S_RESERVE / S_PRE / S_NEW / S_CONT
    due_new: np.ndarray  # 新开工 planned to start by 31 March
    counties: Counties
    emerging: np.ndarray  # category 新兴 (else 技改)
    div_code: np.ndarray  # GB/T 4754 division
    total: np.ndarray  # total investment, 万元
    completion_planned: np.ndarray  # day offset; ≥ 366 means 2021 or later
    money: Money
    planned: np.ndarray  # planned (re)start, day offset

    @property
    def cont(self) -> np.ndarray:
        """Continuing (续建) projects."""
        return self.stage0 == S_CONT


def tiers(run: Run) -> np.ndarray:
    return np.repeat(np.arange(3), run.counts)


def cities_of_projects(run: Run) -> np.ndarray:
    """City index per project: each tier apportioned over the cities by CITY_WEIGHTS."""
    return np.concatenate(
        [np.repeat(np.arange(11), apportion(c, CITY_WEIGHTS[t])) for t, c in zip(TIERS, run.counts, strict=True)]
    )


def stages(run: Run, tier: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(stage0, due_new): each tier's STAGE_MIX shuffled, and the 新开工 due by 31 March."""
    stage0 = np.empty(run.n, dtype=np.int64)
    due_new = np.zeros(run.n, dtype=bool)
    for ti, t in enumerate(TIERS):
        idx = np.flatnonzero(tier == ti)
        k = apportion(len(idx), STAGE_MIX[t])
        st = run.rng.permutation(np.repeat([S_RESERVE, S_PRE, S_NEW, S_CONT], k))
        stage0[idx] = st
        new_idx = idx[st == S_NEW]
        n_due = round(DUE_NEW_SHARE[t] * len(new_idx))
        due_new[run.rng.permutation(new_idx)[:n_due]] = True
    return stage0, due_new


def counties(run: Run, city_regions: list[Region], city: np.ndarray) -> Counties:
    """A county per project within its city, industrial counties and 功能区 more often."""
    county_list: list[Region] = []
    county_idx = np.empty(run.n, dtype=np.int64)
    for ci, c in enumerate(city_regions):
        cs = counties_of(c.code)
        w = np.array([COUNTY_BOOST.get(r.code, 1.0) for r in cs])
        sel = np.flatnonzero(city == ci)
        pick = run.rng.choice(len(cs), size=len(sel), p=w / w.sum())
        county_idx[sel] = pick + len(county_list)
        county_list.extend(cs)
    return Counties(
        index=county_idx,
        count=len(county_list),
        code=np.array([r.code for r in county_list], dtype=object)[county_idx],
        name=np.array([r.name for r in county_list], dtype=object)[county_idx],
    )


def emerging(run: Run, tier: np.ndarray, city: np.ndarray) -> np.ndarray:
    """新兴 for every 双百·新兴, never for 双百·技改; 千项 by the city's share of 技改."""
    tech_share = np.asarray(CITY_TECH_SHARE)[city]
    return np.where(tier == 0, True, np.where(tier == 1, False, run.rng.random(run.n) >= tech_share))


def industries(run: Run, tier: np.ndarray, city: np.ndarray, emerging: np.ndarray) -> np.ndarray:
    """The GB/T 4754 division code per project: by kind (新兴 / 技改), boosted by the city's own."""
    div_idx = np.empty(run.n, dtype=np.int64)
    for ci, cname in enumerate(CITY_SHORT):
        boost = CITY_BOOST.get(cname, {})
        for kind, base in (("em", EMERGING), ("tr_prov", TRADITIONAL), ("tr_city", TRADITIONAL)):
            if kind == "em":
                sel = np.flatnonzero((city == ci) & emerging)
            elif kind == "tr_prov":
                sel = np.flatnonzero((city == ci) & ~emerging & (tier == 1))
            else:
                sel = np.flatnonzero((city == ci) & ~emerging & (tier == 2))
            if len(sel) == 0:
                continue
            codes = [d for d in base if not (kind == "tr_prov" and d in FOOD)]
            w = np.array([base[d] * boost.get(d, 1.0) for d in codes])
            div_idx[sel] = np.searchsorted(
                DIVS, np.array(codes)[run.rng.choice(len(codes), size=len(sel), p=w / w.sum())]
            )
    return np.asarray(DIVS)[div_idx]


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


def total_investment(run: Run, tier: np.ndarray, emerging: np.ndarray) -> np.ndarray:
    """Total investment per project (万元): lognormal, each tier (千项: each category) summing to its
    published total when calibrating, else keeping the demo's mean per project."""
    total = np.zeros(run.n)
    for ti, t in enumerate(TIERS):
        if t == TIER_CITY:
            for cat, em in (("新兴", True), ("技改", False)):
                sel = np.flatnonzero((tier == ti) & (emerging == em))
                if len(sel) == 0:
                    continue
                target = CITY_TOTAL_TARGET[cat]
                if not run.calibrate:  # keep the demo's mean per project, not its sum
                    target = target / (DEMO_COUNTS[2] * (0.6 if em else 0.4)) * len(sel)
                total[sel] = _normalise_totals(run.rng.lognormal(0, 1.1, len(sel)), target, 2_000.0, 10.0)
        else:
            sel = np.flatnonzero(tier == ti)
            if len(sel) == 0:
                continue
            target = TOTAL_TARGET[t] if run.calibrate else TOTAL_TARGET[t] / 100 * len(sel)
            sigma = 1.0 if t == TIER_NEW else 0.9
            total[sel] = _normalise_totals(run.rng.lognormal(0, sigma, len(sel)), target, 10_000.0, 100.0)
    return total


def planned_completions(run: Run, stage0: np.ndarray) -> np.ndarray:
    """Planned completion (day offset; ≥ 366 means 2021 or later). Continuing projects finish in
    2020 about a third of the time; few new ones do."""
    rng, n, cont = run.rng, run.n, stage0 == S_CONT
    return np.where(
        cont,
        np.where(rng.random(n) < 0.33, rng.integers(152, 366, n), rng.integers(366, 366 + 730, n)),
        np.where(
            (stage0 == S_NEW) & (rng.random(n) < 0.08),
            rng.integers(274, 366, n),
            rng.integers(366, 366 + 1095, n),
        ),
    )


def money(run: Run, stage0: np.ndarray, total: np.ndarray, pc: np.ndarray) -> Money:
    """Done before 2020 and the annual plans (万元, to 10): 2020's plan is 15–40 % of the total for a
    project under way, the rest of it for one finishing in 2020."""
    rng, n, cont = run.rng, run.n, stage0 == S_CONT
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
    return Money(before=before, remaining=remaining, plan=plan, plan_next=plan_next, plan_after=plan_after)


def planned_starts(run: Run, stage0: np.ndarray, due_new: np.ndarray) -> np.ndarray:
    """Planned (re)start per project, day offset."""
    rng, n = run.rng, run.n
    return np.select(
        [stage0 == S_CONT, due_new, stage0 == S_NEW, stage0 == S_PRE],
        [
            rng.integers(40, 80, n),  # 复工 planned 10 Feb – 19 Mar
            47 + np.floor(44 * rng.beta(2.0, 1.0, n)).astype(np.int64),  # 17 Feb – 31 Mar, mostly March
            91 + np.floor(213 * rng.beta(1.2, 2.5, n)).astype(np.int64),  # April – October
            rng.integers(182, 335, n),  # 前期: July – November
        ],
        rng.integers(366 + 59, 366 + 240, n),  # 储备: some time in 2021
    )


def projects(run: Run, city_regions: list[Region]) -> Projects:
    """The projects of one run, drawn step by step in a fixed order."""
    tier = tiers(run)
    city = cities_of_projects(run)
    stage0, due_new = stages(run, tier)
    where = counties(run, city_regions, city)
    em = emerging(run, tier, city)
    div_code = industries(run, tier, city, em)
    total = total_investment(run, tier, em)
    pc = planned_completions(run, stage0)
    plans = money(run, stage0, total, pc)
    planned = planned_starts(run, stage0, due_new)
    return Projects(
        city_regions=city_regions, tier=tier, city=city, stage0=stage0, due_new=due_new, counties=where,
        emerging=em, div_code=div_code, total=total, completion_planned=pc, money=plans, planned=planned,
    )  # fmt: skip
