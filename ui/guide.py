"""帮助: the user guides in docs/zh/, read from the app's own files (no network), for pages/help.py."""

from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

from pipelines.outputs import glossary

DOCS = Path(__file__).resolve().parent.parent / "docs" / "zh"
# Each role's guide; the signed-in role's is shown first. 指标口径 is written from the code at view time.
GUIDES: dict[str, str] = {
    "领导": "领导手册.md",
    "分析员": "分析员手册.md",
    "报送员": "报送员手册.md",
    "审核员": "审核员手册.md",
    "管理员": "管理员手册.md",
    "指标口径": "指标口径.md",
}
_IMAGE = re.compile(r"^!\[([^\]]*)\]\(([^)\s]+)\)\s*$")
_LINK = re.compile(r"\[([^\]]*)\]\(([^)#\s]+\.md)(#[^)]*)?\)")


def default_guide(role: str) -> str:
    return role if role in GUIDES else "领导"


def blocks(name: str) -> list[tuple[str, str]]:
    """The guide as ("md", text) and ("img", path, caption as text) blocks: an image on a line of its own
    is shown with st.image from its file (Markdown cannot load a local file); links to other guides are
    shown as their text in 「」 (the selector above switches guides; the others are files of the install)."""
    text = glossary.markdown() if name == "指标口径" else (DOCS / GUIDES[name]).read_text(encoding="utf-8")
    out: list[tuple[str, str]] = []
    buf: list[str] = []
    for line in text.splitlines():
        m = _IMAGE.match(line.strip())
        if m:
            if buf:
                out.append(("md", "\n".join(buf)))
                buf = []
            out.append(("img", str((DOCS / m.group(2)).resolve()) + "\n" + m.group(1)))
        else:
            buf.append(_LINK.sub(lambda mm: f"「{mm.group(1)}」", line))
    if buf:
        out.append(("md", "\n".join(buf)))
    return out


def show(name: str) -> None:
    for kind, body in blocks(name):
        if kind == "md":
            st.markdown(body)
        else:
            path, caption = body.split("\n", 1)
            if Path(path).exists():
                st.image(path, caption=caption or None)
            else:
                st.caption(f"（图片 {Path(path).name} 缺失：请运行 make screenshots）")
