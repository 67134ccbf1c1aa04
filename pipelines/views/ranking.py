"""综合排名 of regions: a weighted score over start rate, completion rate, schedule gap, reporting rate."""

from __future__ import annotations

from typing import Any

import polars as pl

# Each criterion scores 0–100 by min–max over the regions ranked (best region 100, worst 0);
# a region without the figure (null denominator) scores 0 on it.
CRITERIA: dict[str, str] = {
    "start_rate": "开（复）工率",
    "completion_rate": "投资完成率",
    "schedule_gap": "超（滞后）序时进度",
    "reporting_rate": "录入率",
}
DEFAULT_WEIGHTS: dict[str, float] = {
    "start_rate": 30.0, "completion_rate": 30.0, "schedule_gap": 20.0, "reporting_rate": 20.0,
}
FORMULA_ZH = "综合得分 = Σ 权重 × 单项得分 ÷ Σ 权重；单项得分按各地区间最小—最大归一到 0–100（无数据记 0）"


def _scores(values: list[float | None]) -> list[float]:
    present = [v for v in values if v is not None]
    if not present:
        return [0.0 for _ in values]
    lo, hi = min(present), max(present)
    return [0.0 if v is None else (100.0 if hi == lo else (v - lo) / (hi - lo) * 100.0) for v in values]


def rank(items: list[dict[str, Any]], weights: dict[str, float] | None = None) -> pl.DataFrame:
    """Regions ranked by their weighted score (rank 1 = best); ties by region code."""
    w = {k: float(v) for k, v in (weights or DEFAULT_WEIGHTS).items() if k in CRITERIA and v and v > 0}
    rows = [it for it in items if it.get("projects")]
    out: dict[str, list[Any]] = {
        "group": [it["group"] for it in rows],
        "group_code": [it.get("group_code") for it in rows],
        "projects": [it["projects"] for it in rows],
    }
    total = [0.0] * len(rows)
    for key in CRITERIA:
        vals = [it.get(key) for it in rows]
        out[key] = vals
        s = _scores(vals)
        out[f"{key}_score"] = s
        if key in w:
            total = [t + w[key] * x for t, x in zip(total, s, strict=True)]
    weight_sum = sum(w.values())
    out["score"] = [t / weight_sum if weight_sum else 0.0 for t in total]
    frame = pl.DataFrame(out, schema={
        "group": pl.String, "group_code": pl.String, "projects": pl.Int64,
        **{k: pl.Float64 for k in CRITERIA}, **{f"{k}_score": pl.Float64 for k in CRITERIA},
        "score": pl.Float64,
    })
    return (
        frame.with_columns(score=pl.col("score").round(6))
        .sort(["score", "group_code"], descending=[True, False], nulls_last=True)
        .with_row_index("rank", offset=1)
    )


_SHOWN = {"rank": "名次", "projects": "项目数", "start_rate": "开（复）工率%", "completion_rate": "投资完成率%",
          "schedule_gap": "较序时进度（百分点）", "reporting_rate": "录入率%", "score": "综合得分"}


def shown(table: pl.DataFrame, level_name: str) -> pl.DataFrame:
    """The ranking as the 区域 page and exports show it: rates in %, the gap in points, Chinese headers."""
    return table.select(
        "rank", "group", "projects",
        *[(pl.col(k) * (1 if k == "schedule_gap" else 100)).round(1).alias(k) for k in CRITERIA],
        pl.col("score").round(1),
    ).rename({**_SHOWN, "group": level_name})
