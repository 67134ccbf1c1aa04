"""A province's warehouse as Hive-partitioned Parquet, for the national roll-up (`kaigong export`).

What the metrics layer reads to compute figures at a date, table by table, partitioned
province=<2-digit GB/T 2260 prefix>/year=<Y>/<the table's date column>=<D>:
the stored figure cells and report periods, the states (state_ranges, state_dates and the first
reports that are their own state, `reports` WHERE is_state), the projects, and the submissions'
dates and frequencies. Beside them `kaigong_export.json`: the tables (columns, types, partition
keys), the cells' formula version, and per province the exporting database's data_version.

Several provinces share one directory, or each has its own: outputs/rollup.py reads any number
of them. Writing is all or nothing: the new directory is built beside the old one (the other
provinces' files hard-linked into it) and renamed into place, so a reader sees the old export or
the new one, and re-exporting a province replaces that province's partitions only.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines.metrics.flags import CELLS_FORMULA
from pipelines.warehouse import cells, loop_tables
from pipelines.warehouse import tables as registry
from pipelines.warehouse.store import Store

FORMAT = "kaigong-export/1"
SCHEMA_FILE = "kaigong_export.json"
LOCK_WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class ExportTable:
    """One exported table: the query over the warehouse (code constants only) and its date column."""

    name: str
    select: str  # the columns, in the order the roll-up's view gives them
    source: str  # FROM ... [WHERE ...]
    partition_by: tuple[str, ...]  # province, then the table's year and date columns where it has them


_SUBMISSION_COLS = ("submission_id, file_name, kind, layout, rows, report_date, year, frequency, region_code, "
                    "tier, loaded_at, is_demo")
# What of the registry's tables (warehouse/tables.py) is exported: the ones the metrics read, by name.
_EXPORTED: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "figure_cells": ("*", "figure_cells", ("province", "year", "as_of")),
    "figure_cells_coarse": ("*", "figure_cells_coarse", ("province", "year", "as_of")),
    "report_periods": ("*", "report_periods", ("province", "year", "as_of")),
    # (year, as_of) only: as_of stays in the files, which need a column that is not a partition key
    "state_dates": ("*", "state_dates", ("province", "year")),
    "state_ranges": ("*", "state_ranges", ("province", "year", "valid_from")),
    # Only the reports that are a state (a project's first of the year): the metrics read no other.
    "reports": ("*", "reports WHERE is_state", ("province", "year", "report_date")),
    # Every superseded version of a report (the newest is in reports): a province's corrections travel.
    "report_versions": ("*", "report_versions", ("province", "year", "report_date")),
    "projects": ("*", "projects", ("province",)),
    # The year's list and the tiers by year: S and a project's tier in each year (metrics/flags.py).
    "year_list": ("*", "year_list", ("province",)),  # year stays in the files: Spark took a partition year and a column year as two
    "project_tiers": ("*", "project_tiers", ("province",)),
    # What the figures read of a submission (its date and frequency), not its stored path or hash.
    "submissions": (_SUBMISSION_COLS, "submissions", ("province", "year", "report_date")),
}
TABLES: tuple[ExportTable, ...] = tuple(
    ExportTable(t.name, *_EXPORTED[t.name]) for t in registry.TABLES if t.name in _EXPORTED)


class ExportError(Exception):
    """An export that was not written (the message is for the user, in Chinese)."""


def province_of(con: duckdb.DuckDBPyConnection) -> str | None:
    """The database's province: the 2-digit prefix most of its projects' city codes share."""
    rows = con.execute(
        """SELECT left(city_code, 2) AS p, count(*) AS n FROM projects
           WHERE regexp_full_match(city_code, '[0-9]{6}') GROUP BY p ORDER BY n DESC, p LIMIT 1"""
    ).fetchall()
    return rows[0][0] if rows else None


def read_schema(directory: Path) -> dict[str, Any]:
    """The export's schema file, checked to be one this code writes."""
    path = directory / SCHEMA_FILE
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ExportError(f"{directory} 不是开工的导出目录（缺少 {SCHEMA_FILE}）") from exc
    except (OSError, ValueError) as exc:
        raise ExportError(f"无法读取导出说明文件 {path}：{exc}") from exc
    if not isinstance(schema, dict) or schema.get("format") != FORMAT:
        raise ExportError(f"{directory} 的导出格式为 {schema.get('format') if isinstance(schema, dict) else '未知'}，"
                          f"本程序读写的是 {FORMAT}：请用同一版本重新导出")
    return schema


def _check_target(out: Path) -> dict[str, Any] | None:
    """The schema of the export already at out (None when there is none); refuses a path that is
    not a directory, or a directory with other things in it (it would be replaced)."""
    if out.exists() and not out.is_dir():
        raise ExportError(f"导出目录 {out} 已存在且不是目录")
    if out.is_dir():
        if (out / SCHEMA_FILE).exists():
            return read_schema(out)
        if any(out.iterdir()):
            raise ExportError(f"导出目录 {out} 不为空，且不是开工的导出目录（缺少 {SCHEMA_FILE}）：为免覆盖其中的文件，不写入")
    return None


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    """One exporter at a time per directory (a lock file beside it), waiting at most LOCK_WAIT_SECONDS."""
    lock = out.parent / f".{out.name}.lock"
    with open(lock, "a+b") as fh:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ExportError(
                        f"另一个导出正在写入 {out}，等待 {LOCK_WAIT_SECONDS:.0f} 秒后仍未结束：请稍后重试"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _link_tree(src: Path, dst: Path) -> None:
    """dst as a copy of src, by hard links where the file system allows (the files are never changed)."""

    def link(s: str, d: str) -> None:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    shutil.copytree(src, dst, copy_function=link)


def _columns(con: duckdb.DuckDBPyConnection, t: ExportTable) -> list[list[str]]:
    rel = con.sql(f"SELECT {t.select} FROM {t.source} LIMIT 0")  # noqa: S608 (code constants)
    return [[n, str(ty)] for n, ty in zip(rel.columns, rel.types, strict=True)]


def export(wh: Store, out: Path, *, province: str | None = None) -> dict[str, Any]:
    """Write the warehouse's province into the export at out (made if missing); returns the schema
    file's contents. The other provinces already at out are kept as they are."""
    out = Path(out).absolute()
    if province is not None and not (len(province) == 2 and province.isdigit()):
        raise ExportError(f"省份代码应为 GB/T 2260 代码的前两位数字（如山西为 14）：{province}")
    if not wh.exists():  # (a read would make an empty database there)
        raise ExportError(f"数据库不存在：{wh.label}")
    if not out.parent.is_dir():
        raise ExportError(f"导出目录的上级目录不存在：{out.parent}")
    if not os.access(out.parent, os.W_OK):
        raise ExportError(f"没有写入权限：{out.parent}")
    _check_target(out)  # before the lock file is made beside it
    wh.upgrade()  # cells current before they are exported (a file from an earlier version)
    with _locked(out):
        previous = _check_target(out)
        tmp = out.parent / f".{out.name}.tmp-{os.getpid()}-{time.time_ns()}"
        tmp.mkdir()
        try:
            written, schema = _write(wh, tmp, province, previous)
            if previous is not None:  # the other provinces, as they are
                for t in TABLES:
                    for part in sorted((out / t.name).glob("province=*")):
                        if part.name != f"province={written}":
                            _link_tree(part, tmp / t.name / part.name)
            (tmp / SCHEMA_FILE).write_text(json.dumps(schema, ensure_ascii=False, indent=2), encoding="utf-8")
            _swap(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return schema


def _write(
    wh: Store, tmp: Path, province: str | None, previous: dict[str, Any] | None,
) -> tuple[str, dict[str, Any]]:
    """The province's files under tmp; the province and the schema file's contents. One read: the gate keeps writers out, so every table is of one data version."""
    with wh.read() as con:
        if not loop_tables.has(con, "report_versions"):  # a file from before the versions: none superseded
            con.execute("CREATE TEMP VIEW report_versions AS SELECT * EXCLUDE (is_state, state_to), "
                        "NULL::BIGINT AS superseded_by FROM reports WHERE false")
        p = province or province_of(con)
        if p is None:
            raise ExportError("数据库中没有项目，无法判断所属省份：请用 --province 指定（如山西为 14）")
        tables = {t.name: {"columns": _columns(con, t), "partition_by": list(t.partition_by)} for t in TABLES}
        if previous is not None and previous.get("tables") != tables:
            raise ExportError("导出目录中已有的文件由另一版本写成（表结构不同）：请换一个目录，或删除后重新导出全部省份")
        meta = dict(con.execute(
            "SELECT key, value FROM meta WHERE key IN ('data_version', 'figure_cells_of', 'cells_formula')"
        ).fetchall())
        current = cells.cells_current(con)
        rows: dict[str, int] = {}
        for t in TABLES:
            # Names and conditions are the constants above; the path and province are bound.
            res = con.execute(
                f"""COPY (SELECT $province AS province, {t.select} FROM {t.source}) TO $path
                    (FORMAT parquet, PARTITION_BY ({", ".join(t.partition_by)}))""",  # noqa: S608
                {"province": p, "path": str(tmp / t.name)},
            ).fetchall()
            rows[t.name] = int(res[0][0]) if res else 0
    provinces = dict(previous["provinces"]) if previous is not None else {}
    provinces[p] = {
        "data_version": meta.get("data_version"),
        "figure_cells_of": meta.get("figure_cells_of"),
        "cells_formula": meta.get("cells_formula"),
        "cells_current": current,
        "rows": rows,
        "source": wh.label,
        "exported_at": datetime.now().isoformat(timespec="seconds"),
    }
    return p, {
        "format": FORMAT,
        "cells_formula": CELLS_FORMULA,
        "tables": tables,
        "provinces": dict(sorted(provinces.items())),
    }


def _swap(tmp: Path, out: Path) -> None:
    """Put tmp where out is: two renames (the old export is kept until the new one is in place)."""
    if not out.exists():
        os.rename(tmp, out)
        return
    old = out.parent / f".{out.name}.old-{os.getpid()}-{time.time_ns()}"
    os.rename(out, old)
    try:
        os.rename(tmp, out)
    except BaseException:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
