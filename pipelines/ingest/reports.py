"""A report table read into a ReadResult: its title and columns, then its rows; project cards and several
sheets read as tables; the same project twice in one file."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.ingest import headers as H
from pipelines.ingest import vparse as vp
from pipelines.ingest.detect import (
    TEMPLATE_HINT,
    Card,
    Col,
    Header,
    find_header,
    frequency_from_date,
    frequency_words,
    infer_year,
    layout_of,
    report_period_in,
    resolve_year_key,
    tier_from_title,
    year_from_text,
)
from pipelines.ingest.result import Ctx, Reading, ReadResult, Refuse
from pipelines.ingest.rows import Table, report_rows
from pipelines.ingest.sheets import HEADER_SCAN_ROWS, Grid, Sheet, cell_text
from pipelines.ingest.values import MAYBE_STAGE, STAGEISH_HEADER, column_readings, confirm_columns
from pipelines.vocab.findings import Finding
from pipelines.vocab.reference import Region, city_in_text, county_candidates
from pipelines.vocab.schema import FIELD, FREQUENCIES, REPORT_FIELDS, STAGED_SCHEMA


def read_cards(cards: list[tuple[Sheet, Card]], ctx: Ctx, res: ReadResult, report_date: date | None,
                tier: str | None, region: Region | None, frequency: str | None) -> None:
    """Project cards (one a sheet) read as a table of one row per card, through the same reader as
    every table: a header of their labels, a row of their values. A finding is then put back on
    the sheet and row where the card has that field."""
    labels: list[str] = []
    for _, card in cards:
        for label, _, _ in card.fields:
            if label not in labels:
                labels.append(label)
    title_rows: list[list[Any]] = [[cell_text(v) or None for v in row] for row in cards[0][1].title_rows]
    value_rows: list[list[Any]] = []
    for _, card in cards:
        by_label: dict[str, Any] = {}
        for label, value, _ in card.fields:
            if value is not None and TEMPLATE_HINT.match(cell_text(value)):
                value = None  # the blank form's hint, left in: not filled in
            by_label.setdefault(label, value)
        value_rows.append([by_label.get(label) for label in labels])
    width = max(len(labels), *(len(r) for r in title_rows)) if title_rows else len(labels)
    rows: list[list[Any]] = [*title_rows, list(labels), *value_rows]
    grid: Grid = [r + [None] * (width - len(r)) for r in rows]
    table = Sheet(cards[0][0].name, rows=grid)
    hdr = find_header(table.grid(0, HEADER_SCAN_ROWS + 1))
    if hdr is None or hdr.top != len(title_rows):
        raise Refuse("项目信息卡的栏目无法识别：请使用每行一个项目的台账表格")
    sub = Ctx(ctx.file)
    read_reports(table, hdr, sub, res, report_date, tier, region, frequency)
    first_value_row = len(title_rows) + 2  # 1-based row of the first card's values in the table
    many = len(cards) > 1

    def place(f: Finding) -> Finding:
        k = (f.row or 0) - first_value_row
        if not 0 <= k < len(cards):
            return f
        sheet, card = cards[k]
        rows = {label: r for label, _, r in card.fields}
        return dataclasses.replace(f, file=f"{ctx.file}（工作表「{sheet.name}」）" if many else f.file,
                                   row=rows.get(f.column or "", card.name_row))

    ctx.errors += [place(f) for f in sub.errors]
    ctx.warnings += [place(f) for f in sub.warnings]
    if res.frame.height:
        name_rows = [card.name_row or 0 for _, card in cards]
        res.frame = res.frame.with_columns(
            pl.col("source_row").replace_strict(
                list(range(first_value_row, first_value_row + len(cards))), name_rows, default=pl.col("source_row"),
                return_dtype=res.frame.schema["source_row"]))


def read_tables(tables: list[tuple[Header, Sheet]], ctx: Ctx, res: ReadResult, report_date: date | None,
                 tier: str | None, region: Region | None, frequency: str | None) -> None:
    """Several sheets with a project table: each read on its own (its findings name the sheet), then
    one submission when they agree on report date, layout, rhythm and columns; else refused."""
    parts: list[tuple[str, ReadResult]] = []
    for hdr, sheet in tables:
        sctx = Ctx(f"{ctx.file}（工作表「{sheet.name}」）")
        part = ReadResult(res.file_name, "reports", "unknown", report_date, res.year, res.frequency,
                          pl.DataFrame(schema=STAGED_SCHEMA))
        try:
            read_reports(sheet, hdr, sctx, part, report_date, tier, region, frequency)
        except Refuse as exc:
            sctx.err(str(exc))
        ctx.errors += sctx.errors
        ctx.warnings += sctx.warnings
        parts.append((sheet.name, part))
        for k, n in part.reading.rows.items():
            res.reading.rows[k] = res.reading.rows.get(k, 0) + n
        res.reading.inferred += [s for s in part.reading.inferred if s not in res.reading.inferred]
    first_name, first = parts[0]
    for name, part in parts[1:]:
        for what, a, b in (("报告期截止日", first.report_date, part.report_date), ("报表格式", first.layout, part.layout),
                           ("报送频率", first.frequency, part.frequency),
                           ("列", sorted(first.present_fields), sorted(part.present_fields))):
            if a != b:
                ctx.err(f"工作表「{first_name}」与「{name}」的{what}不同，无法作为一次报送导入："
                        "请把各工作表分别另存为文件上传，或统一两表的格式", None, None, name)
                break
    res.kind, res.layout, res.report_date, res.year, res.frequency = (
        first.kind, first.layout, first.report_date, first.year, first.frequency)
    res.present_fields = list(first.present_fields)
    res.reading = first.reading
    for _, part in parts[1:]:
        for kind, n in part.reading.rows.items():
            res.reading.rows[kind] = res.reading.rows.get(kind, 0) + n
        res.reading.totals_checked += part.reading.totals_checked
        res.reading.totals_off += part.reading.totals_off
    if len(parts) > 1:  # every sheet's readings taken from values, named by sheet (the sheets agree on columns)
        res.reading.inferred = [f"工作表「{name}」：{s}" for name, p in parts for s in p.reading.inferred]
    if ctx.errors:
        return
    res.frame = pl.concat([p.frame for _, p in parts], how="vertical_relaxed")
    _identity_checks(res.frame, ctx, [name for name, p in parts for _ in range(p.frame.height)])  # on two sheets


def read_reports(sheet: Sheet, hdr: Header, ctx: Ctx, res: ReadResult, report_date: date | None,
                 tier_arg: str | None, region: Region | None, frequency: str | None) -> None:
    """A project table into res: report date, year and rhythm from the upload or the title, the columns
    the header names, then its rows."""
    title_rows = sheet.grid(0, hdr.top)
    title_lines = [" ".join(cell_text(v) for v in r if v is not None and cell_text(v)) for r in title_rows]
    title = " ".join(line for line in title_lines if line)
    title_and_name = title + " " + Path(ctx.file).stem
    d, title_freq = _report_period(title_lines, ctx, report_date, res.reading)
    raw_keys = [H.header_key(n) if n else None for n in hdr.names]
    year = d.year if d else (year_from_text(title) or infer_year([k for k in raw_keys if k]))
    freq, res.reading.frequency_source = _frequency(frequency, title, Path(ctx.file).stem, title_freq, d)
    # Units: a 亿元 in the title/unit rows applies to every money column without its own unit.
    title_factor = H.unit_factor_of(title) or 1.0
    skipped: dict[int, str] = {}
    cols = _columns(hdr, raw_keys, title_factor, year, ctx,
                    f"（{'上传时填写' if report_date else '标题中'}为 {d}）", skipped)
    if "project_name" not in cols:
        raise Refuse("未找到「项目名称」列：无法识别项目，请检查表头")
    cols, by_values = confirm_columns(sheet, hdr, cols, ctx, res.reading, d, year)
    res.reading.columns = column_readings(hdr, cols, skipped, by_values)
    layout = layout_of(cols, hdr, title)
    res.layout, res.year, res.frequency = layout, year, freq
    res.report_date = d
    if d is None:
        ctx.err("缺少报告期截止日：请在上传时填写，或在标题中注明（如“截至2020年3月27日”）")

    # Tier sources.
    title_tier, title_ambiguous = tier_from_title(title_and_name)
    default_stage = "储备" if layout == "tongling_planning" or (
        re.search(r"谋划|储备库|储备项目", title) and "stage" not in cols) else None

    title_city = city_in_text(title) or city_in_text(Path(ctx.file).stem)
    table = Table(sheet, hdr, cols, d, year, tier_arg, title_tier, title_ambiguous, region, default_stage,
                  title_city=title_city)
    res.frame = report_rows(table, ctx)
    res.reading.rows = {"项目": res.frame.height, **table.skipped}
    res.reading.totals_checked, res.reading.totals_off = table.totals_checked, table.totals_off
    _text_readings(table, res)
    _region_reading(table, res)
    if res.frame.height == 0 and not ctx.errors:
        ctx.err("文件中没有项目数据行")
    _identity_checks(res.frame, ctx)
    res.present_fields = _present_fields(cols, region, default_stage, res.frame)


_MAX_TEXT_READINGS = 200


def _text_readings(t: Table, res: ReadResult) -> None:
    """Each 开竣工情况 or progress text beside what it was read as (its rows), for the preview: a reading
    taken from values."""
    items = sorted(((rows, key, text) for (key, text), rows in t.text_rows.items()), key=lambda x: x[0][0])
    for rows, key, text in items[:_MAX_TEXT_READINGS]:
        at = "、".join(str(r) for r in rows[:5]) + ("…" if len(rows) > 5 else "")
        res.reading.inferred.append(f"「{t.cols[key].name}」第 {at} 行「{text}」读作：{t.text_readings[(key, text)]}")
    if len(items) > _MAX_TEXT_READINGS:
        res.reading.inferred.append(f"另有 {len(items) - _MAX_TEXT_READINGS} 条文字的读法未列出")
def _region_reading(t: Table, res: ReadResult) -> None:
    """The region headings counted, and the title's city named where it decided a county name several cities have."""
    if t.region_headings:  # of the 分组标题 rows, those that named a region
        res.reading.rows["区县标题"] = t.region_headings
        others = res.reading.rows.pop("分组标题", 0) - t.region_headings
        if others > 0:
            res.reading.rows["分组标题"] = others
    if t.title_city is None or t.region_city is not None or H.CITY in t.cols or not res.frame.height:
        return
    names = [n for n in res.frame["county_name"].drop_nulls().unique().sort().to_list() if len(county_candidates(n)) > 1]
    if names:
        res.reading.inferred.append(f"同名县区（{'、'.join(names)}）按标题中的地市「{t.title_city.name}」识别")


def _report_period(title_lines: list[str], ctx: Ctx, report_date: date | None,
                   reading: Reading) -> tuple[date | None, str | None]:
    """(report date, the rhythm the title implies): the upload's date, else the title's, else the file name's;
    a period written without its year (截至5月底) takes the title's year, else the file name's. Where it came
    from goes to reading.report_date_source."""
    stem = Path(ctx.file).stem
    title = " ".join(line for line in title_lines if line)
    year_hint = year_from_text(title) or year_from_text(stem)
    title_date, title_freq, words = report_period_in(title, year_hint)
    line = next((x for x in title_lines if words and words in unicodedata.normalize("NFKC", x)), title)
    source = f"标题“{_short(line)}”" if title_date else ""
    if title_date and not year_from_text(words) and not year_from_text(title) and year_hint:
        source += f"，年份取自文件名“{stem}”"
    if title_date is None:
        title_date, title_freq, words = report_period_in(stem, year_hint)
        source = f"文件名“{stem}”" if title_date else ""
    if report_date and title_date and title_date.year != report_date.year:
        ctx.err(f"文件标题中的日期 {title_date} 与上传时填写的报告期 {report_date} 不在同一年度，请核对",
                1, None, title.strip()[:80] or stem)
    reading.report_date_source = "上传时指定" if report_date else source
    return report_date or title_date, title_freq


def _short(text: str, n: int = 60) -> str:
    t = " ".join(text.split())
    return t if len(t) <= n else t[: n - 1] + "…"


def _frequency(given: str | None, title: str, stem: str, title_freq: str | None,
               d: date | None) -> tuple[str, str]:
    """(frequency, why) per the contract: given at upload; else the title's words (周报 / 月报 / 截至X月底 /
    季度 …), else the file name's; else the report date's place in the calendar; else week."""
    if given in FREQUENCIES:
        return given, "上传时指定"
    for where, text in (("标题", title), ("文件名", stem)):
        freq, words = frequency_words(text)
        if freq:
            return freq, f"{where}含“{words}”"
    if title_freq:  # 2020年3月 → month; 2020年一季度 → quarter (the words above say it first)
        return title_freq, "标题中的报告期"
    if d is not None:
        return frequency_from_date(d)
    return "week", "未注明，按周报"


def _columns(hdr: Header, raw_keys: list[tuple[str, int | None] | None], title_factor: float, year: int | None,
             ctx: Ctx, date_note: str, skipped: dict[int, str]) -> dict[str, Col]:
    """{field or reader key: column} of the columns the header names; an unknown, off-year or repeated
    column is left out with a finding (date_note says where the report date came from) and why in
    skipped. An unknown column headed like a stage (…状态, …进展) is kept for its values to decide."""
    cols: dict[str, Col] = {}
    row = hdr.top + hdr.rows
    for j, name in enumerate(hdr.names):
        if not name:
            continue
        hk = raw_keys[j]
        if hk is None and hdr.groups[j]:
            hk = H.header_key((hdr.groups[j] or "") + name)
        norm, unit = H.normalise_header(name)
        if unit is None and hdr.groups[j]:  # 项目进展情况（亿元） over 总投资 / 计划投资 …
            unit = H.normalise_header(hdr.groups[j] or "")[1]
        if hk is None:
            skipped[j] = "未识别的列"
            if H.MONEYISH.search(norm):
                ctx.warn("未识别的投资类列，已忽略（请核对列名，如「2020年计划投资」）", row, name)
            elif any(w in norm for w in STAGEISH_HEADER):
                cols[f"{MAYBE_STAGE}{j}"] = Col(j, name, f"{MAYBE_STAGE}{j}", title_factor)
            else:
                ctx.warn("未识别的列，已忽略", row, name)
            continue
        key, y_of_col = hk
        if key.startswith("_y_"):
            fkey = resolve_year_key(key, y_of_col, year)
            if fkey is None and key == H.Y_YTD and year is not None:
                # This year's completed investment of another year: the file is of another year
                # than the report date says (a copied title, a wrong date at upload).
                ctx.err(f"列名中的年份 {y_of_col} 与报告年度 {year} 不一致：请核对报告期截止日{date_note}或列名",
                        row, name, name)
                continue
            if fkey is None:
                ctx.warn(f"列名中的年份与报告年度 {year or '（未知）'} 不对应，已忽略", row, name)
                skipped[j] = f"列名中的年份与报告年度 {year or '（未知）'} 不对应"
                continue
            key = fkey
        if key == H.SEQ:
            skipped[j] = "序号"
            continue
        if key in cols:
            ctx.warn(f"与「{cols[key].name}」列含义相同，已忽略此列", row, name)
            skipped[j] = f"与「{cols[key].name}」列含义相同"
            continue
        cols[key] = Col(j, name, key, unit if unit is not None else title_factor)
    return cols


def _present_fields(cols: dict[str, Col], region: Region | None, default_stage: str | None,
                    frame: pl.DataFrame) -> list[str]:
    keys = set(cols)
    present = {k for k in keys if k in FIELD}
    if keys & {H.CITY, H.COUNTY, H.LOCATION, H.CITY_CODE, H.COUNTY_CODE} or region is not None:
        present |= {"city_code", "city_name"}
    if keys & {H.COUNTY, H.COUNTY_CODE} or (region is not None and region.level == "county"):
        present |= {"county_code", "county_name"}
    if frame.height and frame["county_code"].null_count() < frame.height:  # a 建设地点 cell or a heading row
        present |= {"county_code", "county_name"}
    if keys & {H.INDUSTRY, H.INDUSTRY_CODE}:
        present |= {"industry_code", "industry_name"}
    if frame.height and frame["tier"].null_count() < frame.height:
        present.add("tier")
    if frame.height and frame["dev_zone"].null_count() < frame.height:  # a zone a 县区 cell or a heading names
        present.add("dev_zone")
    if keys & {H.STAGE_OR_TYPE, "build_type"}:
        present |= {"stage", "build_type"} & {c for c in frame.columns if frame[c].null_count() < frame.height} or (
            {"stage"} if H.STAGE_OR_TYPE in keys else {"build_type"}
        )
    if default_stage:
        present.add("stage")
    if H.START_TIME in keys:
        present |= {"planned_start_date", "actual_start_date"}
    if H.COMPLETION_TIME in keys:
        present |= {"planned_completion_date", "completion_date"}
    if H.START_COMPLETION in keys:
        present |= {"stage", "planned_start_date", "actual_start_date", "planned_completion_date", "completion_date"}
    if keys & {"stage", H.STAGE_OR_TYPE, H.START_COMPLETION, H.START_TIME, "progress_note", "image_progress",
               "not_started_reason", "planned_start_date", "actual_start_date"}:
        present.add("start_stated")  # the row's own word on starting (null: this report is silent)
    return [f.name for f in REPORT_FIELDS if f.name in present]


def _identity_checks(frame: pl.DataFrame, ctx: Ctx, sheets: list[str] | None = None) -> None:
    """The same project twice in one file (项目代码, else city + normalised name) is an error, naming both rows
    (and their sheets, when the rows come from several: sheets holds each row's sheet name)."""
    if frame.height == 0:
        return
    has_code = pl.col("project_code").is_not_null() & (pl.col("project_code") != "")
    keys = frame.select(
        pl.when(has_code).then(pl.lit("code\x00") + vp.clean_series(frame["project_code"]))
        .otherwise(pl.lit("name\x00") + pl.col("city_code").fill_null("") + "|"
                   + vp.clean_series(frame["project_name"].fill_null("")))
    )[:, 0]
    twice = keys.is_duplicated()
    if not twice.any():
        return
    # Only rows whose key comes again can be reported; they are walked in file order.
    seen: dict[str, tuple[str, str | None]] = {}
    where = (pl.Series(sheets).filter(twice).to_list() if sheets is not None else [None] * int(twice.sum()))
    for key, r, sheet in zip(keys.filter(twice), frame.filter(twice).iter_rows(named=True), where, strict=True):
        code = r["project_code"]
        place = f"工作表「{sheet}」第 {r['source_row']} 行" if sheet is not None else f"第 {r['source_row']} 行"
        if key in seen:
            first, first_tier = seen[key]
            ctx.err(f"同一项目在文件中出现两次（{first}与{place}）", r["source_row"],
                    "项目代码" if key.startswith("code") else "项目名称", code or r["project_name"])
            if first_tier and r["tier"] and first_tier != r["tier"]:
                ctx.err(f"同一项目填报了两个层级（{first}为「{first_tier}」，{place}为「{r['tier']}」）",
                        r["source_row"], "层级", r["tier"])
        else:
            seen[key] = (place, r["tier"])
