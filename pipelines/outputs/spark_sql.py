"""The metrics layer's SQL on Spark: the national roll-up's figures on a second engine.

The metrics functions take a connection and send it SQL text (DuckDB's dialect) with bound
values. SparkConnection is such a connection: it puts the values into the text as literals,
rewrites the few constructs Spark has not got (RULES, by name), has sqlglot write Spark's dialect
and runs it with spark.sql(). The tables are the export's Parquet files (temp views named as the
warehouse's tables) and the roll-up's own views (outputs/rollup.py), so the figures are the
metrics code's own, on Spark. Recording forwards to a DuckDB connection and keeps every text it
sends, for the dialect guard (tests/test_rollup_spark.py).
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from pipelines.outputs.rollup import Rollup, connect, derived_views

START_SECONDS = 120.0  # a local session starts in ~10-15 s on a 2-core machine
JAVA_CHECK_SECONDS = 20.0


class SparkUnavailable(Exception):
    """Spark could not be started (the message is for the user, in Chinese)."""


# ---- the rule set: DuckDB constructs Spark has not got, rewritten before sqlglot writes Spark ---


def _grouping_bits(node: exp.Expr) -> exp.Expr:
    """GROUPING(a, b, …) → GROUPING(a) * 2^(n-1) + GROUPING(b) * 2^(n-2) + …: Spark's GROUPING
    takes one column; the bits and their order are DuckDB's (the first column the high bit)."""
    if not isinstance(node, exp.Grouping) or len(node.expressions) < 2:
        return node
    cols = node.expressions
    terms: list[exp.Expr] = [
        exp.Mul(this=exp.Grouping(expressions=[c.copy()]), expression=exp.Literal.number(1 << (len(cols) - 1 - i)))
        for i, c in enumerate(cols)
    ]
    out = terms[0]
    for t in terms[1:]:
        out = exp.Add(this=out, expression=t)
    return exp.Paren(this=out)


RULES: list[tuple[str, Callable[[exp.Expr], exp.Expr]]] = [
    ("grouping_bits", _grouping_bits),
]


# ---- bound values as literals ---------------------------------------------------------------


def literal(value: Any) -> exp.Expr:
    """A bound value as a SQL literal (DuckDB's reading of it)."""
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value!r}")
        return exp.Literal.number(repr(value))
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.Type.TIMESTAMP)
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.DATE)
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, (list, tuple)):
        return exp.Array(expressions=[literal(v) for v in value])
    raise TypeError(f"cannot bind a {type(value).__name__}")


def bind(sql: str, params: Sequence[Any] | dict[str, Any] | None) -> exp.Expr:
    """The statement (DuckDB's dialect) with its bound values as literals."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    if not params:
        return tree
    named = params if isinstance(params, dict) else {}
    position = iter([] if isinstance(params, dict) else list(params))
    values: dict[int, Any] = {}
    for node in tree.walk(bfs=False):  # depth first: text order, for the positional ones
        if isinstance(node, exp.Placeholder):
            if node.this:
                if node.this not in named:
                    raise KeyError(f"no value bound for ${node.this}")
                values[id(node)] = named[node.this]
            else:
                values[id(node)] = next(position)
    return tree.transform(lambda n: literal(values[id(n)]) if isinstance(n, exp.Placeholder) else n, copy=False)


def to_spark(sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> str:
    """The statement in Spark's dialect: values inlined, RULES applied; raises on anything sqlglot
    cannot write for Spark."""
    tree = bind(sql, params)
    for _, rule in RULES:
        tree = tree.transform(rule)
    return tree.sql(dialect="spark", unsupported_level=ErrorLevel.RAISE)


# ---- connections ----------------------------------------------------------------------------


class Recording:
    """A DuckDB connection that keeps every statement sent to it: [(sql, params)]."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.statements: list[tuple[str, Any]] = []

    def execute(self, sql: str, params: Any = None) -> duckdb.DuckDBPyConnection:
        self.statements.append((sql, params))
        return self.con.execute(sql, params) if params is not None else self.con.execute(sql)

    def sql(self, sql: str, params: Any = None) -> duckdb.DuckDBPyRelation:
        self.statements.append((sql, params))
        return self.con.sql(sql, params=params)


class _Result:
    def __init__(self, rows: list[tuple]) -> None:
        self._rows = rows

    def fetchall(self) -> list[tuple]:
        return self._rows

    def fetchone(self) -> tuple | None:
        return self._rows[0] if self._rows else None


class SparkConnection:
    """What the metrics functions need of a connection (execute → fetchall), on a SparkSession."""

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self.sent: list[str] = []

    def execute(self, sql: str, params: Any = None) -> _Result:
        text = to_spark(sql, params)
        self.sent.append(text)
        return _Result([tuple(r) for r in self.spark.sql(text).collect()])


# ---- the session and the views --------------------------------------------------------------


_SPARK_TYPES = {"VARCHAR": "STRING", "INTEGER": "INT", "BIGINT": "BIGINT", "DOUBLE": "DOUBLE", "DATE": "DATE",
                "BOOLEAN": "BOOLEAN", "TIMESTAMP": "TIMESTAMP_NTZ", "FLOAT": "FLOAT", "SMALLINT": "SMALLINT"}


def _spark_type(duck: str) -> str:
    if duck.endswith("[]"):
        return f"ARRAY<{_spark_type(duck[:-2])}>"
    try:
        return _SPARK_TYPES[duck]
    except KeyError:
        raise ValueError(f"no Spark type for {duck}") from None


def _java_ok() -> None:
    java = shutil.which("java", path=os.path.join(os.environ.get("JAVA_HOME", ""), "bin") + os.pathsep
                        + os.environ.get("PATH", ""))
    if java is None:
        raise SparkUnavailable("未找到 Java（Spark 需要 Java 17）：请以 root 在项目目录运行 make scale（安装 default-jre-headless）")
    try:
        subprocess.run([java, "-version"], capture_output=True, timeout=JAVA_CHECK_SECONDS, check=True)
    except subprocess.TimeoutExpired:
        raise SparkUnavailable(f"Java 在 {JAVA_CHECK_SECONDS:.0f} 秒内没有响应：{java}") from None
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SparkUnavailable(f"Java 无法运行（{java}）：{exc}") from None


def _children() -> set[int]:
    """The ids of this process's child processes (to stop a Spark start-up that hung)."""
    out = set()
    me = str(os.getpid())
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == me:
            out.add(int(stat.parent.name))
    return out


def start_session(timeout: float = START_SECONDS, *, cores: int = 2) -> Any:
    """A local SparkSession (127.0.0.1, no UI, few shuffle partitions), or SparkUnavailable when
    Java is missing or the session has not started within timeout seconds."""
    import importlib.util

    if importlib.util.find_spec("pyspark") is None:  # the spark extra (make scale), not in make run's set
        raise SparkUnavailable("未安装 pyspark（Spark 汇总为可选组件）：请在项目目录运行 make scale"
                               "（或 .venv/bin/pip install --no-deps --require-hashes -r requirements/scale.lock），"
                               "或不加 --engine spark 用 DuckDB 汇总")
    _java_ok()
    from pyspark.sql import SparkSession
    before = _children()
    box: dict[str, Any] = {}

    def start() -> None:
        try:
            box["spark"] = (
                SparkSession.builder.master(f"local[{cores}]").appName("kaigong-rollup")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.shuffle.partitions", str(cores))
                .config("spark.default.parallelism", str(cores))
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
                # list the partitions in the driver: a listing job per table cost seconds each
                .config("spark.sql.sources.parallelPartitionDiscovery.threshold", "100000")
                .getOrCreate()
            )
            box["spark"].sparkContext.setLogLevel("ERROR")
        except BaseException as exc:  # reported to the caller below
            box["error"] = exc

    t = threading.Thread(target=start, name="spark-start", daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        for pid in _children() - before:  # the JVM this start launched, by its id
            with contextlib.suppress(OSError):
                os.kill(pid, 15)
        raise SparkUnavailable(f"Spark 在 {timeout:.0f} 秒内没有启动完成：已放弃（检查 Java 与内存）")
    if "error" in box:
        raise SparkUnavailable(f"Spark 启动失败：{box['error']}")
    return box["spark"]


def register(spark: Any, rollup: Rollup) -> SparkConnection:
    """The roll-up's tables and views as Spark temp views; returns a connection over them. The
    roll-up's meta rows are DuckDB's (rollup.connect decides them from the same files)."""
    for table in rollup.tables:
        # a partition key the files' columns also name (year) once: Spark calls two of them ambiguous
        cols = list(dict(reversed(rollup.columns(table))).items())[::-1]
        ddl = ", ".join(f"`{n}` {_spark_type(t)}" for n, t in cols)
        frames = []
        for p, d in sorted(rollup.where.items()):
            part = d / table / f"province={p}"
            if any(part.rglob("*.parquet")):
                frames.append(spark.read.schema(ddl).option("basePath", str(d / table)).parquet(str(part)))
        if frames:
            df = frames[0]
            for f in frames[1:]:
                df = df.unionByName(f)
        else:
            df = spark.createDataFrame([], ddl)
        df.select(*[n for n, _ in cols]).createOrReplaceTempView(table)
    con = SparkConnection(spark)
    for name, select in derived_views():
        spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {name} AS {to_spark(select)}")
    duck = connect(rollup)
    try:
        meta = duck.execute("SELECT key, value FROM meta").fetchall()
    finally:
        duck.close()
    spark.createDataFrame(meta, "key STRING, value STRING").createOrReplaceTempView("meta")
    return con
