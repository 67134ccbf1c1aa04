"""A page view's metric calls, ours and the peer's, under one filter; and the check that they agree.

The list is what the pages make on a filter change (总览 + drill-downs):
total, by tier, by city, by county of one city, by industry, the overdue list
(project_states), and the 序时进度 trend of the filtered set (the overview's line chart).
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import replace
from datetime import date
from typing import Any

from pipelines import metrics
from pipelines.views import starts as starts_view
from pipelines.vocab import schema
from pipelines.vocab.reference import region_by_code

from . import peer as peer_mod


def random_view(rng: random.Random, cities: list[str], industries: list[str]) -> tuple[metrics.Filters, str]:
    """A filter a user might set (tier, city, industry or a pair), and the city drilled into."""
    kind = rng.choice(["none", "tier", "city", "industry", "tier+city", "tier+industry"])
    tiers: tuple[str, ...] = (rng.choice(schema.TIERS[:3]),) if "tier" in kind else ()
    city = rng.choice(cities)
    f = metrics.Filters(
        tiers=tiers,
        cities=(city,) if "city" in kind else (),
        industries=(rng.choice(industries),) if "industry" in kind else (),
    )
    return f, city


def our_page(src: Any, as_of: date, f: metrics.Filters, city: str, *, trend: bool = True,
             parts: dict[str, list[float]] | None = None) -> dict[str, Any]:
    """Our page view: the metrics calls the pages make (src: a connection or a Warehouse); with parts,
    each call's seconds appended to parts[its name] (where a view's time goes)."""
    clock = [time.perf_counter()]

    def took(name: str) -> None:
        now = time.perf_counter()
        if parts is not None:
            parts.setdefault(name, []).append(now - clock[0])
        clock[0] = now

    by = metrics.figures_by(src, as_of, (None, "tier", "city", "industry"), filters=f)  # one query, as the pages
    took("figures_by: whole, tiers, cities, industries")
    out: dict[str, Any] = {
        "total": by[None][0],
        "tier": by["tier"],
        "city": by["city"],
        "county": metrics.figures(src, as_of, filters=replace(f, cities=(city,)), by="county"),
        "industry": by["industry"],
    }
    took("figures: one city's counties")
    # the overdue list as the 开工 page reads it: its columns, only the overdue projects
    out["overdue"] = metrics.project_states(src, as_of, filters=f, columns=starts_view._LIST_COLS,
                                           where=metrics.Where("is_overdue"))
    took("project_states: the overdue list")
    if trend:
        out["trend"] = metrics.trend(src, as_of, filters=f)
        took("trend")
    return out


def peer_page(peer: peer_mod.PeerData, as_of: date, f: metrics.Filters, city: str) -> dict[str, Any]:
    """The peer's page view: latest-report state once, filter, one groupby per grouping."""
    states = peer_mod.project_states(peer, as_of, as_of.year)
    s = peer_mod.apply_filters(states, f)
    sc = peer_mod.apply_filters(states, replace(f, cities=(city,)))
    return {
        "total": peer_mod.figures(s, None),
        "tier": peer_mod.figures(s, "tier"),
        "city": peer_mod.figures(s, "city"),
        "county": peer_mod.figures(sc, "county"),
        "industry": peer_mod.figures(s, "industry"),
        "overdue": s[s["is_overdue"]],
    }


_COUNTS = ("projects", "due", "started", "overdue", "completed", "planned_completions", "stats_due",
           "stats_registered", "reporting_base", "reported")
_MONEY = ("total_investment", "annual_plan", "ytd_completed")


def _peer_rows(frame: Any, by: str | None) -> dict[tuple[str, Any], dict[str, Any]]:
    names = region_by_code()
    out = {}
    for rec in frame.to_dict("records"):
        key = rec["group_key"]
        if by in ("city", "county"):
            if key is None or (isinstance(key, float) and math.isnan(key)):
                key = "（未填县区）" if by == "county" else "（未填地市）"
            else:
                key = names[key].name if key in names else key
        code = rec["group_code"] if by == "industry" else None
        out[(key, code if isinstance(code, str) else None)] = rec
    return out


def check_equal(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    """Assert the peer's figures equal ours (counts exactly, money to 1e-6 relative)."""
    for part in ("total", "tier", "city", "county", "industry"):
        by = None if part == "total" else part
        mine = [ours[part]] if part == "total" else ours[part]
        peer_rows = _peer_rows(theirs[part], by)
        mine_nonempty = [m for m in mine if m["projects"]]
        assert len(mine_nonempty) == len(peer_rows) or (part == "total" and mine[0]["projects"] == 0), (
            part, len(mine_nonempty), len(peer_rows))
        for m in mine_nonempty:
            matches = [v for (k, _), v in peer_rows.items() if k == m["group"]]
            assert len(matches) == 1, (part, m["group"], len(matches))
            p = matches[0]
            for k in _COUNTS:
                assert int(p[k]) == m[k], (part, m["group"], k, int(p[k]), m[k])
            for k in _MONEY:
                assert math.isclose(float(p[k]), m[k], rel_tol=1e-9, abs_tol=1e-6), (part, m["group"], k)
            base = int(p["reporting_base"])
            want = None if base == 0 else int(p["reported"]) / base
            assert (want is None and m["reporting_rate"] is None) or math.isclose(want, m["reporting_rate"])
    assert sorted(ours["overdue"]["project_id"].to_list()) == sorted(theirs["overdue"].index.to_list())
