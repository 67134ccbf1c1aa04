"""Issuing a 简报: the briefing made, handed out and recorded (warehouse/issued.py), and a recorded one
reissued (重印) from its recorded figures, never from figures computed again.

The record's figures are the whole BriefingData as JSON: the metrics dicts (total, tiers, regions,
lights), the lists (overdue, problems, lit: frames as columns, dtypes and rows), the sentences, the
更正说明. Dates are tagged ({"$date": "2020-05-31"}) so a reissue prints them as the original did.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl

from pipelines import metrics
from pipelines.outputs import briefing
from pipelines.outputs.briefing import BriefingData, Progress
from pipelines.views.corrections import filters_from_json, filters_json
from pipelines.warehouse import issued
from pipelines.warehouse.store import Store

_NOT_RECORDED = ("reissue",)


@dataclass(frozen=True)
class Issued:
    """A briefing handed out: the file and its number (第 N 号)."""

    payload: bytes
    issue_id: int
    data: BriefingData


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, pl.DataFrame):
        return {"$frame": {"columns": value.columns, "dtypes": [str(t) for t in value.dtypes],
                           "rows": [[_plain(v) for v in row] for row in value.iter_rows()]}}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _dtype(name: str) -> Any:
    simple = {"String": pl.String, "Int64": pl.Int64, "Int32": pl.Int32, "Int16": pl.Int16, "Int8": pl.Int8,
              "UInt32": pl.UInt32, "UInt64": pl.UInt64, "Float64": pl.Float64, "Float32": pl.Float32,
              "Boolean": pl.Boolean, "Date": pl.Date, "Null": pl.Null}
    if name in simple:
        return simple[name]
    if name.startswith("Datetime"):
        return pl.Datetime("us")
    if name.startswith("List(String"):
        return pl.List(pl.String)
    return None  # inferred from the values


def _back(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$date"}:
            return date.fromisoformat(value["$date"])
        if set(value) == {"$datetime"}:
            return datetime.fromisoformat(value["$datetime"])
        if set(value) == {"$frame"}:
            f = value["$frame"]
            rows = [[_back(v) for v in row] for row in f["rows"]]
            schema = [(c, _dtype(t)) for c, t in zip(f["columns"], f["dtypes"], strict=True)]
            if all(t is not None for _, t in schema):
                return pl.DataFrame(rows, schema=schema, orient="row")
            return pl.DataFrame(rows, schema=[c for c, _ in schema], orient="row", infer_schema_length=None)
        return {k: _back(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_back(v) for v in value]
    return value


def to_json(data: BriefingData) -> str:
    """Everything the briefing printed, as the record keeps it."""
    out = {f.name: _plain(getattr(data, f.name)) for f in dataclasses.fields(data)
           if f.name not in (*_NOT_RECORDED, *briefing.PRINTED)}
    for name, rows in briefing.PRINTED.items():  # the rows it printed of each list, and the list's length
        frame = getattr(data, name)
        out[name] = _plain(frame.head(rows))
        out["listed"][name] = data.listed.get(name, frame.height)
    out["filters"] = json.loads(filters_json(data.filters))
    return json.dumps(out, ensure_ascii=False, sort_keys=True)


def from_json(text: str) -> BriefingData:
    """The BriefingData a record keeps, to render again exactly as issued."""
    raw = json.loads(text)
    values = {k: _back(v) for k, v in raw.items() if k != "filters"}
    values["filters"] = filters_from_json(json.dumps(raw["filters"]))
    values["filter_lines"] = [tuple(x) for x in values["filter_lines"]]
    names = {f.name for f in dataclasses.fields(BriefingData)}
    return BriefingData(**{k: v for k, v in values.items() if k in names})


def issue(wh: Store, actor: str, channel: str, as_of: date, *, year: int | None = None,
          filters: metrics.Filters = briefing.NO_FILTERS, fmt: str = "pdf", is_demo: bool | None = None,
          progress: Progress | None = None, source: Any = None) -> Issued:
    """Make the briefing (as briefing.build does), and record it as issued by actor through channel in wh.
    source, when given, is what the figures are read from instead (the store as known at a moment:
    warehouse/versions.KnownAt); the record still goes to wh."""
    from pipelines.outputs.png import require_briefing

    require_briefing(fmt)
    say = progress or (lambda _msg: None)
    demo = wh.is_demo() if is_demo is None else is_demo  # before the read: a read inside another can deadlock
    version = wh.data_version()
    say("计算指标")
    charts = briefing.EarlyCharts(progress)  # drawn while the rest of the figures are computed
    with (source or wh).read() as con:
        data = briefing.collect(con, as_of, year=year, filters=filters, is_demo=demo, charts=charts)
    payload = briefing.render(data, fmt, progress, charts)
    issue_id = issued.record(
        wh, actor, channel, as_of=data.as_of, year=data.year, filters=filters_json(filters), fmt=fmt,
        figures=to_json(data), data_version=version, sha256=hashlib.sha256(payload).hexdigest())
    say(f"已登记为第 {issue_id} 号简报")
    return Issued(payload, issue_id, data)


def reissue_line(rec: issued.Issue) -> str:
    return (f"重印：第 {rec.issue_id} 号简报，原发于 {rec.issued_at:%Y-%m-%d %H:%M}（{rec.issued_by}，{rec.channel}），"
            "数字为原发时的数字")


def reissue(wh: Store, actor: str, channel: str, issue_id: int, *, fmt: str | None = None,
            progress: Progress | None = None) -> Issued:
    """第 issue_id 号简报 again, from its recorded figures, saying it is a reissue; recorded too
    (reissue_of). LookupError when there is no such issue."""
    from pipelines.outputs.png import require_briefing

    with wh.read() as con:
        rec = issued.get(con, issue_id)
    if rec is None:
        raise LookupError(f"没有第 {issue_id} 号简报")
    if rec.reissue_of is not None:  # a reissue of a reissue: the original's
        return reissue(wh, actor, channel, rec.reissue_of, fmt=fmt, progress=progress)
    fmt = fmt or rec.format
    require_briefing(fmt)
    data = from_json(rec.figures)
    data.reissue = reissue_line(rec)
    payload = briefing.render(data, fmt, progress)
    new_id = issued.record(
        wh, actor, channel, as_of=rec.as_of, year=rec.year, filters=rec.filters, fmt=fmt, figures=rec.figures,
        data_version=rec.data_version, sha256=hashlib.sha256(payload).hexdigest(), reissue_of=rec.issue_id)
    return Issued(payload, new_id, data)


def recorded_figures(wh: Store, issue_id: int) -> dict[str, Any] | None:
    """The figures 第 issue_id 号简报 printed (the record's JSON, parsed), or None."""
    with wh.read() as con:
        rec = issued.get(con, issue_id)
    return None if rec is None else dict(json.loads(rec.figures))
