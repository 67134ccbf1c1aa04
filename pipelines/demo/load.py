"""Build the demo database (演示数据) from the deterministic generator of this package."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipelines.warehouse.store import Store, Submission, Warehouse


def demo_submissions() -> list[Submission]:
    """The ledger, then one weekly report per Friday, as submissions in load order."""
    from pipelines import demo

    subs = [
        Submission(
            file_name="演示数据_台账_2020.xlsx", frame=demo.demo_ledger(), report_date=demo.LEDGER_DATE,
            frequency="week", present_fields=tuple(demo.LEDGER_FIELDS), layout="ledger",
        )
    ]
    for report_date, frame in demo.demo_weekly_reports():
        subs.append(
            Submission(
                file_name=f"演示数据_周报表_{report_date:%Y%m%d}.xlsx", frame=frame, report_date=report_date,
                frequency="week", present_fields=tuple(demo.WEEKLY_FIELDS), layout="shanxi_weekly",
            )
        )
    return subs


def previous_year_submissions() -> list[Submission]:
    """The previous year's (2019's) ledger and weekly reports, for 同比 (demo/previous.py), in load order."""
    from pipelines import demo
    from pipelines.demo import previous

    world = previous.previous_world(demo._demo_world())
    subs = [
        Submission(
            file_name=f"演示数据_台账_{previous.PREV_YEAR}.xlsx", frame=previous.previous_ledger(world),
            report_date=previous.PREV_LEDGER_DATE, frequency="week", present_fields=tuple(demo.LEDGER_FIELDS),
            layout="ledger",
        )
    ]
    for report_date, frame in previous.previous_weekly_reports(world):
        subs.append(
            Submission(
                file_name=f"演示数据_周报表_{report_date:%Y%m%d}.xlsx", frame=frame, report_date=report_date,
                frequency="week", present_fields=tuple(demo.WEEKLY_FIELDS), layout="shanxi_weekly",
            )
        )
    return subs


def build_demo_database(
    target: Path | Store, *, force: bool = False, progress: Callable[[str], None] | None = None
) -> str:
    """(Re)create the database at target (a file's path, or a warehouse) filled with the demo years
    (2019, for 同比, then 2020); returns a summary line. A lake with data is never emptied here (other servers share it)."""
    say = progress or (lambda _msg: None)
    wh = Warehouse(target) if isinstance(target, Path) else target
    if wh.exists() and not wh.is_empty():
        if not force:
            return f"{wh.label} 已有数据，未覆盖"
        if not wh.remove():
            return f"{wh.label} 已有数据，未覆盖（湖仓由各服务器共用，不在此清空）"
    wh.init()
    say("生成演示报表（2019、2020 两年的台账和每周周报表）……")
    subs = previous_year_submissions() + demo_submissions()
    say(f"写入数据库：{len(subs)} 份报送，并计算各报告期的项目状态和指标……")
    wh.load(subs, actor="demo", is_demo=True)
    last = max(s.report_date for s in subs)
    return f"演示数据已生成：{wh.label}，{len(subs)} 份报送，最新报告期 {last}"


def ensure_demo(target: Path | Store) -> bool:
    """Fill an empty or missing database (a file's path, or a warehouse) with the demo year (first
    start); True if it did."""
    wh = Warehouse(target) if isinstance(target, Path) else target
    if wh.exists() and not wh.is_empty():
        return False
    build_demo_database(wh, force=True)
    return True
