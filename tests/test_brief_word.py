"""The 简报 as a Word file (#29 §1): `kaigong brief --out x.docx` prints what the PDF prints (the same
sentences, tables and chart images, from one content model) in the GB/T 9704-2012 公文 layout, and is
recorded as issued like a PDF."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm
from PIL import Image
from pypdf import PdfReader

from pipelines.outputs import brief_content, briefing, word

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.xdist_group("chromium")  # kaleido's browser: one worker at a time
AS_OF = "2020-12-25"


def kaigong(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, check=True)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def made(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The Word and the PDF briefing of the same date, as the CLI makes them."""
    out = tmp_path_factory.mktemp("word")
    runs = {kind: kaigong("--db", str(demo_db), "brief", "--as-of", AS_OF, "--out", str(out / f"b.{kind}"))
            for kind in ("docx", "pdf")}
    return {"docx": out / "b.docx", "pdf": out / "b.pdf", "runs": runs, "doc": Document(str(out / "b.docx"))}


def lead_paragraphs(doc: Any) -> list[str]:
    """The paragraphs under 「一、总体情况」 up to the next numbered heading."""
    out: list[str] = []
    inside = False
    for p in doc.paragraphs:
        if p.style.name == "Heading 1":
            if inside:
                break
            inside = p.text == "一、总体情况"
        elif inside and p.text:
            out.append(p.text)
    return out


def table_starting(doc: Any, *first: str) -> list[list[str]]:
    [table] = [t for t in doc.tables if tuple(c.text for c in t.rows[0].cells[:len(first)]) == first]
    return [[c.text for c in row.cells] for row in table.rows]


def test_sentences_are_the_pdfs(made: dict[str, Any], demo_db: Path) -> None:
    from pipelines.warehouse.store import Warehouse

    with Warehouse(demo_db).read() as con:
        data = briefing.collect(con, date.fromisoformat(AS_OF))
    sentences = lead_paragraphs(made["doc"])
    assert sentences == data.sentences == brief_content.document(data, []).sentences
    assert sentences[0].startswith("截至12月25日，重点工业转型升级项目累计完成投资2,395.1亿元")
    pdf = squeeze("".join(p.extract_text() for p in PdfReader(made["pdf"]).pages))
    for s in sentences:
        assert squeeze(s) in pdf
    texts = [p.text for p in made["doc"].paragraphs]
    assert texts[0] == "工业转型升级重点项目建设进展简报" and texts[0] in pdf
    assert "（截至2020年12月25日）　演示数据" in texts
    assert "[简报] 排版 Word" in made["runs"]["docx"].stderr


def test_sections_are_numbered_and_say_what_the_pdf_says(made: dict[str, Any]) -> None:
    heads = [p.text for p in made["doc"].paragraphs if p.style.name == "Heading 1"]
    assert [h.split("、")[0] for h in heads] == list("一二三四五六七")[: len(heads)]
    assert heads[:3] == ["一、总体情况", "二、主要指标", "三、图表"]
    assert heads[3] == "四、各地市进度（按超（滞后）序时进度排序）"
    assert heads[4].startswith("五、逾期未开工项目（43个）")
    assert any(h.startswith("七、亮灯项目（红灯59个、黄灯243个）") for h in heads)  # the lit list's head
    pdf = squeeze("".join(p.extract_text() for p in PdfReader(made["pdf"]).pages))
    for h in heads:
        assert squeeze(h) in pdf
    notes = made["doc"].paragraphs[-1].text
    assert notes.startswith("口径说明：投资完成率") and "金额单位为亿元" in notes  # the footnoted formulas
    assert squeeze(notes.split("生成于")[0]) in pdf


def test_tables_are_word_tables_with_the_figures(made: dict[str, Any], demo_db: Path) -> None:
    doc = made["doc"]
    [total] = json.loads(kaigong("--db", str(demo_db), "metrics", "--as-of", AS_OF, "--json").stdout)
    by_city = {m["group"]: m for m in json.loads(
        kaigong("--db", str(demo_db), "metrics", "--as-of", AS_OF, "--by", "city", "--json").stdout)}
    cards = [[c.text.split("\n") for c in row.cells] for row in doc.tables[0].rows]
    assert cards[0][0] == ["项目数", f"{total['projects']:,}", "个"] == ["项目数", "1,240", "个"]
    assert cards[1][0] == ["本年累计完成", f"{total['ytd_completed'] / 10000:,.1f}", "亿元"]
    assert cards[1][0][1] == "2,395.1"  # the sentence's figure

    regions = table_starting(doc, "地市")
    assert regions[0] == ["地市", "项目数", "年度计划(亿元)", "累计完成(亿元)", "完成率", "超(滞后)序时(百分点)", "灯",
                          "开(复)工率", "录入率"]
    rows = {r[0]: r for r in regions[1:]}
    assert len(rows) == 11
    ty = by_city["太原市"]
    assert rows["太原市"] == [
        "太原市", str(ty["projects"]), f"{ty['annual_plan'] / 10000:.1f}", f"{ty['ytd_completed'] / 10000:.1f}",
        f"{ty['completion_rate'] * 100:.1f}%", f"{ty['schedule_gap']:+.1f}", "绿灯",
        f"{ty['start_rate'] * 100:.1f}%", f"{ty['reporting_rate'] * 100:.1f}%"]
    gaps = [float(r[5]) for r in regions[1:]]
    assert gaps == sorted(gaps)  # sorted by 超(滞后)序时, most behind first, as the PDF
    pdf = squeeze("".join(p.extract_text() for p in PdfReader(made["pdf"]).pages))
    for r in regions[1:]:
        assert "".join(r) in pdf  # the PDF's row, cell for cell
    tiers = table_starting(doc, "层级")
    assert [r[0] for r in tiers[1:]] == ["省级双百·新兴", "省级双百·技改", "市级千项"]
    assert tiers[1][4] == "423.4"  # the 省级双百·新兴 sentence's 423.4亿元
    overdue = table_starting(doc, "#", "项目名称", "地市")
    assert len(overdue) == 31  # the printed head: 30 of 43
    assert any(p.text == "另有 13 个项目未列出，详见系统“开工”页。" for p in doc.paragraphs)
    header = doc.tables[1].rows[0]._tr
    assert header.find(qn("w:trPr")).find(qn("w:tblHeader")) is not None  # repeated on every page
    assert doc.tables[1].rows[1]._tr.find(qn("w:trPr")).find(qn("w:cantSplit")) is not None  # a row is not split


def test_charts_are_the_pdfs_images(made: dict[str, Any]) -> None:
    doc = made["doc"]
    assert len(doc.inline_shapes) == 3
    captions = {p.text for p in doc.paragraphs}
    assert {"各地市开（复）工率", "各地市投资完成率与序时进度", "各地市综合排名"} <= captions
    for shape in doc.inline_shapes:
        blob = doc.part.related_parts[shape._inline.graphic.graphicData.pic.blipFill.blip.embed].blob
        image = Image.open(io.BytesIO(blob))
        assert image.format == "PNG" and image.width == briefing.A4_WIDTH_PX * briefing.CHART_SCALE
        assert abs(shape.width - Mm(156)) < Mm(0.1)  # the text's width


def test_page_is_the_official_layout(made: dict[str, Any]) -> None:
    doc = made["doc"]
    [s] = doc.sections
    for got, mm in ((s.page_width, 210), (s.page_height, 297), (s.top_margin, 37), (s.bottom_margin, 35),
                    (s.left_margin, 28), (s.right_margin, 26)):
        assert abs(got - Mm(mm)) < Mm(0.05)
    grid = s._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "lines" and grid.get(qn("w:linePitch")) == "579"  # 225 mm / 22 lines
    normal = doc.styles["Normal"]
    assert normal.font.size.pt == 16  # 3号
    spacing = int(normal.element.rPr.find(qn("w:spacing")).get(qn("w:val")))
    assert 28 * (16 + spacing / 20) <= 156 / 25.4 * 72 < 29 * (16 + spacing / 20)  # 28 characters a line
    faces = word.faces()
    body_face = normal.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))
    assert body_face == faces["body"][0] and body_face in (*word.BODY_FACES, word.SERIF)
    title = doc.paragraphs[0].runs[0]
    assert title.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) in (*word.TITLE_FACES, word.SERIF, word.SANS)
    assert title.font.size.pt == 22  # 2号
    heading = doc.styles["Heading 1"].element.rPr.find(qn("w:rFonts"))
    assert heading.get(qn("w:eastAsia")) in (*word.HEADING_FACES, word.SANS)
    assert heading.get(qn("w:eastAsiaTheme")) is None  # a theme's face would win over the named one
    assert doc.settings.odd_and_even_pages_header_footer
    for footer in (s.footer, s.even_page_footer):
        xml = footer._element.xml
        assert "<w:instrText" in xml and " PAGE " in xml and 'w:fldCharType="begin"' in xml
        assert footer.paragraphs[0].text == "— 1 —"  # 「— N —」, the field's last value shown
        assert footer.paragraphs[0].runs[0].font.size.pt == 14  # 4号


def test_a_word_briefing_is_recorded_and_reissued_as_word(made: dict[str, Any], demo_db: Path, tmp_path: Path) -> None:
    import hashlib

    listed = json.loads(kaigong("--db", str(demo_db), "brief", "--list", "--json").stdout)
    sha = hashlib.sha256(made["docx"].read_bytes()).hexdigest()
    [rec] = [r for r in listed if r["sha256"] == sha]
    assert rec["format"] == "docx" and rec["as_of"] == AS_OF and rec["channel"] == "命令行"
    again = tmp_path / "again.docx"
    kaigong("--db", str(demo_db), "brief", "--reissue", str(rec["issue_id"]), "--out", str(again))
    doc = Document(str(again))
    assert doc.paragraphs[2].text.startswith(f"重印：第 {rec['issue_id']} 号简报")
    assert lead_paragraphs(doc) == lead_paragraphs(made["doc"])  # the recorded figures


def test_correction_note_is_printed_unnumbered(demo_db: Path) -> None:
    """The 更正说明 the PDF prints when earlier periods were corrected, in the Word file too (no browser)."""
    from pipelines.warehouse.store import Warehouse

    with Warehouse(demo_db).read() as con:
        data = briefing.collect(con, date(2020, 6, 30))
    data.corrections = ["丙项目 2020-04 实际开（复）工时间：2020-04-05 → 2020-06-15（王科长，2020-07-02 09:00）"]
    data.effects = ["第 3 号简报（截至5月31日）：开（复）工率由 75.0% 更正为 50.0%"]
    doc = Document(io.BytesIO(word.render_docx(brief_content.document(data, []))))
    heads = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert heads[-1] == "更正说明" and "三、图表" not in heads  # no charts: the sections close up
    texts = [p.text for p in doc.paragraphs]
    assert "1．" + data.corrections[0] in texts and "·" + data.effects[0] in texts
    html = briefing.render_html(data, [])
    assert "<h2>更正说明</h2>" in html and data.effects[0] in html


@pytest.mark.skipif(shutil.which("soffice") is None,
                    reason="LibreOffice (soffice) is not installed: make sysdeps installs libreoffice-writer-nogui")
def test_libreoffice_renders_it_on_a4(made: dict[str, Any], tmp_path: Path) -> None:
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(made["docx"])], check=True, capture_output=True, timeout=300)
    reader = PdfReader(tmp_path / "b.pdf")
    assert len(reader.pages) >= 5
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)
    first = squeeze(reader.pages[0].extract_text())
    assert "工业转型升级重点项目建设进展简报" in first and "—1—" in first
    assert squeeze(lead_paragraphs(made["doc"])[0]) in first
    assert "—2—" in squeeze(reader.pages[1].extract_text())


def test_briefing_page_offers_word(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("KAIGONG_DB", str(demo_db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/briefing.py").run()
    at.radio(key="briefing_format").set_value("docx").run()
    at.button(key="briefing_build").click().run(timeout=120)
    assert not at.exception
    kind, as_of, payload = at.session_state["briefing_payload"]
    assert kind == "docx" and payload.startswith(b"PK")
    doc = Document(io.BytesIO(payload))
    assert lead_paragraphs(doc)[0].startswith(f"截至{as_of.month}月{as_of.day}日")
    assert at.get("download_button")[0].proto.label == "下载 Word"


def test_a_push_can_carry_the_word_file(demo_db: Path) -> None:
    """kaigong notify's pushes (outputs/push.py) send the Word 简报 as a file, the same renderer's bytes."""
    from pipelines.outputs import push
    from pipelines.warehouse.store import Warehouse

    fmt = push.FORMATS["docx"]
    assert (fmt.ext, fmt.kind, fmt.mime) == ("docx", "file", briefing.FORMATS["docx"][1])
    with Warehouse(demo_db).read() as con:
        data = briefing.collect(con, date(2020, 3, 31), filters=briefing.metrics.Filters(cities=("140900",)))
    doc = Document(io.BytesIO(fmt.render(data)))
    assert lead_paragraphs(doc) == data.sentences and doc.paragraphs[0].text == "忻州市工业转型升级重点项目建设进展简报"
