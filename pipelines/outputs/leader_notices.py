"""A notice to a project's 责任领导 when the project turns red (issue 31 §2), through the notice queue.

Found by date (`kaigong notify`, like 漏报): at the latest report date up to today, each red project
with a leader in force gets one notice per turn-red — the dedup key names the project and the date its
red began (亮灯清单's light_since), so a project that stays red is not noticed again, and one that
turns green and red again is. The notice is addressed to `领导:<name>`: the deployment's notify.json
maps that key (or `*`) to addresses, like a unit code.
"""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines import metrics
from pipelines.metrics import lights
from pipelines.views import leaders


def address(leader: str) -> str:
    """The notice's unit_code for a leader (notify.json's `to` / a webhook's `units` key)."""
    return f"领导:{leader}"


def red_notices(con: duckdb.DuckDBPyConnection, today: date) -> list[tuple[str, str, str, str]]:
    """(dedup_key, unit_code, subject, body) for each red project with a leader at the latest report date."""
    dates = [d for d in metrics.report_dates(con, today.year) if d <= today]
    if not dates:
        return []
    d = dates[-1]
    lit = lights.lit_list(con, d)
    red = leaders.with_leaders(con, lit.filter(lit["light"] == "red"))
    out = []
    for r in red.iter_rows(named=True):
        if not r["leader"]:
            continue
        where = r["county_name"] or r["city_name"] or ""
        subject = f"【开工】您包保的项目亮红灯：{r['project_name']}"
        body = (f"{r['leader']}：您包保的项目《{r['project_name']}》（{where}）自 {r['light_since']} 起亮红灯"
                f"（截至报告期 {d}）。\n原因：{r['light_reason'] or '见亮灯清单'}\n"
                + (f"责任单位：{r['lead_unit']}\n" if r["lead_unit"] else "")
                + "请在开工系统「亮灯清单」页查看并督促推进。")
        out.append((f"red:{r['project_id']}:{r['light_since']}", address(r["leader"]), subject, body))
    return out
