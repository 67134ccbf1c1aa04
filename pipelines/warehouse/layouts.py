"""Confirmed readings: how a unit's layout was read, remembered when a file of it is loaded (确认导入).

A layout is its header signature (ingest.reading.header_signature); a unit is the submission's region (the
city or county given at upload, else the one city of its rows), or 未指定. The next file of that unit with
the same signature is read the same way: the frequency confirmed for it (unless the upload or the file's
own words say otherwise), and its column readings are compared with those confirmed. A changed layout says
how. Whatever is still inferred (a reading from values, a frequency from the report date, a date from the
file name) and not confirmed before is a question 确认导入 asks before it loads.

Written only by the warehouse's load (Warehouse.load, inside its transaction); read before a load by
pipelines/views/layouts.py.
"""

from __future__ import annotations

import json
from datetime import datetime

import duckdb

from pipelines.ingest.reading import header_signature
from pipelines.ingest.submission import Submission
from pipelines.warehouse import loop_tables

NO_UNIT = "未指定"
_SEP = "|"


def unit_of(sub: Submission) -> str:
    """The unit a layout is remembered for: the region given at upload, else the file's one city, else 未指定."""
    if sub.region_code:
        return sub.region_code
    if sub.frame.height and "city_code" in sub.frame.columns:
        cities = sub.frame["city_code"].drop_nulls().unique().to_list()
        if len(cities) == 1:
            return str(cities[0])
    return NO_UNIT


def remember(con: duckdb.DuckDBPyConnection, sub: Submission, submission_id: int | None, actor: str) -> None:
    """Keep how sub was read as its unit's confirmed layout (inside the load's write)."""
    if sub.reading is None or sub.kind != "reports" or not sub.reading.columns:
        return
    loop_tables.ensure(con)
    unit, headers = unit_of(sub), header_signature(sub.reading)
    signature = _SEP.join(headers)
    columns = [[c.column, c.field, c.how] for c in sub.reading.columns]
    con.execute("DELETE FROM confirmed_layouts WHERE unit_code = ? AND signature = ?", [unit, signature])
    con.execute(
        "INSERT INTO confirmed_layouts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [unit, signature, list(headers), sub.frequency, sub.reading.frequency_source,
         json.dumps(columns, ensure_ascii=False), datetime.now(), actor, submission_id],
    )
