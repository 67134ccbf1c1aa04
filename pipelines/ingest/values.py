"""A field's column chosen by its header and confirmed by its values (contract § Reading submissions, "Stage
(建设状态) is read from the column whose non-empty values are stage words").

- The stage is the column whose non-empty values all map to stage words, whatever its header (建设状态,
  项目进展, 形象进度 …); a stage-headed column of free text (「主体完工，设备安装中」) is a progress note,
  kept, and the stage comes from the other columns. The preview is told which column, and why.
- A date, money or yes/no column whose values mostly do not fit says so, naming the column (the cells
  that do not fit stay errors, row by row); a date column of 开竣工情况 text (「已于3月开工」) is read as such.
- What each column was read as goes to the result's Reading: by header (表头) or by its values (取值).
- Stages of ingest.rows: a free-text progress column read for what it states (stage, dates, the word on
  starting), and the dates' word on starting (a start after D says not started; an early start is 续建).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl

from pipelines.ingest import headers as H
from pipelines.ingest import vparse as vp
from pipelines.ingest.detect import Col, Header, is_subtotal
from pipelines.ingest.parse import (
    BUILD_TYPES,
    clean,
    is_empty,
    is_stage_word,
    parse_bool,
    parse_date,
    parse_money,
)
from pipelines.ingest.result import ColumnReading, Ctx, Reading
from pipelines.ingest.sheets import Sheet
from pipelines.ingest.stated import parse_start_completion, read_progress, reading_words
from pipelines.vocab.schema import DONE_STAGES, FIELD

if TYPE_CHECKING:
    from pipelines.ingest.rows import Table

SAMPLE_ROWS = 2_000  # the values a column is judged by: its first project rows
MAYBE_STAGE = "_maybe_stage"  # prefix of an unknown column whose header may head a stage (…状态, …进展, …进度)
STAGEISH_HEADER = ("状态", "阶段", "进展", "进度")
BY_HEADER, BY_VALUES = "表头", "取值"

_DATE_KEYS = ("planned_start_date", "actual_start_date", "planned_completion_date", "completion_date",
              H.START_TIME, H.COMPLETION_TIME)
_NOTE_KEYS = ("progress_note", "image_progress")
# Reader keys → the staged field the preview names for the column.
_FIELD_OF = {H.CITY: "city_name", H.COUNTY: "county_name", H.LOCATION: "county_name", H.CITY_CODE: "city_code",
             H.COUNTY_CODE: "county_code", H.INDUSTRY: "industry_name", H.INDUSTRY_CODE: "industry_code",
             H.STAGE_OR_TYPE: "stage", H.START_TIME: "actual_start_date", H.COMPLETION_TIME: "completion_date",
             H.START_COMPLETION: "stage"}


def field_of(key: str) -> str | None:
    """The staged field a column key is read into (a reader key: the field the preview names)."""
    if key.startswith("_"):
        return _FIELD_OF.get(key)
    return key


def _sample(sheet: Sheet, hdr: Header, cols: dict[str, Col]) -> dict[str, list[str]]:
    """key → the distinct non-empty values of its column over the first project-looking rows (a name, not
    a 小计/合计), in order of first appearance."""
    start = hdr.top + hdr.rows
    part = sheet.frame.slice(start, SAMPLE_ROWS)
    name = f"c{cols['project_name'].idx}"
    if name not in part.columns:
        return {}
    body = part.select(vp.strip(pl.col(c)).alias(c) for c in part.columns)
    body = body.filter(pl.col(name) != "")
    subtotals = [v for v in body[name].unique().to_list() if is_subtotal(v)]
    body = body.filter(~pl.col(name).is_in(subtotals))
    out: dict[str, list[str]] = {}
    for key, col in cols.items():
        c = f"c{col.idx}"
        if c in body.columns:
            out[key] = [v for v in body[c].unique(maintain_order=True).to_list() if v and not is_empty(v)]
    return out


def _example(values: list[str]) -> str:
    return "」「".join(v[:20] for v in values[:2])


def confirm_columns(sheet: Sheet, hdr: Header, cols: dict[str, Col], ctx: Ctx, reading: Reading,
                    report_date: date | None, year: int | None) -> tuple[dict[str, Col], set[int]]:
    """cols confirmed by their values (a new dict), and the column indexes read by their values; the stage
    column and its note, and each reading taken from values, to `reading`; a column whose values do not
    fit its header, to ctx as a warning naming it."""
    cols = dict(cols)
    vals = _sample(sheet, hdr, cols)
    row = hdr.top + hdr.rows
    by_values: set[int] = set()
    notes: list[str] = []

    def rekey(old: str, new: str) -> Col:
        col = dataclasses.replace(cols.pop(old), key=new)
        cols[new] = col
        vals[new] = vals.get(old, [])
        by_values.add(col.idx)
        return col

    if "stage" in cols and _free_text(vals.get("stage", [])):
        col = cols["stage"]
        target = next((k for k in _NOTE_KEYS if k not in cols), None)
        example = _example([v for v in vals["stage"] if not is_stage_word(v)])
        if target is not None:
            rekey("stage", target)
            kept = "已作为项目进展保留"
        else:
            cols.pop("stage")
            kept = "已有项目进展列，此列未读取"
        ctx.warn(f"「{col.name}」列的内容是进展描述（如「{example}」），不是建设状态：{kept}，建设状态取自其他列",
                 row, col.name)
        reading.inferred.append(f"「{col.name}」列按取值读作项目进展（文字描述，不是建设状态）")
        notes.append(f"「{col.name}」列为文字描述，作为项目进展保留")
    if "stage" not in cols:
        for key in [*_NOTE_KEYS, *(k for k in cols if k.startswith(MAYBE_STAGE))]:
            if key in cols and _stage_words(vals.get(key, [])):
                col = rekey(key, "stage")
                reading.inferred.append(
                    f"「{col.name}」列的取值均为建设状态（{'、'.join(vals['stage'][:6])}），按取值读作建设状态"
                    "（状态列：在建、已开工、竣工、投产即为已开工）")
                reading.stage_column = col.name
                reading.stage_note = f"「{col.name}」列的取值均为建设状态词，按取值读作建设状态"
                break
            if key in _NOTE_KEYS and key in cols and vals.get(key) and cols[key].idx not in by_values:
                notes.append(f"「{cols[key].name}」列为文字描述，作为项目进展保留")
    for key in [k for k in cols if k.startswith(MAYBE_STAGE)]:
        col = cols.pop(key)
        ctx.warn("未识别的列，已忽略", row, col.name)
    if H.STAGE_OR_TYPE not in cols and "category" in cols and _stage_words(vals.get("category", [])):
        # 项目类型 / 类别 holding 新开工 / 续建 / 在建 (the Shanxi 周报表's 建设类型): a type column, not a category
        col = rekey("category", H.STAGE_OR_TYPE)
        reading.inferred.append(f"「{col.name}」列的取值均为建设类型（{'、'.join(vals[H.STAGE_OR_TYPE][:6])}），"
                                "按取值读作建设类型（类型列：在建按续建理解）")
    if "stage" in cols and reading.stage_column is None:
        reading.stage_column = cols["stage"].name
        reading.stage_note = f"「{cols['stage'].name}」列（按表头）：取值为建设状态"
    elif reading.stage_column is None:
        typed = H.STAGE_OR_TYPE in cols and any(
            is_stage_word(v) and clean(v) not in BUILD_TYPES for v in vals.get(H.STAGE_OR_TYPE, []))
        if typed:
            reading.stage_column = cols[H.STAGE_OR_TYPE].name
        reading.stage_note = _no_stage_note(cols, notes, typed)
    _fit_values(cols, vals, ctx, reading, row, report_date, year, rekey)
    return cols, by_values


def _no_stage_note(cols: dict[str, Col], notes: list[str], typed: bool) -> str:
    if typed:
        note = f"「{cols[H.STAGE_OR_TYPE].name}」列（按表头，类型列：新开工/续建/在建，在建按续建理解）"
    elif H.START_COMPLETION in cols:
        note = f"未找到建设状态列：建设状态由「{cols[H.START_COMPLETION].name}」列的文字推断"
    else:
        note = ("未找到建设状态列（没有一列的取值均为在建、续建、新开工、前期、竣工等）："
                "建设状态为空，上年开工的项目按续建计")
    return "；".join([note, *notes])


def _stage_words(values: list[str]) -> bool:
    """Every value a stage word, and not all of them build types (新建/扩建 …)."""
    return bool(values) and all(is_stage_word(v) for v in values) and any(clean(v) not in BUILD_TYPES for v in values)


def _free_text(values: list[str]) -> bool:
    """A column of progress text rather than stages: at least two distinct values, fewer than half stage words."""
    return len(values) >= 2 and 2 * sum(1 for v in values if is_stage_word(v)) < len(values)


def _fit_values(cols: dict[str, Col], vals: dict[str, list[str]], ctx: Ctx, reading: Reading, row: int,
                report_date: date | None, year: int | None, rekey: Callable[[str, str], Col]) -> None:
    """A date, money or yes/no column whose values mostly do not fit: a warning naming it; a date column of
    开竣工情况 text read as such (when the file has none)."""
    for key in list(cols):
        kind = "date" if key in _DATE_KEYS else (FIELD[key].kind if key in FIELD else None)
        if kind not in ("date", "money", "bool"):
            continue
        values = vals.get(key, [])
        col = cols[key]
        if kind == "date":
            bad = [v for v in values if parse_date(v)[1]]
        elif kind == "money":
            bad = [v for v in values if parse_money(v, col.factor)[1]]
        else:
            bad = [v for v in values if parse_bool(v)[1]]
        if not bad or 2 * len(bad) <= len(values):
            continue
        if (kind == "date" and H.START_COMPLETION not in cols and len(values) >= 2
                and all(parse_start_completion(v, report_date, year)[1] is None for v in values)):
            rekey(key, H.START_COMPLETION)
            ctx.warn(f"「{col.name}」列的内容不是日期，而是开竣工情况的文字（如「{_example(bad)}」）：已按开竣工情况读取，"
                     "请在预览中核对每条的读法", row, col.name)
            reading.inferred.append(f"「{col.name}」列按取值读作开竣工情况（文字，不是日期）")
            continue
        what = {"date": "日期", "money": "数字", "bool": "是/否"}[kind]
        ctx.warn(f"「{col.name}」列的取值大多不是{what}（如「{_example(bad)}」）：请核对该列是否填对，"
                 f"或表头是否指错了列（不是{what}的单元格逐行列为错误）", row, col.name)


def column_readings(hdr: Header, cols: dict[str, Col], skipped: dict[int, str],
                    by_values: set[int]) -> list[ColumnReading]:
    """Each named column of the header: the field it was read as and how (表头 / 取值), or why it was not read."""
    by_idx = {c.idx: c for c in cols.values()}
    out = []
    for j, name in enumerate(hdr.names):
        if not name:
            continue
        group = hdr.groups[j]
        label = f"{group} / {name}" if group and group != name else name
        col = by_idx.get(j)
        if col is None:
            out.append(ColumnReading(label, None, skipped.get(j, "未读取")))
        else:
            out.append(ColumnReading(label, field_of(col.key), BY_VALUES if j in by_values else BY_HEADER))
    return out


# ---- a report table's fields, by what its free text and dates state (stages of ingest.rows) ----


PROGRESS_KEYS = ("progress_note", "image_progress")
_PROGRESS_DATES = ("actual_start_date", "planned_start_date", "completion_date", "planned_completion_date")
# A progress text that may state a start or a completion (read_progress reads no other).
_PROGRESS_WORDS = ("开工|复工|竣工|完工|建成|投产|试生产|施工|在建|停工|停建|暂停|安装|调试|装修|进场|封顶|动工|开建|建设中"
                   "|续建|前期|储备|谋划|拟建")


# Work under way and nothing else (「主体施工，设备安装中」): read_progress gives 在建, started, for any text with
# a word of the first and none of the second (no date, no start or completion, no negation); decided column-wise.
_BUSY = "施工|在建|建设中|正在建设|安装|调试|装修|进场|封顶"
_NOT_ONLY_BUSY = (r"\d\s*[年月日号.\-/．－／]|年[底末]|开工|复工|竣工|完工|建成|投产|试生产|停工|停建|暂停|动工|开建|未|没|无|不|前期|手续|续建"
                  r"|储备|谋划|拟|预计|计划|推迟|延期|延至|延后|调整|力争|争取|将|待|确保")
_SHOWN_BUSY = 50  # of the texts read column-wise, how many the preview lists


def work_under_way(v: pl.Expr) -> pl.Expr:
    """True where a progress text states work under way and nothing else: read_progress gives 在建, started."""
    return (vp.is_safe(v) & v.str.contains(_BUSY) & ~v.str.contains(_NOT_ONLY_BUSY) & (v != "在建")).fill_null(False)


def progress_columns(data: pl.DataFrame, t: Table) -> pl.DataFrame:
    """Per row, what its free-text progress columns (项目进展, 形象进度) state: `prog:stage`, `prog:stated` and
    the four dates (the first column that states something wins), each distinct text read once (a text of
    work under way only, column-wise)."""
    schema: dict[str, Any] = {"prog:stage": pl.String, "prog:stated": pl.Boolean,
                              **{"prog:" + k: pl.Date for k in _PROGRESS_DATES}}
    out = pl.DataFrame({k: pl.Series([None] * data.height, dtype=v) for k, v in schema.items()})
    for key in (k for k in PROGRESS_KEYS if k in t.cols):
        cells = data[f"c{t.cols[key].idx}"]
        kinds = cells.rename("v").to_frame().select(
            busy=work_under_way(pl.col("v")), any=pl.col("v").str.contains(_PROGRESS_WORDS).fill_null(False))
        texts = cells.filter(kinds["any"] & ~kinds["busy"]).unique().to_list()
        readings = {v: r for v in texts if (r := read_progress(v, t.report_date, t.year)) is not None}
        for v in cells.filter(kinds["busy"]).unique(maintain_order=True).head(_SHOWN_BUSY).to_list():
            t.text_readings[(key, v)] = "建设状态 在建，已开（复）工"
        for v, r in readings.items():
            t.text_readings[(key, v)] = reading_words(r)
        values = list(readings)
        this = pl.DataFrame({
            "prog:stage": cells.replace_strict(values, [r.get("stage") for r in readings.values()], default=None,
                                               return_dtype=pl.String),
            "prog:stated": cells.replace_strict(values, [r.get("start_stated") for r in readings.values()],
                                                default=None, return_dtype=pl.Boolean),
            **{"prog:" + k: cells.replace_strict(values, [r.get(k) for r in readings.values()], default=None,
                                                 return_dtype=pl.Date) for k in _PROGRESS_DATES},
        })
        this = this.with_columns(pl.when(kinds["busy"]).then(pl.lit("在建")).otherwise(this["prog:stage"]).alias("prog:stage"),
                                 pl.when(kinds["busy"]).then(True).otherwise(this["prog:stated"]).alias("prog:stated"))
        read_here = (cells.is_in(values) | kinds["busy"]) & out["prog:stage"].is_null() & out["prog:stated"].is_null()
        out = pl.DataFrame([this[c].zip_with(read_here, out[c]) for c in out.columns])
    return out


def progress_filled_fields(fields: pl.DataFrame, progress: pl.DataFrame, year: int | None) -> pl.DataFrame:
    """The stage and dates a progress text states, where the row's own columns give none (a completion only
    for a project whose stage is done; 在建 with an actual start before the year is 续建)."""
    frame = pl.concat([fields, progress], how="horizontal")
    p_stage = pl.col("prog:stage")
    if year is not None and "actual_start_date" in fields.columns:
        p_stage = (pl.when((p_stage == "在建") & (pl.col("actual_start_date") < date(year, 1, 1)).fill_null(False))
                   .then(pl.lit("续建")).otherwise(p_stage))
    frame = frame.with_columns(pl.coalesce(pl.col("stage"), p_stage).alias("stage"))
    done = pl.col("stage").is_in(DONE_STAGES).fill_null(False)
    filled = []
    for k in _PROGRESS_DATES:
        p = pl.col("prog:" + k)
        if k == "completion_date":
            p = pl.when(done).then(p)
        filled.append((pl.coalesce(pl.col(k), p) if k in fields.columns else p).alias(k))
    return frame.with_columns(filled).drop(progress.columns)


def started_checked_fields(fields: pl.DataFrame, t: Table) -> pl.DataFrame:
    """The dates' word on starting, over the row's: a (re)start date after D (no actual start on or before
    D) says not (re)started, unless the project is done; and a project with no stage whose actual start is
    before 1 January of Y is continuing (续建)."""
    d, year = t.report_date, t.year
    none = pl.lit(None, dtype=pl.Date)
    actual = pl.col("actual_start_date") if "actual_start_date" in fields.columns else none
    planned = pl.col("planned_start_date") if "planned_start_date" in fields.columns else none
    out: list[pl.Expr] = []
    if d is not None:
        later = (actual > d) | (actual.is_null() & (planned > d))
        done = pl.col("stage").is_in(DONE_STAGES)
        if "completion_date" in fields.columns:
            done = done | (pl.col("completion_date") <= d)
        out.append(pl.when(later.fill_null(False) & ~done.fill_null(False)).then(False)
                   .otherwise(pl.col("start_stated")).alias("start_stated"))
    if year is not None:
        out.append(pl.when(pl.col("stage").is_null() & (actual < date(year, 1, 1)).fill_null(False))
                   .then(pl.lit("续建")).otherwise(pl.col("stage")).alias("stage"))
    return fields.with_columns(out) if out else fields
