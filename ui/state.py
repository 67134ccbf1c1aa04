"""The shared sidebar: filters whose state lives in the URL, so a copied link opens the same view.

The URL is read once per session (first run), validated against what the data offers (an
invalid value is dropped with a notice), and then rewritten from the widgets on every run.
Charts set filters through `select_from_chart` (an on_select callback, which runs before
the sidebar is drawn on the rerun).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from pipelines import auth
from pipelines.metrics import Filters, View
from pipelines.views.options import Options, county_options
from pipelines.vocab import schema
from pipelines.vocab.labels import FILTER_ZH
from pipelines.vocab.reference import find_city, region_by_code

from . import cached

# URL parameter → sidebar widget key
K_YEAR, K_DATE = "sidebar_year", "sidebar_date"
MULTI: dict[str, str] = {
    "tier": "sidebar_tier",
    "city": "sidebar_city",
    "county": "sidebar_county",
    "industry": "sidebar_industry",
    "stage": "sidebar_stage",
    "band": "sidebar_band",
    "leader": "sidebar_leader",
}
K_MINE = "sidebar_mine"
_VIEW = "_kaigong_view"
_NOTICES = "_kaigong_url_notices"
_INIT = "_kaigong_url_read"
BAND_NAMES = tuple(b[0] for b in schema.SIZE_BANDS)


def _city_name(code: str) -> str:
    r = region_by_code().get(code)
    return r.name if r else code


def _allowed(param: str, opts: Options, cities: list[str], user: auth.User) -> list[str]:
    if param == "tier":
        return list(schema.TIERS)
    if param == "city":
        return auth.city_choices(user, opts.city_codes)
    if param == "county":
        return [c for c, _ in county_options(cities, opts.city_codes)]
    if param == "industry":
        return opts.industries
    if param == "stage":
        return list(schema.STAGES)
    if param == "leader":
        return list(opts.leaders)
    return list(BAND_NAMES)


def _read_url(opts: Options, user: auth.User) -> None:
    """Seed the widgets from the URL; invalid values are dropped and said so (never raise)."""
    ss = st.session_state
    qp = st.query_params
    notices: list[str] = []
    year = max(opts.years)
    if "year" in qp:
        raw = qp.get("year", "")
        if raw.isdigit() and int(raw) in opts.years:
            year = int(raw)
        else:
            notices.append(f"年度「{raw}」没有数据，已显示 {year} 年")
    ss[K_YEAR] = year
    dates = opts.report_dates[year]
    as_of = dates[-1]
    if "date" in qp:
        raw = qp.get("date", "")
        try:
            d = date.fromisoformat(raw)
        except ValueError:
            d = None
        if d in dates:
            as_of = d
        else:
            notices.append(f"报告期「{raw}」不存在，已显示最新报告期 {as_of}")
    ss[K_DATE] = as_of
    cities: list[str] = []
    for param in ("tier", "city", "county", "industry", "stage", "band", "leader"):
        raw_values = [v for v in qp.get_all(param) for v in v.split(",") if v]
        if param == "city":  # accept names too: ?city=忻州市
            raw_values = [(city.code if (city := find_city(v)) else v) for v in raw_values]
        allowed = _allowed(param, opts, cities, user)
        good = [v for v in raw_values if v in allowed]
        bad = [v for v in raw_values if v not in allowed]
        if bad:
            notices.append(f"链接中的{FILTER_ZH[param]}「{'、'.join(bad)}」无效，已忽略")
        ss[MULTI[param]] = list(dict.fromkeys(good))
        if param == "city":
            cities = ss[MULTI[param]]
    ss[_NOTICES] = notices


def _write_url(year: int, as_of: date) -> None:
    ss = st.session_state
    params: dict[str, Any] = {"year": str(year), "date": as_of.isoformat()}
    for param, key in MULTI.items():
        if ss.get(key):
            params[param] = list(ss[key])
    want = {k: (v if isinstance(v, list) else [v]) for k, v in params.items()}
    have = {k: st.query_params.get_all(k) for k in st.query_params}
    if have != want:
        st.query_params.from_dict(params)


def sidebar(user: auth.User = auth.LOCAL) -> View | None:
    """Draw the filters; returns the View (None when the warehouse has no reports yet).

    A user bound to a city (a 报送员) is offered only that city, and the View is always
    limited to it whatever the URL or the widgets say.
    """
    ss = st.session_state
    opts = cached.options()
    sb = st.sidebar
    if cached.is_demo():
        sb.warning("**演示数据**：以下为演示用的模拟数据，不代表真实项目。", icon=":material/science:")
    if not opts.years:
        ss[_VIEW] = None
        sb.info("暂无数据：请到「数据报送」上传报表。")
        return None
    if not ss.get(_INIT):
        _read_url(opts, user)
        ss[_INIT] = True
    for n in ss.pop(_NOTICES, []):
        sb.warning(n, icon=":material/link_off:")

    sb.markdown("#### 筛选")
    if ss.get(K_YEAR) not in opts.years:
        ss[K_YEAR] = max(opts.years)
    year = sb.selectbox("年度", opts.years, key=K_YEAR, format_func=lambda y: f"{y} 年")
    dates = opts.report_dates[year]
    if ss.get(K_DATE) not in dates:
        ss[K_DATE] = dates[-1]
    as_of = sb.selectbox("报告期（截止日）", list(reversed(dates)), key=K_DATE,
                         format_func=lambda d: d.isoformat())

    # Drop selections the current options no longer offer (e.g. counties of a city unselected).
    for param, key in MULTI.items():
        if param == "county":
            continue
        allowed = set(_allowed(param, opts, [], user))
        ss[key] = [v for v in ss.get(key, []) if v in allowed]
    # An empty filter is 全部 already: no 「Select all」 entry (English, and it put every value in the URL).
    tiers = sb.multiselect("层级", list(schema.TIERS), key=MULTI["tier"], placeholder="全部层级", select_all=False)
    chosen_cities = sb.multiselect("地市", auth.city_choices(user, opts.city_codes), key=MULTI["city"],
                                   format_func=_city_name, placeholder="全部地市", select_all=False)
    city_codes = list(auth.effective_cities(user, chosen_cities))
    county_opts = county_options(city_codes, opts.city_codes)
    county_label = dict(county_opts)
    ss[MULTI["county"]] = [c for c in ss.get(MULTI["county"], []) if c in county_label]
    counties = sb.multiselect("县区", [c for c, _ in county_opts], key=MULTI["county"],
                              format_func=lambda c: county_label.get(c, c), placeholder="全部县区", select_all=False)
    industries = sb.multiselect("行业", opts.industries, key=MULTI["industry"], placeholder="全部行业", select_all=False)
    stages = sb.multiselect("建设状态", list(schema.STAGES), key=MULTI["stage"], placeholder="全部状态", select_all=False)
    bands = sb.multiselect("投资规模", list(BAND_NAMES), key=MULTI["band"], placeholder="全部规模", select_all=False)
    # 责任领导 (issue 31): the filter narrows S to the leaders' projects; a 领导 linked to a name sees 「我的项目」
    leaders: list[str] = []
    if opts.leaders:
        leaders = sb.multiselect("责任领导", list(opts.leaders), key=MULTI["leader"], placeholder="全部责任领导",
                                 select_all=False)
    if user.leader_name and sb.toggle(f"我的项目（{user.leader_name}）", key=K_MINE):
        leaders = [user.leader_name]
    project_ids = cached.leader_project_ids(tuple(leaders)) if leaders else ()
    if any(ss.get(k) for k in MULTI.values()):
        sb.button("清除全部筛选", key="sidebar_clear", on_click=clear_filters, icon=":material/filter_alt_off:")

    _write_url(year, as_of)
    view = View(
        as_of=as_of,
        year=year,
        filters=Filters(
            tiers=tuple(tiers), cities=tuple(city_codes), counties=tuple(counties),
            industries=tuple(industries), stages=tuple(stages), size_bands=tuple(bands), project_ids=project_ids,
        ),
    )
    ss[_VIEW] = view
    return view


def clear_filters() -> None:
    for key in MULTI.values():
        st.session_state[key] = []


def current_view() -> View | None:
    """The View the sidebar built on this run (None when there is no data)."""
    return st.session_state.get(_VIEW)


def select_from_chart(chart_key: str, param: str) -> None:
    """on_select callback: the clicked bar/region becomes the sidebar filter `param`."""
    state = st.session_state.get(chart_key)
    points = (state or {}).get("selection", {}).get("points", []) if state else []
    values: list[str] = []
    for p in points:
        cd = p.get("customdata")
        v = cd[0] if isinstance(cd, list | tuple) and cd else cd
        if v is None:
            v = p.get("y") if param != "city" else None
        if v is not None and str(v) not in values:
            values.append(str(v))
    if not values:
        return
    st.session_state[MULTI[param]] = values
    if param == "city":  # a new city: counties of the old one no longer apply
        st.session_state[MULTI["county"]] = []
    if param == "county":
        cities = {region_by_code()[v].parent_code for v in values if v in region_by_code()}
        st.session_state[MULTI["city"]] = sorted(c for c in cities if c)
