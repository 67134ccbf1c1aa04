"""A report table's rows → the staged frame, column-wise, with the per-row rules run once per combination."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
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
    CellFn,
    read_section,
    row_industry,
    row_region,
    row_stage_dates,
    row_tier,
    row_warnings,
)
from pipelines.ingest.sheets import Sheet
from pipelines.vocab.reference import Region, region_by_code
from pipelines.vocab.schema import FIELD, STAGED_SCHEMA


def report_rows(sheet: Sheet, hdr: Header, cols: dict[str, Col], ctx: Ctx, d: date | None, year: int | None,
                 tier_arg: str | None, title_tier: str | None, title_ambiguous: bool, region: Region | None,
                 default_stage: str | None) -> pl.DataFrame:
    """The projects of a report table as a staged frame; every finding goes to ctx in reading order.

    Column-wise, with the row-by-row rules kept as the slow path:
    - rows are classified (blank, note, subtotal, section, project) by vectorised tests that send
      only candidates to the exact per-row checks, then one pass over the unusual rows keeps the
      reading state (notes, sections);
    - fields are parsed column by column (vparse);
    - the per-row rules (region, industry, tier, stage and dates, plausibility warnings) run once
      per distinct combination of the cells they read, and their answers are joined back;
    - findings, tagged with row and step, are put in the order a row-by-row reading gives them.
    """
    start = hdr.top + hdr.rows
    body = _body(sheet, start)
    name_col = cols["project_name"]
    key_cols = [c.idx for k, c in cols.items() if k in ("project_name", "company", H.CITY, "project_code")]
    region_city = region if region is not None and region.level == "city" else (
        region_by_code().get(region.parent_code or "") if region is not None else None)
    region_county = region if region is not None and region.level == "county" else None
    events: list[tuple[int, int, int, Found]] = []  # (row index, step, column order, findings)

    # ---- which rows are projects ----
    cell_names = [c for c in body.columns if c.startswith("c")]
    filled = [pl.col(c) != "" for c in cell_names]
    others = [pl.col(f"c{c.idx}") != "" for k, c in cols.items() if k != "project_name"]
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
    flags = flags.with_columns(
        note=pl.col("first").is_in(notes),
        subtotal=pl.any_horizontal(pl.col("first").is_in(subtotals),
                                   *(body[f"c{j}"].is_in(subtotals) for j in sorted({*key_cols, 0}))),
        no_name=(pl.col("name") == "") | pl.col("name").is_in(empty_names),
        group=pl.col("name").is_in(vp.matching([flags["name"]], lambda v: vp.dense(v).str.contains("个"),
                                               lambda v: is_group(clean(v)))),
        pos=pl.int_range(pl.len(), dtype=pl.Int64),
    )
    unusual = flags.filter(
        (pl.col("nfill") <= 2) | (pl.col("_i") == start) | pl.col("note") | pl.col("subtotal")
        | ((pl.col("name") == "") & ~pl.col("other")) | pl.col("no_name") | pl.col("group")
    )
    not_projects: list[int] = []
    section: dict[str, Any] = {}
    sections: list[dict[str, Any]] = [{}]
    section_from: list[tuple[int, int]] = []  # (position of a section row, id of the section it opens)
    in_notes = False
    for pos, i, nfill, first, name, other, note, sub, no_name, group in unusual.select(
            "pos", "_i", "nfill", "first", "name", "other", "note", "subtotal", "no_name", "group").iter_rows():
        if nfill == 0:
            not_projects.append(pos)
            continue
        # A row of column numbers under the header (1, 2, 3 …).
        if i == start and nfill >= 3 and all(re.fullmatch(r"\d+", c) for c in body.row(pos)[1:] if isinstance(c, str) and c):
            not_projects.append(pos)
            continue
        if note or (in_notes and nfill <= 2):
            in_notes = True
            not_projects.append(pos)
            continue
        if sub:
            not_projects.append(pos)
            continue
        # A heading with its count in the name column (太原市（2个）, 新兴产业项目（3个）), or a 序号 like
        # （一） beside a 地市 with no name: a section row, its sums never a project.
        section_no = not name and bool(SECTION_PREFIX.fullmatch(first.strip())) and nfill <= 3
        if group or section_no:
            read_section(GROUP.sub("", name) if group else " ".join(
                c for c in body.row(pos)[1:] if isinstance(c, str) and c), section)
            sections.append(dict(section))
            section_from.append((pos, len(sections) - 1))
            not_projects.append(pos)
            continue
        if nfill == 1 or (not name and not other):
            # A section row (一、新兴产业项目 / 太原市) or a stray note: sets context, never a project.
            read_section(first, section)
            sections.append(dict(section))
            section_from.append((pos, len(sections) - 1))
            not_projects.append(pos)
            continue
        if no_name:
            found = Found()
            found.err("缺少项目名称", name_col.name, "")
            events.append((i, 0, 0, found))
            not_projects.append(pos)
        # Otherwise a project row with few cells filled.
    section_id = pl.Series("_sec", [None] * body.height, dtype=pl.Int64)
    if section_from:
        section_id = section_id.scatter([p for p, _ in section_from], [s for _, s in section_from])
    keep = pl.Series([True] * body.height, dtype=pl.Boolean).scatter(not_projects, False) if not_projects else None
    data = body.with_columns(section_id.forward_fill().fill_null(0))
    if keep is not None:
        data = data.filter(keep)
    rows_i = data["_i"]
    if "_len" in data.columns:  # a text file's row longer than its header: its cells have shifted
        width = max(j for j, n in enumerate(hdr.names) if n) + 1
        beyond = [f"c{j}" for j in range(width, sheet.width)]
        if beyond:
            long_rows = data.filter(pl.any_horizontal([pl.col(c) != "" for c in beyond]))
            for i, n, *extra in long_rows.select("_i", "_len", *beyond).iter_rows():
                found = Found()
                found.err(f"该行有 {n} 个单元格，比表头多 {n - width} 个，各列已错位：数字中的逗号须加引号"
                          "（如 \"12,500\"）或去掉，请核对该行", None, "，".join(v for v in extra if v))
                events.append((i, 0, -1, found))

    # ---- fields by kind ----
    kinds = ("text", "money", "date", "bool")
    plain = [(order, key, col) for order, (key, col) in enumerate(cols.items())
             if key in FIELD and key != "project_name" and FIELD[key].kind in kinds]
    values, errors = vp.parse(data, [vp.Column(key, f"c{col.idx}", FIELD[key].kind, col.factor) for _, key, col in plain])
    fields: dict[str, pl.Series] = {"project_name": data[f"c{name_col.idx}"], **{k: values[k] for k in values.columns}}
    for order, key, col in plain:
        if key not in errors:
            continue
        at = errors[key].is_not_null().arg_true()
        raw = data[f"c{col.idx}"]
        for i, msg, v in zip(rows_i.gather(at), errors[key].gather(at), raw.gather(at), strict=True):
            found = Found()
            found.err(msg, col.name, v)
            events.append((i, 1, order, found))

    # ---- the per-row rules, once per distinct combination of what they read ----
    found_lists: list[Found] = []

    def keep_found(found: Found) -> int | None:
        if not found.items:
            return None
        found_lists.append(found)
        return len(found_lists) - 1

    def cells_of(keys: tuple[str, ...]) -> list[pl.Expr]:
        """The cells a rule reads, None where the row is too short to have the column."""
        out = []
        for k in keys:
            if k in cols:
                e = pl.col(f"c{cols[k].idx}")
                if "_len" in data.columns:
                    e = pl.when(pl.col("_len") > cols[k].idx).then(e)
                out.append(e.alias(k))
        return out

    def cell_fn(vals: dict[str, Any]) -> CellFn:
        def cell(key: str) -> tuple[str, Col] | None:
            v = vals.get(key)
            return None if v is None else (v, cols[key])
        return cell

    def region_rule(vals: dict[str, Any]) -> tuple[Any, ...]:
        found = Found()
        city, county, missing = row_region(cell_fn(vals), cols, found, sections[vals["_sec"]], region, region_city,
                                            region_county)
        return (city.code if city else None, city.name if city else None, county.code if county else None,
                county.name if county else None, missing, keep_found(found))

    region_out = _per_combination(
        data, cells_of((H.CITY_CODE, H.CITY, H.COUNTY_CODE, H.COUNTY, H.LOCATION)), region_rule,
        {"city_code": pl.String, "city_name": pl.String, "county_code": pl.String, "county_name": pl.String,
         "_city_missing": pl.Boolean, "_found": pl.Int64})

    def industry_rule(vals: dict[str, Any]) -> tuple[Any, ...]:
        return row_industry(cell_fn(vals))

    industry_out = _per_combination(data, cells_of((H.INDUSTRY_CODE, H.INDUSTRY)), industry_rule,
                                    {"industry_code": pl.String, "industry_name": pl.String})

    def tier_rule(vals: dict[str, Any]) -> tuple[Any, ...]:
        found = Found()
        tier = row_tier(cell_fn(vals), found, sections[vals["_sec"]], tier_arg, title_tier, title_ambiguous)
        return tier, keep_found(found)

    tier_out = _per_combination(data, cells_of(("tier", "category")), tier_rule, {"tier": pl.String, "_found": pl.Int64})

    # The stage rule also reads fields parsed above (the dates it may complete, 未开复工原因 given or not).
    rec_inputs = [k for k in _STAGE_REC_FIELDS if k in fields]
    # Without a column whose text it turns into dates (开复工时间, 竣工时间, 开竣工情况), the rule leaves
    # the dates as parsed and reads only the planned start's year (未开工 → 新开工/前期);
    # whether an actual start is stated; and, when a 未开复工原因 is given and no actual start, the
    # planned start itself (逾期未开工). Keyed on just that, it runs once per stage wording and year
    # instead of once per distinct date, and its dates are not taken back.
    dates_as_parsed = not any(k in cols for k in (H.START_TIME, H.COMPLETION_TIME, H.START_COMPLETION))
    stage_in = data.with_columns(*(fields[k].alias("rec:" + k) for k in rec_inputs))
    if "not_started_reason" in fields:
        stage_in = stage_in.with_columns(fields["not_started_reason"].is_not_null().alias("rec:reason"))
    if dates_as_parsed:
        planned, actual = pl.col("rec:planned_start_date"), pl.col("rec:actual_start_date")
        reduced: list[pl.Expr] = [pl.lit(None, dtype=pl.Date).alias("rec:" + k)
                                  for k in ("completion_date", "planned_completion_date") if k in rec_inputs]
        if "actual_start_date" in rec_inputs:
            reduced.append(pl.when(actual.is_not_null()).then(pl.lit(date(1900, 1, 1))).alias("rec:actual_start_date"))
        if "planned_start_date" in rec_inputs:
            exact = pl.col("rec:reason") if "not_started_reason" in fields else pl.lit(False)
            if "actual_start_date" in rec_inputs:
                exact = exact & actual.is_null()
            reduced.append(pl.when(exact).then(planned).otherwise(pl.date(planned.dt.year(), 1, 1))
                           .alias("rec:planned_start_date"))
        stage_in = stage_in.with_columns(reduced)

    def stage_rule(vals: dict[str, Any]) -> tuple[Any, ...]:
        rec = {k: vals["rec:" + k] for k in rec_inputs}
        rec["not_started_reason"] = "given" if vals.get("rec:reason") else None
        found = Found()
        row_stage_dates(rec, cell_fn(vals), found, d, year, sections[vals["_sec"]], default_stage)
        return (*(rec.get(k) for k in _STAGE_OUT_FIELDS), keep_found(found))

    stage_keys = cells_of(("stage", H.STAGE_OR_TYPE, "build_type", H.START_TIME, H.COMPLETION_TIME,
                           H.START_COMPLETION, "planned_start_date"))
    if dates_as_parsed:  # the planned-start cell is read for its column's name only
        stage_keys = [pl.when(e.is_not_null()).then(pl.lit("")).alias("planned_start_date")
                      if e.meta.output_name() == "planned_start_date" else e for e in stage_keys]
    stage_keys += [pl.col(c) for c in stage_in.columns if c.startswith("rec:")]
    stage_out = _per_combination(stage_in, stage_keys, stage_rule,
                                 {**{k: FIELD[k].dtype for k in _STAGE_OUT_FIELDS}, "_found": pl.Int64})
    for k in _STAGE_OUT_FIELDS:
        if not dates_as_parsed or k in ("stage", "build_type"):
            fields[k] = stage_out[k]
    for k in ("city_code", "city_name", "county_code", "county_name"):
        fields[k] = region_out[k]
    for k in ("industry_code", "industry_name"):
        fields[k] = industry_out[k]
    fields["tier"] = tier_out["tier"]
    for step, out in ((2, region_out), (4, tier_out), (5, stage_out)):
        at = out["_found"].is_not_null().arg_true()
        for i, f in zip(rows_i.gather(at), out["_found"].gather(at), strict=True):
            events.append((i, step, 0, found_lists[f]))

    # An actual (re)start date on or before D with a 未开复工原因 beside it: the contract reads a reason
    # given as not started (逾期未开工, flagged), in the template's columns as in the weekly's one.
    if d is not None and "not_started_reason" in fields and "actual_start_date" in fields:
        actual_s, reason_s = fields["actual_start_date"], fields["not_started_reason"]
        clash = (actual_s.is_not_null() & (actual_s <= d) & reason_s.is_not_null()
                 & (reason_s.cast(pl.String).str.strip_chars() != "")).fill_null(False)
        if clash.any():
            at = clash.arg_true()
            actual_col = cols["actual_start_date"].name if "actual_start_date" in cols else None
            for i, v in zip(rows_i.gather(at), actual_s.gather(at), strict=True):
                found = Found()
                found.warn("填写了实际开（复）工时间，也填写了未开复工原因：按口径计为未开工（逾期未开工），请核对",
                           actual_col, str(v))
                events.append((i, 5, 1, found))
            no_date = pl.Series([None] * data.height, dtype=pl.Date)
            planned_s = fields.get("planned_start_date", no_date)
            # the date becomes the planned start where none is given; the actual start is cleared
            fields["planned_start_date"] = planned_s.zip_with(~(clash & planned_s.is_null()), actual_s)
            fields["actual_start_date"] = actual_s.zip_with(~clash, no_date)

    frame = pl.DataFrame([
        (rows_i + 1).alias("source_row"),
        *(fields[k].alias(k) if k in fields else pl.Series(k, [None] * data.height, dtype=dt)
          for k, dt in STAGED_SCHEMA.items() if k != "source_row"),
    ])

    # ---- plausibility warnings: the rows that can have one, through the per-row rule ----
    money = {k: pl.col(k) for k in ("total_investment", "completed_before_year", "annual_plan", "ytd_completed")}
    total, cby, plan, ytd = money.values()
    stated = cby.is_not_null() | ytd.is_not_null()
    done = cby.fill_null(0) + ytd.fill_null(0)
    suspect = frame.select(
        (ytd.is_not_null() & plan.is_not_null() & (plan != 0) & (ytd > plan * 1.5))
        | (total.is_not_null() & stated & (done > total + 1e-6))
        | ((pl.col("stage") == "竣工") & total.is_not_null() & (total != 0) & stated & (done < total * 0.5))
    )[:, 0].fill_null(False).arg_true()
    for i, rec in zip(rows_i.gather(suspect), frame.select(*money, "stage")[suspect].iter_rows(named=True), strict=True):
        found = Found()
        row_warnings(rec, cols, found)
        if found.items:
            events.append((i, 6, 0, found))

    events.sort(key=lambda e: (e[0], e[1], e[2]))
    for i, _step, _order, found in events:
        ctx.add(found, i + 1)

    no_tier = frame["tier"].is_null()
    if "tier" in cols:  # a tier cell that was filled in but not understood has had its own error
        raw_tier = data[f"c{cols['tier'].idx}"]
        no_tier = no_tier & ((raw_tier == "") | raw_tier.is_in(vp.matching([raw_tier], vp.maybe_empty, is_empty)))
    missing_tier_rows = (rows_i.filter(no_tier) + 1).to_list()
    missing_city_rows = (rows_i.filter(region_out["_city_missing"]) + 1).to_list()
    if missing_tier_rows:
        if len(missing_tier_rows) == frame.height:
            msg = ("缺少层级：标题只写“省级双百”，未区分新兴/技改，请在上传时选择层级，或增加「层级」列" if title_ambiguous
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
    return frame


# Fields the stage rule reads as parsed, and the ones it decides.
_STAGE_REC_FIELDS = ("build_type", "planned_start_date", "actual_start_date", "completion_date", "planned_completion_date")
_STAGE_OUT_FIELDS = ("stage", *_STAGE_REC_FIELDS)


def _body(sheet: Sheet, start: int) -> pl.DataFrame:
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
