"""Reference data: GB/T 2260 regions and GB/T 4754-2017 industry divisions, from data/reference/."""

from __future__ import annotations

import csv
import dataclasses
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
_COUNTY_SUFFIXES = ("自治县", "自治旗", "市辖区", "新区", "林区", "特区", "区", "县", "市", "旗")
# The 55 minorities' names, for the short form of an autonomous division (恩施土家族苗族自治州 → 恩施).
_PEOPLES = (
    "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家", "哈尼", "哈萨克", "傣",
    "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗",
    "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固",
    "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺", "各",
)
_AUTONOMOUS = re.compile(r"^(.{2,}?)((" + "|".join(sorted(_PEOPLES, key=len, reverse=True)) + r")族)+自治(州|县|旗)$")
# Province names, long and short, stripped from the front of a region written with its province.
_PROVINCE_NAME = re.compile(r"^(.{2,3}?)(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$")


def _strip_suffix(name: str, suffixes: tuple[str, ...]) -> str:
    for s in suffixes:
        if name.endswith(s) and len(name) > len(s) + 1:
            return name[: -len(s)]
    return name


def short_names(name: str, level: str) -> set[str]:
    """The forms a clerk writes for a division: 忻州市 → 忻州; 忻府区 → 忻府; 恩施土家族苗族自治州 → 恩施, 恩施州."""
    out = {_strip_suffix(name, _CITY_SUFFIXES if level == "city" else _COUNTY_SUFFIXES)}
    m = _AUTONOMOUS.match(name)
    if m:
        out |= {m.group(1), m.group(1) + m.group(4)}
    out.discard(name)
    return {s for s in out if len(s) >= 2}


_REFERENCE_FILES = ("shanxi_divisions.csv", "extra_divisions.csv", "china_divisions.csv")


@cache
def regions() -> tuple[Region, ...]:
    """Every division: the hand-kept Shanxi and Tongling rows first (功能区 included), then the whole country's
    (china_divisions.csv, built by data/reference/build_divisions.py); a code already read is not read again,
    except for the centroid a kept row lacks."""
    out: dict[str, Region] = {}
    for fname in _REFERENCE_FILES:
        path = REFERENCE_DIR / fname
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                code = row["adcode"].strip()
                if code in out:
                    kept = out[code]
                    if kept.longitude is None and row["longitude"].strip():  # 平城区: the kept row has no centroid
                        out[code] = dataclasses.replace(kept, longitude=float(row["longitude"]),
                                                        latitude=float(row["latitude"]))
                    continue
                out[code] = (
                    Region(
                        code=code,
                        name=row["name"].strip(),
                        level=row["level"].strip(),
                        parent_code=row["parent_adcode"].strip() or None,
                        parent_name=row["parent_name"].strip() or None,
                        longitude=float(row["longitude"]) if row["longitude"].strip() else None,
                        latitude=float(row["latitude"]) if row["latitude"].strip() else None,
                        in_gbt2260=row["in_gbt2260"].strip() == "yes",
                    )
                )
    return tuple(out.values())


@dataclass(frozen=True)
class Former:
    """A division renamed or merged away (撤县设区 …), mapped to the one that holds it now."""

    code: str | None
    name: str
    city_code: str  # the city it belonged to (枞阳县: 安庆市 340800)
    current: Region
    year: int
    change: str  # what happened, in Chinese

    @property
    def note(self) -> str:
        return f"「{self.name}」{self.year}年起为「{self.current.name}」（{self.change}），按现区划{self.current.code}计"


@cache
def former_divisions() -> tuple[Former, ...]:
    path = REFERENCE_DIR / "former_divisions.csv"
    if not path.exists():
        return ()
    by_code = region_by_code()
    with path.open(encoding="utf-8") as fh:
        return tuple(
            Former(row["former_code"].strip() or None, row["former_name"].strip(), row["city_adcode"].strip(),
                   by_code[row["current_adcode"].strip()], int(row["year"]), row["change"].strip())
            for row in csv.DictReader(fh)
        )


@cache
def region_by_code() -> dict[str, Region]:
    return {r.code: r for r in regions()}


def resolve_code(code: str) -> Region | None:
    """A division by its code, a former code (340721 铜陵县) giving the division that holds it now."""
    c = norm_text(code)
    hit = region_by_code().get(c)
    if hit is not None:
        return hit
    return next((f.current for f in former_divisions() if f.code == c), None)


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
            for key in (r.name, r.code, *sorted(short_names(r.name, "city"))):
                idx.setdefault(key, r)
    return idx


@cache
def _city_prefix_index() -> dict[str, tuple[tuple[str, Region], ...]]:
    """City names and short names by their first two characters, longest first."""
    idx: dict[str, list[tuple[str, Region]]] = {}
    for k, r in _city_index().items():
        if len(k) >= 2 and not k.isdigit():
            idx.setdefault(k[:2], []).append((k, r))
    return {p: tuple(sorted(v, key=lambda kr: -len(kr[0]))) for p, v in idx.items()}


def _city_prefixes(t: str) -> tuple[tuple[str, Region], ...]:
    """The city names t may begin with, longest first, for a city written before its county (忻州市忻府区)."""
    return tuple(kr for kr in _city_prefix_index().get(t[:2], ()) if t.startswith(kr[0]))


@cache
def _county_index() -> dict[str, list[Region]]:
    idx: dict[str, list[Region]] = {}
    for r in regions():
        if r.level == "county":
            for key in {r.name, r.code, *short_names(r.name, "county")}:
                idx.setdefault(key, []).append(r)
    return idx


@cache
def _former_index() -> dict[str, list[Former]]:
    idx: dict[str, list[Former]] = {}
    for f in former_divisions():
        for key in {f.name, *short_names(f.name, "county")}:
            idx.setdefault(key, []).append(f)
    return idx


@cache
def _province_prefixes() -> tuple[str, ...]:
    out: set[str] = set()
    for r in regions():
        if r.level == "province":
            out.add(r.name)
            m = _PROVINCE_NAME.match(r.name)
            if m:
                out.add(m.group(1))
    return tuple(sorted(out, key=len, reverse=True))


def _clean_region_text(text: str) -> str:
    t = norm_text(text)
    for p in _province_prefixes():
        if t.startswith(p) and len(t) > len(p):
            return t[len(p) :]
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
    # "忻州市忻府区" written in the city column: take the leading city name (not 朝阳 of 朝阳区, 铜陵 of 铜陵县).
    t = texts[-1]
    for key, r in _city_prefixes(t):
        if len(t) - len(key) != 1:
            return r
    return None


def find_county(text: str, city_code: str | None = None) -> Region | None:
    """A county by name (with or without its suffix), former name or code, within city_code when given.

    A name shared by counties of several cities (城区, 郊区) needs the city to resolve: None without it
    (county_candidates names them)."""
    cands = county_candidates(text, city_code)
    return cands[0] if len(cands) == 1 else None


def county_candidates(text: str, city_code: str | None = None) -> list[Region]:
    """The counties text may name (within city_code when given): one when it resolves, several when the
    name is shared by counties of several cities, none when unknown."""
    texts = _region_texts(text)
    if not texts[0]:
        return []
    for t in texts:
        hit = _county_candidates(t, city_code)
        if hit:
            return hit
    return []


def _current(t: str, city_code: str | None, *, stripped: bool = False) -> list[Region]:
    """The counties named t (stripped: t with its suffix taken off, 忻府县 → 忻府), within city_code when given."""
    key = _strip_suffix(t, _COUNTY_SUFFIXES) if stripped else t
    cands = (_county_index().get(key) or []) if key != t or not stripped else []
    if city_code:
        cands = [c for c in cands if c.parent_code == city_code]
        if not cands and not stripped and t in DEV_ZONE_WORDS:
            # "经开区" inside a known city: that city's one development-zone pseudo-county (e.g. 340771).
            zones = [c for c in counties_of(city_code) if "开发区" in c.name]
            cands = zones if len(zones) == 1 else []
    return cands


def _former(t: str, city_code: str | None) -> list[Region]:
    fs = _former_index().get(t) or []
    if city_code:
        fs = [f for f in fs if city_code in (f.city_code, f.current.parent_code)]
    return list({f.current.code: f.current for f in fs}.values())


def _named(t: str, city_code: str | None) -> list[Region]:
    """By the name as written, then a former name (铜陵县 → 义安区, 城区 in 长治 → 潞州区), then the name
    with another suffix (高陵县 → 高陵区)."""
    return _current(t, city_code) or _former(t, city_code) or _current(t, city_code, stripped=True)


def _county_candidates(t: str, city_code: str | None) -> list[Region]:
    if t.isdigit():
        r = resolve_code(t)
        return [r] if r is not None and r.level == "county" and (not city_code or r.parent_code == city_code) else []
    cands = _named(t, city_code)
    if cands:
        return cands
    # "忻州市忻府区" / "忻州忻府区": split off a leading city.
    for key, city in _city_prefixes(t):
        if len(t) > len(key):
            if city_code and city.code != city_code:
                return []
            return _named(t[len(key) :], city.code)
    return []


def former_note(text: str, region: Region) -> str | None:
    """When text is a former name of region (高陵县 for 高陵区), what changed, to show beside the reading."""
    t = _clean_region_text(text)
    if t in (region.name, region.code) or t in short_names(region.name, region.level):
        return None
    for f in _former_index().get(t, []) + [f for f in former_divisions() if f.code == t]:
        if f.current.code == region.code:
            return f.note
    return None


def candidates_text(cands: list[Region]) -> str:
    """「郊区（阳泉市）、郊区（铜陵市）」: the candidates of a shared name, for an error."""
    by_code = region_by_code()
    return "、".join(f"{c.name}（{getattr(by_code.get(c.parent_code or ''), 'name', c.parent_code)}）" for c in cands)


# Short names clerks use for a city's economic development zone when it is listed as a region.
DEV_ZONE_WORDS = frozenset({"经开区", "经济开发区", "经济技术开发区", "开发区", "经济技术开发区管委会", "经开区管委会"})


def find_region(text: str) -> Region | None:
    """A city or a county, for a region given at load ("忻州市", "忻府区", "140902", "西安市", "雁塔区")."""
    t = norm_text(text)
    if t.isdigit():
        r = resolve_code(t)
        return r if r is not None and r.level in ("city", "county") else None
    return find_city(text) or find_county(text)


def region_error(text: str) -> str:
    """Why a region given at upload or in the CLI does not resolve: unknown, or a shared name with its candidates."""
    cands = county_candidates(text)
    if len(cands) > 1:
        return (f"地区「{text}」有多个同名县区：{candidates_text(cands)}，请写明所属地市（如「{_city_of(cands[0])}{text}」）"
                "或选择地市")
    return f"未知地区：{text}（应为全国任一地市或县区的名称或区划代码）"


def _city_of(r: Region) -> str:
    return getattr(region_by_code().get(r.parent_code or ""), "name", "")


def city_in_text(text: str) -> Region | None:
    """The one city a title names in full (「铜陵市2020年工业在建项目进展情况表」 → 铜陵市); None when it names
    none or several."""
    t = norm_text(text)
    found = {r.code: r for r in cities() if len(r.name) >= 3 and r.name in t}
    # 「西安市雁塔区…」: a county of the city named is no second city
    return next(iter(found.values())) if len(found) == 1 else None


def counties_of(city_code: str) -> list[Region]:
    return _counties_by_city().get(city_code, [])


@cache
def _counties_by_city() -> dict[str, list[Region]]:
    out: dict[str, list[Region]] = {}
    for r in regions():
        if r.level == "county" and r.parent_code:
            out.setdefault(r.parent_code, []).append(r)
    return out


def cities() -> list[Region]:
    return [r for r in regions() if r.level == "city"]


@cache
def home_cities() -> tuple[Region, ...]:
    """The cities of the hand-kept files (Shanxi's, Tongling): offered in the sidebar before any data is loaded;
    a city elsewhere is offered once it has data."""
    codes: set[str] = set()
    for fname in _REFERENCE_FILES[:-1]:
        path = REFERENCE_DIR / fname
        if path.exists():
            with path.open(encoding="utf-8") as fh:
                codes |= {row["adcode"].strip() for row in csv.DictReader(fh) if row["level"].strip() == "city"}
    return tuple(r for r in cities() if r.code in codes)


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
