"""The page list: app.py routes by it, the smoke tests are generated from it."""

from __future__ import annotations

from typing import NamedTuple


class PageSpec(NamedTuple):
    path: str
    title: str
    url_path: str
    icon: str
    marker: str  # a heading the page always shows (the smoke tests look for it)


PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/overview.py", "总览", "overview", ":material/dashboard:", "百千工程总览"),
    PageSpec("pages/starts.py", "开工", "starts", ":material/construction:", "开（复）工情况"),
    PageSpec("pages/completion.py", "投资完成", "completion", ":material/trending_up:", "投资完成与序时进度"),
    PageSpec("pages/regions.py", "区域", "regions", ":material/map:", "区域分布与排名"),
    PageSpec("pages/projects.py", "项目台账", "projects", ":material/table:", "项目台账"),
    PageSpec("pages/problems.py", "问题清单", "problems", ":material/report:", "问题清单"),
    PageSpec("pages/submissions.py", "数据报送", "upload", ":material/upload_file:", "数据报送"),
    PageSpec("pages/briefing.py", "简报", "briefing", ":material/description:", "简报"),
)
