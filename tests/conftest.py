"""Shared fixtures: a fresh warehouse per test, and a helper to load hand-written reports."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipelines.warehouse.store import Submission, Warehouse

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Local mode unless a test says otherwise: never read the machine's own users file."""
    monkeypatch.setenv("KAIGONG_USERS", str(tmp_path / "no-users.json"))


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    w = Warehouse(tmp_path / "t.duckdb")
    w.init()
    return w


def load_rows(
    wh: Warehouse, report_date: date, rows: list[dict[str, Any]], *, file_name: str | None = None,
    present: tuple[str, ...] | None = None, frequency: str = "week",
) -> None:
    """Load rows (dicts of schema fields) as one submission dated report_date."""
    frame = pl.DataFrame(rows, infer_schema_length=None)
    fields = present or tuple(c for c in frame.columns if c != "source_row")
    wh.load([
        Submission(
            file_name or f"r{report_date:%m%d}_{len(rows)}.csv", frame, report_date,
            raw=(str(report_date) + repr(rows)).encode(), present_fields=fields, frequency=frequency,
        )
    ])


# ---- the dashboard's test database -------------------------------------------------------------
# Four projects in two cities, reported on two Fridays of 2020. Hand-computed figures at 2020-03-13
# (序时进度 73/366): 4 projects, 总投资 18.10 亿元, 年度计划 5.90 亿元, 本年完成 1.05 亿元,
# 完成率 10500/59000 = 17.8 %, 开复工 3/3 (2/3 at 03-06), 入统 1/3.

APP_DATES = (date(2020, 3, 6), date(2020, 3, 13))
_BASE = {
    "project_code": None, "company": None, "county_code": None, "county_name": None, "industry_name": None,
    "stage": None, "total_investment": None, "annual_plan": None, "ytd_completed": None,
    "planned_start_date": None, "actual_start_date": None, "not_started_reason": None,
    "planned_completion_date": None, "problem": None, "problem_department": None, "stats_registered": None,
}


def _p(name: str, city: tuple[str, str], county: tuple[str, str], tier: str, **kw: Any) -> dict[str, Any]:
    return {**_BASE, "project_name": name, "city_code": city[0], "city_name": city[1],
            "county_code": county[0], "county_name": county[1], "tier": tier, **kw}


def app_rows(week: int) -> list[dict[str, Any]]:
    """The fixture's rows of week 0 (2020-03-06) or week 1 (2020-03-13)."""
    ty, xz = ("140100", "太原市"), ("140900", "忻州市")
    return [
        _p("芯片封装测试基地项目", ty, ("140105", "小店区"), "省级双百·新兴", stage="在建",
           industry_name="计算机、通信和其他电子设备制造业", total_investment=50000.0, annual_plan=20000.0,
           ytd_completed=(2000.0, 4000.0)[week], actual_start_date=date(2020, 2, 20),
           problem="用地指标未落实", problem_department="省自然资源厅", stats_registered=True,
           company="潞安微电子有限公司"),
        _p("新型建材生产线项目", ty, ("140106", "迎泽区"), "市级千项", stage="新开工",
           industry_name="非金属矿物制品业", total_investment=8000.0, annual_plan=6000.0,
           ytd_completed=(0.0, 500.0)[week], planned_start_date=date(2020, 3, 1),
           actual_start_date=(None, date(2020, 3, 10))[week], not_started_reason=("环评手续办理中", None)[week],
           stats_registered=False),
        _p("焦化余热发电技术改造项目", xz, ("140902", "忻府区"), "省级双百·技改", stage="续建",
           industry_name="石油、煤炭及其他燃料加工业", total_investment=120000.0, annual_plan=30000.0,
           ytd_completed=(3000.0, 6000.0)[week], actual_start_date=date(2020, 2, 25),
           problem="电力接入需协调", problem_department="省能源局", stats_registered=False),
        _p("杂粮深加工项目", xz, ("140981", "原平市"), "市级千项", stage="新开工",
           industry_name="农副食品加工业", total_investment=3000.0, annual_plan=3000.0, ytd_completed=0.0,
           planned_start_date=date(2020, 4, 1), stats_registered=False),
    ]


def build_app_db(path: Path) -> Path:
    """The dashboard's test database at path (fixed values, built from code)."""
    w = Warehouse(path)
    w.init()
    for week, d in enumerate(APP_DATES):
        load_rows(w, d, app_rows(week), file_name=f"周报_{d:%m%d}.csv")
    return path


@pytest.fixture(scope="session")
def app_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_app_db(tmp_path_factory.mktemp("appdb") / "app.duckdb")


@pytest.fixture
def own_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A test's own copy of the dashboard's test database, named by KAIGONG_DB for the test (for a test that
    writes to it: the shared app_db must not see its loads)."""
    path = build_app_db(tmp_path / "app.duckdb")
    monkeypatch.setenv("KAIGONG_DB", str(path))
    return path


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo database, built once per test process through the real loader."""
    from pipelines.demo.load import build_demo_database

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo_database(path, force=True)
    return path
