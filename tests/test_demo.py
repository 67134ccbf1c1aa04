"""The demo year reproduces the published Q1 2020 figures under the metrics.md definitions."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from pipelines import demo
from pipelines.demo.weeks import frames
from pipelines.demo.world import build
from pipelines.vocab.reference import divisions, regions
from pipelines.vocab.schema import CONTINUING_STAGES, STAGED_SCHEMA, STAGES, TIERS

D = date(2020, 3, 31)
SHUANGBAI = ("省级双百·新兴", "省级双百·技改")


@pytest.fixture(scope="module")
def weekly() -> pl.DataFrame:
    """All weekly reports stacked, with their report date."""
    return pl.concat([f.with_columns(report_date=pl.lit(d)) for d, f in demo.demo_weekly_reports()])


def latest(weekly: pl.DataFrame, d: date) -> pl.DataFrame:
    """Each project's latest report dated on or before d within d's year (metrics.md)."""
    key = pl.coalesce("project_code", pl.concat_str(["city_code", pl.lit("|"), "project_name"]))
    return (
        weekly.filter((pl.col("report_date") <= d) & (pl.col("report_date").dt.year() == d.year))
        .with_columns(key=key)
        .sort("key", "report_date")
        .group_by("key", maintain_order=True)
        .last()
    )


def figures(state: pl.DataFrame, d: date) -> dict[str, float]:
    """total, ytd, due, started, start_rate over the given latest-report rows (metrics.md)."""
    due = (pl.col("stage") != "储备") & (
        pl.col("stage").is_in(CONTINUING_STAGES) | (pl.col("planned_start_date") <= d)
    )
    started = due & pl.col("actual_start_date").is_not_null() & (pl.col("actual_start_date") <= d)
    out = state.select(
        total=pl.col("total_investment").sum(),
        ytd=pl.col("ytd_completed").fill_null(0).sum(),
        plan=pl.col("annual_plan").sum(),
        due=due.sum(),
        started=started.sum(),
    ).row(0, named=True)
    out["start_rate"] = out["started"] / out["due"]
    return out


def test_projects_and_weeks(weekly: pl.DataFrame) -> None:
    ledger = demo.demo_ledger()
    assert ledger.height == 1240
    assert dict(ledger.group_by("tier").len().iter_rows()) == {
        "省级双百·新兴": 100,
        "省级双百·技改": 100,
        "市级千项": 1040,
    }
    dates = sorted(weekly["report_date"].unique())
    assert dates[0] == date(2020, 2, 14) and dates[-1] == date(2020, 12, 25) and len(dates) == 46
    assert all(d.weekday() == 4 for d in dates)  # Fridays
    # 漏报: some weeks miss projects, but never a row twice
    per_week = weekly.group_by("report_date").len()["len"]
    assert per_week.max() <= 1240 and per_week.min() < 1240
    assert weekly.select(pl.struct("report_date", "city_code", "project_name").is_unique().all()).item()


def test_totals_exact() -> None:
    ledger = demo.demo_ledger()
    by_tier = dict(ledger.group_by("tier").agg(pl.col("total_investment").sum()).iter_rows())
    assert by_tier["省级双百·新兴"] == 16_420_000.0  # 1,642 亿元
    assert by_tier["省级双百·技改"] == 10_680_000.0  # 1,068 亿元
    assert 66_000_000 <= by_tier["市级千项"] <= 67_000_000  # 6,600 余亿元
    city = ledger.filter(pl.col("tier") == "市级千项")
    emerging = city.filter(pl.col("category") == "新兴")["total_investment"].sum()
    assert emerging / by_tier["市级千项"] > 0.70


def test_q1_calibration(weekly: pl.DataFrame) -> None:
    state = latest(weekly, D)
    assert state.height == 1240  # every project has a report on or before 31 March
    sb = figures(state.filter(pl.col("tier").is_in(SHUANGBAI)), D)
    assert sb["total"] == 27_100_000.0
    assert sb["ytd"] == 586_000.0  # 58.6 亿元
    assert (sb["started"], sb["due"]) == (132, 160)
    assert sb["start_rate"] == pytest.approx(0.825, abs=1e-9)
    # Q1 completion well below the 24.9 % 序时进度 (press-release era)
    assert 0.05 < sb["ytd"] / sb["plan"] < 0.15

    qx = figures(state.filter(pl.col("tier") == "市级千项"), D)
    assert 66_000_000 <= qx["total"] <= 67_000_000
    assert qx["ytd"] == 1_425_000.0  # 142.5 亿元
    assert abs(qx["start_rate"] - 0.794) < 0.0005  # 79.4 % to 0.1 pp
    assert 0.05 < qx["ytd"] / qx["plan"] < 0.2


def test_progress_over_the_year(weekly: pl.DataFrame) -> None:
    rates = []
    for d in (date(2020, 2, 28), date(2020, 3, 31), date(2020, 6, 30), date(2020, 12, 31)):
        f = figures(latest(weekly, d), d)
        rates.append((f["start_rate"], f["ytd"] / f["plan"]))
    starts, completion = zip(*rates, strict=True)
    assert starts[0] < starts[1] and completion == tuple(sorted(completion))
    assert 0.85 < completion[-1] < 1.1  # the year ends near plan
    # cumulative figures never fall within a project
    falls = (
        weekly.sort("project_name", "report_date")
        .with_columns(prev=pl.col("ytd_completed").shift(1).over("city_code", "project_name"))
        .filter(pl.col("ytd_completed") < pl.col("prev"))
    )
    assert falls.height == 0
    # some projects complete during the year, none before May
    done = weekly.filter(pl.col("completion_date").is_not_null())
    assert done.height > 0 and done["completion_date"].min() >= date(2020, 5, 1)


def test_a_project_stops_reporting_after_the_week_it_reports_done(weekly: pl.DataFrame) -> None:
    key = ["city_code", "project_name"]
    done = (
        weekly.filter(pl.col("stage").is_in(["竣工", "投产"]))
        .group_by(key).agg(done_week=pl.col("report_date").min())
    )
    last = weekly.group_by(key).agg(last_week=pl.col("report_date").max())
    both = done.join(last, on=key)
    assert done.height > 100  # a realistic number complete in the year
    assert (both["last_week"] == both["done_week"]).all()  # nothing after the week of 竣工/投产
    assert set(weekly.filter(pl.col("stage").is_in(["竣工", "投产"]))["stage"]) == {"竣工", "投产"}


def test_start_semantics(weekly: pl.DataFrame) -> None:
    # started rows carry the actual date and no reason; not-started rows a reason, no actual date
    started = weekly.filter(pl.col("actual_start_date").is_not_null())
    assert (started["actual_start_date"] <= started["report_date"]).all()
    assert started["not_started_reason"].null_count() == started.height
    waiting = weekly.filter(pl.col("actual_start_date").is_null())
    assert waiting["not_started_reason"].null_count() == 0
    assert waiting["planned_start_date"].null_count() == 0
    assert "受疫情影响，工人未返岗" in set(waiting["not_started_reason"])


def test_codes_are_real() -> None:
    ledger = demo.demo_ledger()
    known = {r.code: r for r in regions()}
    for city, county, county_name in (
        ledger.select("city_code", "county_code", "county_name").unique().iter_rows()
    ):
        assert known[city].level == "city" and known[city].parent_code == "140000"
        assert known[county].parent_code == city and known[county].name == county_name
    div = {d.code: d.name for d in divisions()}
    for code, name in ledger.select("industry_code", "industry_name").unique().iter_rows():
        assert div[code] == name
    assert set(ledger["tier"]) <= set(TIERS) and set(ledger["stage"]) <= set(STAGES)
    codes = ledger["project_code"].drop_nulls()
    assert 0.8 * ledger.height < codes.len() < ledger.height  # most, not all
    assert codes.is_unique().all()
    assert codes.str.contains(r"^20(1[7-9]|20)-14\d{4}-\d{2}-0[23]-\d{6}$").all()
    assert ledger.select(pl.struct("city_code", "project_name").is_unique().all()).item()


def test_schema_and_fields(weekly: pl.DataFrame) -> None:
    ledger = demo.demo_ledger()
    assert ledger.schema == pl.Schema(STAGED_SCHEMA)
    assert ledger["source_row"].to_list() == list(range(2, 1242))
    d, first = next(demo.demo_weekly_reports())
    assert d == date(2020, 2, 14) and first.schema == pl.Schema(STAGED_SCHEMA)
    stated = {c for c in first.columns if first[c].null_count() < first.height}
    assert stated <= set(demo.WEEKLY_FIELDS) | {"source_row"}
    for field in ("project_name", "city_code", "tier", "total_investment", "ytd_completed", "stage"):
        assert field in demo.WEEKLY_FIELDS and first[field].null_count() == 0


def test_deterministic() -> None:
    a = list(frames(build(demo.DEMO_COUNTS, demo.report_dates(46), demo.DEMO_SEED, True)))
    b = list(demo.demo_weekly_reports())
    assert [d for d, _ in a] == [d for d, _ in b]
    assert all(fa.equals(fb) for (_, fa), (_, fb) in zip(a, b, strict=True))
    la, _ = demo.scale(300, 5, 7)
    lb, _ = demo.scale(300, 5, 7)
    lc, _ = demo.scale(300, 5, 8)
    assert la.equals(lb) and not la.equals(lc)


def test_scale_shape() -> None:
    ledger, frames = demo.scale(2000, 10, 1)
    assert ledger.height == 2000 and ledger.schema == pl.Schema(STAGED_SCHEMA)
    weeks = list(frames)
    assert len(weeks) == 10
    assert all(0.7 * 2000 < f.height <= 2000 for _, f in weeks)  # 漏报, most in the first week
    assert ledger.select(pl.struct("city_code", "project_name").is_unique().all()).item()
    _, frames52 = demo.scale(50, 52, 1)
    dates = [d for d, _ in frames52]
    assert len(dates) == 52 and dates[-1] == date(2020, 12, 25) and dates[0] == date(2020, 1, 3)


def test_sample_csv() -> None:
    text = demo.SAMPLE_PATH.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")
    header = text[3:].decode("utf-8").splitlines()[0].split(",")
    assert header[:3] == ["项目代码", "项目名称", "企业名称"] and "本年累计完成投资" in header
    sample = pl.read_csv(demo.SAMPLE_PATH, infer_schema=False)
    week = next(f for d, f in demo.demo_weekly_reports() if d == date(2020, 3, 27))
    assert sample.height == week.height
