"""Hostile uploads (issue 18): refused before decoding, quickly and in little memory."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from datetime import date
from pathlib import Path

import pytest

from pipelines.ingest import guard
from pipelines.ingest.prepare import prepare
from pipelines.ingest.result import ReadOptions
from tests.conftest import ROOT

ROW = "".join(f'<c r="{c}1" t="inlineStr"><is><t>甲项目甲项目</t></is></c>' for c in "ABCDEFGH")
_PARTS = {
    "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
    '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
    '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
    'worksheet+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
    'main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" '
    'sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
    '2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
}


def _deflated_repeat(head: bytes, chunk: bytes, times: int, tail: bytes) -> tuple[bytes, int, int]:
    """(raw deflate of head + chunk × times + tail, its CRC, its size), built without inflating it:
    after a full flush deflate starts afresh, so the chunk's compressed bytes repeat as they are."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = [c.compress(head), c.flush(zlib.Z_FULL_FLUSH)]
    one = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    out.append(one * times)
    out.append(c.compress(tail) + c.flush())
    crc = zlib.crc32(head)
    for _ in range(times):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    return b"".join(out), crc, len(head) + len(chunk) * times + len(tail)


def _zip(parts: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip of (name, deflated bytes, crc, size as declared, method 8) parts, written by hand."""
    body, directory = bytearray(), bytearray()
    for name, data, crc, size, method in parts:
        n = name.encode()
        offset = len(body)
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, len(data), size, len(n), 0) + n + data
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, len(data), size,
                                 len(n), 0, 0, 0, 0, 0, offset) + n
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(parts), len(parts), len(directory), len(body), 0)
    return bytes(body + directory + end)


def bomb(mb: int = 800, *, declared: int | None = None) -> bytes:
    """An xlsx whose one sheet inflates to about mb MB of rows (from ~1–3 MB); declared, if given,
    is the sheet's size as its directory states it (a lie)."""
    head = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    row = f"<row>{ROW}</row>".encode()
    chunk = row * max(1, (1 << 20) // len(row))
    sheet, crc, size = _deflated_repeat(head, chunk, mb, b"</sheetData></worksheet>")
    parts = []
    for name, text in _PARTS.items():
        raw = text.encode()
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        parts.append((name, c.compress(raw) + c.flush(), zlib.crc32(raw), len(raw), 8))
    parts.append(("xl/worksheets/sheet1.xml", sheet, crc, size if declared is None else declared, 8))
    return _zip(parts)


_MEASURE = r"""
import json, sys, time
from datetime import date
from pipelines.ingest.read import read_submission
from pipelines.ingest.result import ReadOptions
raw = open(sys.argv[1], "rb").read()
read_submission(b"a,b\n1,2\n", "warm.csv")  # imports and first use, before the baseline
def status(key):
    return int(next(l.split()[1] for l in open("/proc/self/status") if l.startswith(key))) * 1024
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # resets VmHWM: the peak from here on
before = status("VmRSS")
t = time.perf_counter()
res = read_submission(raw, "炸弹.xlsx", ReadOptions(report_date=date(2020, 3, 27)))
print(json.dumps({"s": time.perf_counter() - t, "grew": status("VmHWM") - before,
                  "errors": [e.zh() for e in res.errors]}, ensure_ascii=False))
"""


def _measured(tmp_path: Path, raw: bytes) -> dict:
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(raw)
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_zip_bomb_is_refused_from_its_directory_in_little_time_and_memory(tmp_path):
    raw = bomb(800)
    assert len(raw) < 5 * 1024 * 1024  # a few MB, under every upload limit
    got = _measured(tmp_path, raw)
    assert len(got["errors"]) == 1
    msg = got["errors"][0]
    assert msg.startswith("文件 炸弹.xlsx：疑似压缩炸弹"), msg
    assert "上限 100 : 1" in msg and "xl/worksheets/sheet1.xml" in msg
    assert got["s"] < 3, got
    assert got["grew"] < 30 * 1024 * 1024, got  # the 800 MB are never inflated (was: 2 GB, 33 s)


def test_a_bomb_that_lies_about_its_size_is_stopped_once_past_what_it_declared(tmp_path):
    raw = bomb(800, declared=300_000)  # a plausible ratio by its directory
    guard.check_xlsx_declared(raw)  # passes the directory's checks
    got = _measured(tmp_path, raw)
    assert len(got["errors"]) == 1
    assert "超过它声明的大小" in got["errors"][0] and got["errors"][0].startswith("文件 炸弹.xlsx："), got
    assert got["s"] < 3, got
    assert got["grew"] < 30 * 1024 * 1024, got


def test_an_honest_workbook_over_the_cap_is_refused_saying_the_limit_and_how_to_split(monkeypatch):
    raw = bomb(30)  # ratio within bounds? no: 30 MB of repeated rows compress far too well
    with pytest.raises(guard.Refused, match="压缩比"):
        guard.check_xlsx_declared(raw)
    monkeypatch.setenv("KAIGONG_MAX_ZIP_RATIO", "100000")  # allow the ratio: the cap on size speaks
    monkeypatch.setenv("KAIGONG_MAX_UNPACKED_MB", "20")
    p = prepare(raw, "大文件.xlsx", ReadOptions(report_date=date(2020, 3, 27)))
    assert not p.ok and len(p.errors) == 1
    msg = p.errors[0].zh()
    assert msg.startswith("文件 大文件.xlsx：工作簿解压后的表格数据约 30 MB，超过上限 20 MB"), msg
    assert "拆成几个较小的文件" in msg


def test_the_bench_sized_workbook_passes_the_default_limits():
    # The 100,000-row bench file: a 12 MB sheet part declaring 120 MB, sharedStrings 3.7 → 22 MB.
    parts = [("xl/worksheets/sheet1.xml", b"\0" * 10, 0, 120_417_170, 8),
             ("xl/sharedStrings.xml", b"\0" * 10, 0, 22_499_426, 8)]
    raw = bytearray(_zip(parts))
    # declared compressed sizes as the real file has them (the bytes are not inflated here)
    for name, comp in (("xl/worksheets/sheet1.xml", 12_409_255), ("xl/sharedStrings.xml", 3_737_529)):
        at = raw.rindex(b"PK\x01\x02", 0, raw.index(name.encode(), raw.index(b"PK\x01\x02")))
        raw[at + 20:at + 24] = struct.pack("<I", comp)
    assert sum(p.size for p in guard.check_xlsx_declared(bytes(raw))) < guard.max_unpacked_bytes() / 2.5


def test_csv_and_xls_limits(monkeypatch):
    monkeypatch.setenv("KAIGONG_MAX_CSV_LINES", "100")
    p = prepare(("项目名称,地市\n" + "甲,太原市\n" * 150).encode(), "长.csv", ReadOptions(report_date=date(2020, 3, 27)))
    assert [e.zh() for e in p.errors] == [
        "文件 长.csv：文件有 151 行，超过上限 100 行，已拒绝读取：请按地市、层级或报告期把数据拆成几个较小的文件分别上传（每个文件不超过 20 万行）"]
    xls = (ROOT / "data" / "samples" / "shanxi_weekly.xls").read_bytes()
    streams = dict(guard.ole_streams(xls))
    assert 0 < streams["Workbook"] <= len(xls)
    guard.check_xls(xls)
    # the Workbook stream's directory entry claims 3 GB
    name = "Workbook".encode("utf-16-le")
    at = xls.index(name)
    forged = xls[:at + 120] + struct.pack("<Q", 3 << 30) + xls[at + 128:]
    p = prepare(forged, "篡改.xls", ReadOptions(report_date=date(2020, 3, 27)))
    assert len(p.errors) == 1 and "大于文件本身" in p.errors[0].zh() and "篡改.xls" in p.errors[0].zh()
