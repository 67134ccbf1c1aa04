"""The 简报: a Chinese A4 briefing (PDF, PNG pages, or an editable Word file) for the current filters.

Every number in it comes from pipelines.metrics (the same calls the pages and `kaigong metrics`
make), so the paper says what the dashboard says. User text (project names, problems) goes
through Jinja2's autoescape: a name with <script> prints as text.
"""

from __future__ import annotations

import base64
import io
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import polars as pl

from pipelines import metrics
from pipelines.metrics import lights
from pipelines.views import corrections as corrections_view
from pipelines.views import lights as lights_view
from pipelines.views import plans, reconcile
from pipelines.views import supervision as supervision_view
from pipelines.views.options import filter_lines
from pipelines.views.problems import open_problems
from pipelines.vocab import formats, procedures, schema
from pipelines.vocab.reference import region_by_code

Progress = Callable[[str], None]

NO_FILTERS = metrics.Filters()
A4_WIDTH_PX = 1000  # chart width in CSS px before scale; printed at ~180 mm, so text prints legibly
CHART_SCALE = 2  # kaleido scale: ~300 dpi on the printed width
PRINTED: dict[str, int] = {"overdue": 30, "problems": 30, "lit": 20}  # the rows of each list a briefing prints
# the formats a briefing is made in: file suffix → (what the page calls it, MIME type)
FORMATS: dict[str, tuple[str, str]] = {
    "pdf": ("PDF", "application/pdf"),
    "png": ("PNG", "image/png"),
    "docx": ("Word", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
}


@dataclass
class BriefingData:
    """Everything the briefing prints, computed once from the metrics layer."""

    as_of: date
    year: int
    filters: metrics.Filters
    title: str
    scope: str
    filter_lines: list[tuple[str, str]]
    total: dict[str, Any]
    tiers: list[dict[str, Any]]
    regions: list[dict[str, Any]]  # by city, or by county when one city is chosen
    region_level: str  # city | county
    overdue: pl.DataFrame
    problems: pl.DataFrame
    sentences: list[str]
    is_demo: bool = False
    footnotes: list[str] = field(default_factory=list)
    lights: dict[str, Any] = field(default_factory=dict)  # lights_red/yellow/green over S (pipelines/lights.py)
    lit: pl.DataFrame = field(default_factory=pl.DataFrame)  # the 亮灯清单, red first
    supervision: dict[str, int] = field(default_factory=dict)  # 督办单 open/overdue/closed (warehouse/supervision.py)
    supervision_regions: list[dict[str, Any]] = field(default_factory=list)  # the same per city
    reconcile_lines: list[str] = field(default_factory=list)  # one summary per department's list loaded for the year
    reconcile_rows: list[dict[str, Any]] = field(default_factory=list)  # 漏报 and 入统未确认 (views/reconcile.py)
    corrections: list[str] = field(default_factory=list)  # 更正说明: earlier periods corrected (views/corrections.py)
    effects: list[str] = field(default_factory=list)  # their effect on the figures issued before
    reissue: str | None = None  # a reissue (重印) says so under the title (outputs/issue.py); never recorded
    listed: dict[str, int] = field(default_factory=dict)  # a record keeps the printed head of each list: its length


def _yi(wan: float | None) -> str:
    """亿元 to 0.1, the precision of a 通报."""
    return formats.yi_num(wan, 1)


def _day(d: date) -> str:
    return f"{d.month}月{d.day}日"


def _scope_parts(filters: metrics.Filters) -> tuple[str, str | None]:
    """The chosen regions (「忻州市」, 「太原市、忻州市」) and tiers (「省级双百」) in words; None for all tiers."""
    tiers = set(filters.tiers)
    if tiers == {"省级双百·新兴", "省级双百·技改"}:
        tier: str | None = "省级双百"
    elif tiers:
        tier = "、".join(t for t in schema.TIERS if t in tiers)
    else:
        tier = None
    places = [region_by_code()[c].name for c in (*filters.counties, *filters.cities) if c in region_by_code()]
    place = "、".join(places[:3]) + ("等" if len(places) > 3 else "") if places else ""
    return place, tier


def scope_name(filters: metrics.Filters) -> str:
    """The subject of the 通报 sentences: 省级双百 / 市级千项 / 全部重点, with the region."""
    place, tier = _scope_parts(filters)
    return f"{place}{tier or '重点工业转型升级'}"


def _title(filters: metrics.Filters) -> str:
    place, tier = _scope_parts(filters)
    return f"{place}{f'{tier}项目' if tier else '工业转型升级重点项目'}建设进展简报"


def _yoy_words(fig: dict[str, Any]) -> str:
    """「同比增长12.0%（与上年清单同期比，两年清单不同；同口径增长8.0%）」, or nothing without the year before."""
    def grew(rate: float) -> str:
        return f"{'增长' if rate >= 0 else '下降'}{abs(rate) * 100:.1f}%"

    yoy, same = fig.get("ytd_yoy"), fig.get("ytd_yoy_same")
    if yoy is None and same is None:
        return ""
    text = f"同比{grew(yoy)}（与上年清单同期比，两年清单不同" if yoy is not None else "（"
    if same is not None:
        text += f"{'；' if yoy is not None else ''}同口径{grew(same)}"
    return text + "）"


def headline_sentence(scope: str, as_of: date, fig: dict[str, Any]) -> str:
    """「截至3月31日，省级双百项目累计完成投资58.6亿元，占年度计划的X%，滞后序时进度Y个百分点；开（复）工率82.5%。」"""
    parts = [f"截至{_day(as_of)}，{scope}项目累计完成投资{_yi(fig['ytd_completed'])}亿元"]
    yoy = _yoy_words(fig)
    if yoy:
        parts.append(yoy)
    if fig["completion_rate"] is not None:
        parts.append(f"占年度计划的{fig['completion_rate'] * 100:.1f}%")
        gap = fig["schedule_gap"]
        word = "超" if gap >= 0 else "滞后"
        parts.append(f"{word}序时进度{abs(gap):.1f}个百分点")
    text = "，".join(parts)
    if fig["start_rate"] is not None:
        text += f"；开（复）工率{fig['start_rate'] * 100:.1f}%"
    return text + "。"


def _count_sentence(fig: dict[str, Any]) -> str:
    s = (
        f"纳入调度项目{fig['projects']}个，总投资{_yi(fig['total_investment'])}亿元，"
        f"年度计划投资{_yi(fig['annual_plan'])}亿元；应开（复）工项目{fig['due']}个，"
        f"已开（复）工{fig['started']}个，逾期未开工{fig['overdue']}个"
    )
    if fig["planned_completions"]:
        s += f"；计划年内竣工{fig['planned_completions']}个，已按计划竣工{fig['completed_as_planned']}个"
    if fig["completed"] != fig["completed_as_planned"]:  # completions outside the plan are said apart
        s += f"{'，' if fig['planned_completions'] else '；'}本年竣工{fig['completed']}个（含计划外）"
    return s + "。"


def sentences(data_total: dict[str, Any], tiers: list[dict[str, Any]], regions: list[dict[str, Any]],
              overdue: pl.DataFrame, scope: str, as_of: date, region_level: str) -> list[str]:
    """The standard 通报 sentences, written from the figures."""
    out = [headline_sentence(scope, as_of, data_total), _count_sentence(data_total)]
    for t in tiers:
        if t["projects"] and len(tiers) > 1:
            out.append(headline_sentence(t["group"], as_of, t))
    unit = "地市" if region_level == "city" else "县区"
    red = [r["group"] for r in regions if metrics.light(r["schedule_gap"]) == "red"]
    yellow = [r["group"] for r in regions if metrics.light(r["schedule_gap"]) == "yellow"]
    if red:
        out.append(f"{'、'.join(red)}{'等' if len(red) > 1 else ''}{len(red)}个{unit}滞后序时进度超过30个百分点（红灯），需重点督导。")
    if yellow:
        out.append(f"{'、'.join(yellow)}{len(yellow)}个{unit}滞后序时进度10～30个百分点（黄灯）。")
    if overdue.height:
        reasons = Counter(
            r for r in overdue["not_started_reason"].fill_null("未说明原因").to_list() for r in [str(r)[:12]]
        ).most_common(3)
        top = "、".join(f"{r}（{n}个）" for r, n in reasons)
        out.append(f"逾期未开工项目{overdue.height}个，主要原因：{top}。")
    half = metrics.double_half(as_of, data_total["completion_rate"])
    if half is not None:
        out.append(
            f"投资完成率{formats.pct(data_total['completion_rate'])}，"
            + ("已实现“双过半”。" if half else "未实现“双过半”，需加快进度。")
        )
    return out


def supervision_sentence(counts: dict[str, int], regions: list[dict[str, Any]]) -> str | None:
    """「督办单：在办3件（其中逾期未回复1件），已办结2件；逾期较多的是忻州市（1件）。」, or None without orders."""
    if not any(counts.values()):
        return None
    text = f"督办单：在办{counts['open']}件（其中逾期未回复{counts['overdue']}件），已办结{counts['closed']}件"
    late = [r for r in sorted(regions, key=lambda r: -r["overdue"]) if r["overdue"]][:3]
    if late:
        text += "；逾期较多的是" + "、".join(f"{r['region']}（{r['overdue']}件）" for r in late)
    return text + "。"


def collect(con: duckdb.DuckDBPyConnection, as_of: date, *, year: int | None = None,
            filters: metrics.Filters = NO_FILTERS, is_demo: bool = False, today: date | None = None,
            charts: EarlyCharts | None = None) -> BriefingData:
    """Compute everything the briefing prints. charts, when given, starts drawing the charts as soon as
    their figures are known (the regions'), while the rest is computed."""
    y = year or as_of.year
    d = min(as_of, date(y, 12, 31))
    region_level = "county" if len(filters.cities) == 1 else "city"
    groups = metrics.figures_by(con, d, (None, "tier", region_level), year=y, filters=filters)
    total, tiers, regions = groups[None][0], groups["tier"], groups[region_level]
    if charts is not None:
        charts.start(regions, d, region_level)
    overdue = procedures.with_statuses(metrics.project_states(con, d, year=y, filters=filters, columns=(
        "project_name", "city_name", "county_name", "planned_start_date", "not_started_reason", "tier",
        *procedures.FIELDS), where=metrics.Where("is_overdue"))).with_columns(blocking_procedure=procedures.blocking_zh_expr())
    # the 问题清单 page's open problems (not 销号), oldest first: one definition for both
    problems = open_problems(con, metrics.View(d, y, filters)).select(
        "project_name", "city_name", "county_name", "problem", "problem_department", "age_days"
    )
    scope = scope_name(filters)
    title = _title(filters)
    light_counts = lights.counts_by(con, d, (None,), year=y, filters=filters)[None][0]
    lit = lights.lit_list(con, d, year=y, filters=filters)
    data = BriefingData(
        as_of=d, year=y, filters=filters, title=title, scope=scope,
        filter_lines=filter_lines(y, d, filters), total=total, tiers=tiers, regions=regions,
        region_level=region_level, overdue=overdue, problems=problems,
        sentences=sentences(total, tiers, regions, overdue, scope, d, region_level),
        is_demo=is_demo,
        footnotes=[metrics.FORMULA_ZH[k] for k in
                   ("completion_rate", "time_progress", "schedule_gap", "start_rate", "completion_count_rate",
                    "stats_rate", "reporting_rate", "lights", "double_half")]
                  + ([metrics.FORMULA_ZH["ytd_yoy"], metrics.FORMULA_ZH["ytd_yoy_same"]]
                     if total.get("ytd_yoy") is not None or total.get("ytd_yoy_same") is not None else []),
    )
    data.lights, data.lit = light_counts, lit
    data.sentences.insert(2, lights_view.briefing_sentence(light_counts, lit))  # after the counts sentence
    data.footnotes.extend(lights.formulas_zh())
    # hook: the 督办单 as they stand today (open, overdue without reply, closed), in the filter's cities
    orders = supervision_view.orders(con, today or date.today(), city_codes=filters.cities or None)
    data.supervision = supervision_view.totals(orders)
    data.supervision_regions = supervision_view.counts_by_region(orders).to_dicts()
    if (line := supervision_sentence(data.supervision, data.supervision_regions)) is not None:
        data.sentences.append(line)
    data.reconcile_lines, data.reconcile_rows = reconcile_section(con, d, filters)
    fixed = corrections_view.corrections(con, d, filters)
    data.corrections, data.effects = fixed.lines, fixed.effects
    # where a region's 年度计划 was cut below its 年初计划 (完成率 stays against the adjusted plan)
    if (cut := plans.cut_line(plans.plan_cuts(con, metrics.View(d, y, filters)))) is not None:
        data.sentences.insert(1, cut)  # after the 完成率 sentence
    return data


def reconcile_section(con: duckdb.DuckDBPyConnection, as_of: date,
                      filters: metrics.Filters) -> tuple[list[str], list[dict[str, Any]]]:
    """The 按季通报 of the departments' lists loaded for the year (views/reconcile.py): a summary per
    list, and its 漏报 (missing) and 入统未确认 (unconfirmed) projects."""
    lines: list[str] = []
    rows: list[dict[str, Any]] = []
    for kind in reconcile.KINDS:
        rec = reconcile.reconcile(con, kind, as_of, filters)
        if not rec.loaded:
            continue
        lines.append(reconcile.summary_zh(rec))
        flagged = rec.rows.filter(pl.col("outcome").is_in(["missing", "unconfirmed"]))
        rows += [{"kind": kind, "outcome_zh": reconcile.OUTCOME_ZH[r["outcome"]], **r}
                 for r in flagged.iter_rows(named=True)]
    return lines, rows


# ---- rendering -------------------------------------------------------------------------------

_TEMPLATE = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
)


def figure_pngs(figures: list[tuple[str, Any]], progress: Progress | None = None) -> list[tuple[str, bytes]]:
    """Render plotly figures to PNGs (caption, bytes) in one request to the browser: the PDF's and the Word
    file's charts are the same images."""
    from pipelines.outputs.png import figures_png

    if not figures:
        return []
    if progress:
        progress(f"渲染图表 {len(figures)} 张：" + "、".join(caption for caption, _ in figures))
    pngs = figures_png([(fig, A4_WIDTH_PX, int(fig.layout.height or A4_WIDTH_PX * 0.45)) for _, fig in figures],
                       scale=CHART_SCALE)
    return [(caption, png) for (caption, _), png in zip(figures, pngs, strict=True)]


def figure_images(figures: list[tuple[str, Any]], progress: Progress | None = None) -> list[tuple[str, str]]:
    """Render plotly figures to PNG data URIs in one request to the browser."""
    return _data_uris(figure_pngs(figures, progress))


def _data_uris(pngs: list[tuple[str, bytes]]) -> list[tuple[str, str]]:
    return [(caption, "data:image/png;base64," + base64.b64encode(png).decode("ascii")) for caption, png in pngs]


def briefing_figures(data: BriefingData) -> list[tuple[str, Any]]:
    """The key charts, from the same builders the pages use (start rates, completion vs 序时进度, ranking)."""
    return chart_figures(data.regions, data.as_of, data.region_level)


def chart_figures(all_regions: list[dict[str, Any]], as_of: date, region_level: str) -> list[tuple[str, Any]]:
    """briefing_figures from the regions' figures alone (what the charts draw)."""
    from pipelines.outputs import charts
    from pipelines.views import ranking

    unit = "地市" if region_level == "city" else "县区"
    regions = [r for r in all_regions if r["projects"]]
    return [
        (f"各{unit}开（复）工率", charts.rate_bars(regions, "start_rate", f"各{unit}开（复）工率", as_of)),
        (f"各{unit}投资完成率与序时进度", charts.rate_bars(
            regions, "completion_rate", f"各{unit}投资完成率与序时进度", as_of,
            marker="time_progress", colour_by_light=True)),
        (f"各{unit}综合排名", charts.ranking_bars(ranking.rank(regions), as_of, ranking.FORMULA_ZH)),
    ]


class EarlyCharts:
    """The briefing's chart images, drawn in a thread of their own from the moment collect() has the
    regions' figures, while it computes the rest (the browser's work overlaps the queries'); render()
    then waits for them, within the export bound, instead of drawing them itself."""

    def __init__(self, progress: Progress | None = None) -> None:
        self.progress = progress
        self.key: tuple[Any, ...] | None = None
        self.pngs: list[tuple[str, bytes]] | None = None
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def start(self, regions: list[dict[str, Any]], as_of: date, region_level: str) -> None:
        self.key = (id(regions), as_of, region_level)
        figures = chart_figures(regions, as_of, region_level)  # here: progress may be a page's (no threads)
        if self.progress and figures:
            self.progress(f"渲染图表 {len(figures)} 张：" + "、".join(caption for caption, _ in figures))

        def draw() -> None:
            try:
                self.pngs = figure_pngs(figures)
            except BaseException as exc:  # raised where they are waited for: result()
                self.error = exc

        self.thread = threading.Thread(target=draw, name="kaigong-brief-charts", daemon=True)
        self.thread.start()

    def result(self, data: BriefingData) -> list[tuple[str, bytes]] | None:
        """The images of data's charts (None when they were not started for data's regions); the drawing's
        error raised here; ExportUnavailable if it has not ended within the bound."""
        if self.thread is None or self.key != (id(data.regions), data.as_of, data.region_level):
            return None
        from pipelines.outputs.png import ExportUnavailable, timeout_s

        bound = timeout_s() * 5 + 10  # figures_png's own waits are bounded: the browser's start, then 3 charts
        self.thread.join(timeout=bound)
        if self.thread.is_alive():
            raise ExportUnavailable(f"图表渲染超过 {bound:.0f} 秒未完成，已中止：请稍后再试，"
                                    "或设 KAIGONG_EXPORT_TIMEOUT 放宽时限")
        if self.error is not None:
            raise self.error
        return self.pngs


def build(con: duckdb.DuckDBPyConnection, as_of: date, *, year: int | None = None,
          filters: metrics.Filters = NO_FILTERS, is_demo: bool = False, fmt: str = "pdf",
          progress: Progress | None = None) -> bytes:
    """The whole briefing as PDF (or PNG pages stacked, or Word: fmt "docx"), for the page and the CLI alike;
    export.ExportUnavailable (before any work) when the browser, font, Pango or poppler is missing."""
    from pipelines.outputs.png import require_briefing

    require_briefing(fmt)
    say = progress or (lambda _msg: None)
    say("计算指标")
    data = collect(con, as_of, year=year, filters=filters, is_demo=is_demo)
    return render(data, fmt, progress)


def render(data: BriefingData, fmt: str = "pdf", progress: Progress | None = None,
           charts: EarlyCharts | None = None) -> bytes:
    """The briefing of data (computed now, or as recorded when issued: outputs/issue.py) as PDF, PNG or
    Word (docx): the same content model (outputs/brief_content.py) and the same chart images (those
    charts drew while data was collected, when given)."""
    say = progress or (lambda _msg: None)
    early = charts.result(data) if charts is not None else None
    pngs = early if early is not None else figure_pngs(briefing_figures(data), progress)
    if fmt == "docx":
        from pipelines.outputs import word
        from pipelines.outputs.brief_content import document

        say("排版 Word")
        return word.render_docx(document(data, pngs))
    images = _data_uris(pngs)
    say("排版 PDF")
    pdf = render_pdf(data, images)
    if fmt == "png":
        say("转换为 PNG")
        return pdf_to_png(pdf)
    return pdf


def render_html(data: BriefingData, images: list[tuple[str, str]]) -> str:
    """The briefing as HTML for weasyprint: the content model (outputs/brief_content.py) laid out."""
    from pipelines.outputs.brief_content import document

    return _TEMPLATE.get_template("briefing.html.j2").render(doc=document(data, images))


def render_pdf(data: BriefingData, images: list[tuple[str, str]]) -> bytes:
    from pipelines.outputs.png import weasyprint

    return weasyprint().HTML(string=render_html(data, images)).write_pdf()


PDFTOPPM_TIMEOUT_S = 120  # a two-page briefing takes under 2 s


def pdf_to_png(pdf: bytes, dpi: int = 110) -> bytes:
    """The briefing as one PNG: every PDF page, stacked (poppler's pdftoppm)."""
    import subprocess
    import tempfile

    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "b.pdf"
        src.write_bytes(pdf)
        try:
            subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(src), str(Path(tmp) / "p")], check=True,
                           timeout=PDFTOPPM_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            from pipelines.outputs.png import ExportUnavailable

            raise ExportUnavailable(f"PDF 转 PNG（pdftoppm）超过 {PDFTOPPM_TIMEOUT_S} 秒未完成，已中止：请改用 PDF 格式") from None
        pages = [Image.open(p).convert("RGB") for p in sorted(Path(tmp).glob("p*.png"))]
        width = max(p.width for p in pages)
        sheet = Image.new("RGB", (width, sum(p.height for p in pages)), "white")
        y = 0
        for p in pages:
            sheet.paste(p, (0, y))
            y += p.height
        buf = io.BytesIO()
        sheet.save(buf, format="PNG", optimize=True)
        return buf.getvalue()
