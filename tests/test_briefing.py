"""The 简报 says what `kaigong metrics` says, embeds its fonts, and prints user text as text."""

from __future__ import annotations

import io
import json
import math
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from pipelines import metrics
from pipelines.outputs import briefing, charts
from pipelines.outputs.png import figure_png
from tests.conftest import load_rows

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.xdist_group("chromium")  # kaleido's browser: one worker at a time


def kaigong(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, check=True)


def pdf_text(path: Path) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(path).pages))


@pytest.fixture(scope="module")
def shuangbai_pdf(demo_db: Path, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("brief") / "b.pdf"
    run = kaigong("--db", str(demo_db), "brief", "--as-of", "2020-03-31", "--tier", "省级双百·新兴",
                  "--tier", "省级双百·技改", "--out", str(out))
    return out, run


def test_pdf_sentence_has_the_metrics_figures(demo_db, shuangbai_pdf):
    pdf, run = shuangbai_pdf
    [m] = json.loads(kaigong("--db", str(demo_db), "metrics", "--as-of", "2020-03-31", "--tier", "省级双百·新兴",
                             "--tier", "省级双百·技改", "--json").stdout)
    expected = (
        f"截至3月31日，省级双百项目累计完成投资{m['ytd_completed'] / 10000:.1f}亿元，"
        # 同比: the demo's 2019 (issue 29 §3), both ways, each labelled
        f"同比增长{m['ytd_yoy'] * 100:.1f}%（与上年清单同期比，两年清单不同；同口径增长{m['ytd_yoy_same'] * 100:.1f}%），"
        f"占年度计划的{m['completion_rate'] * 100:.1f}%，滞后序时进度{-m['schedule_gap']:.1f}个百分点；"
        f"开（复）工率{m['start_rate'] * 100:.1f}%。"
    )
    assert "58.6亿元" in expected and "82.5%" in expected  # the seed's published figures
    text = pdf_text(pdf)
    assert expected in text
    assert "省级双百项目建设进展简报" in text and "演示数据" in text
    assert "层级：省级双百·新兴、省级双百·技改" in text  # the filters are printed
    assert "渲染图表 3 张" in run.stderr  # progress while it renders (the three in one call)


def test_pdf_embeds_simplified_chinese_fonts(shuangbai_pdf):
    pdf, _ = shuangbai_pdf
    fonts = set()
    for page in PdfReader(pdf).pages:
        for font in page["/Resources"]["/Font"].values():
            f = font.get_object()
            desc = f["/DescendantFonts"][0].get_object()["/FontDescriptor"] if "/DescendantFonts" in f else f.get(
                "/FontDescriptor")
            if desc is not None:
                d = desc.get_object()
                assert any(k in d for k in ("/FontFile", "/FontFile2", "/FontFile3")), f["/BaseFont"]
                fonts.add(str(f["/BaseFont"]))
    assert any("Noto-Sans-CJK-SC" in f for f in fonts), fonts
    assert len(PdfReader(pdf).pages) >= 2 and PdfReader(pdf).pages[0].mediabox.width == pytest.approx(595.28, abs=1)


def test_png_briefing_and_chart_png_sizes(demo_db, tmp_path):
    out = tmp_path / "b.png"
    kaigong("--db", str(demo_db), "brief", "--as-of", "2020-03-31", "--city", "忻州", "--out", str(out))
    img = Image.open(out)
    assert img.width == math.ceil(595.28 / 72 * 110)  # A4 width at 110 dpi (pdftoppm rounds up)
    page_height = math.ceil(841.89 / 72 * 110)
    assert img.height % page_height == 0 and img.height >= page_height  # whole A4 pages, stacked
    fig = charts.rate_bars([{"group": "太原市", "start_rate": 0.5, "schedule_gap": -5.0}], "start_rate", "开工率",
                           date(2020, 3, 31))
    png = Image.open(io.BytesIO(figure_png(fig, width=800, height=400, scale=2)))
    assert png.size == (1600, 800)


def test_script_in_a_project_name_prints_as_text(wh):
    hostile = "<script>alert(1)</script>项目"
    load_rows(wh, date(2020, 3, 13), [{
        "project_name": hostile, "city_code": "140100", "city_name": "太原市", "tier": "市级千项", "stage": "新开工",
        "planned_start_date": date(2020, 3, 1), "not_started_reason": "<b>资金</b>", "problem": "<img src=x>",
    }])
    with wh.read() as con:
        data = briefing.collect(con, date(2020, 3, 13))
    html = briefing.render_html(data, [])
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;项目" in html
    assert "<img src=x>" not in html
    pdf = briefing.render_pdf(data, [])
    path = wh.path.with_name("x.pdf")
    path.write_bytes(pdf)
    assert "<script>alert(1)</script>项目" in pdf_text(path)


def test_sentences_say_red_lights_and_double_half(wh):
    tp = metrics.time_progress(date(2020, 7, 3))
    load_rows(wh, date(2020, 7, 3), [
        {"project_name": "甲", "city_code": "140100", "city_name": "太原市", "tier": "市级千项", "stage": "在建",
         "annual_plan": 1000.0, "ytd_completed": 100.0},
    ])
    with wh.read() as con:
        data = briefing.collect(con, date(2020, 7, 3))
    gap = (0.1 - tp) * 100
    # 在建 with no date and nothing saying otherwise: continuing, so due and started (issue 25)
    assert data.sentences[0] == (f"截至7月3日，重点工业转型升级项目累计完成投资0.0亿元，占年度计划的10.0%，"
                                 f"滞后序时进度{-gap:.1f}个百分点；开（复）工率100.0%。")
    assert any("太原市1个地市滞后序时进度超过30个百分点（红灯）" in s for s in data.sentences)
    assert data.sentences[-1] == "投资完成率10.0%，未实现“双过半”，需加快进度。"


def test_briefing_page_builds_the_pdf(demo_db, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("KAIGONG_DB", str(demo_db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/briefing.py").run()
    assert not at.exception
    at.button(key="briefing_build").click().run(timeout=120)
    assert not at.exception
    kind, as_of, payload = at.session_state["briefing_payload"]
    assert kind == "pdf" and payload.startswith(b"%PDF")
    path = demo_db.with_name("page.pdf")
    path.write_bytes(payload)
    assert f"截至{as_of.month}月{as_of.day}日" in pdf_text(path)


def test_counts_print_with_thousands_separators_and_regions_on_one_line(demo_db: Path):
    """The cards and tables say 1,240 as the pages do (they printed 1240), and a region cell never wraps
    (太原市 broke into 太原 / 市 in the overdue table)."""
    from pipelines.warehouse.store import Warehouse

    with Warehouse(demo_db).read() as con:
        data = briefing.collect(con, date(2020, 12, 25))
    n = data.total["projects"]
    assert n >= 1000
    html = briefing.render_html(data, [])
    assert f'<div class="v">{n:,}</div>' in html and f'<div class="v">{n}</div>' not in html
    assert f"{data.total['reported']:,}/{data.total['reporting_base']:,} 个" in html
    assert "td.region { white-space: nowrap; }" in html
    if data.overdue.height:
        assert '<td class="region">' in html
