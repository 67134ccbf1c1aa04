"""What free text states of starting and completing: a 开竣工情况 / 开复工情况 cell, or a free-text progress
note (项目进展, 形象进度), read for the stage, the dates and the row's own word on starting.

「2019年5月开工，预计2020年10月竣工」 → actual start 2019-05-01, planned completion 2020-10-31 (a planned
month is its last day), stage 续建; 「已于5月竣工投产」 → 投产, completed 1 May; 「主体完工，设备安装中」 →
progress (在建), never a completion; 「2019年8月开工，尚未复工」 → not (re)started.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Any

from pipelines.ingest.parse import (
    _MONTH_END,
    _TEN_DAYS,
    EMPTY_TOKENS,
    TEN_DAYS_MESSAGE,
    UNSTARTED,
    _make_date,
    _month_date,
    clean,
    is_empty,
    is_stage_word,
    parse_stage,
    resolve_unstarted,
)

# (cell text is cleaned: no whitespace) 2020年底 | 2020年3月[15日|份|初|底|末|上旬|中旬|下旬] | 2020.3[.15]
_TEXT_DATE = re.compile(
    r"(\d{4})(?:年年?([底末])|[年.\-/](\d{1,2})(?:月(?:(\d{1,2})[日号]?|(份|初|底|末|上旬|中旬|下旬))?|[.\-/](\d{1,2})[日号]?)?)"
)
_TEXT_VAGUE_AFTER = ("以前", "之前", "以后", "之后", "前后", "左右", "前", "后")  # 前期 is not 前
_PLANNED_WORDS = ("预计", "计划", "拟", "力争", "争取", "将于", "待", "预期", "确保", "推迟", "延期", "延至", "延后", "调整至")
# Words that say the project has not (re)started: they win over a stated start (contract "Stage words and starting").
NOT_RESTARTED_WORDS = ("尚未复工", "未复工", "尚未开工", "未开工", "未开复工", "停工", "停建", "暂停施工", "暂停建设")
# A part of the works finished (主体完工, 厂房已建成): progress, never the project's completion.
_PART_WORDS = ("主体", "土建", "基础", "厂房", "结构", "封顶", "桩基", "车间", "部分工程", "单体")
_DONE_WORDS = ("竣工", "完工", "建成", "投产", "试生产")
_START_WORDS = ("开工", "复工", "开建", "动工")
_BUSY_WORDS = ("在建", "施工", "建设中", "正在建设", "安装", "调试", "装修", "进场", "封顶")


_MONTH_RANGE = re.compile(r"(?<![\d.\-/])\d{1,2}\s*[-—~～至到]\s*\d{1,2}\s*月")
_THIS_YEAR_END = re.compile(r"(?<![\d年])(?:今|本)?年[底末]")
_YEAR_ONLY = re.compile(r"(\d{4})\s*年(?!\s*(?:\d|年|底|末))")
_TEXT_MONTH = re.compile(r"(?<![\d年.\-/])(\d{1,2})\s*月(?:\s*(\d{1,2})\s*[日号])?")


def month_end(d: date) -> date:
    """The last day of d's month."""
    return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def _partial_text_date(seg: str, year: int | None) -> tuple[date | None, str | None, bool]:
    """A date in 开竣工情况 text written without its month or its year: 「2019年开工」 (a year before or
    after the report year: its 1 January, which is all the figures need), 「3月开工」 (the report
    year's March). A year-only date in the report year itself is refused: whether 「2020年竣工」 is
    done or planned depends on the month it leaves out. The last item: the date is a month alone."""
    if _THIS_YEAR_END.search(seg):  # 预计年底竣工: the report year's 31 December
        return (date(year, 12, 31), None, False) if year is not None else (None, "缺少年份（应为 2020年3月 等格式）", False)
    if m := _YEAR_ONLY.search(seg):
        y = int(m.group(1))
        if year is None or y == year:
            return None, f"「{m.group(0)}」只写了年份：请写明月份（如“{y}年10月竣工”）", False
        return date(y, 1, 1), None, False
    if m := _TEXT_MONTH.search(seg):
        if year is None:
            return None, "缺少年份（应为 2020年3月 等格式）", False
        dt, err = _make_date(year, int(m.group(1)), int(m.group(2)) if m.group(2) else None)
        return dt, err, m.group(2) is None
    return None, None, False


def _text_date(seg: str) -> tuple[date | None, str | None, str | None, bool]:
    """(date, error, vague, month alone) for the first date in a segment of 开竣工情况 text: error when the
    date does not exist; vague (a reason, the date None) for 上旬/中旬/下旬 or a date followed by
    前/以后/左右 …; month alone when no day is written (a planned date is then the month's last day)."""
    m = _TEXT_DATE.search(seg)
    if not m:
        return None, None, None, False
    y = int(m.group(1))
    month_only = False
    if m.group(2):
        dt, err = _month_date(y, 12, None, "底")
        qualifier: str | None = "底"
    else:
        day = m.group(4) or m.group(6)
        qualifier = m.group(5)
        dt, err = _month_date(y, int(m.group(3)), int(day) if day else None, qualifier)
        month_only = m.group(3) is not None and day is None and qualifier in (None, "份")
    if qualifier in _TEN_DAYS:
        return None, None, TEN_DAYS_MESSAGE, False
    if err:
        return None, err, None, False
    rest = seg[m.end() :]
    if qualifier in _MONTH_END and rest.startswith(("前", "以前", "之前")):
        return dt, None, None, False
    for word in _TEXT_VAGUE_AFTER:
        if rest.startswith(word) and not rest.startswith("前期"):
            return None, None, f"日期「{m.group(0)}」后面带“{word}”，不是确切日期：请写明具体年月（如“2020年3月开工”）", False
    return dt, None, None, month_only


def parse_start_completion(value: Any, report_date: date | None, year: int | None) -> tuple[dict[str, Any], str | None]:
    """Stage and dates from a 开竣工情况 cell (or a progress text); dates after the report date (or
    预计/计划/推迟至) are planned, and a planned month is its last day; a date without a year is in the
    report year.

    Stage rule: completed → 竣工 (投产 when it says so), on the report date when no date is given;
    started before the year → 续建; started in the year → 新开工; start only planned → 新开工;
    started or under way (施工, 设备安装中, 主体完工), no date → 在建. A part of the works finished
    (主体完工) is progress, never a completion. 「尚未复工」/「停工」/「未开工」 say the project has not
    (re)started: `start_stated` False (the key is there only then). A started project's planned start
    is unknown: the actual date stands in for it.
    """
    t = clean(value)
    out: dict[str, Any] = {}
    if t.lower() in EMPTY_TOKENS:
        return out, None
    started = completed = producing = planned_start_seen = unstarted = not_restarted = halted = restart = False
    for seg in (s for s in re.split(r"[,，;；。、]", t) if s):
        if m := _MONTH_RANGE.search(seg):
            return {}, f"「{m.group(0)}」是一段时间，不是确切日期：请写明开工或竣工的年月（如“2020年3月开工”）"
        dt, err, vague, month_only = _text_date(seg)
        if err:
            return {}, err
        if dt is None and vague is None:
            dt, err, month_only = _partial_text_date(seg, year)
            if err:
                return {}, err
        planned = any(w in seg for w in _PLANNED_WORDS)
        if vague and any(w in seg for w in (*_DONE_WORDS, *_START_WORDS)):  # a date it would be read from, but none
            return {}, vague
        stops = any(w in seg for w in NOT_RESTARTED_WORDS)
        not_restarted = not_restarted or stops
        halted = halted or (stops and any(w in seg for w in ("停工", "停建", "暂停")))
        restart = restart or (stops and "复工" in seg)
        planned_dt = month_end(dt) if dt is not None and month_only else dt
        if any(w in seg for w in _DONE_WORDS):
            if any(w in seg for w in _PART_WORDS):  # 主体完工: progress, the works are under way
                started = started or not planned
                continue
            is_done = dt is not None and not planned and (report_date is None or dt <= report_date)
            is_done = is_done or (dt is None and not planned and not seg.startswith(("未", "尚未")))
            if is_done:
                completed = True
                producing = producing or "投产" in seg or "试生产" in seg
                if dt is not None:
                    out["completion_date"] = dt
            elif planned_dt is not None:
                out["planned_completion_date"] = planned_dt
        elif any(w in seg for w in _START_WORDS):
            if stops and dt is None:
                unstarted = True  # 未开工 / 尚未复工: not (re)started
                continue
            if dt is not None and (planned or (report_date is not None and dt > report_date)):
                out["planned_start_date"] = planned_dt
                planned_start_seen = True
            elif dt is not None:
                out["actual_start_date"] = dt
                started = True
            elif not planned:
                started = True
        elif any(w in seg for w in _BUSY_WORDS) and not stops and not seg.startswith(("未", "尚未", "没有", "暂未")):
            started = True
        elif any(w in seg for w in ("前期", "手续")):
            out.setdefault("stage", "前期")
    if completed:
        out["stage"] = "投产" if producing else "竣工"
        if "completion_date" not in out and report_date is not None:
            out["completion_date"] = report_date  # 「已竣工」 with no date: done by the report that says so
    elif started:
        a = out.get("actual_start_date")
        if a is not None and year is not None:
            out["stage"] = "续建" if a.year < year else "新开工"
        else:
            out["stage"] = "在建"
    elif planned_start_seen:
        out["stage"] = "新开工" if year is None or out["planned_start_date"].year == year else "前期"
    elif restart and "stage" not in out:
        out["stage"] = "续建"  # 尚未复工: a restart is of a project started before the year
    elif unstarted and "stage" not in out:
        out["stage"] = resolve_unstarted(out.get("planned_start_date"), year)
    if out.get("actual_start_date") and not out.get("planned_start_date"):
        out["planned_start_date"] = out["actual_start_date"]
    if "stage" not in out:
        if halted:  # 停工 alone: under construction, stopped
            out["stage"] = "在建"
        else:
            return {}, "无法识别的开竣工情况（应写明开工、竣工时间，如“2019年5月开工，预计2020年10月竣工”）"
    if not_restarted and not completed:
        out["start_stated"] = False
    return out, None


def start_completion_stated(sc: dict[str, Any]) -> bool | None:
    """What a 开竣工情况 reading says of starting: False when it says not (re)started, True when it states a
    start, work under way or a completion, None when it only plans."""
    if "start_stated" in sc:
        return bool(sc["start_stated"])
    if sc.get("stage") in ("竣工", "投产", "在建") or sc.get("actual_start_date") is not None:
        return True
    return None


_DATE_WORDS = (("actual_start_date", "实际开工"), ("planned_start_date", "计划开工"), ("completion_date", "竣工"),
               ("planned_completion_date", "计划竣工"))


def read_progress(text: str, d: date | None, year: int | None) -> dict[str, Any] | None:
    """What a free-text progress cell (项目进展, 形象进度: 「主体完工，设备安装中」, 「2019年8月开工，尚未复工」)
    states of starting and completing, read as 开竣工情况 text; None when it states neither (a text
    that cannot be read so is a note, never an error). 前期 alone is not taken from a note."""
    if is_empty(text):
        return None
    if is_stage_word(text):  # a stage word among notes: a status (在建, 竣工 say started; 停工, 未开工 say not)
        stage = parse_stage(text)[0]
        if any(w in clean(text) for w in NOT_RESTARTED_WORDS):
            return {"stage": stage, "start_stated": False} if stage != UNSTARTED else {"start_stated": False}
        out: dict[str, Any] = {"stage": stage}
        if stage in ("在建", "竣工", "投产"):
            out["start_stated"] = True
        return out
    sc, e = parse_start_completion(text, d, year)
    if e:
        return None
    stated = start_completion_stated(sc)
    if sc.get("stage") == "前期" and stated is None:
        sc.pop("stage")
    if stated is None and not any(k in sc for k in ("stage", *(k for k, _ in _DATE_WORDS))):
        return None
    if stated is not None:
        sc["start_stated"] = stated
    return sc


def reading_words(sc: dict[str, Any]) -> str:
    """A reading of 开竣工情况 / progress text in words, for the preview."""
    words = [f"建设状态 {sc['stage']}"] if sc.get("stage") else []
    words += [f"{zh} {sc[k]}" for k, zh in _DATE_WORDS if sc.get(k) is not None
              and not (k == "planned_start_date" and sc[k] == sc.get("actual_start_date"))]
    words.append({True: "已开（复）工", False: "未开（复）工", None: "未说明已开工"}[start_completion_stated(sc)])
    return "，".join(words)
