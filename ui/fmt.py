"""User text for markdown; the number formats are pipelines.vocab.formats (shared with charts, briefing, CLI)."""

from __future__ import annotations

_MD_SPECIAL = set("\\`*_{}[]()#+-.!|<>~:$")


def md(text: object) -> str:
    """User text for st.markdown/st.subheader: markdown, links, colours and LaTeX shown literally."""
    s = "" if text is None else str(text)
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in s).replace("\n", " ")
