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


def test_demo_is_labelled(demo_db):
    from pipelines.store import Warehouse

    assert Warehouse(demo_db).is_demo()
