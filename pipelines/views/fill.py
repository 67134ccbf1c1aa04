"""The clerk's prefilled sheet and online 填报 (issue 31): a unit's projects with their last report's values.

What a 报送员 updates each period (本年累计, 开工/竣工 dates, stage, 入统, problems) is UPDATE_FIELDS; every
other template field is carried over as last reported (locked in the sheet, read-only in the grid). The
rows are each project's state as of the unit's last report date (blank never erases: the merged state).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import polars as pl

from pipelines.ingest.template import TEMPLATE_FIELDS
from pipelines.vocab import schema
from pipelines.vocab.query import query_frame
from pipelines.vocab.reference import Region, find_region
from pipelines.vocab.states import states_at
from pipelines.warehouse import changes

# The cells to update this period: highlighted and unlocked in the sheet, editable in the grid.
UPDATE_FIELDS: tuple[str, ...] = changes.UPDATE_FIELDS
NO_CHANGE_ZH = "本期无变化"  # the clerk's per-project statement (a column of the sheet and the grid)
NO_CHANGE = "no_change"  # its column in a staged frame (pipelines.ingest.fill reads it)
SHEET_FIELDS: tuple[str, ...] = tuple(f.name for f in TEMPLATE_FIELDS)


class UnknownUnit(ValueError):
    """A unit that is not a city or a county; str() is the Chinese message."""


def unit_region(unit: str) -> Region:
    region = find_region(unit)
    if region is None:
        raise UnknownUnit(f"未找到地区「{unit}」（请写地市或县区的名称或代码）")
    return region


def unit_rows(con: duckdb.DuckDBPyConnection, unit_code: str, as_of: date) -> tuple[pl.DataFrame, date | None]:
    """The unit's projects (a city's or a county's) as of as_of: each one's state at the unit's last
    report date on or before as_of in that year, in the template's fields, by name; and that date
    (None when the unit has not reported in the year). Projects 竣工/投产 before that date are left out."""
    region = unit_region(unit_code)
    col = "city_code" if region.level == "city" else "county_code"
    row = con.execute(
        f"SELECT max(report_date) FROM reports WHERE year = ? AND report_date <= ? AND {col} = ?",  # noqa: S608 (a column name)
        [as_of.year, as_of, region.code]).fetchall()
    last = row[0][0] if row else None
    if last is None:
        return pl.DataFrame(schema={n: schema.FIELD[n].dtype for n in ("project_id", *SHEET_FIELDS)}), None
    fields = tuple(dict.fromkeys(("city_code", "county_code", *SHEET_FIELDS)))
    sql = f"""SELECT s.project_id, s.last_report_date, {", ".join(f"s.{c}" for c in fields)}
              FROM {states_at('$year', '$d::DATE', fields)} s
              WHERE s.{col} = $unit
                AND NOT (coalesce(s.stage, '') IN {schema.DONE_STAGES_SQL} AND s.last_report_date < $d)
              ORDER BY s.project_name, s.project_id"""  # noqa: S608 (columns from the schema)
    frame = query_frame(con, sql, {"year": as_of.year, "d": last, "unit": region.code})
    return frame.select("project_id", *SHEET_FIELDS), last


def next_period_end(last: date, frequency: str) -> date:
    """The end of the period after the one ending at last: a week later, or the next month's or quarter's end."""
    if frequency == "week":
        return last + timedelta(days=7)
    step = 1 if frequency == "month" else 3
    m = last.month + step
    y = last.year + (m - 1) // 12
    m = (m - 1) % 12 + 1
    return date(y, m, calendar.monthrange(y, m)[1])


def unit_frequency(con: duckdb.DuckDBPyConnection, unit_code: str, last: date) -> str:
    """The frequency the unit last reported at (week when unknown)."""
    region = unit_region(unit_code)
    col = "city_code" if region.level == "city" else "county_code"
    row = con.execute(
        f"SELECT s.frequency FROM submissions s WHERE s.kind = 'reports' AND s.report_date = ? AND s.submission_id IN "  # noqa: S608
        f"(SELECT submission_id FROM reports WHERE report_date = ? AND {col} = ?) ORDER BY s.submission_id DESC LIMIT 1",
        [last, last, region.code]).fetchall()
    return str(row[0][0]) if row else "week"


@dataclass(frozen=True)
class FillGrid:
    """A unit's rows for the period: the prefilled sheet's and the online grid's (no_change false)."""

    unit_code: str
    unit_name: str
    last_report_date: date | None
    report_date: date  # the period the rows are for
    frequency: str
    frame: pl.DataFrame  # project_id, the sheet's fields, no_change


def fill_grid(con: duckdb.DuckDBPyConnection, unit: str, as_of: date, report_date: date | None = None) -> FillGrid:
    """The unit's projects as last reported on or before as_of, for the next period (or report_date)."""
    region = unit_region(unit)
    frame, last = unit_rows(con, region.code, as_of)
    frequency = unit_frequency(con, region.code, last) if last else "week"
    d = report_date or (next_period_end(last, frequency) if last else as_of)
    frame = frame.with_columns(pl.lit(False).alias(NO_CHANGE))
    return FillGrid(region.code, region.name, last, d, frequency, frame)


def grid_from_draft(grid: FillGrid, draft: pl.DataFrame) -> pl.DataFrame:
    """A saved draft in the grid's columns and types (a draft of other projects' rows keeps only the unit's)."""
    keep = draft.filter(pl.col("project_id").is_in(grid.frame["project_id"].implode()))
    return keep.select([pl.col(c).cast(grid.frame.schema[c]) for c in grid.frame.columns])
