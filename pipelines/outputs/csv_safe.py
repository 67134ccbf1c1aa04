"""Tables offered for download, safe to open in Excel/WPS: no cell runs as a formula.

A text cell starting with = + - @ (or a tab or carriage return, which some spreadsheets skip
before reading a formula) gets a leading single quote, so `=cmd|' /C calc'!A0` is shown as
text. Only text columns are touched; numbers and dates keep their types.
"""

from __future__ import annotations

import polars as pl

_TRIGGERS = r"^[=+\-@\t\r]"


def neutralise(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every formula-like text cell prefixed by a single quote."""
    text = [c for c, t in frame.schema.items() if t == pl.String]
    if not text:
        return frame
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(_TRIGGERS)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text
    )


def to_csv_bytes(frame: pl.DataFrame) -> bytes:
    """UTF-8 CSV with a BOM (so Excel reads the Chinese), neutralised."""
    return b"\xef\xbb\xbf" + neutralise(frame).write_csv().encode("utf-8")

