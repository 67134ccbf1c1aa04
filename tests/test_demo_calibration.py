"""`kaigong metrics` reproduces the seed's published Q1 2020 figures from the demo database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def metrics_json(db: Path, *args: str) -> list[dict]:
    run = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "--db", str(db), "metrics", "--as-of", "2020-03-31", "--json", *args],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )
    return json.loads(run.stdout)


def test_shuangbai_q1_matches_the_press_release(demo_db):
    [sb] = metrics_json(demo_db, "--tier", "省级双百·新兴", "--tier", "省级双百·技改")
    assert sb["group"] == "全部" and sb["projects"] == 200
    assert sb["total_investment"] == 16_420_000 + 10_680_000  # 1,642 + 1,068 亿元
    assert sb["ytd_completed"] == pytest.approx(586_000)  # 58.6 亿元
    assert sb["start_rate"] == 0.825
    by_tier = {t["group"]: t for t in metrics_json(demo_db, "--by", "tier")}
    assert by_tier["省级双百·新兴"]["total_investment"] == 16_420_000
    assert by_tier["省级双百·技改"]["total_investment"] == 10_680_000


def test_qianxiang_q1_matches_the_press_release(demo_db):
    [qx] = metrics_json(demo_db, "--tier", "千项")
    assert 66_000_000 <= qx["total_investment"] < 67_000_000  # 6,600 余亿元
    assert qx["ytd_completed"] == pytest.approx(1_425_000)  # 142.5 亿元
    assert round(qx["start_rate"], 3) == 0.794
    assert qx["time_progress"] == round(91 / 366, 6)


def test_no_group_of_the_demo_shows_a_reporting_rate_above_100_percent(demo_db):
    # the first quarter, midyear, and the year's end (projects done in the year still in S)
    for as_of in ("2020-03-31", "2020-06-30", "2020-12-25"):
        for by in ("city", "county", "tier", "industry", "stage", "size_band"):
            run = subprocess.run(
                [sys.executable, "-m", "pipelines.cli", "--db", str(demo_db), "metrics", "--as-of", as_of,
                 "--json", "--by", by], capture_output=True, text=True, cwd=ROOT, check=True,
            )
            rows = json.loads(run.stdout)
            assert rows and all("reporting_base" in r for r in rows), (as_of, by)
            over = [(r["group"], r["reported"], r["reporting_base"]) for r in rows
                    if r["reported"] > r["reporting_base"] or (r["reporting_rate"] or 0) > 1]
            assert over == [], (as_of, by)
    done = {r["group"]: r for r in metrics_json(demo_db, "--by", "stage")}
    # at 3-31 nothing is done yet; at year's end the done projects are in S
    assert "竣工" not in done
    [total] = json.loads(subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "--db", str(demo_db), "metrics", "--as-of", "2020-12-25", "--json",
         "--stage", "竣工"], capture_output=True, text=True, cwd=ROOT, check=True).stdout)
    # those done in the last week (12-19..12-25) reported it and are in both counts; the others,
    # done before, are in neither (they report no more, and would not count if they did)
    assert total["projects"] > 100 and 0 < total["reporting_base"] == total["reported"] < 20


def test_demo_is_labelled(demo_db):
    from pipelines.warehouse.store import Warehouse

    assert Warehouse(demo_db).is_demo()
