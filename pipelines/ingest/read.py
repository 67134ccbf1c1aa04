"""Read one uploaded spreadsheet into a typed staged frame plus Chinese findings.

`read_submission` never raises on bad input: every problem becomes a Finding naming the file,
the 1-based row as the spreadsheet shows it, the column header as written, the value and the reason.
Money is converted to 万元 at the door (a 亿元 header, title or unit row multiplies by 10,000).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.ingest import headers as H
from pipelines.ingest.detect import CARD_SCAN_ROWS, find_card, find_header, split_cards
from pipelines.ingest.parse import parse_tier
from pipelines.ingest.reports import read_cards, read_reports, read_tables
from pipelines.ingest.result import Ctx, ReadOptions, ReadResult, Refuse
from pipelines.ingest.sheets import HEADER_SCAN_ROWS, check_cells, open_sheets
from pipelines.ingest.targets import TARGET_SCAN_ROWS, find_targets, read_targets
from pipelines.vocab.reference import Region, county_candidates, find_region, region_by_code, region_error
from pipelines.vocab.schema import FREQUENCIES, STAGED_SCHEMA, TIERS


def read_submission(source: Path | bytes, file_name: str, opts: ReadOptions = ReadOptions()) -> ReadResult:
    """Read one submission (CSV/XLSX/XLS bytes or path) into a staged frame and findings; never raises on bad input."""
    ctx = Ctx(file_name)
    report_date = opts.report_date
    result = ReadResult(file_name, "reports", "unknown", report_date, report_date.year if report_date else None,
                        opts.frequency if opts.frequency in FREQUENCIES else "week", pl.DataFrame(schema=STAGED_SCHEMA))
    try:
        data = source if isinstance(source, bytes | bytearray) else Path(source).read_bytes()
        _read(bytes(data), ctx, result, opts)
    except Refuse as exc:
        ctx.err(str(exc))
    except MemoryError:  # the bounded child read (pipelines.ingest.bounded) says so with its bound
        raise
    except Exception as exc:  # a reader bug must still come back as a finding, not a traceback
        ctx.err(f"读取文件时出现意外错误（{type(exc).__name__}），请检查文件格式或联系管理员")
    result.errors, result.warnings = ctx.errors, ctx.warnings
    return result


def _read(data: bytes, ctx: Ctx, res: ReadResult, opts: ReadOptions) -> None:
    sheets = [s for s in open_sheets(data) if s.has_text()]
    if not sheets:
        raise Refuse("文件中没有数据")
    report_date, region, frequency = opts.report_date, opts.region, opts.frequency
    if frequency is not None and frequency not in FREQUENCIES:
        ctx.err(f"报送频率「{frequency}」无效（应为 week/month/quarter）")
    tier = opts.tier  # a tier as written (「新兴」) is taken as the tier it names
    if tier is not None and tier not in TIERS:
        t2, _ = parse_tier(tier)
        if t2 is None:
            ctx.err(f"上传时选择的层级「{tier}」无效（应为 {'/'.join(TIERS)} 之一）")
        tier = t2
    region_obj: Region | None = None
    if region:
        region_obj = region_by_code().get(region.strip()) or find_region(region)
        if region_obj is None or region_obj.level == "province":
            ctx.err(f"上传时选择的{region_error(region)}" if len(county_candidates(region)) > 1
                    else f"上传时选择的地区「{region}」无法识别")
            region_obj = None

    # Targets (目标任务分解表) first: regions across, metrics down.
    for sheet in sheets:
        check_cells(sheet, ctx)
        tgt = find_targets(sheet.grid(0, HEADER_SCAN_ROWS + TARGET_SCAN_ROWS))
        if tgt is not None:
            read_targets(sheet.grid(), tgt, ctx, res, report_date, region_obj)
            return
    cards = [(s, one) for s in sheets if (c := find_card(s.grid(0, CARD_SCAN_ROWS))) is not None
             for one in split_cards(c)]
    if cards:  # 附件1 台账 as printed: one project a sheet, label beside value
        read_cards(cards, ctx, res, report_date, tier, region_obj, frequency)
        return
    scored = [(h, s) for s in sheets if (h := find_header(s.grid(0, HEADER_SCAN_ROWS + 1))) is not None]
    if not scored:
        raise Refuse("未找到表头：文件中没有可识别的列名（如「项目名称」「总投资」），请使用报表模板")
    tables = [(h, s) for h, s in scored if any(n and (H.header_key(n) or ("",))[0] == "project_name" for n in h.names)]
    if len(tables) > 1:  # 新兴 and 技改 on two sheets: every sheet is read, or none
        read_tables(tables, ctx, res, report_date, tier, region_obj, frequency)
        return
    hdr, sheet = max(scored, key=lambda x: sum(1 for n in x[0].names if n and H.header_key(n)))
    read_reports(sheet, hdr, ctx, res, report_date, tier, region_obj, frequency)
