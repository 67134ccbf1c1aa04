"""Reconciliation: a department's list in force at D (warehouse/reference_lists.py) against ours (the
projects of the year's list S at D, metrics.project_states), for the 清单核对 page, `kaigong
reconcile` and the 简报.

Matched by 项目代码, else by normalised name within the city (the identity's name_norm: never across
cities). One outcome per project:
- missing: on theirs and not in ours (漏报). A 立项 list's projects under 500 万元 are not for the
  调度库 and are left out (counted in `skipped_small`);
- unconfirmed: ours says 入统 and the 统计局's (入统) list does not have it;
- different: matched, with another 总投资 (by more than 0.5 万元) or 行业 (or, on a 入统 list, ours
  not marked 入统), each difference said in words;
- matched: matched, the same.
Only the region filters apply (a department's list has no tier, stage or size band).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import polars as pl

from pipelines import metrics
from pipelines.vocab.query import query_frame
from pipelines.vocab.reference import region_by_code
from pipelines.warehouse import reference_lists as rl

KINDS = rl.KINDS
KIND_SOURCE = rl.KIND_SOURCE
NOTE_ZH = ("按项目代码匹配，没有代码的按地市内规范化后的项目名称匹配（不跨地市）；漏报：清单有、调度库无（立项清单只核对总投资"
           "500万元及以上的项目）；入统未确认：本系统标为已入统、统计局清单中没有；信息不一致：总投资相差0.5万元以上、行业不同，"
           "或统计局清单有而本系统未标入统；只按地区筛选条件核对。")
OUTCOMES: tuple[str, ...] = ("missing", "unconfirmed", "different", "matched")
OUTCOME_ZH: dict[str, str] = {"missing": "漏报（清单有、本系统无）", "unconfirmed": "入统未确认（清单无）",
                              "different": "信息不一致", "matched": "一致"}
NO_FILTERS = metrics.Filters()
STATS_THRESHOLD = 500.0  # 万元: a 立项 project under it is not for the 调度库 (seed 002)
MONEY_TOLERANCE = 0.5  # 万元

_OURS = ("project_id", "project_code", "project_name", "city_code", "city_name", "county_code", "county_name",
         "total_investment", "industry_code", "industry_name", "stats_registered")
SCHEMA: dict[str, Any] = {
    "outcome": pl.String, "project_name": pl.String, "city_code": pl.String, "city_name": pl.String,
    "county_name": pl.String, "project_code": pl.String, "matched_by": pl.String, "ours_total": pl.Float64,
    "theirs_total": pl.Float64, "ours_industry": pl.String, "theirs_industry": pl.String,
    "differences": pl.String, "source_row": pl.Int64, "project_id": pl.String,
}


@dataclass
class Reconciliation:
    kind: str
    as_of: date
    list_as_of: date | None  # the list in force (None: no list of the kind loaded for the year)
    file_name: str | None
    rows: pl.DataFrame  # one row per project (SCHEMA), by outcome then region and name
    skipped_small: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def loaded(self) -> bool:
        return self.list_as_of is not None


def _ours(con: duckdb.DuckDBPyConnection, as_of: date, filters: metrics.Filters) -> pl.DataFrame:
    f = metrics.Filters(cities=filters.cities, counties=filters.counties)
    states = metrics.project_states(con, as_of, year=as_of.year, filters=f, columns=_OURS, ordered=False)
    norms = query_frame(con, "SELECT project_id, name_norm FROM projects")
    return states.join(norms, on="project_id", how="left")


def _theirs(con: duckdb.DuckDBPyConnection, kind: str, as_of: date, filters: metrics.Filters) -> pl.DataFrame:
    frame = rl.list_in_force(con, kind, as_of)
    if filters.cities or filters.counties:
        frame = frame.filter(pl.col("city_code").is_in(list(filters.cities))
                             | pl.col("county_code").is_in(list(filters.counties)))
    return frame.with_columns(_r=pl.int_range(pl.len(), dtype=pl.Int64))


def _match(theirs: pl.DataFrame, ours: pl.DataFrame) -> pl.DataFrame:
    """theirs with the project of ours each row is (pid, matched_by): by code, else by (city, name)."""
    o = ours.select(pl.all().name.prefix("o_"))
    by_code = o.filter(pl.col("o_project_code").is_not_null()).unique("o_project_code", keep="first")
    coded = theirs.filter(pl.col("project_code").is_not_null()).join(
        by_code, left_on="project_code", right_on="o_project_code", how="inner").with_columns(
        o_project_code=pl.col("project_code"), matched_by=pl.lit("项目代码"))
    rest = theirs.filter(~pl.col("_r").is_in(coded["_r"].implode()))
    used = coded["o_project_id"].implode()
    by_name = o.filter(~pl.col("o_project_id").is_in(used)).unique(["o_city_code", "o_name_norm"], keep="first")
    named = rest.join(by_name, left_on=["city_code", "name_norm"], right_on=["o_city_code", "o_name_norm"],
                      how="inner").with_columns(o_city_code=pl.col("city_code"), o_name_norm=pl.col("name_norm"),
                                                matched_by=pl.lit("项目名称（同地市）"))
    hit = pl.concat([coded, named], how="diagonal_relaxed")
    missing = theirs.filter(~pl.col("_r").is_in(hit["_r"].implode()))
    return pl.concat([hit, missing], how="diagonal_relaxed").sort("_r")


def _money(v: float | None) -> str:
    return "—" if v is None else f"{v:,.2f}".rstrip("0").rstrip(".") + " 万元"


def _differences(r: dict[str, Any], kind: str) -> str:
    out = []
    a, b = r["o_total_investment"], r["total_investment"]
    if a is not None and b is not None and abs(a - b) > MONEY_TOLERANCE:
        out.append(f"总投资：本系统 {_money(a)}，清单 {_money(b)}")
    oc, tc = r["o_industry_code"], r["industry_code"]
    on, tn = r["o_industry_name"], r["industry_name"]
    if (oc and tc and oc != tc) or (not (oc and tc) and on and tn and on != tn):
        out.append(f"行业：本系统「{on or oc}」，清单「{tn or tc}」")
    if kind == "入统" and not r["o_stats_registered"]:
        out.append("入统：本系统未标入统，统计局清单已入统")
    return "；".join(out)


def reconcile(con: duckdb.DuckDBPyConnection, kind: str, as_of: date,
              filters: metrics.Filters = NO_FILTERS) -> Reconciliation:
    """The kind's list in force at as_of against ours (module doc)."""
    theirs = _theirs(con, kind, as_of, filters)
    if theirs.is_empty() and rl.list_in_force(con, kind, as_of).is_empty():
        return Reconciliation(kind, as_of, None, None, pl.DataFrame(schema=SCHEMA), 0, dict.fromkeys(OUTCOMES, 0))
    full = rl.list_in_force(con, kind, as_of)
    list_as_of, file_name = full["as_of"][0], full["file_name"][0]
    ours = _ours(con, as_of, filters)
    m = _match(theirs, ours)
    names = {c: r.name for c, r in region_by_code().items()}
    rows: list[dict[str, Any]] = []
    skipped = 0
    for r in m.iter_rows(named=True):
        if r.get("o_project_id") is None:
            if kind == "立项" and r["total_investment"] is not None and r["total_investment"] < STATS_THRESHOLD:
                skipped += 1
                continue
            rows.append(_row("missing", r, names, None))
            continue
        diff = _differences(r, kind)
        rows.append(_row("different" if diff else "matched", r, names, diff))
    if kind == "入统":
        seen = set(m["o_project_id"].drop_nulls().to_list()) if "o_project_id" in m.columns else set()
        for r in ours.filter(pl.col("stats_registered").fill_null(False)
                             & ~pl.col("project_id").is_in(list(seen))).iter_rows(named=True):
            rows.append({"outcome": "unconfirmed", "project_name": r["project_name"], "city_code": r["city_code"],
                         "city_name": r["city_name"], "county_name": r["county_name"],
                         "project_code": r["project_code"], "matched_by": None,
                         "ours_total": r["total_investment"], "theirs_total": None,
                         "ours_industry": r["industry_name"], "theirs_industry": None,
                         "differences": "本系统标为已入统，统计局清单中没有", "source_row": None,
                         "project_id": r["project_id"]})
    order = {o: i for i, o in enumerate(OUTCOMES)}
    frame = pl.DataFrame(rows, schema=SCHEMA)
    frame = frame.sort(pl.col("outcome").replace_strict(order, return_dtype=pl.Int8), "city_code", "project_name",
                       nulls_last=True)
    counts = {o: int((frame["outcome"] == o).sum()) for o in OUTCOMES}
    return Reconciliation(kind, as_of, list_as_of, file_name, frame, skipped, counts)


def _row(outcome: str, r: dict[str, Any], names: dict[str, str], diff: str | None) -> dict[str, Any]:
    county = r.get("o_county_name") or names.get(r["county_code"] or "")
    return {"outcome": outcome, "project_name": r["project_name"], "city_code": r["city_code"],
            "city_name": names.get(r["city_code"] or "", r["city_code"]), "county_name": county,
            "project_code": r["project_code"] or r.get("o_project_code"), "matched_by": r.get("matched_by"),
            "ours_total": r.get("o_total_investment"), "theirs_total": r["total_investment"],
            "ours_industry": r.get("o_industry_name"), "theirs_industry": r["industry_name"] or r["industry_code"],
            "differences": diff or None, "source_row": r["source_row"], "project_id": r.get("o_project_id")}


def json_rows(rec: Reconciliation) -> list[dict[str, Any]]:
    """One object per project: name, city, county, outcome (and what differs, the list's row)."""
    return [{"name": r["project_name"], "city": r["city_name"], "county": r["county_name"], "outcome": r["outcome"],
             "project_code": r["project_code"], "differences": r["differences"], "list_row": r["source_row"]}
            for r in rec.rows.iter_rows(named=True)]


SHOWN = {"outcome": "核对结果", "project_name": "项目名称", "city_name": "地市", "county_name": "县区",
         "project_code": "项目代码", "matched_by": "匹配依据", "ours_total": "本系统总投资（万元）",
         "theirs_total": "清单总投资（万元）", "differences": "差异", "source_row": "清单行号"}


def shown(rec: Reconciliation) -> pl.DataFrame:
    return rec.rows.with_columns(pl.col("outcome").replace_strict(OUTCOME_ZH)).select(list(SHOWN)).rename(SHOWN)


def summary_zh(rec: Reconciliation) -> str:
    """「入统清单（统计局，3月31日）：一致 5 个，信息不一致 1 个，漏报 2 个，入统未确认 1 个。」"""
    if not rec.loaded:
        return f"{rec.kind}清单：{rec.as_of.year} 年尚未导入。"
    parts = [f"{OUTCOME_ZH[o].split('（')[0]} {rec.counts[o]} 个" for o in ("matched", "different", "missing",
                                                                           "unconfirmed")
             if o != "unconfirmed" or rec.kind == "入统"]
    text = f"{rec.kind}清单（{rl.KIND_SOURCE[rec.kind]}，截至 {rec.list_as_of}，{rec.file_name}）：" + "，".join(parts)
    if rec.skipped_small:
        text += f"；总投资低于 {STATS_THRESHOLD:.0f} 万元的立项项目 {rec.skipped_small} 个不纳入调度库，未核对"
    return text + "。"


def reconcile_page(con: duckdb.DuckDBPyConnection, view: metrics.View, kind: str) -> tuple[Reconciliation,
                                                                                          pl.DataFrame]:
    """The 清单核对 page: the kind's reconciliation at the view's date and the year's loaded lists."""
    return reconcile(con, kind, view.as_of, view.filters), rl.lists_loaded(con, view.year)


LOADED = {"kind": "类别", "as_of": "截止日期", "file_name": "文件", "rows": "项目数", "loaded_by": "导入人",
          "loaded_at": "导入时间"}


def loaded_shown(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.rename(LOADED)
