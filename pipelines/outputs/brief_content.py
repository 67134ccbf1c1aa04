"""What a 简报 says, once, for every renderer: the PDF's HTML template (briefing.html.j2) and the Word
file (outputs/word.py) both lay out this model and compute nothing of their own.

The model is built from a BriefingData (computed now, or as recorded when issued) and the charts
(caption and image, in whatever form the renderer takes: a data URI for the HTML, PNG bytes for Word).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from pipelines import metrics
from pipelines.views import lights as lights_view
from pipelines.vocab import formats

Img = TypeVar("Img")

NUMERALS = "零一二三四五六七八九十"


def numeral(n: int) -> str:
    """一 … 十, 十一 … 九十九: the numbers of a 公文's sections."""
    if n <= 10:
        return NUMERALS[n]
    tens, ones = divmod(n, 10)
    return f"{NUMERALS[tens] if tens > 1 else ''}十{NUMERALS[ones] if ones else ''}"


@dataclass(frozen=True)
class Cell:
    text: str
    kind: str = ""  # "" | num (right-aligned figure) | region (never wraps) | red | yellow | green (a light)


@dataclass(frozen=True)
class Table:
    what: ClassVar[str] = "table"
    header: list[str]
    rows: list[list[Cell]]
    spaced: bool = False  # a gap above (the tiers' table under the cards)


@dataclass(frozen=True)
class Para:
    text: str
    kind: str = ""  # "" | lead (a 通报 sentence) | more (另有 N 个未列出)

    @property
    def what(self) -> str:
        return "lead" if self.kind == "lead" else "para"


@dataclass(frozen=True)
class Items:
    what: ClassVar[str] = "items"
    lines: list[str]
    ordered: bool = True


@dataclass(frozen=True)
class Cards:
    what: ClassVar[str] = "cards"
    cards: list[tuple[str, str, str]]  # (label, value, note)


@dataclass(frozen=True)
class Figures(Generic[Img]):
    what: ClassVar[str] = "figures"
    items: list[tuple[str, Img]]  # (caption, image)


Block = Table | Para | Items | Cards | Figures[Any]


@dataclass
class Section:
    title: str  # without its number
    blocks: list[Block]
    number: str | None = None  # 一 二 …; None for 更正说明
    kind: str = ""  # corrections


@dataclass
class Document:
    """The whole 简报 as printed."""

    title: str
    as_of_line: str  # （截至2020年12月25日）
    is_demo: bool
    reissue: str | None
    filter_lines: list[tuple[str, str]]
    sections: list[Section]
    notes: str  # 口径说明 …, the footnoted formulas
    generated: str = ""

    @property
    def sentences(self) -> list[str]:
        """The 通报 sentences (the 总体情况's lead paragraphs)."""
        return [b.text for s in self.sections for b in s.blocks if isinstance(b, Para) and b.kind == "lead"]


@dataclass
class _Sections:
    out: list[Section] = field(default_factory=list)

    def add(self, title: str, blocks: list[Block], numbered: bool = True, kind: str = "") -> None:
        n = sum(1 for s in self.out if s.number is not None) + 1
        self.out.append(Section(title, blocks, numeral(n) if numbered else None, kind))


def _gap(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1f}"


def _n(value: Any) -> str:
    return f"{value:,}"


def _place(row: dict[str, Any]) -> str:
    return f"{row.get('city_name') or ''}{row.get('county_name') or ''}"


def document(data: Any, images: list[tuple[str, Img]], generated: datetime | None = None) -> Document:
    """The 简报 of data (a briefing.BriefingData) with its charts, as every renderer prints it."""
    from pipelines.outputs.briefing import PRINTED, _yi

    pct = formats.pct
    t = data.total
    listed = {name: data.listed.get(name, getattr(data, name).height) for name in PRINTED}
    unit = "地市" if data.region_level == "city" else "县区"
    s = _Sections()

    s.add("总体情况", [Para(x, "lead") for x in data.sentences])

    cards = Cards([
        ("项目数", f"{t['projects']:,}", "个"),
        ("总投资", _yi(t["total_investment"]), "亿元"),
        ("年度计划投资", _yi(t["annual_plan"]), "亿元"),
        ("本年累计完成", _yi(t["ytd_completed"]), "亿元"),
        ("投资完成率", pct(t["completion_rate"]), f"序时进度 {pct(t['time_progress'])}"),
        ("开（复）工率", pct(t["start_rate"]), f"{t['started']:,}/{t['due']:,} 个"),
        ("竣工率", pct(t["completion_count_rate"]), f"{t['completed_as_planned']:,}/{t['planned_completions']:,} 个"),
        ("入统率", pct(t["stats_rate"]), f"{t['stats_registered']:,}/{t['stats_due']:,} 个"),
        ("录入率", pct(t["reporting_rate"]), f"{t['reported']:,}/{t['reporting_base']:,} 个"),
    ])
    main: list[Block] = [cards]
    if len(data.tiers) > 1:
        main.append(Table(
            ["层级", "项目数", "总投资(亿元)", "年度计划(亿元)", "累计完成(亿元)", "完成率", "超(滞后)序时(百分点)", "开(复)工率"],
            [[Cell(x["group"]), Cell(_n(x["projects"]), "num"), Cell(_yi(x["total_investment"]), "num"),
              Cell(_yi(x["annual_plan"]), "num"), Cell(_yi(x["ytd_completed"]), "num"),
              Cell(pct(x["completion_rate"]), "num"), Cell(_gap(x["schedule_gap"]), "num"),
              Cell(pct(x["start_rate"]), "num")] for x in data.tiers],
            spaced=True))
    s.add("主要指标", main)

    if images:
        s.add("图表", [Figures(list(images))])

    region_rows = sorted(
        (r for r in data.regions if r["projects"]),
        key=lambda r: (r["schedule_gap"] is None, r["schedule_gap"] if r["schedule_gap"] is not None else 0),
    )
    rows = []
    for r in region_rows:
        light = metrics.light(r["schedule_gap"])
        rows.append([Cell(r["group"]), Cell(_n(r["projects"]), "num"), Cell(_yi(r["annual_plan"]), "num"),
                     Cell(_yi(r["ytd_completed"]), "num"), Cell(pct(r["completion_rate"]), "num"),
                     Cell(_gap(r["schedule_gap"]), "num"), Cell(metrics.LIGHT_ZH.get(light or "", "—"), light or ""),
                     Cell(pct(r["start_rate"]), "num"), Cell(pct(r["reporting_rate"]), "num")])
    s.add(f"各{unit}进度（按超（滞后）序时进度排序）", [Table(
        [unit, "项目数", "年度计划(亿元)", "累计完成(亿元)", "完成率", "超(滞后)序时(百分点)", "灯", "开(复)工率", "录入率"],
        rows)])

    overdue = data.overdue.head(PRINTED["overdue"]).to_dicts()
    blocks: list[Block] = [Para("无。")]
    if overdue:
        blocks = [Table(
            ["#", "项目名称", "地市", "县区", "计划开（复）工", "未开复工原因", "待办前期手续"],
            [[Cell(str(i), "num"), Cell(p["project_name"]), Cell(p["city_name"] or "", "region"),
              Cell(p["county_name"] or "", "region"), Cell(str(p["planned_start_date"] or ""), "num"),
              Cell(p["not_started_reason"] or "未说明"), Cell(p["blocking_procedure"] or "")]
             for i, p in enumerate(overdue, 1)])]
        if (more := listed["overdue"] - PRINTED["overdue"]) > 0:
            blocks.append(Para(f"另有 {more} 个项目未列出，详见系统“开工”页。", "more"))
    s.add(f"逾期未开工项目（{listed['overdue']}个）", blocks)

    problems = data.problems.head(PRINTED["problems"]).to_dicts()
    blocks = [Para("无。")]
    if problems:
        blocks = [Table(
            ["#", "项目名称", "地区", "存在问题", "建议解决部门", "已挂天数"],
            [[Cell(str(i), "num"), Cell(p["project_name"]), Cell(_place(p)), Cell(str(p["problem"] or "")),
              Cell(p["problem_department"] or ""), Cell("" if p["age_days"] is None else str(p["age_days"]), "num")]
             for i, p in enumerate(problems, 1)])]
        if (more := listed["problems"] - PRINTED["problems"]) > 0:
            blocks.append(Para(f"另有 {more} 项未列出，详见系统“问题清单”页。", "more"))
    s.add(f"需协调解决的问题（{listed['problems']}项）", blocks)

    lit = lights_view.shown(data.lit.head(PRINTED["lit"])).to_dicts() if data.lit.height else []
    blocks = [Para("无。")]
    if lit:
        blocks = [Table(
            ["#", "项目名称", "地区", "综合灯", "较上期", "亮灯原因"],
            [[Cell(str(i), "num"), Cell(p["project_name"]), Cell(_place(p)), Cell(str(p["light"])),
              Cell(str(p["light_change"])), Cell(str(p["light_reason"]))] for i, p in enumerate(lit, 1)])]
        if (more := listed["lit"] - PRINTED["lit"]) > 0:
            blocks.append(Para(f"另有 {more} 个项目未列出，详见系统“亮灯清单”页。", "more"))
    s.add(f"亮灯项目（红灯{data.lights.get('lights_red', '')}个、黄灯{data.lights.get('lights_yellow', '')}个）", blocks)

    if data.supervision_regions:
        sv = data.supervision
        s.add(f"督办单（在办{sv['open']}件，逾期未回复{sv['overdue']}件，已办结{sv['closed']}件）", [Table(
            ["地市", "在办", "其中逾期", "已办结"],
            [[Cell(r["region"]), Cell(str(r["open"]), "num"), Cell(str(r["overdue"]), "num"),
              Cell(str(r["closed"]), "num")] for r in data.supervision_regions])])

    if data.reconcile_lines:
        blocks = [Para(line) for line in data.reconcile_lines]
        if data.reconcile_rows:
            blocks.append(Table(
                ["#", "清单", "核对结果", "项目名称", "地区", "说明"],
                [[Cell(str(i), "num"), Cell(r["kind"]), Cell(r["outcome_zh"]), Cell(r["project_name"]),
                  Cell(_place(r)), Cell(r.get("differences") or "")]
                 for i, r in enumerate(data.reconcile_rows[:40], 1)]))
            if (more := len(data.reconcile_rows) - 40) > 0:
                blocks.append(Para(f"另有 {more} 个项目未列出，详见系统“清单核对”页。", "more"))
        s.add("清单核对（项目漏报、规范入统）", blocks)

    if data.corrections or data.effects:
        blocks = [Para("上期简报发出后，以下较早报告期的数据经报送单位更正（原值 → 新值，更正人及时间）："),
                  Items(list(data.corrections))]
        if data.effects:
            blocks += [Para("对已发简报所列数字的影响（按更正后数据重新计算）："), Items(list(data.effects), ordered=False)]
        s.add("更正说明", blocks, numbered=False, kind="corrections")

    made = (generated or datetime.now()).strftime("%Y-%m-%d %H:%M")
    notes = ("口径说明：" + "".join(f"{f}；" for f in data.footnotes)
             + f"金额单位为亿元（1亿元 = 10000万元）。数据截至 {data.as_of}，生成于 {made}。")
    d = data.as_of
    return Document(
        title=data.title, as_of_line=f"（截至{d.year}年{d.month}月{d.day}日）", is_demo=data.is_demo,
        reissue=data.reissue, filter_lines=list(data.filter_lines), sections=s.out, notes=notes, generated=made)
