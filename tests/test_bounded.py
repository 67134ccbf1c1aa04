"""The bounded child read (issue 18): same result as in process, a memory bound, a queue."""

from __future__ import annotations

import threading
import time
from datetime import date

from polars.testing import assert_frame_equal

from pipelines.ingest import bounded
from pipelines.ingest.prepare import prepare
from pipelines.ingest.result import ReadOptions
from tests.conftest import ROOT
from tests.test_guard import bomb

SAMPLE = ROOT / "data" / "samples" / "standard_template.xlsx"


def test_a_child_read_gives_what_a_read_in_process_gives():
    raw = SAMPLE.read_bytes()
    here = prepare(raw, SAMPLE.name, ReadOptions(report_date=date(2020, 3, 27)))
    there = bounded.prepare(raw, SAMPLE.name, ReadOptions(report_date=date(2020, 3, 27)))
    assert here.ok and there.ok and there.submission is not None and here.submission is not None
    assert_frame_equal(there.submission.frame, here.submission.frame)
    assert [w.zh() for w in there.warnings] == [w.zh() for w in here.warnings]
    assert there.submission.raw == raw and there.layout == here.layout
    assert 50 * 2**20 < bounded.last_peak_rss < bounded.memory_bytes()


def test_a_child_past_the_memory_bound_is_stopped_with_a_chinese_error(monkeypatch):
    monkeypatch.setenv("KAIGONG_READ_MEMORY_MB", "60")  # less than the child needs to start
    t = time.monotonic()
    p = bounded.prepare(SAMPLE.read_bytes(), "样表.xlsx", ReadOptions(report_date=date(2020, 3, 27)))
    assert time.monotonic() - t < 30
    assert [e.zh() for e in p.errors] == [
        "文件 样表.xlsx：读取该文件所需内存超过上限 60 MB（KAIGONG_READ_MEMORY_MB），已停止读取，没有导入任何数据："
        "请按地市、层级或报告期把数据拆成几个较小的文件分别上传（每个文件不超过 20 万行）"]


def test_bombs_never_reach_a_child():
    p = bounded.prepare(bomb(200), "炸弹.xlsx", ReadOptions(report_date=date(2020, 3, 27)))
    assert "疑似压缩炸弹" in p.errors[0].zh()
    t = time.monotonic()
    p = bounded.prepare(bomb(800, declared=300_000), "谎报.xlsx", ReadOptions(report_date=date(2020, 3, 27)))
    assert "超过它声明的大小" in p.errors[0].zh()
    assert time.monotonic() - t < 10


def test_uploads_that_arrive_together_queue_and_are_told_their_place():
    q = bounded.ReadQueue(lambda: 1)
    heard: dict[str, list[int]] = {"a": [], "b": [], "c": []}
    order: list[str] = []
    release = threading.Event()

    def reader(name: str) -> None:
        with q.turn(heard[name].append):
            order.append(name)
            if name == "a":
                release.wait(5)

    a = threading.Thread(target=reader, args=("a",))
    a.start()
    while not order:
        time.sleep(0.01)
    b = threading.Thread(target=reader, args=("b",))
    b.start()
    while q.waiting() < 1:
        time.sleep(0.01)
    c = threading.Thread(target=reader, args=("c",))
    c.start()
    while q.waiting() < 2 or len(heard["c"]) < 1:
        time.sleep(0.01)
    assert heard == {"a": [0], "b": [1], "c": [2]} and q.running() == 1
    release.set()
    for th in (a, b, c):
        th.join(10)
    assert order == ["a", "b", "c"]
    assert heard["a"] == [0] and heard["b"] == [1, 0]
    assert heard["c"] in ([2, 1, 0], [2, 0])  # b may be done before c looks again
    assert q.running() == 0 and q.waiting() == 0
