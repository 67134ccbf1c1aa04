"""`kaigong`: ingest submissions, print the contract's figures, (re)build the demo database."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from pipelines import metrics
from pipelines.auth import ROLES
from pipelines.metrics import lights
from pipelines.vocab import formats, schema
from pipelines.vocab.findings import SubmissionRefused
from pipelines.vocab.reference import find_city, find_county, region_error
from pipelines.warehouse.store import Store, open_warehouse
from pipelines.warehouse.versions import KnownAt, parse_moment

if TYPE_CHECKING:
    from pipelines.ingest.prepare import Prepared
    from pipelines.warehouse.load import LoadOutcome


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD：{text}") from exc


def _add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--year", type=int, help="年度（默认取报告期截止日所在年）")
    p.add_argument("--tier", action="append", default=[], help="层级，可重复：省级双百·新兴 / 省级双百·技改 / 市级千项 / 其他")
    p.add_argument("--city", action="append", default=[], help="地市名称或代码，可重复")
    p.add_argument("--county", action="append", default=[], help="县区名称或代码，可重复")
    p.add_argument("--industry", action="append", default=[], help="行业（GB/T 4754 大类名称或原文），可重复")
    p.add_argument("--stage", action="append", default=[], help="建设状态，可重复")
    p.add_argument("--size-band", action="append", default=[], choices=[b[0] for b in schema.SIZE_BANDS])
    p.add_argument("--frequency", choices=schema.FREQUENCIES, help="报送周期（默认按该期报送自动判断）")


def filters_from_args(args: argparse.Namespace) -> metrics.Filters:
    """Names as users write them (忻州, 忻府区, 新兴) → the codes and values the metrics take."""
    from pipelines.ingest.parse import parse_tier

    cities = []
    for c in args.city:
        hit = find_city(c)
        if hit is None:
            raise SystemExit(f"未知地市：{c}")
        cities.append(hit.code)
    counties = []
    for c in args.county:
        hit = find_county(c, cities[0] if len(cities) == 1 else None)
        if hit is None:
            raise SystemExit(region_error(c) + "（重名时请同时给出 --city）")
        counties.append(hit.code)
    tiers = []
    for t in args.tier:
        value, err = parse_tier(t)
        if err or value is None:
            raise SystemExit(f"未知层级：{t}")
        tiers.append(value)
    return metrics.Filters(
        tiers=tuple(tiers),
        cities=tuple(cities),
        counties=tuple(counties),
        industries=tuple(args.industry),
        stages=tuple(args.stage),
        size_bands=tuple(args.size_band),
    )


_MONEY_KEYS = ("total_investment", "annual_plan", "ytd_completed", "ytd_completed_prev")  # 万元, printed in 亿元


def _fmt(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key in metrics.RATE_KEYS:
        return formats.pct(value)
    if key == "schedule_gap":
        return formats.pp_num(value)
    if key in _MONEY_KEYS:
        return formats.yi_num(value)
    return str(value)


def print_table(items: list[dict[str, Any]], out: Any = sys.stdout) -> None:
    shown = [*metrics.FIGURE_KEYS, *(k for k in metrics.YOY_KEYS if items and k in items[0])]
    keys = ["group", *shown]
    head = ["分组"] + [metrics.FIGURE_ZH[k] + ("(亿元)" if k in _MONEY_KEYS else "") for k in shown]
    rows = [[str(it["group"])] + [_fmt(k, it[k]) for k in keys[1:]] for it in items]
    print("\t".join(head), file=out)
    for r in rows:
        print("\t".join(r), file=out)


def cmd_ingest(args: argparse.Namespace) -> int:
    from pipelines.ingest import bounded
    from pipelines.ingest.result import ReadOptions
    from pipelines.views import layouts
    from pipelines.warehouse.intake import load_prepared

    bounded.warm()  # the reading child starts up while this process opens the database
    wh = open_warehouse(args.db)
    paths = [Path(p) for p in args.files]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print("找不到文件：" + "、".join(missing), file=sys.stderr)
        return 2
    opts = ReadOptions(report_date=args.report_date, tier=args.tier, region=args.region, frequency=args.frequency)
    prepared = [bounded.prepare(p.read_bytes(), p.name, opts) for p in paths]
    if wh.exists():  # each file against its unit's confirmed layouts (the load remembers this one's)
        with wh.read() as con:
            prepared = [layouts.with_memory(con, p) if p.ok else p for p in prepared]
    if not args.json:  # what was inferred, before anything is loaded
        for p in prepared:
            print(f"{p.file_name}：读取情况")
            for line in p.reading_lines():
                print("  " + line)
            for q in p.questions:
                print("  推断（请核对）：" + q)
    try:
        outcomes = load_prepared(wh, prepared, actor=args.user)
    except SubmissionRefused as exc:
        if args.json:
            print(json.dumps([_ingest_json(p, None) for p in prepared], ensure_ascii=False, indent=2))
        print(f"未导入（所有文件均未写入数据库），共 {len(exc.errors)} 处错误：", file=sys.stderr)
        for e in exc.errors:
            print("  " + e.zh(), file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([_ingest_json(p, o) for p, o in zip(prepared, outcomes, strict=True)], ensure_ascii=False,
                         indent=2))
        return 0
    for o in outcomes:
        print(o.summary_zh())
        for w in o.warnings:
            print("  提示：" + w.zh())
    _print_changes(wh, [o.submission_id for o in outcomes if o.submission_id is not None and o.status == "loaded" and o.changes])
    return 0


def _ingest_json(p: Prepared, outcome: LoadOutcome | None) -> dict[str, Any]:
    """One file of `kaigong ingest --json`: what was read (the reading), what became of it, its findings."""
    from pipelines.ingest.reading import reading_json

    return {
        "file": p.file_name,
        "status": outcome.status if outcome else "refused",
        "submission_id": outcome.submission_id if outcome else None,
        "projects": outcome.rows if outcome else (p.submission.frame.height if p.submission else None),
        "report_date": p.report_date.isoformat() if p.report_date else None,
        "frequency": p.frequency,
        "layout": p.layout,
        "reading": reading_json(p.reading, report_date=p.report_date, frequency=p.frequency) if p.reading else None,
        "layout_note": p.layout_note,
        "questions": list(p.questions),
        "errors": [e.zh() for e in p.errors],
        "warnings": [w.zh() for w in p.warnings],
    }


def _print_changes(wh: Store, submission_ids: list[int]) -> None:
    """The change audit of what was just loaded (warnings: the files are loaded)."""
    from pipelines.views import changes

    if not submission_ids:
        return
    with wh.read() as con:
        found = [changes.for_submission(con, sid) for sid in submission_ids]
        later = {f["report_date"][0]: changes.later_report_dates(con, f["report_date"][0]) for f in found if f.height}
    for f in found:
        listed = f.filter(f["kind"] != "new")
        new = f.height - listed.height
        if new:
            print(f"  本期新增项目 {new} 个")
        for row in listed.iter_rows(named=True):
            print("  变动：" + changes.line_zh(row))
        if f.height and later.get(f["report_date"][0]):
            print("  注意：该报告期早于已有的报告期，导入后其后各期（"
                  + "、".join(d.isoformat() for d in later[f["report_date"][0]]) + "）的状态已重新计算")


def cmd_changes(args: argparse.Namespace) -> int:
    from pipelines.views import changes
    from pipelines.vocab.reference import find_region, region_error

    regions: tuple[str, ...] = ()
    if args.region:
        hit = find_region(args.region)
        if hit is None:
            raise SystemExit(region_error(args.region))
        regions = (hit.code,)
    wh = open_warehouse(args.db)
    wh.upgrade()
    with wh.read() as con:
        found = changes.for_period(con, args.as_of, regions)
    if args.json:
        print(json.dumps(changes.to_json(found), ensure_ascii=False, indent=2))
        return 0
    if found.is_empty():
        print(f"截至 {args.as_of} 的报告期没有与上期相比的变动")
        return 0
    d = found["report_date"][0]
    print(f"报告期 {d} 与上期相比的变动 {found.height} 条：")
    for row in found.iter_rows(named=True):
        print("  " + changes.line_zh(row))
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    wh = _known(args, open_warehouse(args.db))
    f = filters_from_args(args)
    with wh.read() as con:
        items = metrics.figures(con, args.as_of, year=args.year, filters=f, by=args.by, frequency=args.frequency)
        counts = lights.counts_by(con, args.as_of, (args.by,), year=args.year, filters=f)[args.by]
    if args.json:
        print(json.dumps(lights.with_counts(metrics.to_json_rows(items), counts), ensure_ascii=False, indent=2))
    else:
        print_table(items)
    return 0


def _known(args: argparse.Namespace, wh: Store) -> Store | KnownAt:
    """The store, upgraded for reading; with --as-known-at, as it was known at that moment (the reports
    loaded by then, each in the version then current: warehouse/versions.py)."""
    wh.upgrade()  # a file from an earlier version gets what reads need
    if getattr(args, "as_known_at", None) is None:
        return wh
    return KnownAt(wh, args.as_known_at)


def _moment(text: str) -> datetime:
    try:
        return parse_moment(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_demo(args: argparse.Namespace) -> int:
    from pipelines.demo.load import build_demo_database

    summary = build_demo_database(open_warehouse(args.db), force=True)
    print(summary)
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from pipelines.ingest.template import write_template

    out = Path(args.out)
    write_template(out, fmt="xlsx" if out.suffix.lower() == ".xlsx" else "csv")
    print(f"已生成标准模板：{out}")
    return 0


def cmd_fill_sheet(args: argparse.Namespace) -> int:
    """A unit's prefilled 本期填报表 (issue 31): its projects as last reported, the period's cells open."""
    from pipelines.outputs.fill_sheet import write_fill_sheet
    from pipelines.views.fill import UnknownUnit

    try:
        sheet = write_fill_sheet(open_warehouse(args.db), args.unit, args.as_of, Path(args.out), args.report_date)
    except UnknownUnit as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    print(f"{sheet.summary_zh()}：{args.out}")
    return 0


def cmd_brief(args: argparse.Namespace) -> int:
    """A briefing made and recorded as issued (第 N 号), a recorded one reissued (--reissue), or the list."""
    from pipelines.outputs import issue
    from pipelines.outputs.png import ExportUnavailable, close_after_next, prestart, wait_closed

    wh = open_warehouse(args.db)
    if args.list:
        return _list_issued(wh, args.json)
    if args.out is None or (args.as_of is None and args.reissue is None):
        print("需要 --out，以及 --as-of 或 --reissue（或用 --list 列出已发简报）", file=sys.stderr)
        return 2
    out = Path(args.out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("pdf", "png", "docx"):
        print("--out 应以 .pdf、.png 或 .docx（Word）结尾", file=sys.stderr)
        return 2
    try:  # the browser starts now, in the background, while the figures are computed (~3 s saved)
        prestart()
        close_after_next()  # one request: the briefing's charts
    except ExportUnavailable as exc:
        print(f"未生成简报：{exc}", file=sys.stderr)
        return 1
    if fmt != "docx":  # and weasyprint is imported meanwhile (outputs/weasy.py)
        from pipelines.outputs import weasy

        weasy.preload()

    def progress(msg: str) -> None:
        print(f"[简报] {msg}", file=sys.stderr, flush=True)

    known = _known(args, wh)  # upgraded for reading; with --as-known-at, the store as it was known then
    channel = "命令行" if known is wh else f"命令行（按 {args.as_known_at:%Y-%m-%d %H:%M} 所知）"
    try:
        if args.reissue is not None:
            made = issue.reissue(wh, args.user, "命令行", args.reissue, fmt=fmt, progress=progress)
        else:
            made = issue.issue(wh, args.user, channel, args.as_of, year=args.year, filters=filters_from_args(args),
                               fmt=fmt, progress=progress, source=None if known is wh else known)
    except ExportUnavailable as exc:
        print(f"未生成简报：{exc}", file=sys.stderr)
        return 1
    except LookupError as exc:
        print(f"未生成简报：{exc}", file=sys.stderr)
        return 2
    finally:
        wait_closed()  # the browser, closed in a thread once the charts were drawn
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(made.payload)
    what = f"重印第 {args.reissue} 号简报（登记为第 {made.issue_id} 号）" if args.reissue is not None else (
        f"第 {made.issue_id} 号简报")
    print(f"已生成{what}：{out}（{len(made.payload) / 1024:.0f} KB）")
    return 0


def _list_issued(wh: Store, as_json: bool) -> int:
    from pipelines.views import issued as issued_view

    with wh.read() as con:
        frame = issued_view.listing(con)
    if as_json:
        print(json.dumps(issued_view.to_json(frame), ensure_ascii=False, indent=1))
        return 0
    if frame.is_empty():
        print("尚无已发简报")
        return 0
    for line in issued_view.lines_zh(frame):
        print(line)
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from pipelines.warehouse import backup

    try:
        keep = backup.keep_setting(args.keep)
        if keep is not None and keep < 1:
            raise ValueError(f"保留的备份份数至少为 1（现为 {keep}）")
    except ValueError as exc:
        print(f"未备份：{exc}", file=sys.stderr)
        return 2
    wh = open_warehouse(args.db)
    out = Path(args.out)
    manifest = backup.backup(wh, out)
    n_raw = backup.copy_raw_uploads(wh, out)
    rows = "，".join(f"{t} {i['rows']} 行" for t, i in manifest["tables"].items())
    users = manifest.get("users", {}).get("count", 0)
    print(f"已备份到 {out}：{rows}；原始报送文件 {n_raw} 个；用户 {users} 个（仅口令哈希）")
    if args.verify:
        problems = backup.verify(wh, out)
        if problems:
            print("恢复演练未通过（旧备份均未删除）：\n" + "\n".join(f"  {p}" for p in problems), file=sys.stderr)
            return 1
        print("恢复演练通过：备份恢复到临时数据库后，每张表的行与最新报告期的指标都与在用数据库一致")
    if keep is not None:
        for gone in backup.keep_last(out, keep):
            print(f"已删除较早的备份 {gone}（保留最近 {keep} 份）")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from pipelines.warehouse.province_export import ExportError, export

    try:
        schema = export(open_warehouse(args.db), Path(args.out), province=args.province)
    except ExportError as exc:
        print(f"未导出（导出目录未改动）：{exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"未导出（导出目录未改动）：写入 {args.out} 失败：{exc}", file=sys.stderr)
        return 2
    for p, entry in schema["provinces"].items():
        rows = "，".join(f"{t} {n} 行" for t, n in entry["rows"].items())
        print(f"省份 {p}（数据版本 {entry['data_version']}，导出于 {entry['exported_at']}）：{rows}")
    print(f"已导出到 {Path(args.out).absolute()}")
    return 0


def cmd_rollup(args: argparse.Namespace) -> int:
    from pipelines.outputs import rollup

    f = filters_from_args(args)
    try:
        r = rollup.Rollup.of([Path(d) for d in args.dirs])
    except rollup.RollupError as exc:
        print(f"无法汇总：{exc}", file=sys.stderr)
        return 2
    if args.engine == "spark":
        from pipelines.outputs import spark_sql

        try:
            spark = spark_sql.start_session()
        except spark_sql.SparkUnavailable as exc:
            print(f"无法汇总：{exc}", file=sys.stderr)
            return 1
        try:
            on_spark: Any = spark_sql.register(spark, r)  # what the metrics use of a connection, on Spark
            items = metrics.figures(on_spark, args.as_of, year=args.year, filters=f, by=args.by,
                                    frequency=args.frequency)
        finally:
            spark.stop()
    else:
        con = rollup.connect(r)
        try:
            items = metrics.figures(con, args.as_of, year=args.year, filters=f, by=args.by, frequency=args.frequency)
        finally:
            con.close()
    if args.json:
        print(metrics.dumps(items))
    else:
        print(f"全国汇总：{len(r.provinces)} 个省份（{'、'.join(sorted(r.provinces))}）", file=sys.stderr)
        print_table(items)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from pipelines.warehouse.backup import restore

    try:
        target = open_warehouse(args.db)
        manifest = restore(Path(args.backup_dir), target, actor=args.user)
    except (ValueError, FileNotFoundError) as exc:
        print(f"恢复失败，数据库未改动：{exc}", file=sys.stderr)
        return 1
    rows = "，".join(f"{t} {i['rows']} 行" for t, i in manifest["tables"].items())
    print(f"已从 {args.backup_dir} 恢复到 {target.label}：{rows}")
    if args.users:
        from pipelines.warehouse.backup import restore_users

        try:
            n = restore_users(Path(args.backup_dir))
        except ValueError as exc:
            print(f"用户未恢复：{exc}", file=sys.stderr)
            return 1
        print(f"已恢复用户 {n} 个")
    return 0


def _read_password(args: argparse.Namespace) -> str | None:
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass("密码：")
    if getpass.getpass("再输入一次：") != password:
        print("两次输入的密码不一致", file=sys.stderr)
        return None
    return password


def cmd_user(args: argparse.Namespace) -> int:
    """Every change to users and roles, in audit_log as --by's (pipelines/accounts.py)."""
    from pipelines import accounts, auth

    if args.user_command == "list":
        for u in auth.load_users().values():
            where = f"，地区 {u.region_code}" if u.region_code else ""
            print(f"{u.name}（{u.role}{where}）{'：已停用' if u.disabled else ''}")
        return 0
    wh = open_warehouse(args.db)
    if not wh.exists():
        wh.init()  # the first administrator comes before any data: the change is audited all the same
    try:
        if args.user_command in ("add", "passwd"):
            password = _read_password(args)
            if password is None:
                return 1
            if args.user_command == "add":
                user = accounts.add(wh, args.by, args.name, password, args.role, args.region,
                                    leader_name=args.leader)
                where = f"，地区 {user.region_code}" if user.region_code else ""
                print(f"已创建用户 {user.name}（{user.role}{where}）")
            else:
                accounts.reset_password(wh, args.by, args.name, password)
                print(f"已重置 {args.name} 的密码；其已登录的会话全部失效")
        elif args.user_command == "remove":
            accounts.remove(wh, args.by, args.name)
            print(f"已删除用户 {args.name}")
        elif args.user_command == "role":
            user = accounts.set_role(wh, args.by, args.name, args.role, args.region)
            print(f"{user.name} 的角色改为 {user.role}{f'，地区 {user.region_code}' if user.region_code else ''}")
        elif args.user_command == "scope":
            user = accounts.set_scope(wh, args.by, args.name, args.region)
            print(f"{user.name} 的地区改为 {user.region_code or '（无）'}")
        else:
            accounts.set_disabled(wh, args.by, args.name, args.user_command == "disable")
            print(f"已{'停用' if args.user_command == 'disable' else '启用'}用户 {args.name}")
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0


def cmd_overdue_reports(args: argparse.Namespace) -> int:
    from pipelines.views.overdue_reports import HEADERS, overdue_reports

    wh = open_warehouse(args.db)
    try:
        with wh.read() as con:
            frame = overdue_reports(con, args.as_of, level=args.level)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(frame.with_columns(frame["last_report_date"].cast(str)).to_dicts(), ensure_ascii=False,
                         indent=2))
        return 0
    if frame.is_empty():
        print(f"报告期 {args.as_of}：应报送的单位均已报送。")
        return 0
    print(f"报告期 {args.as_of} 未报送的单位（{frame.height} 个）：")
    for r in frame.iter_rows(named=True):
        rate = "—" if r["reporting_rate"] is None else f"{r['reporting_rate']:.1%}"
        print(f"  {r['unit_name']}：{HEADERS['reporting_base']} {r['reporting_base']}，录入率 {rate}，"
              f"连续 {r['missed_periods']} 期未报，最近报送 {r['last_report_date'] or '无'}，"
              f"联系人 {r['contact'] or '（未填）'}，报送人 {r['last_submitted_by'] or '—'}")
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    """Load a department's list (whole or nothing), then reconcile it with ours at --as-of."""
    from pipelines.ingest.reference_list import read_list
    from pipelines.views import reconcile
    from pipelines.warehouse import reference_lists

    path = Path(args.file)
    if not path.is_file():
        print(f"找不到文件：{path}", file=sys.stderr)
        return 2
    raw = path.read_bytes()
    got = read_list(raw, path.name, args.as_of, region=args.region)
    if not args.json:
        print(f"{path.name}：读取情况")
        for line in got.lines:
            print("  " + line)
    for w in got.warnings:
        print("  提示：" + w.zh(), file=sys.stderr)
    if not got.ok or got.frame is None:
        print(f"未导入（清单未写入数据库），共 {len(got.errors)} 处错误：", file=sys.stderr)
        for e in got.errors:
            print("  " + e.zh(), file=sys.stderr)
        return 1
    wh = open_warehouse(args.db)
    if not wh.exists():
        wh.init()
    try:
        reference_lists.store_list(wh, args.user, args.kind, args.as_of, path.name, raw, got.frame)
    except SubmissionRefused as exc:
        print(f"未导入（清单未写入数据库），共 {len(exc.errors)} 处错误：", file=sys.stderr)
        for e in exc.errors:
            print("  " + e.zh(), file=sys.stderr)
        return 1
    with wh.read() as con:
        rec = reconcile.reconcile(con, args.kind, args.as_of)
    if args.json:
        print(json.dumps(reconcile.json_rows(rec), ensure_ascii=False, indent=2))
        return 0
    print(reconcile.summary_zh(rec))
    for r in rec.rows.filter(rec.rows["outcome"] != "matched").iter_rows(named=True):
        place = f"{r['city_name'] or ''}{r['county_name'] or ''}"
        print(f"  [{reconcile.OUTCOME_ZH[r['outcome']]}] {r['project_name']}（{place}）{r['differences'] or ''}")
    return 0


def cmd_notify(args: argparse.Namespace) -> int:
    from pipelines.outputs import notify

    try:
        conf = notify.load_config(Path(args.config) if args.config else None)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    report = notify.run(open_warehouse(args.db), args.as_of or date.today(), conf)
    print(report.summary_zh())
    pushes_failed = report.pushes is not None and report.pushes.failed
    return 1 if report.no_channel or report.failed or pushes_failed else 0


def cmd_review_mode(args: argparse.Namespace) -> int:
    from pipelines.warehouse import review

    wh = open_warehouse(args.db)
    if args.mode:
        try:
            review.set_mode(wh, args.mode, args.user)
        except ValueError as exc:
            print(str(exc), file=sys.stderr)
            return 1
    with wh.read() as con:
        modes = review.configured_modes(con)
    print("审核模式：" + "，".join(f"{ {'city': '地市', 'county': '县区'}[k]}报送 {v}" for k, v in modes.items()))
    return 0


def cmd_deadlines(args: argparse.Namespace) -> int:
    """Each level's reporting deadline (issue 31 §3): after it a 报送员's file is a 更正, always reviewed."""
    from pipelines.warehouse import deadlines

    wh = open_warehouse(args.db)
    if args.rules:
        try:
            deadlines.set_rules(wh, args.rules, args.user)
        except ValueError as exc:
            print(str(exc), file=sys.stderr)
            return 1
    with wh.read() as con:
        print(deadlines.configured_zh(deadlines.configured(con)))
    return 0


def cmd_maintain(args: argparse.Namespace) -> int:
    """DuckLake's upkeep (a nightly cron on one server of a lake deployment); a DuckDB file needs none."""
    from datetime import timedelta

    from pipelines.warehouse.lake import LakeWarehouse

    wh = open_warehouse(args.db)
    if not isinstance(wh, LakeWarehouse):
        print(f"{wh.label}：DuckDB 文件库无需此项维护（写入后自动检查点）；湖仓（KAIGONG_STORE=lake）才需要定期运行。")
        return 0
    done = wh.maintain(args.user, keep=timedelta(days=args.keep_days))
    print(f"{wh.label}：写出内联数据 {done['flushed_tables']} 表，合并小文件 {done['merged_files']} 个，"
          f"过期快照 {done['expired_snapshots']} 个（早于 {args.keep_days} 天），删除不再需要的文件 {done['deleted_files']} 个")
    return 0


# argparse's own messages, in Chinese (a clerk running `kaigong metrics` without --as-of read English).
_ARGPARSE_ZH = (
    (re.compile(r"the following arguments are required: (.+)"), "缺少必需的参数：{}"),
    (re.compile(r"unrecognized arguments: (.+)"), "无法识别的参数：{}"),
    (re.compile(r"argument (\S+): invalid choice: (.+?) \(choose from (.+)\)"), "参数 {} 的取值 {} 无效，可选：{}"),
    (re.compile(r"argument (\S+): expected one argument"), "参数 {} 需要一个值"),
    (re.compile(r"argument (\S+): invalid (\S+) value: (.+)"), "参数 {} 的值无效（{}）：{}"),
    (re.compile(r"argument (\S+): (.+)"), "参数 {}：{}"),
)


def _zh(message: str) -> str:
    for pattern, zh in _ARGPARSE_ZH:
        if m := pattern.fullmatch(message):
            return zh.format(*m.groups())
    return message


class _Parser(argparse.ArgumentParser):
    """argparse with its errors and usage line in Chinese; the exit status stays 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}：参数错误：{_zh(message)}（查看说明：{self.prog} --help）\n")

    def format_usage(self) -> str:
        return super().format_usage().replace("usage:", "用法：", 1)

    def format_help(self) -> str:
        text = super().format_help().replace("usage:", "用法：", 1)
        return text.replace("\npositional arguments:", "\n位置参数：").replace("\noptions:", "\n选项：")


_KNOWN_HELP = "按某一时刻数据库所知的数据计算（YYYY-MM-DDTHH:MM；只用该时刻及以前导入的各报告版本，不含其后的更正）"


def cmd_yearlist(args: argparse.Namespace) -> int:
    """The year's list (调度库): admit (by hand, or --rules), remove (调出, with a reason), show."""
    from pipelines.auth import User
    from pipelines.views import yearlist as view
    from pipelines.vocab.findings import Refused
    from pipelines.warehouse import yearlist

    wh = open_warehouse(args.db)
    if not wh.exists():
        wh.init()
    wh.upgrade()
    on: date = args.on or date.today()
    year = args.year or on.year
    user = User(args.user, "管理员")  # the command line is the deployment's own administrator
    try:
        if args.action == "admit":
            if args.rules:
                got = yearlist.admit_by_rules(wh, user, year, on)
                print(f"{year} 年调度库按规则纳入：" + "，".join(f"{k} {v} 个" for k, v in got.items()))
            else:
                if not args.project:
                    print("请给出 --project（可多次）或 --rules", file=sys.stderr)
                    return 2
                n = yearlist.admit(wh, user, year, list(args.project), on, args.reason or "")
                print(f"{year} 年调度库纳入 {n} 个项目（{on} 起）")
            return 0
        if args.action == "confirm":  # a unit's 续建结转 confirmed (on its behalf, from the command line)
            if not args.project:
                print("请给出要确认的 --project（可多次）", file=sys.stderr)
                return 2
            n = yearlist.confirm(wh, user, year, list(args.project))
            print(f"{year} 年续建结转确认 {n} 个项目")
            return 0
        if args.action == "remove":
            if len(args.project or []) != 1:
                print("调出请给出一个 --project", file=sys.stderr)
                return 2
            yearlist.remove(wh, user, year, args.project[0], on, args.reason or "")
            print(f"已将 {args.project[0]} 自 {on} 起调出 {year} 年调度库")
            return 0
    except Refused as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    with wh.read() as con:
        frame = view.year_list(con, year, on)
    if args.json:
        rows = frame.select("project_id", "project_name", "city_name", "county_name", "tier", "status", "how",
                            "reason", "admitted_on", "admitted_by", "removed_on", "removed_by", "removed_reason",
                            "reported").to_dicts()
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return 0
    print(f"{year} 年调度库（截至 {on}）：{view.summary_zh(view.summary(frame))}")
    for r in frame.iter_rows(named=True):
        gone = f"，{r['removed_on']} 调出（{r['removed_by']}：{r['removed_reason']}）" if r["status"] == "已调出" else ""
        print(f"  [{r['status']}] {r['project_name']}（{r['city_name'] or ''}{r['county_name'] or ''}）"
              f"{r['admitted_on']} 纳入·{r['how']}（{r['admitted_by']}）{gone}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="kaigong", description="开工：工业转型升级项目调度分析")
    p.add_argument("--db", default=None,
                   help="DuckDB 文件（默认 data/kaigong.duckdb，或环境变量 KAIGONG_DB；"
                        "KAIGONG_STORE=lake 时不给 --db 即用湖仓）")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    pi = sub.add_parser("ingest", help="导入报送文件（CSV/XLSX/XLS），每批全部导入或全部不导入")
    pi.add_argument("files", nargs="+")
    pi.add_argument("--report-date", type=_date, help="报告期截止日 YYYY-MM-DD（文件标题中没有时必填）")
    pi.add_argument("--tier", help="层级（文件中没有层级列时）")
    pi.add_argument("--region", help="地区（文件中没有地区列时，如铜陵表）")
    pi.add_argument("--frequency", choices=schema.FREQUENCIES,
                    help="报送周期（默认按标题用语，其次按报告期：周五为周报，季末为季报，其他月末为月报）")
    pi.add_argument("--user", default="cli", help="记录在审计日志中的操作人")
    pi.add_argument("--json", action="store_true", help="输出 JSON 数组：每个文件的读取情况与导入结果")
    pi.set_defaults(func=cmd_ingest)

    pm = sub.add_parser("metrics", help="按合同口径计算指标")
    pm.add_argument("--as-of", type=_date, required=True, help="报告期截止日 YYYY-MM-DD")
    pm.add_argument("--by", choices=sorted(metrics.GROUPINGS), help="分组")
    pm.add_argument("--json", action="store_true", help="输出 JSON 数组")
    pm.add_argument("--as-known-at", type=_moment, help=_KNOWN_HELP)
    _add_filters(pm)
    pm.set_defaults(func=cmd_metrics)

    pc = sub.add_parser("changes", help="本期变动：每个项目本期报送与上期相比的变动（累计投资减少、状态倒退、漏报等）")
    pc.add_argument("--as-of", type=_date, required=True, help="报告期截止日 YYYY-MM-DD（取该日或之前最近的报告期）")
    pc.add_argument("--region", help="地市或县区（名称或代码）")
    pc.add_argument("--json", action="store_true", help="输出 JSON 数组")
    pc.set_defaults(func=cmd_changes)

    po = sub.add_parser("overdue-reports", help="催报：截至报告期未报送的单位、录入率、连续未报期数与联系人")
    po.add_argument("--as-of", type=_date, required=True, help="报告期截止日 YYYY-MM-DD")
    po.add_argument("--level", choices=["province", "city"], help="部署层级（默认环境变量 KAIGONG_LEVEL，或 province）")
    po.add_argument("--json", action="store_true", help="输出 JSON 数组")
    po.set_defaults(func=cmd_overdue_reports)

    prc = sub.add_parser("reconcile", help="清单核对：导入行政审批局（立项）、统计局（入统）或商务局（签约）的清单，与调度库逐项核对")
    prc.add_argument("file", help="部门清单（xlsx/xls/csv，部门自己的表式或标准模板）")
    prc.add_argument("--kind", required=True, choices=["入统", "立项", "签约"], help="清单类别")
    prc.add_argument("--as-of", type=_date, required=True, help="清单截止日期 YYYY-MM-DD（与该日的调度库核对）")
    prc.add_argument("--region", help="清单所属地市（文件中没有地市列时）")
    prc.add_argument("--user", default="cli", help="记录在审计日志中的操作人")
    prc.add_argument("--json", action="store_true", help="输出 JSON 数组：每个项目一个对象（name, city, county, outcome）")
    prc.set_defaults(func=cmd_reconcile)

    pyl = sub.add_parser("yearlist", help="调度库：按规则或手动纳入项目、调出项目（须填原因）、查看本年清单及变动")
    pyl.add_argument("action", choices=["admit", "remove", "confirm", "show"])
    pyl.add_argument("--project", action="append", help="项目编号（project_id；纳入可多次给出）")
    pyl.add_argument("--rules", action="store_true",
                     help="按规则纳入：上年续建结转（1 月 1 日起）及已完成立项且总投资≥门槛（KAIGONG_ADMIT_THRESHOLD，默认 500 万元）")
    pyl.add_argument("--on", type=_date, help="纳入/调出日期，或查看截至的日期 YYYY-MM-DD（默认今天）")
    pyl.add_argument("--year", type=int, help="年度（默认取 --on 的年份）")
    pyl.add_argument("--reason", help="纳入理由或调出原因（手动纳入、调出必填）")
    pyl.add_argument("--user", default="cli", help="记录在审计日志中的操作人")
    pyl.add_argument("--json", action="store_true", help="show：输出 JSON 数组")
    pyl.set_defaults(func=cmd_yearlist)

    pn = sub.add_parser("notify", help="发送通知：排入到期的通知（督办逾期、漏报）并发送队列；按配置定时推送简报（由 cron 定时运行）")
    pn.add_argument("--as-of", type=_date, help="今天的日期（默认系统日期）")
    pn.add_argument("--config", help="通知渠道配置文件（默认环境变量 KAIGONG_NOTIFY 或 ~/.config/kaigong/notify.json）")
    pn.set_defaults(func=cmd_notify)

    prm = sub.add_parser("review-mode", help="查看或设置审核模式：direct（直接计入）、review（需审核）或 city=review,county=direct")
    prm.add_argument("mode", nargs="?")
    prm.add_argument("--user", default="cli", help="记录在审计日志中的操作人")
    prm.set_defaults(func=cmd_review_mode)

    pdl = sub.add_parser("deadlines", help="查看或设置各级报送截止时间：如 county=mon@12:00+2h,city=tue@12:00（off 为不截止）")
    pdl.add_argument("rules", nargs="?")
    pdl.add_argument("--user", default="cli", help="记录在审计日志中的操作人")
    pdl.set_defaults(func=cmd_deadlines)

    pd = sub.add_parser("demo", help="（重新）生成演示数据库")
    pd.set_defaults(func=cmd_demo)

    pt = sub.add_parser("template", help="生成标准报送模板（.csv 或 .xlsx）")
    pt.add_argument("--out", required=True)
    pt.set_defaults(func=cmd_template)

    pfs = sub.add_parser("fill-sheet", help="生成某地区的本期填报表（按上期数据预填，本期需更新的单元格标黄，其余锁定）")
    pfs.add_argument("--unit", required=True, help="地市或县区（名称或代码），如 忻府区")
    pfs.add_argument("--as-of", type=_date, required=True, help="取该日或之前该地区最近一次报送的数据 YYYY-MM-DD")
    pfs.add_argument("--report-date", type=_date, help="本期报告期截止日（默认：上期之后的下一期，如周报加 7 天）")
    pfs.add_argument("--out", required=True, help="输出的 .xlsx 文件")
    pfs.set_defaults(func=cmd_fill_sheet)

    pbr = sub.add_parser("brief", help="生成简报（PDF、PNG 或 Word）；图表需要 Chromium 和 Noto CJK 字体（make sysdeps）")
    pbr.add_argument("--as-of", type=_date, help="报告期截止日 YYYY-MM-DD")
    pbr.add_argument("--out", help="输出文件 .pdf、.png 或 .docx（Word，公文格式）")
    pbr.add_argument("--reissue", type=int, metavar="ID", help="重印第 ID 号已发简报：数字为原发时记录的数字")
    pbr.add_argument("--list", action="store_true", help="列出已发简报（编号、报告期、格式、发出人和时间）")
    pbr.add_argument("--json", action="store_true", help="与 --list 同用：JSON 输出")
    pbr.add_argument("--user", default="cli", help="记录为发出人")
    pbr.add_argument("--as-known-at", type=_moment, help=_KNOWN_HELP)
    _add_filters(pbr)
    pbr.set_defaults(func=cmd_brief)

    pb = sub.add_parser("backup", help="把每张表导出为 Parquet（附清单与校验和）及原始报送文件")
    pb.add_argument("--out", required=True, help="备份目录")
    pb.add_argument("--verify", action="store_true",
                    help="恢复演练：把备份恢复到临时数据库，逐表核对行与最新报告期的指标（不一致时退出码 1）")
    pb.add_argument("--keep", type=int, default=None,
                    help="只保留同一上级目录中最近 N 份备份（默认取 KAIGONG_BACKUP_KEEP，未设则全部保留）")
    pb.set_defaults(func=cmd_backup)

    pmt = sub.add_parser("maintain", help="湖仓维护（由 cron 每晚运行）：写出内联数据、合并小文件、过期旧快照并删除其文件")
    pmt.add_argument("--keep-days", type=float, default=7.0,
                     help="保留最近 N 天的快照（默认 7；报告的各版本另存于表中，不依赖快照）")
    pmt.add_argument("--user", default="cli", help="记录在审计日志中的操作人")
    pmt.set_defaults(func=cmd_maintain)

    pex = sub.add_parser("export", help="导出本省数据（状态与指标单元）为按 省份/年度/报告期 分区的 Parquet，供全国汇总")
    pex.add_argument("--out", required=True, help="导出目录（已有其他省份的导出时，只替换本省的分区）")
    pex.add_argument("--province", help="省份代码（GB/T 2260 前两位，如山西 14；默认按项目所属地市判断）")
    pex.set_defaults(func=cmd_export)

    pru = sub.add_parser("rollup", help="全国汇总：读取一个或多个省份的导出目录，按合同口径计算指标")
    pru.add_argument("dirs", nargs="+", help="导出目录（kaigong export 的 --out）")
    pru.add_argument("--as-of", type=_date, required=True, help="报告期截止日 YYYY-MM-DD")
    pru.add_argument("--by", choices=sorted(metrics.GROUPINGS), help="分组")
    pru.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb", help="计算引擎（默认 duckdb）")
    pru.add_argument("--json", action="store_true", help="输出 JSON 数组")
    _add_filters(pru)
    pru.set_defaults(func=cmd_rollup)

    pr = sub.add_parser("restore", help="从备份目录恢复数据库（校验后整体替换）")
    pr.add_argument("backup_dir")
    pr.add_argument("--user", default="cli", help="记录在审计日志中的操作人")
    pr.add_argument("--users", action="store_true", help="同时恢复备份中的用户文件（覆盖 KAIGONG_USERS）")
    pr.set_defaults(func=cmd_restore)

    pu = sub.add_parser("user", help="用户管理")
    usub = pu.add_subparsers(dest="user_command", required=True, parser_class=_Parser)
    pua = usub.add_parser("add", help="创建用户（第一个管理员也用它创建；同名则替换并使其会话失效）")
    pua.add_argument("name")
    pua.add_argument("--role", required=True, choices=list(ROLES))
    pua.add_argument("--region", help="报送员所属地市或县区；审核员所属地市（不填为全省审核员）")
    pua.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码")
    pua.add_argument("--leader", help="领导用户对应的责任领导姓名（台账「包保领导」列所写），用于「我的项目」")
    pup = usub.add_parser("passwd", help="重置密码（该用户已登录的会话全部失效）")
    pup.add_argument("name")
    pup.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码")
    pur = usub.add_parser("role", help="改角色（可同时改地区）")
    pur.add_argument("name")
    pur.add_argument("--role", required=True, choices=list(ROLES))
    pur.add_argument("--region", help="新的地市或县区（空字符串为不绑定）")
    pus = usub.add_parser("scope", help="改所属地区（空字符串为不绑定）")
    pus.add_argument("name")
    pus.add_argument("--region", required=True)
    for verb, text in (("remove", "删除用户"), ("disable", "停用用户（已登录的会话全部失效）"), ("enable", "启用用户")):
        usub.add_parser(verb, help=text).add_argument("name")
    usub.add_parser("list", help="列出用户（不含口令）")
    for verb, sp in usub.choices.items():
        if verb != "list":
            sp.add_argument("--by", default="cli", help="记录在审计日志中的操作人")
    pu.set_defaults(func=cmd_user)
    return p


def main(argv: list[str] | None = None) -> int:
    from pipelines.warehouse.connection import StoreTooNew
    from pipelines.warehouse.lake import LakeUnavailable

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except StoreTooNew as exc:  # a database written by a newer DuckDB: say how to move it, change nothing
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except LakeUnavailable as exc:  # KAIGONG_STORE=lake: not installed, not configured, or not reachable
        print(f"错误：{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
