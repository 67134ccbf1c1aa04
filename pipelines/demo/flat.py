"""The standard flat layout of a staged frame: Chinese headers, ISO dates, 是/否, money in 万元;
as a frame or as a UTF-8-BOM CSV (what an upload of the demo looks like)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.demo.frames import WEEKLY_FIELDS
from pipelines.vocab.schema import FIELD


def flat_frame(frame: pl.DataFrame, fields: tuple[str, ...] = WEEKLY_FIELDS) -> pl.DataFrame:
    """A staged frame in the standard flat layout: Chinese headers, ISO dates, 是/否, money in 万元."""
    exprs: list[pl.Expr] = []
    for name in fields:
        f, col = FIELD[name], pl.col(name)
        if f.kind == "money":  # whole 万元 written without a trailing .0
            e = (
                pl.when(col == col.round(0))
                .then(col.cast(pl.Int64).cast(pl.String))
                .otherwise(col.cast(pl.String))
            )
        elif f.kind == "bool":
            e = pl.when(col).then(pl.lit("是")).when(~col).then(pl.lit("否"))
        elif f.kind == "date":
            e = col.dt.strftime("%Y-%m-%d")
        else:
            e = col.cast(pl.String)
        exprs.append(e.alias(f.zh))
    return frame.select(exprs)


def write_flat_csv(frame: pl.DataFrame, path: Path, fields: tuple[str, ...] = WEEKLY_FIELDS) -> Path:
    """Write a staged frame as a UTF-8-BOM CSV in the standard flat layout."""
    path.parent.mkdir(parents=True, exist_ok=True)
    flat_frame(frame, fields).write_csv(path, include_bom=True)
    return path

