"""Checks on an upload before it is decoded: what it would unpack to must be reasonable.

An xlsx is a zip: its central directory declares each part's compressed and uncompressed size,
so a zip bomb (a few MB that inflate to gigabytes of sheet XML) is refused from the directory
alone, before calamine inflates anything. The declared sizes are then not trusted: every XML part
is inflated once as a stream, output thrown away, and reading stops as soon as a part yields more
than it declared or than the cap. An .xls is an OLE compound file whose streams are stored, not
compressed: a stream larger than the file is a lie. A CSV is refused on its line count.

Limits (environment, read on each check):
- KAIGONG_MAX_UNPACKED_MB (default 400): the XML of an xlsx, or the streams of an xls, in total.
  The 100,000-row bench file (16 MiB) unpacks to ~120 MB.
- KAIGONG_MAX_ZIP_RATIO (default 100): uncompressed ÷ compressed of any part above 8 MB.
  Spreadsheet XML compresses 5–15 : 1; deflate's ceiling is ~1,030 : 1.
- KAIGONG_MAX_CSV_LINES (default 400,000): twice the reader's row limit, for cells with line breaks.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass

MAX_UNPACKED_MB = 400
MAX_ZIP_RATIO = 100
MAX_CSV_LINES = 400_000
_RATIO_FROM = 8 * 1024 * 1024  # small parts (styles, a short sheet) may compress far better; harmless
_MAX_DIRECTORY = 1024 * 1024  # a workbook's zip directory is a few KB; 1 MB is ~20,000 parts
_SPLIT = "请按地市、层级或报告期把数据拆成几个较小的文件分别上传（每个文件不超过 20 万行）"


# The bounded child read (pipelines.ingest.bounded) turns this off: its parent inflates the parts as a
# stream while the child decodes, on the other core, instead of the child doing it first.
INFLATE_IN_READER = True


class Refused(Exception):
    """The upload is refused before decoding; the message is Chinese and says the limit."""


def _env_number(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


def max_unpacked_bytes() -> int:
    return int(_env_number("KAIGONG_MAX_UNPACKED_MB", MAX_UNPACKED_MB) * 1024 * 1024)


def max_zip_ratio() -> float:
    return _env_number("KAIGONG_MAX_ZIP_RATIO", MAX_ZIP_RATIO)


def max_csv_lines() -> int:
    return int(_env_number("KAIGONG_MAX_CSV_LINES", MAX_CSV_LINES))


def _mb(n: float) -> str:
    return f"{n / 1048576:,.0f} MB" if n >= 1048576 else f"{n / 1048576:.1f} MB"


# ---- xlsx (zip) --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    name: str
    method: int
    compressed: int
    size: int  # as declared
    header_offset: int


def zip_parts(data: bytes) -> list[Part]:
    """The parts the zip's central directory declares, read with struct (bounded: the directory
    itself is refused when larger than a workbook's ever is)."""
    tail = data[-(65535 + 22):]
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise Refused("Excel 文件已损坏或不完整（找不到压缩包目录），请重新导出后上传")
    _, _, _, _, count, dir_size, dir_offset, _ = struct.unpack("<IHHHHIIH", tail[at:at + 22])
    if dir_size > _MAX_DIRECTORY or count == 0xFFFF or dir_offset == 0xFFFFFFFF:
        raise Refused(f"Excel 文件的压缩包目录异常（{count} 个部件，目录 {_mb(dir_size)}），不是正常的工作簿，已拒绝读取")
    base = len(data) - len(tail) + at - dir_size  # where the directory starts, whatever the zip says
    if base < 0:
        raise Refused("Excel 文件已损坏或不完整（压缩包目录不完整），请重新导出后上传")
    parts: list[Part] = []
    pos = base
    end = base + dir_size
    while pos + 46 <= end:
        if data[pos:pos + 4] != b"PK\x01\x02":
            raise Refused("Excel 文件已损坏或不完整（压缩包目录不完整），请重新导出后上传")
        method, = struct.unpack("<H", data[pos + 10:pos + 12])
        compressed, size, n_name, n_extra, n_comment = struct.unpack("<IIHHH", data[pos + 20:pos + 34])
        offset, = struct.unpack("<I", data[pos + 42:pos + 46])
        name = data[pos + 46:pos + 46 + n_name].decode("utf-8", "replace")
        parts.append(Part(name, method, compressed, size, offset + (base - dir_offset)))
        pos += 46 + n_name + n_extra + n_comment
    return parts


def _is_xml(name: str) -> bool:
    return name.lower().endswith((".xml", ".rels", ".vml"))


def check_xlsx_declared(data: bytes) -> list[Part]:
    """Refuse from the directory alone: the XML's declared total and any part's ratio."""
    parts = zip_parts(data)
    cap = max_unpacked_bytes()
    ratio = max_zip_ratio()
    for p in parts:
        if p.size > _RATIO_FROM and p.size > ratio * max(p.compressed, 1):
            raise Refused(
                f"疑似压缩炸弹：文件中的「{p.name}」压缩后 {_mb(p.compressed)}，解压后声称 {_mb(p.size)}"
                f"（压缩比 {p.size / max(p.compressed, 1):,.0f} : 1，上限 {ratio:,.0f} : 1），已拒绝读取；"
                f"正常的报表不会这样，请用 Excel 打开后另存为 xlsx 再上传")
    total = sum(p.size for p in parts if _is_xml(p.name))
    if total > cap:
        raise Refused(f"工作簿解压后的表格数据约 {_mb(total)}，超过上限 {_mb(cap)}，已拒绝读取：{_SPLIT}")
    return parts


def check_xlsx_inflated(data: bytes, parts: list[Part] | None = None) -> None:
    """Inflate every XML part as a stream (output thrown away) and stop at the first that yields
    more than it declared, or more than the cap in total: the declared sizes are not trusted."""
    parts = parts if parts is not None else zip_parts(data)
    cap = max_unpacked_bytes()
    total = 0
    for p in parts:
        if not _is_xml(p.name):
            continue
        h = p.header_offset
        if h < 0 or data[h:h + 4] != b"PK\x03\x04":
            raise Refused(_DAMAGED)
        n_name, n_extra = struct.unpack("<HH", data[h + 26:h + 30])
        start = h + 30 + n_name + n_extra
        stream = memoryview(data)[start:start + p.compressed]
        # A damaged stream may inflate a little past its size before it fails; a bomb goes far past it.
        allowed = min(p.size + _DAMAGE_SLACK, cap - total)
        if p.method == 0:
            got, whole = len(stream), True
        elif p.method == 8:
            got, whole = _inflated_size(stream, allowed)
        else:
            raise Refused(f"文件中的「{p.name}」使用了不支持的压缩方式，请用 Excel 另存为 xlsx 后上传")
        if got > p.size + _DAMAGE_SLACK:
            raise Refused(f"疑似压缩炸弹：文件中的「{p.name}」解压后超过它声明的大小 {_mb(p.size)}，已停止读取并拒绝；"
                          "请用 Excel 打开后另存为 xlsx 再上传")
        if not whole or got != p.size:
            raise Refused(_DAMAGED)
        total += got
        if total > cap:
            raise Refused(f"工作簿解压后的表格数据超过上限 {_mb(cap)}，已拒绝读取：{_SPLIT}")


_DAMAGED = "Excel 文件已损坏或不完整（无法解压），请重新导出后上传"
_DAMAGE_SLACK = 1 << 20  # what a damaged deflate stream may yield past its declared size


def _inflated_size(stream: memoryview, allowed: int) -> tuple[int, bool]:
    """Bytes a raw deflate stream inflates to, counted in 1 MB steps and stopped past allowed, and
    whether the stream ended as a deflate stream ends (a damaged one errs or stops short)."""
    d = zlib.decompressobj(-15)
    got = 0
    step = 1 << 20
    try:
        for i in range(0, len(stream), 1 << 16):
            buf = d.decompress(stream[i:i + (1 << 16)], step)
            got += len(buf)
            while d.unconsumed_tail and got <= allowed:
                buf = d.decompress(d.unconsumed_tail, step)
                got += len(buf)
            if got > allowed or d.eof:
                return got, d.eof
    except zlib.error:
        return got, False
    return got, d.eof


# ---- xls (OLE compound file) -----------------------------------------------------------------


def ole_streams(data: bytes) -> list[tuple[str, int]]:
    """(name, declared size) of each stream in an OLE compound file's directory (bounded walk)."""
    if len(data) < 512:
        return []  # not a compound file this guard can walk: the decoder says what is wrong with it
    shift, = struct.unpack("<H", data[30:32])
    if shift not in (9, 12):
        return []
    sector = 1 << shift
    n_fat, first_dir = struct.unpack("<II", data[44:52])
    n_sectors = max(0, (len(data) - 512) // sector)
    fat_sectors = [s for s in struct.unpack("<109I", data[76:512]) if s < n_sectors][:n_fat]
    # Sectors listed beyond the header's 109 (DIFAT chain) exist only in files over ~7 MB; their
    # directory is still reached through the first FAT sectors in practice, so they are not walked.
    fat: list[int] = []
    for s in fat_sectors:
        off = 512 + s * sector
        fat.extend(struct.unpack(f"<{sector // 4}I", data[off:off + sector].ljust(sector, b"\xff")))
    out: list[tuple[str, int]] = []
    s, seen = first_dir, 0
    while s < n_sectors and seen <= n_sectors:
        off = 512 + s * sector
        for e in range(0, sector, 128):
            entry = data[off + e:off + e + 128]
            if len(entry) < 128 or entry[66] != 2:  # 2 = a stream
                continue
            n, = struct.unpack("<H", entry[64:66])
            name = entry[:max(0, min(n, 64) - 2)].decode("utf-16-le", "replace")
            size, = struct.unpack("<Q", entry[120:128])
            out.append((name, size if shift == 12 else size & 0xFFFFFFFF))
        seen += 1
        s = fat[s] if s < len(fat) else n_sectors
    return out


def check_xls(data: bytes) -> None:
    cap = max_unpacked_bytes()
    streams = ole_streams(data)
    total = sum(size for _, size in streams)
    for name, size in streams:
        if size > len(data):
            raise Refused(f"Excel（xls）文件中的「{name}」声称 {_mb(size)}，大于文件本身（{_mb(len(data))}）："
                          "文件已损坏或被篡改，已拒绝读取；请重新导出后上传")
    if total > cap:
        raise Refused(f"Excel（xls）文件的数据约 {_mb(total)}，超过上限 {_mb(cap)}，已拒绝读取：{_SPLIT}")


# ---- csv ---------------------------------------------------------------------------------------


def check_csv(data: bytes) -> None:
    cap = max_csv_lines()
    if data[:2] == b"\xff\xfe":  # UTF-16: a newline is a pair of bytes (misaligned pairs are rare)
        lines = data.count(b"\n\x00")
    elif data[:2] == b"\xfe\xff":
        lines = data.count(b"\x00\n")
    else:
        lines = data.count(b"\n")
    if lines > cap:
        raise Refused(f"文件有 {lines:,} 行，超过上限 {cap:,} 行，已拒绝读取：{_SPLIT}")


def check(data: bytes, fmt: str, *, inflate: bool = True) -> None:
    """Raise Refused when data (sniffed as fmt: xlsx | xls | text) would unpack to too much."""
    if fmt == "xlsx":
        parts = check_xlsx_declared(data)
        if inflate:
            check_xlsx_inflated(data, parts)
    elif fmt == "xls":
        check_xls(data)
    elif fmt == "text":
        check_csv(data)
