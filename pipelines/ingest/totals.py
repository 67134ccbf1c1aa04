"""The file's own totals as a check: each 小计 / 合计 / 总计 row against the sum of the project rows it covers.

A misread district, a dropped row or a value in the wrong unit shows up here before it reaches a figure:
a row the reader did not take, or took into the wrong block, makes a block's sum differ from the clerk's
own total. The check warns (the file still loads); it names the row and label of the total, the field, the
file's number and the sum.

Which rows a total covers, by its level (小计 1; 合计, 共计, 汇总 2; 总计 3):
- a total covers the project rows since the previous total of its level or above (a 小计 also stops at a
  block heading, 「一、忻府区」), back to the start of the table;
- where a level's first total stands before any of its rows (the total over its block, 「忻府区小计」 then
  the projects), every total of that level covers the rows after it instead, up to the next one.
「其中」 rows (a part of a total) and other sums are not checked.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from pipelines.ingest import headers as H
from pipelines.ingest import vparse as vp
from pipelines.ingest.detect import is_subtotal
from pipelines.ingest.parse import clean
from pipelines.ingest.result import Found
from pipelines.vocab.schema import FIELD

if TYPE_CHECKING:
    from pipelines.ingest.rows import Table

CHECKED = ("total_investment", "annual_plan", "ytd_completed")
ABS_TOLERANCE = 0.5  # 万元: rounding of the file's own figures
REL_TOLERANCE = 0.001  # 0.1 %
STEP = 7  # after the rows' own findings (rows.py orders findings by row, then step)

_COUNT = re.compile(r"(?:共\s*)?(\d+)\s*个")


@dataclass
class _Total:
    pos: int  # body position
    i: int  # 0-based sheet row
    label: str
    level: int
    count: int | None


def _level(label: str) -> int | None:
    t = clean(label)
    if t.startswith("其中"):
        return None
    if "总计" in t:
        return 3
    if any(w in t for w in ("合计", "共计", "汇总")):
        return 2
    if "小计" in t:
        return 1
    return None


def _totals(body: pl.DataFrame, t: Table) -> list[_Total]:
    """The checkable totals, in file order, with their label and the project count they state (if any)."""
    cell_cols = [c for c in body.columns if c.startswith("c")]
    money_idx = {f"c{c.idx}" for k, c in t.cols.items() if k in FIELD and FIELD[k].kind == "money"}
    seq = next((f"c{j}" for j, n in enumerate(t.hdr.names) if n and (H.header_key(n) or ("",))[0] == H.SEQ), None)
    out: list[_Total] = []
    rows = body.select("_i", *cell_cols)
    for pos in t.subtotal_pos:
        row = dict(zip(rows.columns, rows.row(pos), strict=True))
        seq_text = clean(row[seq]) if seq else ""
        before = clean(rows[seq][pos - 1]) if seq and pos > 0 else ""
        prev_seq = int(before) if before.isdigit() else None
        texts = [v for c, v in row.items() if c in cell_cols and c not in money_idx and isinstance(v, str) and v]
        label = next((v for v in texts if is_subtotal(v)), texts[0] if texts else "")
        level = _level(label)
        if level is None:
            continue
        count = None
        for v in texts:
            if (m := _COUNT.search(clean(v))) is not None:
                count = int(m.group(1))
                break
        # A count in the 序号 column (the label beside it), unless it only continues the projects' numbering.
        if count is None and seq and seq_text.isdigit() and clean(label) != seq_text and (
                prev_seq is None or int(seq_text) != prev_seq + 1):
            count = int(seq_text)
        out.append(_Total(pos, int(row["_i"]), clean(label), level, count))
    return out


def _covered(total: _Total, stops: list[int], projects: list[int], forward: bool) -> tuple[int, int]:
    """The project rows a total covers, as a range of positions in projects (sorted 0-based sheet rows);
    stops: the sorted rows that end a block of its level (the totals of its level and above, headings)."""
    if forward:
        k = bisect_right(stops, total.i)
        end = stops[k] if k < len(stops) else None
        return bisect_right(projects, total.i), len(projects) if end is None else bisect_left(projects, end)
    k = bisect_left(stops, total.i)
    begin = stops[k - 1] if k > 0 else -1
    return bisect_right(projects, begin), bisect_left(projects, total.i)


def _differs(a: float, b: float) -> bool:
    return abs(a - b) > max(ABS_TOLERANCE, REL_TOLERANCE * max(abs(a), abs(b)))


def check_totals(body: pl.DataFrame, frame: pl.DataFrame, t: Table) -> None:
    """Each checkable total against the project rows it covers; a mismatch is a warning on the total's row."""
    totals = _totals(body, t)
    if not totals or frame.height == 0:
        return
    if not frame["source_row"].is_sorted():
        frame = frame.sort("source_row")
    projects = (frame["source_row"] - 1).to_list()
    headings = body["_i"].gather(t.heading_pos).to_list() if t.heading_pos else []
    fields = [(k, t.cols[k]) for k in CHECKED if k in t.cols and k in frame.columns]
    stated = body.select("_i", *(f"c{c.idx}" for _, c in fields)).filter(
        pl.int_range(pl.len()).is_in([x.pos for x in totals]))
    values, _ = vp.parse(stated, [vp.Column(k, f"c{c.idx}", "money", c.factor) for k, c in fields])
    at_row = dict(zip(stated["_i"].to_list(), range(stated.height), strict=True))
    sums = frame.select("source_row", *(k for k, _ in fields))
    for level in (1, 2, 3):
        of_level = [x for x in totals if x.level == level]
        if not of_level:
            continue
        stops = sorted({x.i for x in totals if x.level >= level} | (set(headings) if level == 1 else set()))
        lo, hi = _covered(of_level[0], stops, projects, forward=False)
        forward = lo == hi
        for x in of_level:
            lo, hi = _covered(x, stops, projects, forward)
            n = hi - lo
            t.totals_checked += 1
            found = Found()
            where = "下方" if forward else "上方"
            if x.count is not None and x.count != n:
                t.totals_off.append(f"第 {x.i + 1} 行「{x.label}」项目数：文件 {x.count} 个，读取 {n} 个")
                found.warn(f"「{x.label}」的项目数：文件中为 {x.count} 个，其{where}读取为项目的行为 {n} 个："
                           "请核对是否有行未被读取（或被读作标题、说明），或项目归错区块")
            block = sums.slice(lo, n)
            for k, col in fields:
                file_value = values[k][at_row[x.i]]
                if file_value is None:
                    continue
                total = float(block[k].sum() or 0.0)
                if _differs(float(file_value), total):
                    t.totals_off.append(f"第 {x.i + 1} 行「{x.label}」{FIELD[k].zh}：文件 {_wan(float(file_value))} 万元，"
                                        f"所列项目合计 {_wan(total)} 万元")
                    found.warn(f"「{x.label}」的{FIELD[k].zh}：文件中为 {_wan(float(file_value))} 万元，其{where} "
                               f"{n} 个项目合计 {_wan(total)} 万元（相差 {_wan(float(file_value) - total)} 万元）："
                               "请核对是否漏行、金额单位（万元/亿元）或项目所属区块",
                               col.name, body[f"c{col.idx}"][x.pos])
            if found.items:
                t.events.append((x.i, STEP, 0, found))


def _wan(v: float) -> str:
    return f"{v:,.2f}".rstrip("0").rstrip(".") if v != int(v) else f"{v:,.0f}"
