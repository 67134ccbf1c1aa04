"""The peer: what most Streamlit dashboards do — every report in a pandas frame, groupby per view.

It computes the same figures as pipelines.metrics from the contract (shared/metrics.md), with
no help from our warehouse: at start-up it holds every report row (and each project's tier)
in memory; per page view it takes each project's latest report on or before D within the year
(sort once at load, then filter and drop_duplicates(keep="last") per view), then the flags and
a groupby per grouping.

Field-by-field state: a report states only the fields its layout carries (the ``present``
bitmask); a field it does not carry keeps the value of the latest report that does. The peer
honours that by grouping fields by which layouts carry them and taking the latest report per
project within each group — the same rule the warehouse materialises in its snapshots.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from pipelines.vocab import schema

STATE_FIELDS = (
    "project_name", "city_code", "city_name", "county_code", "county_name", "industry_code",
    "industry_name", "stage", "total_investment", "annual_plan", "ytd_completed",
    "planned_start_date", "actual_start_date", "not_started_reason", "planned_completion_date",
    "completion_date", "stats_registered",
)
DATE_FIELDS = ("planned_start_date", "actual_start_date", "planned_completion_date", "completion_date")
DONE = list(schema.DONE_STAGES)
GROUP_COLUMNS = {  # by → (name column, code column)
    "city": ("city_code", "city_code"),
    "county": ("county_code", "county_code"),
    "industry": ("industry_key", "industry_code"),
    "tier": ("tier", None),
}


@dataclass
class PeerData:
    reports: pd.DataFrame  # every report row, sorted by (project_id, report_date)
    field_groups: list[tuple[int, list[str]]]  # (a bit every report of the group carries, fields)


def load_peer(con: Any) -> PeerData:
    """Read every report (and the projects' tiers) into one pandas frame, as a dashboard's loader would."""
    cols = ", ".join(f"r.{c}" for c in STATE_FIELDS)
    df = con.sql(
        f"SELECT r.project_id, r.report_date, r.year, r.present, {cols}, p.tier "  # noqa: S608 (STATE_FIELDS)
        "FROM reports r JOIN projects p USING (project_id)"
    ).df()
    for c in ("report_date", *DATE_FIELDS):
        df[c] = pd.to_datetime(df[c])
    df = df.sort_values(["project_id", "report_date"], kind="stable", ignore_index=True)
    # Fields carried by the same layouts resolve together (one latest-report step per group).
    masks = [int(m) for m in np.unique(df["present"].to_numpy())]
    by_signature: dict[tuple[bool, ...], list[str]] = {}
    for f in STATE_FIELDS:
        sig = tuple(bool(m & schema.FIELD_BIT[f]) for m in masks)
        by_signature.setdefault(sig, []).append(f)
    groups = [(schema.FIELD_BIT[fields[0]], fields) for fields in by_signature.values()]
    return PeerData(df, groups)


def project_states(peer: PeerData, as_of: date, year: int, frequency: str = "week") -> pd.DataFrame:
    """One row per project with a report on or before D in Y: its state and the contract's flags."""
    d_ts = pd.Timestamp(as_of)
    start = pd.Timestamp(as_of - timedelta(days=6) if frequency == "week" else as_of.replace(day=1))
    df = peer.reports
    r = df[(df["year"] == year) & (df["report_date"] <= d_ts)]
    state = r.drop_duplicates("project_id", keep="last")[["project_id", "report_date", "tier"]]
    state = state.rename(columns={"report_date": "last_report_date"}).set_index("project_id")
    present = r["present"].to_numpy()
    for bit, fields in peer.field_groups:
        carried = r[(present & bit) != 0]
        latest = carried.drop_duplicates("project_id", keep="last").set_index("project_id")[fields]
        state = state.join(latest, how="left")
    # done_date: the first report of the trailing run of 竣工/投产 stages
    staged = r[(present & schema.FIELD_BIT["stage"]) != 0]
    is_done = staged["stage"].isin(DONE)
    last_not_done = staged.loc[~is_done].groupby("project_id")["report_date"].max()
    done_rows = staged.loc[is_done, ["project_id", "report_date"]]
    lnd = done_rows["project_id"].map(last_not_done)
    done_rows = done_rows[lnd.isna() | (done_rows["report_date"] > lnd)]
    state["done_date"] = done_rows.groupby("project_id")["report_date"].min()
    # the stage before the period: from the stage reports dated before its first day
    before = staged[staged["report_date"] < start].drop_duplicates("project_id", keep="last")
    state["stage_before_period"] = before.set_index("project_id")["stage"]

    s = state
    has_started = s["actual_start_date"].notna() & (s["actual_start_date"] <= d_ts)
    first_date = s["planned_start_date"]  # the planned (re)start date, as the contract has it
    stage = s["stage"].fillna("")
    is_due = (stage != "储备") & (s["stage"].isin(["续建", "在建"]) | (first_date <= d_ts))
    completion = s["completion_date"].fillna(s["done_date"])
    s["is_due"] = is_due
    s["has_started"] = has_started
    s["is_started"] = is_due & has_started
    s["is_overdue"] = is_due & ~has_started
    s["is_completed"] = completion.notna() & (completion.dt.year == year) & (completion <= d_ts)
    pc = s["planned_completion_date"]
    s["is_planned_completion"] = pc.notna() & (pc.dt.year == year)
    s["is_stats_due"] = s["is_started"] & (s["total_investment"].fillna(0) >= schema.STATS_THRESHOLD)
    s["is_stats_registered"] = s["is_stats_due"] & s["stats_registered"].fillna(False).astype(bool)
    # 录入率: 应报送 = not 竣工/投产 before the period; 已报送 = of those, a report in the period
    s["is_active_before_period"] = ~s["stage_before_period"].fillna("").isin(DONE) & (
        completion.isna() | (completion >= start))
    s["is_reported"] = s["is_active_before_period"] & (s["last_report_date"] >= start)
    s["industry_key"] = s["industry_name"].fillna("（未填行业）")
    return s


def apply_filters(states: pd.DataFrame, filters: Any) -> pd.DataFrame:
    keep = pd.Series(True, index=states.index)
    if filters.tiers:
        keep &= states["tier"].isin(filters.tiers)
    if filters.cities:
        keep &= states["city_code"].isin(filters.cities)
    if filters.counties:
        keep &= states["county_code"].isin(filters.counties)
    if filters.industries:
        keep &= states["industry_key"].isin(filters.industries)
    return states[keep]


_SUMS = {
    "projects": ("is_due", "size"),
    "total_investment": ("total_investment", "sum"),
    "annual_plan": ("annual_plan", "sum"),
    "ytd_completed": ("ytd_completed", "sum"),
    "due": ("is_due", "sum"),
    "started": ("is_started", "sum"),
    "overdue": ("is_overdue", "sum"),
    "completed": ("is_completed", "sum"),
    "planned_completions": ("is_planned_completion", "sum"),
    "stats_due": ("is_stats_due", "sum"),
    "stats_registered": ("is_stats_registered", "sum"),
    "reporting_base": ("is_active_before_period", "sum"),
    "reported": ("is_reported", "sum"),
}


def figures(states: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """The counts and sums per group (rates are ratios of these)."""
    if by is None:
        out = states.assign(_all="全部").groupby("_all").agg(**_SUMS)
        if out.empty:
            out = pd.DataFrame([{k: 0 for k in _SUMS}], index=pd.Index(["全部"], name="_all"))
        return out.reset_index().rename(columns={"_all": "group_key"}).assign(group_code=None)
    name, code = GROUP_COLUMNS[by]
    keys = [name] if code is None or code == name else [name, code]
    out = states.groupby(keys, dropna=False).agg(**_SUMS).reset_index()
    out = out.rename(columns={name: "group_key"})
    if code is None:
        out["group_code"] = None
    elif code == name:
        out["group_code"] = out["group_key"]
    else:
        out = out.rename(columns={code: "group_code"})
    return out
