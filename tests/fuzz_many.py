"""`make fuzz`: many generated malformed files through the reader and the loader.

The assertions are tests/test_fuzz.py's (no crash, Chinese errors only, a load whole or refused
with nothing written); prints the counts by kind and outcome, and the slowest and largest-memory
cases. Run: .venv/bin/python -m tests.fuzz_many [--n 10000] [--seed 1]
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import polars as pl

from pipelines.warehouse.store import Warehouse
from tests.test_fuzz import GOOD_ROW, HEAD, _assert_clean
from tests.test_guard import bomb

CITIES = ["太原市", "忻州市", "大同市", "铜陵市", "不存在市", ""]
ENCODINGS = ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "big5", "latin-1"]
NASTY = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "<script>alert(1)</script>", "<img src=x onerror=1>",
         "\u202e反转", "\x00", "甲\r\n乙", '"', "1e308", "-0", "NaN", "２０２０年３月", "亿元", "合计"]


def _row(rng: random.Random) -> list[str]:
    """A row that loads, or (one time in three) with a bad or hostile cell somewhere."""
    cells = ["项目" + str(rng.randint(0, 99_999)), rng.choice(CITIES[:4]), rng.choice(["市级千项", "省级双百·新兴"]),
             rng.choice(["在建", "新开工", "储备", "竣工"]), str(rng.choice([1000, 50, 12.5])),
             str(rng.randint(0, 900)), str(rng.randint(0, 900))]
    if rng.random() < 0.33:
        cells[rng.randrange(len(cells))] = rng.choice(NASTY + CITIES[4:] + ["x", "?", "-5", "1e12"])
    return cells


def _csv(rows: list[list[str]], head: str = HEAD) -> str:
    return head + "\n".join(",".join('"' + c.replace('"', '""') + '"' for c in r) for r in rows)


def random_bytes(rng: random.Random) -> tuple[bytes, str]:
    return rng.randbytes(rng.randint(0, 5000)), rng.choice(["a.csv", "a.xlsx", "a.xls", "a"])


def wrong_encoding(rng: random.Random) -> tuple[bytes, str]:
    text = _csv([_row(rng) for _ in range(rng.randint(1, 20))])
    return text.encode(rng.choice(ENCODINGS), errors="replace"), "enc.csv"


def injection(rng: random.Random) -> tuple[bytes, str]:
    rows = [_row(rng) for _ in range(rng.randint(1, 10))]
    for r in rows:
        r[0] = rng.choice(NASTY[:6]) + r[0]  # formula and HTML in names: kept as text
    return _csv(rows).encode(), "inject.csv"


def giant_cell(rng: random.Random) -> tuple[bytes, str]:
    cell = rng.choice(["甲", "a", "1", ",", '"']) * rng.choice([20_001, 100_000, 400_000])
    r = _row(rng)
    r[rng.randrange(len(r))] = cell
    return _csv([r]).encode(), "giant.csv"


def shifted(rng: random.Random) -> tuple[bytes, str]:
    rows = [_row(rng) for _ in range(rng.randint(1, 15))]
    for r in rows:
        if rng.random() < 0.5:
            r.insert(rng.randrange(len(r) + 1), rng.choice(["", "x", "1"]))
        elif r:
            r.pop(rng.randrange(len(r)))
    head = HEAD if rng.random() < 0.5 else "," + HEAD
    return _csv(rows, head).encode(), "shifted.csv"


def _xlsx(rng: random.Random) -> bytes:
    rows = [_row(rng) for _ in range(rng.randint(1, 8))]
    cols = HEAD.strip().split(",")
    buf = io.BytesIO()
    pl.DataFrame([dict(zip(cols, r, strict=False)) for r in rows]).write_excel(buf)
    return buf.getvalue()


_XLSX_POOL: list[bytes] = []


def truncated_xlsx(rng: random.Random) -> tuple[bytes, str]:
    if len(_XLSX_POOL) < 30:
        _XLSX_POOL.append(_xlsx(rng))
    raw = rng.choice(_XLSX_POOL)
    how = rng.random()
    if how < 0.4:
        raw = raw[: rng.randint(1, len(raw) - 1)]
    elif how < 0.8:  # a few bytes flipped
        b = bytearray(raw)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        raw = bytes(b)
    return raw, "cut.xlsx"


_BOMBS: dict[tuple[int, int | None], bytes] = {}


def bombed_zip(rng: random.Random) -> tuple[bytes, str]:
    key = (rng.choice([20, 200, 800]), rng.choice([None, 1000, 300_000]))
    if key not in _BOMBS:
        _BOMBS[key] = bomb(key[0], declared=key[1])
    raw = _BOMBS[key]
    if rng.random() < 0.3:  # a junk member or a junk tail as well
        buf = io.BytesIO(raw)
        with zipfile.ZipFile(buf, "a") as z:
            z.writestr("xl/junk.xml", rng.randbytes(100))
        raw = buf.getvalue()
    return raw, "bomb.xlsx"


def good_or_nearly(rng: random.Random) -> tuple[bytes, str]:
    return (HEAD + GOOD_ROW * rng.randint(1, 5) + "\n".join(",".join(_row(rng)) for _ in range(rng.randint(0, 3)))
            ).encode(rng.choice(["utf-8", "gbk"]), errors="replace"), "near.csv"


KINDS: dict[str, Callable[[random.Random], tuple[bytes, str]]] = {
    "random_bytes": random_bytes, "wrong_encoding": wrong_encoding, "injection": injection,
    "giant_cell": giant_cell, "shifted": shifted, "truncated_xlsx": truncated_xlsx, "bombed_zip": bombed_zip,
    "good_or_nearly": good_or_nearly,
}
WEIGHTS = {"random_bytes": 2, "wrong_encoding": 2, "injection": 2, "giant_cell": 1, "shifted": 2,
           "truncated_xlsx": 2, "bombed_zip": 1, "good_or_nearly": 2}


def _hwm_reset() -> None:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def _status(key: str) -> int:
    with open("/proc/self/status") as fh:
        return int(next(line.split()[1] for line in fh if line.startswith(key))) * 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    names = list(KINDS)
    counts: Counter[tuple[str, str]] = Counter()
    cases: list[tuple[float, int, str, int]] = []  # (seconds, RSS growth, kind, size)
    failures: list[str] = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        wh = Warehouse(Path(d) / "fuzz.duckdb")
        wh.init()
        for i in range(args.n):
            kind = rng.choices(names, weights=[WEIGHTS[k] for k in names])[0]
            raw, name = KINDS[kind](rng)
            _hwm_reset()
            before = _status("VmRSS")
            t = time.perf_counter()
            try:
                outcome = _assert_clean(raw, name, wh)
            except AssertionError as exc:
                failures.append(f"{kind} #{i}: {exc!r}"[:300])
                outcome = "FAILED"
            cases.append((time.perf_counter() - t, _status("VmHWM") - before, kind, len(raw)))
            counts[(kind, outcome or "?")] += 1
            if (i + 1) % 1000 == 0:
                print(f"  {i + 1:,} files, {time.perf_counter() - t0:.0f} s", flush=True)
    total = time.perf_counter() - t0
    print(f"\nmake fuzz: {args.n:,} files (seed {args.seed}) in {total:.0f} s; {len(failures)} failed")
    for kind in names:
        row = {o: c for (k, o), c in counts.items() if k == kind}
        print(f"  {kind:15s} " + "  ".join(f"{o} {c:,}" for o, c in sorted(row.items())))
    print("slowest:")
    for s, m, kind, size in sorted(cases, reverse=True)[:5]:
        print(f"  {s * 1000:8.0f} ms  {m / 1048576:6.1f} MB  {kind} ({size:,} bytes)")
    print("largest memory growth:")
    for s, m, kind, size in sorted(cases, key=lambda c: -c[1])[:5]:
        print(f"  {m / 1048576:6.1f} MB  {s * 1000:8.0f} ms  {kind} ({size:,} bytes)")
    for f in failures[:20]:
        print("FAILED " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
