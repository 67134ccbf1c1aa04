"""How the demo year hits the seed's published Q1 figures (metrics.md, D = 2020-03-31).

The latest report per project on or before D is its anchor week; the starts and ytd completed
investment as of that report are then adjusted so that, per group (双百 = both 省级 tiers, 千项),
the start rate is round(rate × due) / due and ytd completed sums exactly to the target (万元).
"""

from __future__ import annotations

import numpy as np

from pipelines.demo.campaign import CITY_PACE, S_RESERVE, START_RATE_Q1, YTD_Q1_TARGET
from pipelines.demo.projects import Projects, Run
from pipelines.demo.year import NEVER, Q1

GROUPS = ("双百", "千项")


def group_mask(tier: np.ndarray, group: str) -> np.ndarray:
    """双百: both 省级 tiers; 千项: the 市级 tier."""
    return tier < 2 if group == "双百" else tier == 2


def q1_reports(run: Run, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(present, anchor): every project reports at least once in the last three weeks of Q1
    (13–27 March), so its latest report on or before 31 March (its anchor week) is a weekly one."""
    present = present.copy()
    q1_weeks = np.flatnonzero(run.days <= Q1)
    last3 = q1_weeks[-3:]
    none = ~present[:, last3].any(axis=1)
    present[none, last3[-1]] = True
    anchor = np.where(present[:, q1_weeks], q1_weeks[None, :], -1).max(axis=1)
    return present, anchor


def calibrated_starts(run: Run, p: Projects, actual: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """Actual starts where exactly round(rate × due) of the projects due by 31 March have started by
    their anchor report; the others start after 27 March or never."""
    rng, n, cont, planned = run.rng, run.n, p.cont, p.planned
    anchor_day = run.days[anchor]
    due = (p.stage0 != S_RESERVE) & (cont | (p.due_new & (planned <= Q1)))
    eligible = due & (cont | (planned <= anchor_day))
    pace_c = np.asarray([pace for pace, _ in CITY_PACE])[p.city]
    score = rng.random(n) + 0.35 * cont + 1.5 * (pace_c - 1.0)
    for group in GROUPS:
        gmask = group_mask(p.tier, group)
        n_started = round(START_RATE_Q1[group] * int((due & gmask).sum()))
        cand = np.flatnonzero(eligible & gmask)
        assert len(cand) >= n_started, (group, len(cand), n_started)
        chosen = cand[np.argsort(-score[cand], kind="stable")[:n_started]]
        is_chosen = np.zeros(n, dtype=bool)
        is_chosen[chosen] = True
        lo = np.where(cont, 40, planned)
        pull = is_chosen & (actual > anchor_day)
        actual = np.where(pull, lo + np.floor(rng.random(n) * (anchor_day - lo + 1)).astype(np.int64), actual)
        push = due & gmask & ~is_chosen & (actual <= 86)
        late = 87 + np.round(rng.exponential(35.0, n)).astype(np.int64)
        actual = np.where(push, np.where(rng.random(n) < 0.1, NEVER, np.minimum(late, 358)), actual)
    return actual


def ytd_matrix(days: np.ndarray, p: Projects, share: np.ndarray, kmult: np.ndarray) -> np.ndarray:
    """(n, W) ytd completed (万元, whole) by each report: the plan's share done, at most what remains.

    kmult scales the first quarter (calibration) and fades out by 30 May (day 150).
    """
    ramp = np.clip((150 - days) / (150 - Q1), 0.0, 1.0)
    m = 1.0 + (kmult[:, None] - 1.0) * ramp[None, :]
    return np.minimum(np.round(p.money.plan[:, None] * share * m), p.money.remaining[:, None])


def calibrated_ytd(run: Run, p: Projects, share: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """ytd_matrix with each group's Q1 scaled to its target, then the rounding residual (whole
    万元) moved onto the largest anchor-week figures so the group's sum is exact."""
    rows = np.arange(run.n)
    kmult = np.ones(run.n)
    for group in GROUPS:
        gmask = group_mask(p.tier, group)
        raw = (p.money.plan * share[rows, anchor])[gmask].sum()
        kmult[gmask] = YTD_Q1_TARGET[group] / raw
    ytd = ytd_matrix(run.days, p, share, kmult)
    for group in GROUPS:
        gmask = group_mask(p.tier, group)
        at = ytd[rows, anchor]
        res = round(YTD_Q1_TARGET[group] - float(at[gmask].sum()))
        if res == 0:
            continue
        prev = np.where(anchor > 0, ytd[rows, np.maximum(anchor - 1, 0)], 0.0)
        ok = gmask & ((at - prev >= 1) if res < 0 else (at >= 1))
        cand = np.flatnonzero(ok)
        chosen = cand[np.argsort(-at[cand], kind="stable")[: abs(res)]]
        assert len(chosen) == abs(res), (group, res)
        ytd[chosen, anchor[chosen]] += np.sign(res)
    return ytd
