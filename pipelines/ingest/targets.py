"""The 目标任务分解表 (targets by region): found on a sheet, then read into a targets frame."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.ingest import headers as H
from pipelines.ingest.detect import report_date_from_title, year_from_text
from pipelines.ingest.parse import clean, is_empty, parse_number
from pipelines.ingest.result import Ctx, ReadResult
from pipelines.ingest.sheets import HEADER_SCAN_ROWS, Grid, cell_text
from pipelines.vocab.reference import (
    DEV_ZONE_WORDS,
    Region,
    find_city,
    find_county,
    find_region,
    region_by_code,
)
from pipelines.vocab.schema import TARGET_METRICS

TARGETS_SCHEMA: dict[str, Any] = {
    "year": pl.Int32,
    "region_code": pl.String,
    "region_name": pl.String,
    "metric": pl.String,
    "value": pl.Float64,
    "leader": pl.String,
    "department": pl.String,
    "source_row": pl.Int64,
}


# ---- targets (目标任务分解表) -----------------------------------------------------------------------

_TOTAL_WORDS = ("总目标", "合计", "全市", "总计", "全市合计", "总任务", "市级", "全县")
_SPLIT_LABELS = (("1-5亿", "planned_1_5"), ("5-10亿", "planned_5_10"), ("10亿以上", "planned_10_plus"))


def _target_metric(label: str) -> tuple[str | None, float]:
    """(metric key | 'leader' | 'department' | 'split' | None, unit factor) for a row label."""
    t, unit = H.normalise_header(label)
    factor = unit or 1.0
    if t.startswith("其中") and "/" in t:
        return "split", factor
    if re.search(r"包保领导|联系领导|责任领导|分管领导|牵头领导", t):
        return "leader", 1.0
    if re.search(r"责任科室|责任单位|责任部门|牵头科室|责任处室", t):
        return "department", 1.0
    if "谋划" in t and "投资" in t:
        return "planned_investment", factor
    if "谋划" in t:
        return "planned_projects", factor
    if "新开工" in t:
        return "new_starts", factor
    if "续建" in t:
        return "continuing", factor
    if "入库" in t or "入统" in t:
        return "stats_registrations", factor
    if "投资" in t:
        return "investment_task", factor
    return None, factor


def _is_region_label(text: str) -> bool:
    t = clean(text)
    return bool(t) and len(t) <= 16 and (
        t in _TOTAL_WORDS or t in DEV_ZONE_WORDS or find_region(t) is not None
        or bool(re.fullmatch(r".{1,6}(区|县|市|开发区|园区)", t)))


@dataclass
class Targets:
    header_row: int  # 0-based
    label_col: int
    region_cols: list[int]


TARGET_SCAN_ROWS = 60


def find_targets(grid: Grid) -> Targets | None:
    for i, row in enumerate(grid[:HEADER_SCAN_ROWS]):
        cells = [cell_text(v) for v in row]
        filled = [j for j, c in enumerate(cells) if c]
        if len(filled) < 3:
            continue
        label_col = filled[0]  # the row's own label (包保县区园区), then the regions across
        region_cols = [j for j in filled[1:] if _is_region_label(cells[j])]
        if len(region_cols) < 2:
            continue
        # A 分解表's metric rows sit right under its header; looking further only costs time
        # (a project table's 地市/县区 columns look like region headers on every row).
        below = grid[i + 1 : i + 1 + TARGET_SCAN_ROWS]
        labels = [cell_text(r[label_col]) if label_col < len(r) else "" for r in below]
        metrics = [lab for lab in labels if lab and _target_metric(lab)[0] not in (None, "leader", "department")]
        if len(metrics) >= 2:
            return Targets(i, label_col, region_cols)
    return None


def read_targets(grid: Grid, tgt: Targets, ctx: Ctx, res: ReadResult, report_date: date | None,
                 region: Region | None) -> None:
    """A 分解表 into res: the target year from the title, one value a (region, metric), each given once."""
    res.kind, res.layout = "targets", "tongling_targets"
    title = " ".join(cell_text(v) for r in grid[: tgt.header_row] for v in r
                     if v is not None and _target_metric(cell_text(v))[0] is None)
    title_and_name = title + " " + Path(ctx.file).stem
    title_date, _ = report_date_from_title(title_and_name)
    year: int | None = year_from_text(title) or year_from_text(Path(ctx.file).stem) or (report_date or title_date or date.min).year
    if report_date:
        year = report_date.year if not year_from_text(title) else year
    if year == date.min.year:
        ctx.err("缺少目标年度：请在标题中注明年份（如“2020年”），或上传时填写报告期")
        year = None
    res.year = year
    res.report_date = report_date or title_date or (date(year, 12, 31) if year else None)
    res.frequency = "month"
    header = [cell_text(v) for v in grid[tgt.header_row]]
    regions = _target_regions(header, tgt, _target_city(header, tgt, title, region), ctx)
    values = _TargetValues(tgt, header, regions, H.unit_factor_of(title) or 1.0, ctx)
    for i, row in enumerate(grid):
        if i != tgt.header_row and tgt.label_col < len(row):
            values.read_row(i, row)
    res.frame = _targets_frame(values, year, ctx)
    if res.frame.height == 0 and not ctx.errors:
        ctx.err("目标任务分解表中没有可识别的指标")
    res.present_fields = []


def _target_city(header: list[str], tgt: Targets, title: str, region: Region | None) -> Region | None:
    """The city the table is of: the region given at load, a city in the title, or the city most region
    columns belong to."""
    city: Region | None = None
    if region is not None:
        city = region if region.level == "city" else region_by_code().get(region.parent_code or "")
    if city is None:
        city = next((c for w in re.findall(r"[\u4e00-\u9fff]{2,4}市", title) if (c := find_city(w))), None)
    if city is None:
        parents = Counter(c.parent_code for j in tgt.region_cols if (c := find_county(header[j])) is not None)
        if parents:
            city = region_by_code().get(parents.most_common(1)[0][0] or "")
    return city


def _target_regions(header: list[str], tgt: Targets, city: Region | None, ctx: Ctx) -> dict[int, Region]:
    """{column: region} of the region columns that can be read (总目标 is the city's)."""
    regions: dict[int, Region] = {}
    for j in tgt.region_cols:
        t = clean(header[j])
        if t in _TOTAL_WORDS:
            if city is None:
                ctx.err("无法确定「总目标」所属地市：请在上传时选择地区", tgt.header_row + 1, header[j], header[j])
                continue
            regions[j] = city
            continue
        r = find_county(t, city.code if city else None) or (find_city(t) if city is None else None)
        if r is None:
            ctx.err("无法识别的地区", tgt.header_row + 1, header[j], header[j])
            continue
        regions[j] = r
    return regions


@dataclass
class _TargetValues:
    """What the metric rows of a 分解表 give: (metric, region, value, 1-based row, column) and each column's
    包保领导 and 责任科室; a cell that cannot be read goes to ctx."""

    tgt: Targets
    header: list[str]
    regions: dict[int, Region]
    title_factor: float
    ctx: Ctx
    values: list[tuple[str, Region, float, int, int]] = field(default_factory=list)
    leaders: dict[int, str | None] = field(default_factory=dict)
    depts: dict[int, str | None] = field(default_factory=dict)

    def read_row(self, i: int, row: list[Any]) -> None:
        label = cell_text(row[self.tgt.label_col])
        if not label:
            return
        metric, factor = _target_metric(label)
        if metric is None:
            return
        if metric in ("investment_task", "planned_investment") and H.normalise_header(label)[1] is None:
            factor = self.title_factor  # 单位：亿元、个 above the table: money in 亿元, counts in 个
        cells = [cell_text(row[j]) if j < len(row) else "" for j in self.tgt.region_cols]
        if metric in ("leader", "department"):
            store = self.leaders if metric == "leader" else self.depts
            for j, text in zip(self.tgt.region_cols, cells, strict=True):
                store[j] = text or None
        elif metric == "split":
            self._split_row(i, label, cells)
        else:
            self._metric_row(i, metric, factor, cells)

    def _split_row(self, i: int, label: str, cells: list[str]) -> None:
        """其中：1-5亿/5-10亿/10亿以上 with values like 3/2/1: one value a band."""
        parts = [p for p in re.split(r"[/、]", H.normalise_header(label)[0].removeprefix("其中")) if p]
        keys = [next((key for lab, key in _SPLIT_LABELS if clean(p).replace("元", "") == lab), None) for p in parts]
        if None in keys:
            self.ctx.err("无法识别的分档（应为 1-5亿/5-10亿/10亿以上）", i + 1, label, label)
            return
        for j, text in zip(self.tgt.region_cols, cells, strict=True):
            if is_empty(text) or j not in self.regions:
                continue
            vals = re.split(r"[/、]", clean(text))
            if len(vals) != len(keys):
                self.ctx.err(f"分档数值个数应为 {len(keys)} 个（用“/”分隔）", i + 1, self.header[j], text)
                continue
            for k, v in zip(keys, vals, strict=True):
                x, e = parse_number(v)
                if e or x is None:
                    self.ctx.err(e or "无法识别为数字", i + 1, self.header[j], text)
                    continue
                self.values.append((k or "", self.regions[j], x, i + 1, j))

    def _metric_row(self, i: int, metric: str, factor: float, cells: list[str]) -> None:
        for j, text in zip(self.tgt.region_cols, cells, strict=True):
            if is_empty(text) or j not in self.regions:
                continue
            x, e = parse_number(text)
            if e or x is None:
                self.ctx.err(e or "无法识别为数字", i + 1, self.header[j], text)
                continue
            if x < 0:
                self.ctx.err("目标值不能为负数", i + 1, self.header[j], text)
                continue
            self.values.append((metric, self.regions[j], x * factor, i + 1, j))


def _targets_frame(v: _TargetValues, year: int | None, ctx: Ctx) -> pl.DataFrame:
    """The targets frame (TARGETS_SCHEMA); a (region, metric) given twice is an error at its second row."""
    seen: set[tuple[str, str]] = set()
    rows: list[tuple[Any, ...]] = []
    for metric, r, x, rownum, j in v.values:
        if (r.code, metric) in seen:
            ctx.err(f"地区「{r.name}」的指标「{TARGET_METRICS[metric]}」重复填报", rownum, v.header[j], f"{x:g}")
            continue
        seen.add((r.code, metric))
        rows.append((year, r.code, r.name, metric, round(x, 6), v.leaders.get(j), v.depts.get(j), rownum))
    return pl.DataFrame(rows, schema=TARGETS_SCHEMA, orient="row") if rows else pl.DataFrame(schema=TARGETS_SCHEMA)
