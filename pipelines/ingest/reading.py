"""What the reader inferred, in words: the lines the 数据报送 preview and `kaigong ingest` print before a load
(and the same as JSON), so a clerk sees in ten seconds that the file was read as they meant."""

from __future__ import annotations

from datetime import date
from typing import Any

from pipelines.ingest import headers as H
from pipelines.ingest.parse import clean
from pipelines.ingest.result import Reading
from pipelines.vocab.schema import FIELD, FREQUENCY_ZH

# The reader's own keys (headers.py), as a clerk would name what the column was read as.
KEY_ZH = {
    H.CITY: "地市",
    H.COUNTY: "县区",
    H.LOCATION: "建设地点（地市/县区）",
    H.CITY_CODE: "地市代码",
    H.COUNTY_CODE: "县区代码",
    H.INDUSTRY: "行业",
    H.INDUSTRY_CODE: "行业代码",
    H.STAGE_OR_TYPE: "建设类型/状态",
    H.START_TIME: "开复工时间（实际或计划）",
    H.COMPLETION_TIME: "竣工时间（实际或计划）",
    H.START_COMPLETION: "开竣工情况（状态与日期）",
    H.REPORT_DATE_COL: "报告期",
}
_STAGE_KEYS = ("stage", H.STAGE_OR_TYPE, H.START_COMPLETION)
_MAX_NAMED = 40  # columns named per line; the rest counted


def field_zh(key: str | None) -> str:
    """A staged field or reader key as users know it."""
    if key is None:
        return "（不读取）"
    if key in FIELD:
        return FIELD[key].zh
    return KEY_ZH.get(key, key)


def frequency_zh(frequency: str | None) -> str:
    return FREQUENCY_ZH.get(frequency or "", frequency or "未定")


def _named(items: list[str]) -> str:
    shown = "、".join(items[:_MAX_NAMED])
    return shown + (f" 等 {len(items)} 列" if len(items) > _MAX_NAMED else "")


def stage_column(reading: Reading) -> str | None:
    """The column read as the stage: as the reader said (a stage_note with no column: none found), else the
    first whose header names a stage field."""
    if reading.stage_column or reading.stage_note:
        return reading.stage_column
    return next((c.column for c in reading.columns if c.field in _STAGE_KEYS), None)


def reading_lines(reading: Reading, *, report_date: date | None, frequency: str | None) -> list[str]:
    """The reading in short Chinese lines: report date and frequency with where each came from, the stage
    column, each column's field (and those left unread), the rows taken, the file's totals checked."""
    lines = []
    if report_date is not None:
        lines.append(f"报告期截止日：{report_date}（{reading.report_date_source or '未注明来源'}）")
    else:
        lines.append("报告期截止日：未找到（请在上传时填写，或在标题中注明，如“截至2022年5月底”）")
    lines.append(f"报送周期：{frequency_zh(frequency)}（{reading.frequency_source or '未注明来源'}）")
    stage = stage_column(reading)
    note = f"（{reading.stage_note}）" if reading.stage_note else ""
    lines.append(f"建设状态列：「{stage}」{note}" if stage else f"建设状态列：未找到{note}")
    by_how: dict[str, list[str]] = {}
    unread: list[str] = []
    for c in reading.columns:
        if c.field is None:
            unread.append(f"「{c.column}」（{c.how}）")
        else:
            by_how.setdefault(c.how, []).append(f"「{c.column}」→{field_zh(c.field)}")
    for how, items in by_how.items():
        label = {"表头": "按表头读取", "取值": "按取值推断", "记忆": "按上次确认的表式读取"}.get(how, how)
        lines.append(f"{label}：{_named(items)}")
    if unread:
        lines.append(f"未读取的列：{_named(unread)}")
    if reading.rows:
        lines.append("行：" + "，".join(f"{kind} {n} 行" for kind, n in reading.rows.items()))
    if reading.totals_checked:
        if reading.totals_off:
            lines.append(f"合计核对：{reading.totals_checked} 个小计/合计行中有不符：" + "；".join(reading.totals_off[:10])
                         + (f" 等 {len(reading.totals_off)} 处" if len(reading.totals_off) > 10 else ""))
        else:
            lines.append(f"合计核对：{reading.totals_checked} 个小计/合计行与所列项目相符")
    for what in reading.inferred:
        lines.append(f"推断：{what}")
    return lines


def reading_json(reading: Reading, *, report_date: date | None, frequency: str | None) -> dict[str, Any]:
    """The same reading for `kaigong ingest --json`."""
    return {
        "report_date": report_date.isoformat() if report_date else None,
        "report_date_source": reading.report_date_source,
        "frequency": frequency,
        "frequency_source": reading.frequency_source,
        "stage_column": stage_column(reading),
        "stage_note": reading.stage_note,
        "columns": [{"column": c.column, "field": c.field, "field_zh": field_zh(c.field) if c.field else None,
                     "how": c.how} for c in reading.columns],
        "rows": dict(reading.rows),
        "totals_checked": reading.totals_checked,
        "totals_off": list(reading.totals_off),
        "inferred": list(reading.inferred),
        "lines": reading_lines(reading, report_date=report_date, frequency=frequency),
    }


# ---- a layout: its header signature, against the one a unit confirmed before --------------------------


def header_signature(reading: Reading) -> tuple[str, ...]:
    """The layout: every headed column's text, normalised (NFKC, no whitespace), in order."""
    return tuple(clean(c.column) for c in reading.columns)


def layout_difference(now: tuple[str, ...], before: tuple[str, ...]) -> str:
    """How a file's headers differ from the layout its unit confirmed last ("" when the same)."""
    if now == before:
        return ""
    added = [c for c in now if c not in before]
    missing = [c for c in before if c not in now]
    parts = []
    if added:
        parts.append("新增列" + "、".join(f"「{c}」" for c in added))
    if missing:
        parts.append("缺少列" + "、".join(f"「{c}」" for c in missing))
    if not parts:
        parts.append("列的顺序不同")
    return "与上次确认的表式不同：" + "，".join(parts)


def inferred_frequency(source: str) -> bool:
    """Whether the frequency was inferred (from the report date, or by default) rather than stated."""
    return source.startswith("报告期") or source.startswith("未注明")


def inferred_report_date(source: str) -> bool:
    """Whether the report date was inferred from the file name (its period, or its year)."""
    return "文件名" in source
