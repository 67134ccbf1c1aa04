"""Which project each row of a staged file is: by 项目代码, else by (地市, normalised name);
and the projects a file adds. Vectorised (joins, not a loop over rows)."""

from __future__ import annotations

from typing import NamedTuple

import duckdb
import polars as pl

from pipelines.ingest import vparse as vp
from pipelines.vocab.findings import Finding
from pipelines.vocab.query import query_frame


def resolve_identity(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, file_name: str
) -> tuple[list[str], pl.DataFrame, list[Finding]]:
    """A project_id for every row: by 项目代码, else by (地市, normalised name); new projects listed.

    The rules, row by row in file order:
    - a 项目代码 already known gives that project;
    - else a known project of the same city with the same normalised name, if the row has no
      code or that project has none or the same one (when several known projects share a
      city and name, the one inserted last is the candidate);
    - a matched row stating another tier than the project's is an error (resolve, given the
      report year, allows a change across years);
    - else the row is a new project, id = its code or "<city>|<name>"; later rows with the
      same id join it; the first row of a new project must state a tier.
    """
    r = resolve(con, frame, file_name, None)
    return r.ids, r.new_projects, r.errors


class Resolved(NamedTuple):
    ids: list[str]
    new_projects: pl.DataFrame
    errors: list[Finding]
    tier_changes: pl.DataFrame  # project_id, year, tier, previous_tier: a tier changed in a new year


def resolve(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, file_name: str, year: int | None) -> Resolved:
    """resolve_identity for a file of report year year: a matched project's tier is its tier in that
    year (its latest change in project_tiers up to the year, else the tier it was first loaded with),
    and a row stating another tier changes it from that year on when the project has no report in the
    year yet (市级千项 one year, 省级双百 the next; each year keeps its own). Two tiers in one year stay
    an error. year None: any other tier is an error."""
    rows = _keys(frame)
    m = _matched(rows, _known_projects(con, rows, year))
    ids = m.select(pl.coalesce("hit_pid", "new_pid"))[:, 0].to_list()
    other = (pl.col("hit_pid").is_not_null() & pl.col("tier").is_not_null()
             & (pl.col("tier") != pl.col("hit_tier")))
    changes = m.filter(other & ~pl.col("hit_in_year")) if year is not None else m.clear()
    changes = changes.unique("hit_pid", keep="first", maintain_order=True).select(
        project_id=pl.col("hit_pid").cast(pl.String), year=pl.lit(year, pl.Int32),
        tier=pl.col("tier").cast(pl.String), previous_tier=pl.col("hit_tier").cast(pl.String))
    errors = _tier_errors(m, file_name)
    # a project changing tier in this file under two tiers is two tiers in one year (a project with a
    # report in the year already: each row stating another tier is an error above)
    split = m.filter(pl.col("hit_pid").is_not_null() & pl.col("tier").is_not_null() & ~pl.col("hit_in_year")
                     & pl.col("hit_pid").is_in(changes["project_id"].implode())).group_by("hit_pid").agg(
        pl.col("tier").n_unique().alias("n"), pl.col("source_row").last(), pl.col("tier").last()).filter(
        pl.col("n") > 1)
    for r, tier in split.select("source_row", "tier").iter_rows():
        errors.append(Finding(file_name, "同一项目在同一年内列入两个层级", r, "层级", tier))
    return Resolved(ids, _new_projects(m), errors, changes)


def _keys(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows' identity keys: code (blank = none), city, normalised name, and the row's index."""
    return frame.select("source_row", "project_code", "city_code", "tier").with_columns(
        name_norm=vp.clean_series(frame["project_name"]),  # reference.norm_text, column-wise
        code=pl.col("project_code").str.strip_chars().replace("", None),
        _i=pl.int_range(pl.len(), dtype=pl.Int64),
    )


def _known_projects(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, year: int | None = None) -> pl.DataFrame:
    """The stored projects the rows could be: of their cities, or with one of their codes; with
    their tier in year (see resolve) and whether they have a report in it (in_year)."""
    con.register("_identity_keys", rows.select("city_code", "code"))
    where = ("WHERE city_code IN (SELECT DISTINCT city_code FROM _identity_keys) "
             "   OR project_code IN (SELECT DISTINCT code FROM _identity_keys)")
    try:
        # rowid order = insertion order: "last wins" below picks the latest-inserted duplicate.
        if year is None:
            return query_frame(
                con,
                "SELECT project_id, project_code, city_code, name_norm, tier, true AS in_year FROM projects "  # noqa: S608
                + where + " ORDER BY rowid",  # (constant SQL)
            )
        return query_frame(
            con,
            f"""SELECT p.project_id, p.project_code, p.city_code, p.name_norm, coalesce(t.tier, p.tier) AS tier,
                       EXISTS (SELECT 1 FROM reports r WHERE r.project_id = p.project_id AND r.year = $y) AS in_year
                FROM (SELECT *, rowid AS _r FROM projects {where}) p
                LEFT JOIN (SELECT project_id, arg_max(tier, year) AS tier FROM project_tiers WHERE year <= $y
                           GROUP BY ALL) t ON t.project_id = p.project_id
                ORDER BY p._r""",  # noqa: S608 (constant SQL)
            {"y": year},
        )
    finally:
        con.unregister("_identity_keys")


def _matched(rows: pl.DataFrame, known: pl.DataFrame) -> pl.DataFrame:
    """The rows, in file order, with the project each matches (hit_pid, hit_tier) or the id of the
    new project it is (new_pid; first_of_new on the first row of each new project)."""
    by_code = (
        known.filter(pl.col("project_code").is_not_null() & (pl.col("project_code") != ""))
        .unique("project_code", keep="last", maintain_order=True)
        .select(code="project_code", pid_c="project_id", tier_c="tier", in_c="in_year")
    )
    by_name = known.unique(["city_code", "name_norm"], keep="last", maintain_order=True).select(
        "city_code", "name_norm", pid_n="project_id", code_n="project_code", tier_n="tier", in_n="in_year"
    )
    m = (
        rows.join(by_code, on="code", how="left", nulls_equal=False, maintain_order="left")
        .join(by_name, on=["city_code", "name_norm"], how="left", nulls_equal=False, maintain_order="left")
        .sort("_i")
    )
    name_ok = pl.col("pid_n").is_not_null() & (
        pl.col("code").is_null() | pl.col("code_n").is_null() | (pl.col("code_n") == pl.col("code"))
    )
    return m.with_columns(
        hit_pid=pl.when(pl.col("pid_c").is_not_null()).then(pl.col("pid_c"))
        .when(name_ok).then(pl.col("pid_n")),
        hit_tier=pl.when(pl.col("pid_c").is_not_null()).then(pl.col("tier_c"))
        .when(name_ok).then(pl.col("tier_n")),
        hit_in_year=pl.when(pl.col("pid_c").is_not_null()).then(pl.col("in_c"))
        .when(name_ok).then(pl.col("in_n")).otherwise(True),
    ).with_columns(
        new_pid=pl.when(pl.col("hit_pid").is_null()).then(
            pl.coalesce(
                "code",
                pl.concat_str(
                    pl.col("city_code").fill_null("None"), pl.lit("|"), pl.col("name_norm").fill_null("None")
                ),
            )
        ),
    ).with_columns(
        first_of_new=pl.col("new_pid").is_not_null() & pl.col("new_pid").is_first_distinct(),
    )


def _tier_errors(m: pl.DataFrame, file_name: str) -> list[Finding]:
    """A matched row stating another tier than its project's; a new project's first row with none."""
    bad = m.filter(
        (pl.col("hit_pid").is_not_null() & pl.col("tier").is_not_null() & (pl.col("tier") != pl.col("hit_tier"))
         & pl.col("hit_in_year"))
        | (pl.col("first_of_new") & pl.col("tier").is_null())
    )
    errors: list[Finding] = []
    for r, tier, known_tier, is_hit in bad.select(
        "source_row", "tier", "hit_tier", pl.col("hit_pid").is_not_null()
    ).iter_rows():
        if is_hit:
            errors.append(
                Finding(
                    file_name,
                    f"同一项目已按「{known_tier}」报送，不能再列入「{tier}」（一个项目只能属于一个层级）",
                    r, "层级", tier,
                )
            )
        else:
            errors.append(Finding(file_name, "新项目缺少层级（省级双百·新兴/省级双百·技改/市级千项/其他）", r, "层级", ""))
    return errors


def _new_projects(m: pl.DataFrame) -> pl.DataFrame:
    """The projects the file adds: one row each (its first row), as the projects table has them."""
    return m.filter("first_of_new").select(
        project_id=pl.col("new_pid"),
        project_code=pl.col("code"),
        city_code=pl.col("city_code"),
        name_norm=pl.col("name_norm"),
        tier=pl.col("tier"),
    ).cast({c: pl.String for c in ("project_id", "project_code", "city_code", "name_norm", "tier")})
