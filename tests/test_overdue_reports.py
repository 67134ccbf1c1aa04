"""催报: the units that have not reported for a period, by hand."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

from pipelines.views.overdue_reports import overdue_reports
from tests.conftest import ROOT, load_rows

TY = {"city_code": "140100", "city_name": "太原市", "county_code": "140105", "county_name": "小店区", "tier": "市级千项"}
XZ = {"city_code": "140900", "city_name": "忻州市", "county_code": "140902", "county_name": "忻府区", "tier": "市级千项"}


def _weeks(wh) -> None:
    # 03-06 both cities; 03-13 and 03-20 only 太原; 03-27 太原 again (忻州 missed three in a row)
    load_rows(wh, date(2020, 3, 6), [
        {**TY, "project_name": "甲", "stage": "在建", "contact": "王五 13800000001"},
        {**XZ, "project_name": "乙", "stage": "在建", "contact": None},
        {**XZ, "project_name": "丙", "stage": "在建", "contact": "李四 0350-1234567"},
    ])
    for d in (date(2020, 3, 13), date(2020, 3, 20), date(2020, 3, 27)):
        load_rows(wh, d, [{**TY, "project_name": "甲", "stage": "在建", "contact": "王五 13800000001"}])


def test_units_missing_a_period_with_rate_streak_and_contact(wh):
    _weeks(wh)
    with wh.read() as con:
        assert overdue_reports(con, date(2020, 3, 6)).is_empty()
        got = overdue_reports(con, date(2020, 3, 27))
        county = overdue_reports(con, date(2020, 3, 13), level="city")
    assert got.to_dicts() == [{
        "unit_code": "140900", "unit_name": "忻州市", "reporting_base": 2, "reported": 0, "reporting_rate": 0.0,
        "missed_periods": 3, "last_report_date": date(2020, 3, 6), "contact": "李四 0350-1234567",
        "last_submitted_by": "local",
    }]
    assert county.select("unit_name", "missed_periods").rows() == [("忻府区", 1)]


def test_cli_overdue_reports(wh):
    _weeks(wh)
    run = subprocess.run([sys.executable, "-m", "pipelines.cli", "--db", str(wh.path), "overdue-reports",
                          "--as-of", "2020-03-20", "--json"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)
    assert [(r["unit_name"], r["missed_periods"], r["last_report_date"]) for r in rows] == [("忻州市", 2, "2020-03-06")]
    text = subprocess.run([sys.executable, "-m", "pipelines.cli", "--db", str(wh.path), "overdue-reports",
                           "--as-of", "2020-03-20"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert "忻州市" in text.stdout and "连续 2 期未报" in text.stdout and "李四 0350-1234567" in text.stdout
