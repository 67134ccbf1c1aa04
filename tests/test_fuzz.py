"""Malformed files end in a clear Chinese error or a correct load: no crash, no partial load.

Bounded for CI; a longer run: KAIGONG_FUZZ_EXAMPLES=2000 pytest tests/test_fuzz.py
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from datetime import date

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.ingest.prepare import prepare
from pipelines.ingest.result import ReadOptions
from pipelines.vocab.findings import SubmissionRefused
from pipelines.warehouse.intake import load_prepared
from pipelines.warehouse.store import Warehouse

EXAMPLES = int(os.environ.get("KAIGONG_FUZZ_EXAMPLES", "60"))
CJK = re.compile(r"[\u4e00-\u9fff]")
HEAD = "项目名称,地市,层级,建设状态,总投资,本年计划投资,本年累计完成投资\n"
GOOD_ROW = "甲项目,太原市,市级千项,在建,1000,500,100\n"


def _assert_clean(raw: bytes, name: str, wh: Warehouse) -> str:
    """prepare never raises; errors are Chinese; a load is whole or refused with nothing written.
    Returns what happened: refused | loaded | unchanged (make fuzz counts them)."""
    p = prepare(raw, name, ReadOptions(report_date=date(2020, 3, 13)))
    for e in p.errors:
        assert CJK.search(e.zh()), e
        assert "Traceback" not in e.zh()
    before = _rows(wh)
    try:
        outcomes = load_prepared(wh, [p])
    except SubmissionRefused as exc:
        assert exc.errors and all(CJK.search(e.zh()) for e in exc.errors)
        assert _rows(wh) == before
        return "refused"
    assert p.ok
    loaded = [o for o in outcomes if o.status == "loaded"]
    if loaded:
        # a resubmission for the same report date replaces that date's reports of its projects
        added = p.submission.frame.height - sum(o.replaced_reports for o in loaded)  # type: ignore[union-attr]
        assert _rows(wh) - before == added, (_rows(wh) - before, added)
        return "loaded"
    return "unchanged"


def _rows(wh: Warehouse) -> int:
    """The report count, after checking the keys the loader keeps unique (no index does)."""
    with wh.read() as con:
        dup_projects = con.execute("SELECT count(*) - count(DISTINCT project_id) FROM projects").fetchall()[0][0]
        dup_reports = con.execute(
            "SELECT count(*) - count(DISTINCT (project_id, report_date)) FROM reports").fetchall()[0][0]
        assert (dup_projects, dup_reports) == (0, 0)
        return con.execute("SELECT count(*) FROM reports").fetchall()[0][0]


@pytest.fixture(scope="module")
def fuzz_wh(tmp_path_factory):
    w = Warehouse(tmp_path_factory.mktemp("fuzz") / "f.duckdb")
    w.init()
    return w


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=4000), st.sampled_from(["a.csv", "a.xlsx", "a.xls", "a", "报表.CSV"]))
def test_random_bytes(fuzz_wh, raw, name):
    _assert_clean(raw, name, fuzz_wh)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.lists(st.text(max_size=30), max_size=9), max_size=12),
       st.sampled_from(["utf-8", "gbk", "gb18030", "utf-16"]))
def test_random_tables_in_any_encoding(fuzz_wh, cells, encoding):
    body = "\n".join(",".join('"' + c.replace('"', '""') + '"' for c in row) for row in cells)
    raw = (HEAD + body).encode(encoding, errors="replace")
    _assert_clean(raw, "t.csv", fuzz_wh)


@settings(max_examples=max(10, EXAMPLES // 3), deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(min_value=1, max_value=4000))
def test_truncated_xlsx(fuzz_wh, cut):
    buf = io.BytesIO()
    pl.DataFrame({"项目名称": ["甲项目"], "地市": ["太原市"], "层级": ["市级千项"], "建设状态": ["在建"]}).write_excel(buf)
    raw = buf.getvalue()
    _assert_clean(raw[: min(cut, len(raw) - 1)], "cut.xlsx", fuzz_wh)


def test_named_hostile_inputs(fuzz_wh):
    wide = ",".join(f"列{i}" for i in range(100_000)) + "\n" + ",".join("1" for _ in range(100_000))
    zip_bomb_like = io.BytesIO()
    with zipfile.ZipFile(zip_bomb_like, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    cases = {
        "empty.csv": b"",
        "bom_only.csv": b"\xef\xbb\xbf",
        "wide.csv": wide.encode(),
        "huge_cell.csv": (HEAD + "甲" * 200_000 + ",太原市,市级千项,在建,1,1,1\n").encode(),
        "formula.csv": (HEAD + "=cmd|' /C calc'!A0,太原市,市级千项,在建,1000,500,100\n").encode(),
        "html_name.csv": (HEAD + "<script>alert(1)</script>项目,太原市,市级千项,在建,1000,500,100\n").encode(),
        "not_really.xlsx": b"<html><table><tr><td>1</td></tr></table></html>",
        "fake_zip.xlsx": zip_bomb_like.getvalue(),
        "gbk_as_utf8.csv": (HEAD + GOOD_ROW).encode("gbk"),
        "nul_bytes.csv": (HEAD + GOOD_ROW).encode() + b"\x00\x00\x00",
    }
    for name, raw in cases.items():
        _assert_clean(raw, name, fuzz_wh)


def test_formula_and_script_names_are_kept_as_text(fuzz_wh):
    raw = (HEAD + "=cmd|' /C calc'!A0,太原市,市级千项,在建,1000,500,100\n"
           "<script>alert(1)</script>项目,太原市,市级千项,在建,1000,500,100\n").encode()
    p = prepare(raw, "names.csv", ReadOptions(report_date=date(2020, 3, 20)))
    assert p.ok, [e.zh() for e in p.errors]
    assert p.submission is not None
    assert p.submission.frame["project_name"].to_list() == ["=cmd|' /C calc'!A0", "<script>alert(1)</script>项目"]


def test_upload_size_limit_is_configurable(monkeypatch):
    monkeypatch.setenv("KAIGONG_MAX_UPLOAD_MB", "0.001")
    p = prepare((HEAD + GOOD_ROW * 200).encode(), "big.csv", ReadOptions(report_date=date(2020, 3, 13)))
    assert not p.ok and "超过上限" in p.errors[0].zh()
