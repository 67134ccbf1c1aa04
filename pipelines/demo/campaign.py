"""The campaign the demo models: tiers, stages, Shanxi's cities and their mix, industry and county
weights, and the published figures (万元) the demo year is calibrated to."""

from __future__ import annotations

import numpy as np

from pipelines.vocab.reference import Region, cities

DEMO_SEED = 20200206  # the notice's date
TIER_NEW, TIER_TECH, TIER_CITY = "省级双百·新兴", "省级双百·技改", "市级千项"
DEMO_COUNTS = (100, 100, 1040)  # projects per tier: 新兴, 技改, 千项

# Calibration targets, money in 万元 (published figures, seed 001 / SOURCES.md).
TOTAL_TARGET = {TIER_NEW: 16_420_000.0, TIER_TECH: 10_680_000.0}
CITY_TOTAL_TARGET = {"新兴": 47_800_000.0, "技改": 18_560_000.0}  # 千项 by category: 6,636 亿元
YTD_Q1_TARGET = {"双百": 586_000.0, "千项": 1_425_000.0}
START_RATE_Q1 = {"双百": 0.825, "千项": 0.794}

# Stage codes used internally; the ledger says 续建 for continuing projects, the 周报 (附件2:
# 储备/新开工/在建) says 在建.
STAGE_NAMES = ("储备", "前期", "新开工", "续建", "在建", "竣工", "投产")
S_RESERVE, S_PRE, S_NEW, S_CONT, S_BUILD, S_DONE, S_PROD = range(7)

CITY_SHORT = ("太原", "大同", "阳泉", "长治", "晋城", "朔州", "晋中", "运城", "忻州", "临汾", "吕梁")
# Projects per city per tier (sum 100 / 100 / 1,040); the big industrial cities carry more.
CITY_WEIGHTS = {
    TIER_NEW: (28, 8, 3, 11, 9, 4, 12, 10, 5, 5, 5),
    TIER_TECH: (10, 6, 4, 14, 11, 5, 10, 11, 4, 12, 13),
    TIER_CITY: (150, 75, 45, 120, 105, 60, 110, 115, 60, 100, 100),
}
# Per city: (year-end pace = share of annual plan done by 12-25, timing exponent: >1 back-loaded).
CITY_PACE = (
    (1.02, 0.9), (0.92, 1.25), (0.85, 1.9), (1.08, 0.55), (1.06, 0.6), (0.95, 1.15),
    (0.98, 1.1), (1.0, 1.0), (0.88, 1.6), (0.96, 1.2), (1.0, 0.95),
)  # fmt: skip
# Share of 千项 projects in category 技改 per city (coal/coke cities higher).
CITY_TECH_SHARE = (0.3, 0.4, 0.45, 0.4, 0.4, 0.45, 0.4, 0.4, 0.4, 0.5, 0.55)

# Stage mix per tier: (储备, 前期, 新开工, 续建); the demo counts are exactly these.
STAGE_MIX = {TIER_NEW: (3, 5, 42, 50), TIER_TECH: (0, 4, 40, 56), TIER_CITY: (30, 50, 460, 500)}
# Share of 新开工 projects planned to start by 31 March (the due ones at Q1): 28/42, 26/40, 180/460.
DUE_NEW_SHARE = {TIER_NEW: 28 / 42, TIER_TECH: 26 / 40, TIER_CITY: 180 / 460}

# Industry (GB/T 4754 division) weights by kind; city boosts below.
EMERGING = {
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
TRADITIONAL = {"31": 18, "25": 20, "30": 12, "26": 15, "32": 11, "06": 8, "44": 8, "15": 3, "14": 3, "13": 2}
FOOD = ("13", "14", "15")  # not in 双百·技改 (冶金、焦化、建材 …)
CITY_BOOST: dict[str, dict[str, float]] = {
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
# Industrial counties get more projects; 功能区 (统计用代码) host many; the scenic area none.
COUNTY_BOOST = {
    "140171": 5.0, "140271": 3.0, "140671": 3.0, "140121": 2.0, "141181": 2.0, "140781": 2.0,
    "140882": 2.0, "140581": 2.0, "140525": 2.0, "140423": 2.0, "140406": 2.0, "140681": 2.0,
    "140981": 2.0, "141081": 2.0, "141024": 2.0, "141122": 2.0, "140702": 2.0, "140802": 2.0,
    "140971": 0.0,
}  # fmt: skip


def apportion(n: int, weights: tuple[float, ...]) -> np.ndarray:
    """Split n into integer counts proportional to weights (largest remainder, ties by position)."""
    w = np.asarray(weights, dtype=float)
    raw = n * w / w.sum()
    counts = np.floor(raw + 1e-9).astype(np.int64)
    rest = n - counts.sum()
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[:rest]] += 1
    return counts


def shanxi_cities() -> list[Region]:
    """Shanxi's 11 cities in GB/T 2260 order (the reference also holds 铜陵 for other layouts)."""
    cs = sorted((c for c in cities() if c.parent_code == "140000"), key=lambda r: r.code)
    assert tuple(c.name.removesuffix("市") for c in cs) == CITY_SHORT, cs
    return cs
