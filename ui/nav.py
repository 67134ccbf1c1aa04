"""The page list: app.py routes by it, the smoke tests are generated from it."""

from __future__ import annotations

from typing import NamedTuple

# url_path never equals a file's stem. A folder named pages/ next to app.py switches a fresh
# process into Streamlit's old automatic multipage mode until st.navigation first runs; in that
# mode a link whose path matches a file stem (/starts) ran pages/starts.py alone, without app.py
# and its sidebar. A path that matches no stem falls back to app.py, which routes correctly.
# The first page is the default, served at the root; app.py sends a link to its url_path there.


class PageSpec(NamedTuple):
    path: str
    title: str
    url_path: str
    icon: str
    marker: str  # a heading the page always shows (the smoke tests look for it)


PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/overview.py", "总览", "summary", ":material/dashboard:", "百千工程总览"),
    PageSpec("pages/starts.py", "开工", "start-rates", ":material/construction:", "开（复）工情况"),
    PageSpec("pages/completion.py", "投资完成", "investment", ":material/trending_up:", "投资完成与序时进度"),
    PageSpec("pages/regions.py", "区域", "region-map", ":material/map:", "区域分布与排名"),
    PageSpec("pages/projects.py", "项目台账", "ledger", ":material/table:", "项目台账"),
    PageSpec("pages/lights.py", "亮灯清单", "light-list", ":material/traffic:", "亮灯清单"),
    PageSpec("pages/problems.py", "问题清单", "issues", ":material/report:", "问题清单"),
    PageSpec("pages/submissions.py", "数据报送", "upload", ":material/upload_file:", "数据报送"),
    PageSpec("pages/yearlist.py", "调度库", "year-list", ":material/playlist_add_check:", "调度库"),
    PageSpec("pages/reconcile.py", "清单核对", "list-check", ":material/fact_check:", "部门清单核对"),
    PageSpec("pages/supervision.py", "督办单", "supervise", ":material/assignment_late:", "督办单"),
    PageSpec("pages/briefing.py", "简报", "brief", ":material/description:", "简报"),
    PageSpec("pages/help.py", "帮助", "manual", ":material/help:", "使用帮助"),
)
