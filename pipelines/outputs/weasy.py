"""weasyprint, imported once, quickly, and (for `kaigong brief`) in the background while the figures are read.

Importing weasyprint loads Pango, HarfBuzz and fontconfig through cffi, which looks each library up
with ctypes.util.find_library under several names ("libgobject-2.0-0", "gobject-2.0-0", "gobject-2.0",
…). Every name that misses runs `/sbin/ldconfig -p` and then gcc and ld (subprocesses; libharfbuzz-vector,
absent, tries six names): the import took 1.39 s (0.54 s CPU) against 1.20 s (0.38 s) with this, under
load on the bench machine (a profiled run under heavier load put the lookup at ~0.9 s). Here the
lookup reads `ldconfig -p` once and answers from it as CPython's first step does (same pattern), then
from LD_LIBRARY_PATH; it skips the gcc/ld steps. It is used only when it finds every library
weasyprint requires (otherwise the ordinary lookup runs), so what is loaded, and the PDF, are the same.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import os
import re
import struct
import subprocess
import threading
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

# the libraries weasyprint 70 cannot do without, by the name under which its ffi finds them on Linux
_REQUIRED = ("gobject-2.0", "pango-1.0", "harfbuzz", "fontconfig", "pangoft2-1.0")
BOUND_S = 60.0  # the import takes ~1-2 s; a bound, not an estimate


@cache
def _ldconfig() -> bytes:
    try:
        with subprocess.Popen(["/sbin/ldconfig", "-p"], stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, env={"LC_ALL": "C", "LANG": "C"}) as p:
            return p.stdout.read() if p.stdout else b""
    except OSError:
        return b""


def _abi() -> str:  # as CPython's ctypes.util._findSoname_ldconfig
    machine = os.uname().machine + ("-32" if struct.calcsize("l") == 4 else "-64")
    return {"x86_64-64": "libc6,x86-64", "ppc64-64": "libc6,64bit", "sparc64-64": "libc6,64bit",
            "s390x-64": "libc6,64bit", "ia64-64": "libc6,IA-64"}.get(machine, "libc6")


@cache
def _find_library(name: str) -> str | None:
    """ctypes.util.find_library's answer from the ldconfig cache (one run) or LD_LIBRARY_PATH, else None."""
    pattern = r"\s+(lib" + re.escape(name) + r"\.[^\s]+)\s+\(" + _abi()  # CPython's, for glibc's ldconfig
    found = re.search(os.fsencode(pattern), _ldconfig())
    if found:
        return os.fsdecode(found.group(1))
    for folder in filter(None, os.environ.get("LD_LIBRARY_PATH", "").split(":")):
        with contextlib.suppress(OSError):
            for entry in sorted(os.listdir(folder)):
                if entry.startswith(f"lib{name}.so"):
                    return entry
    return None


@contextlib.contextmanager
def _quick_lookup() -> Iterator[None]:
    original: Callable[[str], str | None] = ctypes.util.find_library
    if os.name != "posix" or not all(_find_library(n) for n in _REQUIRED):
        yield  # not a glibc system with them all in its cache: the ordinary (slow, thorough) lookup
        return
    setattr(ctypes.util, "find_library", _find_library)  # cffi looks it up at each dlopen  # noqa: B010
    try:
        yield
    finally:
        setattr(ctypes.util, "find_library", original)  # noqa: B010


_lock = threading.Lock()


def load() -> Any:
    """The weasyprint module (imported now if it is not yet). OSError when Pango is missing."""
    with _lock, _quick_lookup():
        import weasyprint
    return weasyprint


_loading: threading.Thread | None = None
_error: BaseException | None = None


def preload() -> None:
    """Import weasyprint in a background thread now (its import overlaps the figures' queries)."""
    global _loading
    if _loading is not None:
        return

    def run() -> None:
        global _error
        try:
            load()
        except BaseException as exc:  # given to whoever waits for it: module()
            _error = exc

    _loading = threading.Thread(target=run, name="kaigong-weasyprint-import", daemon=True)
    _loading.start()


def preloading() -> bool:
    """Whether preload() was called (its import may still be under way, or have failed)."""
    return _loading is not None


def module(bound: float = BOUND_S) -> Any:
    """weasyprint, after a preload() under way has ended (within bound); its import's error raised here.
    A preload() still running after bound raises TimeoutError."""
    loading = _loading
    if loading is not None:
        loading.join(timeout=bound)
        if loading.is_alive():
            raise TimeoutError(f"加载排版库 weasyprint 超过 {bound:.0f} 秒未完成")
        if _error is not None:
            raise _error
    return load()
