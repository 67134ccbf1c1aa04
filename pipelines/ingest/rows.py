"""A report table's rows → the staged frame, in named stages, column-wise.

Column-wise, with the row-by-row rules kept as the slow path:
- rows are classified (blank, note, subtotal, section, project) by vectorised tests that send
  only candidates to the exact per-row checks, then one pass over the unusual rows keeps the
  reading state (notes, sections);
- fields are parsed column by column (vparse);
- the per-row rules (region, industry, tier, stage and dates, plausibility warnings) run once
  per distinct combination of the cells they read, and their answers are joined back;
- findings, tagged with row and step, are put in the order a row-by-row reading gives them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, partial
from typing import Any

import polars as pl

from pipelines.ingest import headers as H
from pipelines.ingest import vparse as vp
from pipelines.ingest.detect import (
    GROUP,
    NOTE,
    SECTION_PREFIX,
    Col,
    Header,
    is_group,
    is_subtotal,
    maybe_note,
    maybe_subtotal,
)
from pipelines.ingest.parse import clean, is_empty
from pipelines.ingest.result import Ctx, Found
from pipelines.ingest.rules import (
    HEADING_CANDIDATE,
    CellFn,
    end_of_block,
    read_region_heading,
    read_section,
    read_tier_heading,
    row_industry,
    row_region,
    row_stage_dates,
    row_tier,
    row_warnings,
)
from pipelines.ingest.sheets import Sheet
from pipelines.ingest.totals import check_totals
from pipelines.ingest.values import (
    PROGRESS_KEYS,
    progress_columns,
    progress_filled_fields,
    started_checked_fields,
)
from pipelines.vocab.reference import Region, region_by_code
from pipelines.vocab.schema import FIELD, STAGED_SCHEMA

# Planned dates: a month alone is the month's last day (contract § Dates).
PLANNED_DATES = ("planned_start_date", "planned_completion_date")
# Fields the stage rule reads as parsed, and the ones it decides.
_STAGE_REC_FIELDS = ("build_type", "planned_start_date", "actual_start_date", "completion_date", "planned_completion_date")
_STAGE_OUT_FIELDS = ("stage", "start_stated", *_STAGE_REC_FIELDS)
_STAGE_ALWAYS = ("stage", "build_type", "start_stated")  # taken from the rule even when the dates are as parsed

Event = tuple[int, int, int, Found]  # (row index, step, column order, findings)


@dataclass
class Table:
    """A report table being read: its sheet and columns, what the title and the upload say for every row,
    and what reading its rows has found so far."""

    sheet: Sheet
    hdr: Header
    cols: dict[str, Col]
    report_date: date | None
    year: int | None
    tier_arg: str | None  # the tier chosen at upload
    title_tier: str | None
    title_ambiguous: bool  # the title says 双百 without 新兴/技改
    region: Region | None  # the region chosen at upload
    default_stage: str | None  # 储备 for a 谋划 form
    title_city: Region | None = None  # the one city the title names (铜陵市…), for county names several cities have
    events: list[Event] = field(default_factory=list)
    sections: list[dict[str, Any]] = field(default_factory=lambda: [{}])  # what each section row sets, by id
    found: list[Found] = field(default_factory=list)  # a rule's findings, by the index its `_found` column holds
    # (key, text) → what a 开竣工情况 or progress text was read as; → its rows (1-based)
    text_readings: dict[tuple[str, str], str] = field(default_factory=dict)
    text_rows: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    region_headings: int = 0  # heading rows that named a region (「一、铜官区」), never projects


    subtotal_pos: list[int] = field(default_factory=list)  # body positions of the 小计/合计 rows (totals.py checks them)
    heading_pos: list[int] = field(default_factory=list)  # body positions of the section (heading) rows
    skipped: dict[str, int] = field(default_factory=dict)  # rows that are not projects, by kind (说明, 列序号行 …)
    totals_checked: int = 0  # 小计/合计 rows checked against their rows (totals.py)
    totals_off: list[str] = field(default_factory=list)  # the checks that failed, in short

    @property
    def start(self) -> int:
        """0-based sheet row of the first row under the header."""
        return self.hdr.top + self.hdr.rows

    @cached_property
    def region_city(self) -> Region | None:
        if self.region is None:
            return None
        return self.region if self.region.level == "city" else region_by_code().get(self.region.parent_code or "")

    @property
    def file_city(self) -> Region | None:
        """The city the upload or, failing that, the title gives: where a shared county name is looked up."""
        return self.region_city or self.title_city

    @property
    def region_county(self) -> Region | None:
        return self.region if self.region is not None and self.region.level == "county" else None

    @property
    def dates_as_parsed(self) -> bool:
        """No column whose text the stage rule turns into dates (开复工时间, 竣工时间, 开竣工情况)."""
        return not any(k in self.cols for k in (H.START_TIME, H.COMPLETION_TIME, H.START_COMPLETION))

    def keep(self, found: Found) -> int | None:
        """found's index in self.found, None when it holds nothing."""
        if not found.items:
            return None
        self.found.append(found)
        return len(self.found) - 1


def report_rows(t: Table, ctx: Ctx) -> pl.DataFrame:
    """The projects of a report table as a staged frame; every finding goes to ctx in reading order."""
    body = table_body(t.sheet, t.start)
    data = project_rows(body, t)
    _shifted_row_findings(data, t)
    fields = parsed_fields(data, t)
    fields = ruled_fields(data, fields, t)
    fields = reason_checked_fields(data, fields, t)
    fields = started_checked_fields(fields, t)
    _text_rows(data, t)
    frame = staged_frame(data, fields)
    _plausibility_findings(data, frame, t)
    check_totals(body, frame, t)
    t.events.sort(key=lambda e: (e[0], e[1], e[2]))
    for i, _step, _order, found in t.events:
        ctx.add(found, i + 1)
    _missing_tier_and_city(data, fields, frame, t, ctx)
    return frame


def table_body(sheet: Sheet, start: int) -> pl.DataFrame:
    """The rows under the header: `_i` (0-based sheet row), every cell stripped ("" when empty), `_len` if ragged."""
    part = sheet.frame.slice(start)
    body = part.select(
        pl.int_range(start, start + part.height, dtype=pl.Int64).alias("_i"),
        *(vp.strip(pl.col(c)).alias(c) for c in part.columns),
    )
    lengths = sheet.lengths()
    if lengths is not None:
        body = body.with_columns(lengths.slice(start))
    return body


# ---- which rows are projects ----


def row_flags(body: pl.DataFrame, t: Table) -> pl.DataFrame:
    """Per body row: cells filled, the first filled cell, the name, and whether it may be a note, subtotal,
    nameless or group row (vectorised; the exact checks run on the candidates only)."""
    cols = t.cols
    name_col = cols["project_name"]
    key_cols = [c.idx for k, c in cols.items() if k in ("project_name", "company", H.CITY, H.COUNTY, H.LOCATION, "project_code")]
    cell_names = [c for c in body.columns if c.startswith("c")]
    filled = [pl.col(c) != "" for c in cell_names]
    others = [pl.col(f"c{c.idx}") != "" for k, c in cols.items() if k != "project_name"]
    # a region in its own column (地市, 县区, 建设地点) is the row's data, never a heading
    region_cells = [body[f"c{c.idx}"] for k, c in cols.items() if k in (H.CITY, H.COUNTY, H.LOCATION)]
    flags = body.select(
        "_i",
        nfill=pl.sum_horizontal(filled) if filled else pl.lit(0),
        first=pl.coalesce([pl.when(f).then(pl.col(c)) for f, c in zip(filled, cell_names, strict=True)]).fill_null("")
        if filled else pl.lit(""),
        name=pl.col(f"c{name_col.idx}"),
        other=pl.any_horizontal(others) if others else pl.lit(False),
    )
    subtotals = vp.matching([flags["first"], *(body[f"c{j}"] for j in sorted({*key_cols, 0}))], maybe_subtotal,
                            is_subtotal)
    notes = vp.matching([flags["first"]], maybe_note, lambda v: bool(NOTE.match(clean(v))))
    empty_names = vp.matching([flags["name"]], vp.maybe_empty, is_empty)
    return flags.with_columns(
        note=pl.col("first").is_in(notes),
        subtotal=pl.any_horizontal(pl.col("first").is_in(subtotals),
                                   *(body[f"c{j}"].is_in(subtotals) for j in sorted({*key_cols, 0}))),
        no_name=(pl.col("name") == "") | pl.col("name").is_in(empty_names),
        group=pl.col("name").is_in(vp.matching([flags["name"]], lambda v: vp.dense(v).str.contains("个"),
                                               lambda v: is_group(clean(v)))),
        heading=pl.col("name").str.contains(HEADING_CANDIDATE)
        | pl.all_horizontal((pl.col("name") == ""), pl.col("first").str.contains(HEADING_CANDIDATE),
                            *(pl.col("first") != cell for cell in region_cells)),
        pos=pl.int_range(pl.len(), dtype=pl.Int64),
    )


def _not_projects(body: pl.DataFrame, flags: pl.DataFrame, t: Table) -> tuple[list[int], list[tuple[int, int]]]:
    """(positions of the rows that are not projects, (position, section id) of each section row), reading
    the unusual rows in order; a section row's context goes to t.sections, a nameless project to t.events."""
    start, name_col = t.start, t.cols["project_name"]
    unusual = flags.filter(
        (pl.col("nfill") <= 2) | (pl.col("_i") == start) | pl.col("note") | pl.col("subtotal")
        | ((pl.col("name") == "") & ~pl.col("other")) | pl.col("no_name") | pl.col("group") | pl.col("heading")
    )
    not_projects: list[int] = []
    section: dict[str, Any] = {}
    section_from: list[tuple[int, int]] = []  # (position of a section row, id of the section it opens)
    in_notes = False
    for pos, i, nfill, first, name, other, note, sub, no_name, group, heading in unusual.select(
            "pos", "_i", "nfill", "first", "name", "other", "note", "subtotal", "no_name", "group",
            "heading").iter_rows():
        if nfill == 0:
            not_projects.append(pos)
            continue
        # A row of column numbers under the header (1, 2, 3 …).
        if i == start and nfill >= 3 and all(re.fullmatch(r"\d+", c) for c in body.row(pos)[1:] if isinstance(c, str) and c):
            not_projects.append(pos)
            _skip(t, "列序号行")
            continue
        if note or (in_notes and nfill <= 2):
            in_notes = True
            not_projects.append(pos)
            _skip(t, "说明")
            continue
        if sub:
            not_projects.append(pos)
            t.subtotal_pos.append(pos)
            _skip(t, "小计/合计")
            if not clean(first).startswith("其中") and end_of_block(section):  # 小计 ends a region heading's block
                t.sections.append(dict(section))
                section_from.append((pos, len(t.sections) - 1))
            continue
        # A heading with its count in the name column (太原市（2个）, 新兴产业项目（3个）), or a 序号 like
        # （一） beside a 地市 with no name: a section row, its sums never a project.
        section_no = not name and bool(SECTION_PREFIX.fullmatch(first.strip())) and nfill <= 3
        found = Found()
        if group or section_no:
            t.region_headings += read_section(GROUP.sub("", name) if group else " ".join(
                c for c in body.row(pos)[1:] if isinstance(c, str) and c), section, t.file_city, found)
        elif nfill == 1 or (not name and not other):
            # A section row (一、新兴产业项目 / 太原市) or a stray note: sets context, never a project.
            t.region_headings += read_section(first, section, t.file_city, found)
        elif heading and read_region_heading(_heading_text(first, name), section, t.file_city, found):
            # 「一、铜官区」 in the name column, or 「一、」 beside 「铜官区」, with the block's sums: a heading.
            t.region_headings += 1
        elif heading and not _company(body, pos, t) and read_tier_heading(_heading_text(first, name), section):
            pass  # 「一、省级双百·新兴项目」 with the block's sums (and no 项目单位): a tier heading
        else:
            if no_name:
                found = Found()
                found.err("缺少项目名称", name_col.name, "")
                t.events.append((i, 0, 0, found))
                not_projects.append(pos)
                _skip(t, "缺少项目名称")
            continue  # otherwise a project row with few cells filled
        if found.items:
            t.events.append((i, 2, 0, found))
        t.heading_pos.append(pos)
        _skip(t, "分组标题")
        t.sections.append(dict(section))
        section_from.append((pos, len(t.sections) - 1))
        not_projects.append(pos)
    return not_projects, section_from


def _company(body: pl.DataFrame, pos: int, t: Table) -> str:
    """The row's 项目单位 cell ("" when the table has none)."""
    return body[f"c{t.cols['company'].idx}"][pos] if "company" in t.cols else ""


def _heading_text(first: str, name: str) -> str:
    """The text of a possible region heading: the name cell, or the 序号 cell 「一、」 with it."""
    if name and first != name and SECTION_PREFIX.fullmatch(first.strip()):
        return first.strip() + name
    return name or first


def _skip(t: Table, kind: str) -> None:
    t.skipped[kind] = t.skipped.get(kind, 0) + 1


def project_rows(body: pl.DataFrame, t: Table) -> pl.DataFrame:
    """The body's project rows, each with `_sec`: the id of the section it stands under (t.sections)."""
    not_projects, section_from = _not_projects(body, row_flags(body, t), t)
    section_id = pl.Series("_sec", [None] * body.height, dtype=pl.Int64)
    if section_from:
        section_id = section_id.scatter([p for p, _ in section_from], [s for _, s in section_from])
    keep = pl.Series([True] * body.height, dtype=pl.Boolean).scatter(not_projects, False) if not_projects else None
    data = body.with_columns(section_id.forward_fill().fill_null(0))
    if keep is not None:
        data = data.filter(keep)
    return data


def _shifted_row_findings(data: pl.DataFrame, t: Table) -> None:
    """A text file's row longer than its header: its cells have shifted."""
    if "_len" not in data.columns:
        return
    width = max(j for j, n in enumerate(t.hdr.names) if n) + 1
    beyond = [f"c{j}" for j in range(width, t.sheet.width)]
    if not beyond:
        return
    long_rows = data.filter(pl.any_horizontal([pl.col(c) != "" for c in beyond]))
    for i, n, *extra in long_rows.select("_i", "_len", *beyond).iter_rows():
        found = Found()
        found.err(f"该行有 {n} 个单元格，比表头多 {n - width} 个，各列已错位：数字中的逗号须加引号"
                  "（如 \"12,500\"）或去掉，请核对该行", None, "，".join(v for v in extra if v))
        t.events.append((i, 0, -1, found))


# ---- fields ----


def parsed_fields(data: pl.DataFrame, t: Table) -> pl.DataFrame:
    """project_name and every text, money, date and yes/no field, parsed column by column; a cell's error to t.events."""
    cols = t.cols
    kinds = ("text", "money", "date", "bool")
    plain = [(order, key, col) for order, (key, col) in enumerate(cols.items())
             if key in FIELD and key != "project_name" and FIELD[key].kind in kinds]
    values, errors = vp.parse(data, [vp.Column(key, f"c{col.idx}", FIELD[key].kind, col.factor, key in PLANNED_DATES)
                                     for _, key, col in plain])
    rows_i = data["_i"]
    for order, key, col in plain:
        if key not in errors:
            continue
        at = errors[key].is_not_null().arg_true()
        raw = data[f"c{col.idx}"]
        for i, msg, v in zip(rows_i.gather(at), errors[key].gather(at), raw.gather(at), strict=True):
            found = Found()
            found.err(msg, col.name, v)
            t.events.append((i, 1, order, found))
    return pl.DataFrame([data[f"c{cols['project_name'].idx}"].alias("project_name"), *values.get_columns()])


def ruled_fields(data: pl.DataFrame, fields: pl.DataFrame, t: Table) -> pl.DataFrame:
    """fields with what the per-row rules decide (region, industry, tier, stage and dates) and `_city_missing`."""
    region_out = region_columns(data, t)
    industry_out = industry_columns(data, t)
    tier_out = tier_columns(data, t)
    progress = progress_columns(data, t) if any(k in t.cols for k in PROGRESS_KEYS) else None
    stage_out = stage_columns(data, fields, t, progress)
    fields = fields.with_columns(
        *(stage_out[k] for k in _STAGE_OUT_FIELDS if not t.dates_as_parsed or k in _STAGE_ALWAYS),
        *(region_out[k] for k in ("city_code", "city_name", "county_code", "county_name", "_city_missing")),
        *_zone_field(fields, region_out),
        *(industry_out[k] for k in ("industry_code", "industry_name")),
        tier_out["tier"],
    )
    if progress is not None:
        fields = progress_filled_fields(fields, progress, t.year)
    rows_i = data["_i"]
    for step, out in ((2, region_out), (4, tier_out), (5, stage_out)):
        at = out["_found"].is_not_null().arg_true()
        for i, f in zip(rows_i.gather(at), out["_found"].gather(at), strict=True):
            t.events.append((i, step, 0, t.found[f]))
    return fields


def _zone_field(fields: pl.DataFrame, region_out: pl.DataFrame) -> list[pl.Series]:
    """dev_zone: the 开发区 column's, else the zone a 县区 cell or a heading names (an attribute, not a region)."""
    if region_out["_zone"].null_count() == region_out.height:
        return []
    zone = region_out["_zone"].alias("dev_zone")
    return [fields["dev_zone"].fill_null(zone) if "dev_zone" in fields.columns else zone]


def _cells_of(data: pl.DataFrame, t: Table, keys: tuple[str, ...]) -> list[pl.Expr]:
    """The cells a rule reads, None where the row is too short to have the column."""
    out = []
    for k in keys:
        if k in t.cols:
            e = pl.col(f"c{t.cols[k].idx}")
            if "_len" in data.columns:
                e = pl.when(pl.col("_len") > t.cols[k].idx).then(e)
            out.append(e.alias(k))
    return out


def _cell_fn(vals: dict[str, Any], cols: dict[str, Col]) -> CellFn:
    def cell(key: str) -> tuple[str, Col] | None:
        v = vals.get(key)
        return None if v is None else (v, cols[key])
    return cell


def _per_combination(frame: pl.DataFrame, keys: list[pl.Expr], rule: Callable[[dict[str, Any]], tuple[Any, ...]],
                     schema: dict[str, Any]) -> pl.DataFrame:
    """rule(key values by name, plus `_sec`) once per distinct combination; its outputs (schema) for every row."""
    keyed = frame.select(*keys, "_sec")
    names = keyed.columns
    distinct = keyed.unique()
    results = [rule(dict(zip(names, r, strict=True))) for r in distinct.iter_rows()]
    outputs = pl.DataFrame(results, schema={"=" + k: v for k, v in schema.items()}, orient="row")
    answers = pl.concat([distinct, outputs], how="horizontal")
    joined = keyed.join(answers, on=names, how="left", nulls_equal=True, maintain_order="left")
    return joined.select(pl.col("=" + k).alias(k) for k in schema)


def _region_rule(t: Table, vals: dict[str, Any]) -> tuple[Any, ...]:
    found = Found()
    city, county, missing, zone = row_region(_cell_fn(vals, t.cols), t.cols, found, t.sections[vals["_sec"]], t.region,
                                       t.region_city, t.region_county, t.title_city)
    return (city.code if city else None, city.name if city else None, county.code if county else None,
            county.name if county else None, missing, zone, t.keep(found))


def region_columns(data: pl.DataFrame, t: Table) -> pl.DataFrame:
    """city and county (code, name), `_city_missing`, `_zone` (a development zone the region cells or a heading
    name) and `_found` per row."""
    return _per_combination(
        data, _cells_of(data, t, (H.CITY_CODE, H.CITY, H.COUNTY_CODE, H.COUNTY, H.LOCATION)), partial(_region_rule, t),
        {"city_code": pl.String, "city_name": pl.String, "county_code": pl.String, "county_name": pl.String,
         "_city_missing": pl.Boolean, "_zone": pl.String, "_found": pl.Int64})


def industry_columns(data: pl.DataFrame, t: Table) -> pl.DataFrame:
    """industry_code and industry_name per row."""
    return _per_combination(data, _cells_of(data, t, (H.INDUSTRY_CODE, H.INDUSTRY)),
                            lambda vals: row_industry(_cell_fn(vals, t.cols)),
                            {"industry_code": pl.String, "industry_name": pl.String})


def _tier_rule(t: Table, vals: dict[str, Any]) -> tuple[Any, ...]:
    found = Found()
    tier = row_tier(_cell_fn(vals, t.cols), found, t.sections[vals["_sec"]], t.tier_arg, t.title_tier,
                    t.title_ambiguous)
    return tier, t.keep(found)


def tier_columns(data: pl.DataFrame, t: Table) -> pl.DataFrame:
    """tier and `_found` per row."""
    return _per_combination(data, _cells_of(data, t, ("tier", "category")), partial(_tier_rule, t),
                            {"tier": pl.String, "_found": pl.Int64})


def _stage_inputs(data: pl.DataFrame, fields: pl.DataFrame, rec_inputs: list[str], t: Table) -> pl.DataFrame:
    """data with the parsed fields the stage rule reads (`rec:…`), reduced to what it needs when dates_as_parsed."""
    # Without a column whose text it turns into dates (开复工时间, 竣工时间, 开竣工情况), the rule leaves
    # the dates as parsed and reads only the planned start's year (未开工 → 新开工/前期);
    # whether an actual start is stated; and, when a 未开复工原因 is given and no actual start, the
    # planned start itself (逾期未开工). Keyed on just that, it runs once per stage wording and year
    # instead of once per distinct date, and its dates are not taken back.
    stage_in = data.with_columns(*(fields[k].alias("rec:" + k) for k in rec_inputs))
    has_reason = "not_started_reason" in fields.columns
    if has_reason:
        stage_in = stage_in.with_columns(fields["not_started_reason"].is_not_null().alias("rec:reason"))
    if not t.dates_as_parsed:
        return stage_in
    planned, actual = pl.col("rec:planned_start_date"), pl.col("rec:actual_start_date")
    reduced: list[pl.Expr] = [pl.lit(None, dtype=pl.Date).alias("rec:" + k)
                              for k in ("completion_date", "planned_completion_date") if k in rec_inputs]
    if "actual_start_date" in rec_inputs:
        reduced.append(pl.when(actual.is_not_null()).then(pl.lit(date(1900, 1, 1))).alias("rec:actual_start_date"))
    if "planned_start_date" in rec_inputs:
        exact = pl.col("rec:reason") if has_reason else pl.lit(False)
        if "actual_start_date" in rec_inputs:
            exact = exact & actual.is_null()
        reduced.append(pl.when(exact).then(planned).otherwise(pl.date(planned.dt.year(), 1, 1))
                       .alias("rec:planned_start_date"))
    return stage_in.with_columns(reduced)


def _stage_rule(t: Table, rec_inputs: list[str], vals: dict[str, Any]) -> tuple[Any, ...]:
    rec = {k: vals["rec:" + k] for k in rec_inputs}
    rec["not_started_reason"] = "given" if vals.get("rec:reason") else None
    rec["_progress"] = vals.get("prog:stated")
    found = Found()
    row_stage_dates(rec, _cell_fn(vals, t.cols), found, t.report_date, t.year, t.sections[vals["_sec"]],
                    t.default_stage)
    if "_sc" in rec:
        t.text_readings[(H.START_COMPLETION, vals[H.START_COMPLETION])] = rec["_sc"]
    return (*(rec.get(k) for k in _STAGE_OUT_FIELDS), t.keep(found))


def stage_columns(data: pl.DataFrame, fields: pl.DataFrame, t: Table, progress: pl.DataFrame | None = None) -> pl.DataFrame:
    """stage, build_type, the four dates and `_found` per row: the stage rule also reads fields parsed
    above (the dates it may complete, 未开复工原因 given or not)."""
    rec_inputs = [k for k in _STAGE_REC_FIELDS if k in fields.columns]
    stage_in = _stage_inputs(data, fields, rec_inputs, t)
    if progress is not None:
        stage_in = stage_in.with_columns(progress["prog:stated"])
    stage_keys = _cells_of(data, t, ("stage", H.STAGE_OR_TYPE, "build_type", H.START_TIME, H.COMPLETION_TIME,
                                     H.START_COMPLETION, "planned_start_date"))
    if t.dates_as_parsed:  # the planned-start cell is read for its column's name only
        stage_keys = [pl.when(e.is_not_null()).then(pl.lit("")).alias("planned_start_date")
                      if e.meta.output_name() == "planned_start_date" else e for e in stage_keys]
    stage_keys += [pl.col(c) for c in stage_in.columns if c.startswith(("rec:", "prog:"))]
    return _per_combination(stage_in, stage_keys, partial(_stage_rule, t, rec_inputs),
                            {**{k: FIELD[k].dtype for k in _STAGE_OUT_FIELDS}, "_found": pl.Int64})


def reason_checked_fields(data: pl.DataFrame, fields: pl.DataFrame, t: Table) -> pl.DataFrame:
    """An actual (re)start date on or before D with a 未开复工原因 beside it: the contract reads a reason
    given as not started (逾期未开工, flagged), in the template's columns as in the weekly's one."""
    d = t.report_date
    if d is None or "not_started_reason" not in fields.columns or "actual_start_date" not in fields.columns:
        return fields
    actual_s, reason_s = fields["actual_start_date"], fields["not_started_reason"]
    clash = (actual_s.is_not_null() & (actual_s <= d) & reason_s.is_not_null()
             & (reason_s.cast(pl.String).str.strip_chars() != "")).fill_null(False)
    if not clash.any():
        return fields
    at = clash.arg_true()
    actual_col = t.cols["actual_start_date"].name if "actual_start_date" in t.cols else None
    for i, v in zip(data["_i"].gather(at), actual_s.gather(at), strict=True):
        found = Found()
        found.warn("填写了实际开（复）工时间，也填写了未开复工原因：按口径计为未开工（逾期未开工），请核对",
                   actual_col, str(v))
        t.events.append((i, 5, 1, found))
    no_date = pl.Series([None] * data.height, dtype=pl.Date)
    planned_s = fields["planned_start_date"] if "planned_start_date" in fields.columns else no_date
    # the date becomes the planned start where none is given; the actual start is cleared
    return fields.with_columns(planned_s.zip_with(~(clash & planned_s.is_null()), actual_s).alias("planned_start_date"),
                               actual_s.zip_with(~clash, no_date).alias("actual_start_date"))


def _text_rows(data: pl.DataFrame, t: Table) -> None:
    """The rows (1-based) of each 开竣工情况 or progress text read (t.text_rows), for the preview to show each reading."""
    for key in dict.fromkeys(k for k, _ in t.text_readings):
        texts = [v for k, v in t.text_readings if k == key]
        cells = data.select(pl.col(f"c{t.cols[key].idx}").alias("v"), (pl.col("_i") + 1).alias("r"))
        for v, rows in cells.filter(pl.col("v").is_in(texts)).group_by("v", maintain_order=True).agg("r").iter_rows():
            t.text_rows[(key, v)] = rows


def staged_frame(data: pl.DataFrame, fields: pl.DataFrame) -> pl.DataFrame:
    """The staged frame (STAGED_SCHEMA): a field no column gave is null."""
    return pl.DataFrame([
        (data["_i"] + 1).alias("source_row"),
        *(fields[k].alias(k) if k in fields.columns else pl.Series(k, [None] * data.height, dtype=dt)
          for k, dt in STAGED_SCHEMA.items() if k != "source_row"),
    ])


# ---- warnings and missing values ----


def _plausibility_findings(data: pl.DataFrame, frame: pl.DataFrame, t: Table) -> None:
    """Plausibility warnings: the rows that can have one, through the per-row rule."""
    money = {k: pl.col(k) for k in ("total_investment", "completed_before_year", "annual_plan", "ytd_completed")}
    total, cby, plan, ytd = money.values()
    stated = cby.is_not_null() | ytd.is_not_null()
    done = cby.fill_null(0) + ytd.fill_null(0)
    suspect = frame.select(
        (ytd.is_not_null() & plan.is_not_null() & (plan != 0) & (ytd > plan * 1.5))
        | (total.is_not_null() & stated & (done > total + 1e-6))
        | ((pl.col("stage") == "竣工") & total.is_not_null() & (total != 0) & stated & (done < total * 0.5))
    )[:, 0].fill_null(False).arg_true()
    for i, rec in zip(data["_i"].gather(suspect), frame.select(*money, "stage")[suspect].iter_rows(named=True),
                      strict=True):
        found = Found()
        row_warnings(rec, t.cols, found)
        if found.items:
            t.events.append((i, 6, 0, found))


def _missing_tier_and_city(data: pl.DataFrame, fields: pl.DataFrame, frame: pl.DataFrame, t: Table,
                           ctx: Ctx) -> None:
    """Rows without a tier or a city: one error for the file when no row has one, else one a row."""
    cols, rows_i = t.cols, data["_i"]
    no_tier = frame["tier"].is_null()
    if "tier" in cols:  # a tier cell that was filled in but not understood has had its own error
        raw_tier = data[f"c{cols['tier'].idx}"]
        no_tier = no_tier & ((raw_tier == "") | raw_tier.is_in(vp.matching([raw_tier], vp.maybe_empty, is_empty)))
    missing_tier_rows = (rows_i.filter(no_tier) + 1).to_list()
    missing_city_rows = (rows_i.filter(fields["_city_missing"]) + 1).to_list()
    if missing_tier_rows:
        if len(missing_tier_rows) == frame.height:
            msg = ("缺少层级：标题只写“省级双百”，未区分新兴/技改，请在上传时选择层级，或增加「层级」列" if t.title_ambiguous
                   else "缺少层级：请在上传时选择层级（省级双百·新兴/省级双百·技改/市级千项/其他），或在文件中增加「层级」列")
            ctx.err(msg)
        else:
            for r in missing_tier_rows:
                ctx.err("缺少层级", r, cols["tier"].name if "tier" in cols else None, "")
    if missing_city_rows:
        if len(missing_city_rows) == frame.height and not any(k in cols for k in (H.CITY, H.COUNTY, H.LOCATION)):
            ctx.err("缺少地区：文件中没有地市/县区列，请在上传时选择地区")
        else:
            for r in missing_city_rows:
                ctx.err("缺少地市", r, None, "")
