"""Read and validate one upload in a child process with a memory bound, one upload at a time.

The dashboard's uploader and `kaigong ingest` read here, so a file that gets past the checks of
pipelines.ingest.guard still cannot take the server down. The child's resident memory is bounded by
KAIGONG_READ_MEMORY_MB (default 2048): the parent reads it every 20 ms and kills the child past
the bound, and the child sets RLIMIT_DATA (resource.setrlimit, before it imports anything) 2 GB
above it, for a single huge allocation. A child that dies of either is a Chinese error naming the
file and the bound; nothing is loaded. The server process only waits (its other sessions are
answered meanwhile) and receives the staged frame as an Arrow IPC file and the findings pickled.

Uploads that arrive together queue for the reader (KAIGONG_READ_WORKERS at a time, default 1: two
decodes at once would double the peak and share two cores); a waiting caller is told its place.

A spare child is started ahead of need (imports and the first read of a sample done), so a read
costs what the decode costs plus handing the bytes over and the frame back.
KAIGONG_READ_MEMORY_MB=0 reads in this process instead.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import IO, Any

import polars as pl

from pipelines.ingest import guard
from pipelines.ingest.prepare import Prepared, prepared_from, size_refusal
from pipelines.ingest.result import ReadOptions
from pipelines.vocab.findings import Finding

READ_MEMORY_MB = 2048  # the 100,000-row bench file needs ~830 MB (RLIMIT_DATA), 16 MiB of XLSX
READ_TIMEOUT_S = 600
ROOT = Path(__file__).resolve().parents[2]  # the repository: the child runs this checkout, and warms up on its sample


def memory_bytes() -> int:
    """The child's RLIMIT_DATA in bytes; 0 means read in this process."""
    raw = os.environ.get("KAIGONG_READ_MEMORY_MB", "")
    try:
        mb = float(raw) if raw else READ_MEMORY_MB
    except ValueError:
        mb = READ_MEMORY_MB
    return max(0, int(mb * 1024 * 1024))


def timeout_s() -> float:
    try:
        return float(os.environ.get("KAIGONG_READ_TIMEOUT_S", "") or READ_TIMEOUT_S)
    except ValueError:
        return READ_TIMEOUT_S


def workers() -> int:
    try:
        return max(1, int(os.environ.get("KAIGONG_READ_WORKERS", "") or 1))
    except ValueError:
        return 1


# ---- the queue ---------------------------------------------------------------------------------


class ReadQueue:
    """First come, first read: at most `slots()` reads at a time in this process."""

    def __init__(self, slots: Callable[[], int] = workers) -> None:
        self._slots = slots
        self._cond = threading.Condition()
        self._waiting: list[object] = []
        self._running = 0

    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)

    def running(self) -> int:
        with self._cond:
            return self._running

    @contextlib.contextmanager
    def turn(self, on_wait: Callable[[int], None] | None = None) -> Iterator[None]:
        """Wait for this caller's turn; on_wait(place) hears its place (1 = next) whenever it changes,
        and 0 when its read starts."""
        ticket = object()
        told = None
        with self._cond:
            self._waiting.append(ticket)
        try:
            while True:
                with self._cond:
                    place = self._waiting.index(ticket) + 1
                    if place == 1 and self._running < self._slots():
                        self._waiting.remove(ticket)
                        self._running += 1
                        break
                    if place == told:
                        self._cond.wait(0.5)
                        continue
                if on_wait is not None:  # outside the lock: the caller may draw a page
                    on_wait(place)
                told = place
        except BaseException:
            with self._cond:
                if ticket in self._waiting:
                    self._waiting.remove(ticket)
                self._cond.notify_all()
            raise
        try:
            if on_wait is not None:
                on_wait(0)  # reading now
            yield
        finally:
            with self._cond:
                self._running -= 1
                self._cond.notify_all()


QUEUE = ReadQueue()


# ---- the child ---------------------------------------------------------------------------------


class _Child:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pipelines.ingest.bounded", str(limit)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, cwd=ROOT,
        )

    def stderr_tail(self) -> str:
        self.stderr.seek(0, os.SEEK_END)
        self.stderr.seek(max(0, self.stderr.tell() - 4000))
        return self.stderr.read().decode("utf-8", "replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.stderr.close()


_SPARE: _Child | None = None
_SPARE_LOCK = threading.Lock()


def warm() -> None:
    """Start a spare child now (imports, a first read), so the next read does not wait for it."""
    global _SPARE
    limit = memory_bytes()
    if not limit:
        return
    with _SPARE_LOCK:
        if _SPARE is not None and (_SPARE.limit != limit or _SPARE.proc.poll() is not None):
            _SPARE.close()
            _SPARE = None
        if _SPARE is None:
            _SPARE = _Child(limit)


def _take(limit: int) -> _Child:
    global _SPARE
    with _SPARE_LOCK:
        child, _SPARE = _SPARE, None
    if child is not None and (child.limit != limit or child.proc.poll() is not None):
        child.close()
        child = None
    return child if child is not None else _Child(limit)


def _memory_message(limit: int) -> str:
    return (f"读取该文件所需内存超过上限 {limit / 1048576:,.0f} MB（KAIGONG_READ_MEMORY_MB），已停止读取，"
            f"没有导入任何数据：{guard._SPLIT}")


def prepare(
    raw: bytes,
    file_name: str,
    opts: ReadOptions = ReadOptions(),
    *,
    on_wait: Callable[[int], None] | None = None,
) -> Prepared:
    """pipelines.ingest.prepare.prepare, with the decode in a memory-bounded child and uploads queued."""
    if (refused := size_refusal(raw, file_name)) is not None:
        return refused
    fmt = "xlsx" if raw[:4] == b"PK\x03\x04" else None
    try:  # the directory's declared sizes: a bomb is refused here, with no child and no wait
        parts = guard.check_xlsx_declared(raw) if fmt == "xlsx" else None
    except guard.Refused as exc:
        return Prepared(file_name, None, [Finding(file_name, str(exc))])
    limit = memory_bytes()
    with QUEUE.turn(on_wait):
        if not limit:
            return _in_process(raw, file_name, opts)
        return _in_child(raw, file_name, opts, parts, limit)


def _in_process(raw: bytes, file_name: str, opts: ReadOptions) -> Prepared:
    from pipelines.ingest.prepare import prepare

    return prepare(raw, file_name, opts)


def _rss(pid: int) -> int:
    """Resident bytes of pid (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


_PAGE = os.sysconf("SC_PAGE_SIZE")
# RLIMIT_DATA counts reserved address space too: polars, calamine and their thread pools reserve
# ~1.3 GB of it at start while ~150 MB is resident. So the bound is on resident memory, read by
# the parent, and RLIMIT_DATA is set this much above it, for what grows faster than the parent looks.
_DATA_SLACK = 2048 * 1024 * 1024
_WATCH_S = 0.02  # the child's RSS is read this often; calamine grows by ~60 MB/s on a bomb
last_peak_rss = 0  # the last bounded read's child, at its largest (for make fuzz's report)


def _in_child(raw: bytes, file_name: str, opts: ReadOptions, parts: list[guard.Part] | None,
              limit: int) -> Prepared:
    global last_peak_rss
    child = _take(limit)
    warm()  # the next upload's child starts now, on the other core
    frame_file = tempfile.NamedTemporaryFile(prefix="kaigong-read-", suffix=".arrow", delete=False)  # noqa: SIM115
    frame_file.close()
    job = pickle.dumps((raw, file_name, opts, frame_file.name), protocol=pickle.HIGHEST_PROTOCOL)
    done: dict[str, Any] = {"peak": 0}

    def talk() -> None:
        try:
            done["out"], _ = child.proc.communicate(job, timeout=timeout_s())
        except subprocess.TimeoutExpired:
            done["timeout"] = True
            child.proc.kill()
        except Exception as exc:  # a broken pipe: the child died before it read the job
            done["error"] = exc

    def watch() -> None:
        while child.proc.poll() is None:
            rss = _rss(child.proc.pid)
            done["peak"] = max(done["peak"], rss)
            if rss > limit:
                done["over"] = True
                child.proc.kill()
                return
            time.sleep(_WATCH_S)

    talker = threading.Thread(target=talk, daemon=True)
    watcher = threading.Thread(target=watch, daemon=True)
    talker.start()
    watcher.start()
    try:
        refusal = None
        if parts is not None:  # the declared sizes are not trusted: inflate while the child decodes
            try:
                guard.check_xlsx_inflated(raw, parts)
            except guard.Refused as exc:
                refusal = str(exc)
                child.proc.kill()
        talker.join()
        child.proc.wait()
        watcher.join()
        last_peak_rss = done["peak"]
        if refusal is not None:
            return Prepared(file_name, None, [Finding(file_name, refusal)])
        if done.get("timeout"):
            return Prepared(file_name, None, [Finding(
                file_name, f"读取超过 {timeout_s():.0f} 秒仍未完成，已停止，没有导入任何数据：{guard._SPLIT}")])
        out: bytes = done.get("out") or b""
        code = child.proc.returncode
        if code == 0 and out and not done.get("over"):
            status, payload = pickle.loads(out)
            if status == "ok":
                payload.frame = pl.read_ipc(frame_file.name)
                return prepared_from(payload, raw, file_name, opts)
            if status == "memory":
                return Prepared(file_name, None, [Finding(file_name, _memory_message(limit))])
        tail = child.stderr_tail()
        if (done.get("over") or code in (-signal.SIGKILL, -signal.SIGABRT)
                or "memory allocation" in tail or "MemoryError" in tail):
            return Prepared(file_name, None, [Finding(file_name, _memory_message(limit))])
        return Prepared(file_name, None, [Finding(
            file_name, f"读取进程意外退出（代码 {code}），文件可能已损坏，没有导入任何数据：请重新导出后上传")])
    finally:
        child.close()
        Path(frame_file.name).unlink(missing_ok=True)


def _serve(limit: int) -> None:
    """The child: bound its memory, warm up, read one job from stdin, answer on stdout, exit."""
    import resource

    if limit:  # a backstop for one huge allocation between two looks of the parent's watch
        data = limit + _DATA_SLACK
        resource.setrlimit(resource.RLIMIT_DATA, (data, data))
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever a library prints goes to stderr, not into the answer
    from pipelines.ingest import read

    guard.INFLATE_IN_READER = False  # the parent inflates the parts meanwhile
    sample = ROOT / "data" / "samples" / "standard_template.xlsx"
    waiting = select.select([sys.stdin], [], [], 0)[0]  # a job already there: no time for a warm-up
    if sample.exists() and not waiting:  # first use (calamine, reference tables) paid before the job arrives
        read.read_submission(sample.read_bytes(), sample.name, ReadOptions(report_date=date(2020, 3, 27)))
    try:
        raw, file_name, opts, frame_path = pickle.load(sys.stdin.buffer)
    except EOFError:  # the parent went away (or kept this spare to the end): nothing to read
        os._exit(0)
    started = time.perf_counter()
    try:
        result = read.read_submission(raw, file_name, opts)
        del raw
        # The staged frame as Arrow IPC in a file (written as a stream: no second copy in memory),
        # the findings pickled on stdout.
        result.frame.write_ipc(frame_path)
        result.frame = result.frame.clear()
        answer.write(pickle.dumps(("ok", result), protocol=pickle.HIGHEST_PROTOCOL))
    except MemoryError:
        answer.write(pickle.dumps(("memory", None)))
    print(f"bounded read: {time.perf_counter() - started:.2f} s", file=sys.stderr)
    answer.close()
    sys.stderr.flush()
    os._exit(0)  # no teardown of what the read allocated: the kernel takes it back at once


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
