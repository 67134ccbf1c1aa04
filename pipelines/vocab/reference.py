"""Reference data: GB/T 2260 regions and GB/T 4754-2017 industry divisions, from data/reference/."""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import overload

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "data" / "reference"

_WS = re.compile(r"\s+")


def norm_text(value: str) -> str:
    """Full-width → half-width (NFKC) and every whitespace removed: the identity form of a name."""
    return _WS.sub("", unicodedata.normalize("NFKC", value))


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str  # province | city | county
    parent_code: str | None
    parent_name: str | None
    longitude: float | None
    latitude: float | None
    in_gbt2260: bool


_CITY_SUFFIXES = ("自治州", "地区", "市", "盟")
_COUNTY_SUFFIXES = ("自治县", "市辖区", "新区", "区", "县", "市", "旗")
_PROVINCE_PREFIXES = ("山西省", "安徽省", "山西", "安徽")


def _strip_suffix(name: str, suffixes: tuple[str, ...]) -> str:
    for s in suffixes:
        if name.endswith(s) and len(name) > len(s) + 1:
            return name[: -len(s)]
    return name


@cache
def regions() -> tuple[Region, ...]:
    out: list[Region] = []
    for fname in ("shanxi_divisions.csv", "extra_divisions.csv"):
        path = REFERENCE_DIR / fname
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                out.append(
                    Region(
                        code=row["adcode"].strip(),
                        name=row["name"].strip(),
                        level=row["level"].strip(),
                        parent_code=row["parent_adcode"].strip() or None,
                        parent_name=row["parent_name"].strip() or None,
                        longitude=float(row["longitude"]) if row["longitude"].strip() else None,
                        latitude=float(row["latitude"]) if row["latitude"].strip() else None,
                        in_gbt2260=row["in_gbt2260"].strip() == "yes",
                    )
                )
    return tuple(out)


@cache
def region_by_code() -> dict[str, Region]:
    return {r.code: r for r in regions()}


@overload
def region_name(code: str) -> str: ...
@overload
def region_name(code: None) -> None: ...
def region_name(code: str | None) -> str | None:
    """The region's name, or the code itself when it names no region (what the pages and notices show)."""
    region = region_by_code().get(code or "")
    return region.name if region is not None else code


@cache
def _city_index() -> dict[str, Region]:
    idx: dict[str, Region] = {}
    for r in regions():
        if r.level == "city":
            idx[r.name] = r
            idx[_strip_suffix(r.name, _CITY_SUFFIXES)] = r
            idx[r.code] = r
    return idx


@cache
def _county_index() -> dict[str, list[Region]]:
    idx: dict[str, list[Region]] = {}
    for r in regions():
        if r.level == "county":
            for key in {r.name, _strip_suffix(r.name, _COUNTY_SUFFIXES), r.code}:
                idx.setdefault(key, []).append(r)
    return idx


def _clean_region_text(text: str) -> str:
    t = norm_text(text)
    for p in _PROVINCE_PREFIXES:
        if t.startswith(p) and len(t) > len(p):
            t = t[len(p) :]
            break
    return t


def _region_texts(text: str) -> tuple[str, ...]:
    """The name as written, then without a province prefix (山西省太原市 → 太原市). The full name comes
    first: some names begin with the province's (山西转型综合改革示范区, 山西大同经济开发区)."""
    full = norm_text(text)
    bare = _clean_region_text(full)
    return (full,) if bare == full else (full, bare)


def find_city(text: str) -> Region | None:
    """A city by name (with or without 市), or by code; None when unknown."""
    texts = _region_texts(text)
    if not texts[0]:
        return None
    for t in texts:
        hit = _city_index().get(t)
        if hit:
            return hit
    # "忻州市忻府区" written in the city column: take the leading city name.
    t = texts[-1]
    for key, r in _city_index().items():
        if len(key) >= 2 and t.startswith(key) and not key.isdigit():
            return r
    return None


def find_county(text: str, city_code: str | None = None) -> Region | None:
    """A county by name (with or without its suffix) or code, within city_code when given.

    A name shared by counties of several cities (城区, 郊区) needs the city to resolve.
    """
    texts = _region_texts(text)
    if not texts[0]:
        return None
    for t in texts:
        hit = _find_county(t, city_code)
        if hit:
            return hit
    return None


def _find_county(t: str, city_code: str | None) -> Region | None:
    city = None
    # "忻州市忻府区" / "忻州忻府区": split off a leading city.
    for key, r in _city_index().items():
        if len(key) >= 2 and not key.isdigit() and t.startswith(key) and len(t) > len(key):
            city, t = r, t[len(key) :]
            break
    if city is not None:
        if city_code and city.code != city_code:
            return None
        city_code = city.code
    cands = _county_index().get(t) or _county_index().get(_strip_suffix(t, _COUNTY_SUFFIXES)) or []
    if city_code:
        cands = [c for c in cands if c.parent_code == city_code]
        if not cands and t in DEV_ZONE_WORDS:
            # "经开区" inside a known city: that city's one development-zone pseudo-county (e.g. 340771).
            cands = [c for c in counties_of(city_code) if "开发区" in c.name]
    return cands[0] if len(cands) == 1 else None


# Short names clerks use for a city's economic development zone when it is listed as a region.
DEV_ZONE_WORDS = frozenset({"经开区", "经济开发区", "经济技术开发区", "开发区", "经济技术开发区管委会", "经开区管委会"})


def find_region(text: str) -> Region | None:
    """A city or a county, for a region given at load ("忻州市", "忻府区", "140902")."""
    return find_city(text) or find_county(text)


def counties_of(city_code: str) -> list[Region]:
    return [r for r in regions() if r.level == "county" and r.parent_code == city_code]


def cities() -> list[Region]:
    return [r for r in regions() if r.level == "city"]


# ---- industries ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Division:
    code: str  # two digits
    name: str
    section_code: str
    section_name: str


@cache
def divisions() -> tuple[Division, ...]:
    with (REFERENCE_DIR / "gbt4754.csv").open(encoding="utf-8") as fh:
        return tuple(
            Division(
                code=row["division_code"].strip().zfill(2),
                name=row["division_name"].strip(),
                section_code=row["section_code"].strip(),
                section_name=row["section_name"].strip(),
            )
            for row in csv.DictReader(fh)
        )


# Words clerks write for an industry that name one division beyond doubt.
INDUSTRY_ALIASES: dict[str, str] = {
    "电子信息": "39",
    "信创": "39",
    "半导体": "39",
    "光伏": "38",
    "新能源汽车": "36",
    "汽车": "36",
    "钢铁": "31",
    "冶金": "31",
    "焦化": "25",
    "煤化工": "26",
    "化工": "26",
    "建材": "30",
    "水泥": "30",
    "医药": "27",
    "生物医药": "27",
    "食品": "14",
    "农产品加工": "13",
    "有色": "32",
    "铝": "32",
    "镁": "32",
    "装备制造": "35",
    "轨道交通装备": "37",
    "通用航空": "37",
    "煤机装备": "35",
    "电力": "44",
    "燃气": "45",
    "煤炭": "06",
    "大数据": "65",
    "软件": "65",
    "纺织": "17",
    "酿酒": "15",
    "白酒": "15",
    "新材料": "30",
}


def find_division(text: str) -> Division | None:
    """A GB/T 4754 division by code (`39`, `C39`), exact name, or an unambiguous alias."""
    t = norm_text(text)
    if not t:
        return None
    by_code = {d.code: d for d in divisions()}
    m = re.fullmatch(r"[A-Ta-t]?(\d{2})\d{0,2}", t)
    if m:
        return by_code.get(m.group(1))
    for d in divisions():
        if t in (d.name, norm_text(d.name)):
            return d
    if t in INDUSTRY_ALIASES:
        return by_code[INDUSTRY_ALIASES[t]]
    hits = [d for d in divisions() if t.rstrip("业") and norm_text(d.name).startswith(t.rstrip("业"))]
    return hits[0] if len(hits) == 1 else None
