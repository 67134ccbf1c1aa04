"""Confirmed readings, read before a load: a file against its unit's confirmed layouts (written by
pipelines/warehouse/layouts.py with each load): the same layout read the same way, a changed one said, and
what is still inferred and not confirmed before, asked in 确认导入."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import duckdb

from pipelines.ingest.prepare import Prepared
from pipelines.ingest.reading import (
    field_zh,
    frequency_zh,
    header_signature,
    inferred_frequency,
    inferred_report_date,
    layout_difference,
)
from pipelines.warehouse import loop_tables
from pipelines.warehouse.layouts import unit_of


@dataclass(frozen=True)
class Confirmed:
    """A layout as a unit's clerk confirmed it."""

    headers: tuple[str, ...]  # normalised, in order
    frequency: str
    frequency_source: str
    columns: tuple[tuple[str, str | None, str], ...]  # (column, field, how)
    confirmed_at: datetime
    confirmed_by: str


def recall(con: duckdb.DuckDBPyConnection, unit: str) -> list[Confirmed]:
    """The unit's confirmed layouts, the latest first (none before the table exists)."""
    if not loop_tables.has(con, "confirmed_layouts"):
        return []
    rows = con.execute(
        "SELECT headers, frequency, frequency_source, columns, confirmed_at, confirmed_by FROM confirmed_layouts "
        "WHERE unit_code = ? ORDER BY confirmed_at DESC", [unit]).fetchall()
    return [Confirmed(tuple(h), f, fs or "", tuple((c[0], c[1], c[2]) for c in json.loads(cols)), at, by)
            for h, f, fs, cols, at, by in rows]


def with_memory(con: duckdb.DuckDBPyConnection, p: Prepared) -> Prepared:
    """p against its unit's confirmed layouts: the same layout read the same way (its confirmed frequency),
    a changed one said (p.layout_note), and what is inferred and not confirmed before in p.questions."""
    sub, reading = p.submission, p.reading
    if sub is None or reading is None or sub.kind != "reports" or not reading.columns:
        return p
    headers = header_signature(reading)
    confirmed = recall(con, unit_of(sub))
    same = next((c for c in confirmed if c.headers == headers), None)
    if same is None:
        p.layout_note = (layout_difference(headers, confirmed[0].headers) if confirmed
                         else "该单位首次以此表式报送，导入即记住此次的读法")
    else:
        p.layout_note = f"与 {same.confirmed_at:%Y-%m-%d} 确认的表式相同"
        stated = not inferred_frequency(reading.frequency_source)
        if (reading.frequency_source != "上传时指定" and sub.frequency != same.frequency
                and (not stated or same.frequency_source == "上传时指定")):
            sub.frequency = p.frequency = same.frequency
            reading.frequency_source = f"与 {same.confirmed_at:%Y-%m-%d} 确认的表式相同，按当时确认的{frequency_zh(same.frequency)}"
    p.questions = _questions(p, same)
    return p


def _questions(p: Prepared, same: Confirmed | None) -> list[str]:
    reading = p.reading
    assert reading is not None
    now = tuple((c.column, c.field) for c in reading.columns)
    columns_confirmed = same is not None and now == tuple((c, f) for c, f, _ in same.columns)
    out: list[str] = []
    if not columns_confirmed:
        out += [f"按取值推断：{what}" for what in reading.inferred]
        if same is not None:
            before = {c: f for c, f, _ in same.columns}
            out += [f"「{c}」上次确认读作{field_zh(before[c])}，本次读作{field_zh(f)}"
                    for c, f in now if c in before and before[c] != f]
    if inferred_frequency(reading.frequency_source) and (same is None or same.frequency != p.frequency):
        out.append(f"报送周期：{frequency_zh(p.frequency)}（{reading.frequency_source}）")
    if inferred_report_date(reading.report_date_source):
        out.append(f"报告期截止日：{p.report_date}（{reading.report_date_source}）")
    return out
