"""The docs cannot go stale unnoticed (issue 33): every picture a doc links exists, every `kaigong` command
and option a doc shows exists in the CLI, every KAIGONG_* setting the code reads is in the configuration
table, the generated 指标口径 is current, each role has a Chinese guide with pictures, and the README
opens with the two commands and a picture."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from pipelines import cli
from pipelines.outputs import glossary
from ui import guide

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MARKDOWN = sorted([ROOT / "README.md", *DOCS.rglob("*.md")])
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s#]+)(?:#[^)]*)?\)")


def _rel(p: Path) -> str:
    return str(p.relative_to(ROOT))


@pytest.mark.parametrize("doc", MARKDOWN, ids=_rel)
def test_every_linked_image_and_local_page_exists(doc):
    text = doc.read_text(encoding="utf-8")
    missing = [m for m in IMAGE.findall(text) if not (doc.parent / m).resolve().is_file()]
    missing += [m for m in LINK.findall(text)
                if not m.startswith(("http://", "https://", "mailto:")) and not (doc.parent / m).resolve().exists()]
    assert missing == [], f"{_rel(doc)} links files that do not exist: {missing}"


def _subparsers(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _commands(text: str) -> list[list[str]]:
    """Each `kaigong …` command a doc shows: in code blocks and inline code, up to a comment or a pipe."""
    found = []
    for chunk in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S) + re.findall(r"`([^`\n]+)`", text):
        for line in chunk.splitlines():
            line = line.split(" #")[0].split("|")[0].split(" > ")[0].strip()
            m = re.match(r"^(?:\S*/)?kaigong\s+(.*)$", line)  # kaigong … or .venv/bin/kaigong …
            if m and not m.group(1).startswith("…"):
                try:
                    words = shlex.split(m.group(1))
                except ValueError:  # an unbalanced quote in prose
                    words = m.group(1).split()
                found.append([w for w in words if w != "…"])
    return found


def check_command(words: list[str]) -> list[str]:
    """What in words the CLI does not have (subcommand or option), else []."""
    parser = cli.build_parser()
    top = {s for a in parser._actions for s in a.option_strings}
    problems: list[str] = []
    while words and words[0].startswith("-"):  # the top level's own options (--db X, --help)
        opt = words.pop(0)
        if opt.split("=")[0] not in top:
            return [opt]
        if opt == "--db" and words:
            words.pop(0)
    while words and _subparsers(parser):
        name = words.pop(0)
        subs = _subparsers(parser)
        if name not in subs:
            return [f"no command {name!r}"]
        parser = subs[name]
    options = {s for a in parser._actions for s in a.option_strings}
    problems += [w for w in words if w.startswith("--") and w.split("=")[0] not in options]
    return problems


def test_every_kaigong_command_and_option_in_the_docs_exists():
    bad = {}
    shown = 0
    for doc in MARKDOWN:
        for words in _commands(doc.read_text(encoding="utf-8")):
            shown += 1
            if problems := check_command(list(words)):
                bad[f"{_rel(doc)}: kaigong {' '.join(words)}"] = problems
    assert shown >= 10  # the docs do show commands: the check ran on something
    assert bad == {}


def test_the_command_check_can_fail():
    assert check_command(["brief", "--reissue", "1"]) == []
    assert check_command(["brief", "--no-such-option"]) == ["--no-such-option"]
    assert check_command(["no-such-command"]) == ["no command 'no-such-command'"]


def test_every_setting_the_code_reads_is_in_the_configuration_table():
    read = set()
    for py in [*ROOT.glob("pipelines/**/*.py"), *ROOT.glob("ui/*.py"), ROOT / "app.py", *ROOT.glob("pages/*.py")]:
        read |= set(re.findall(r"\b(KAIGONG_[A-Z0-9_]+)\b", py.read_text(encoding="utf-8")))
    table = (DOCS / "configuration.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `(KAIGONG_[A-Z0-9_]+)`", table, flags=re.M))
    assert len(read) > 20
    assert sorted(read - listed) == [], "settings read by the code but not in docs/configuration.md"
    assert sorted(listed - read) == [], "settings in docs/configuration.md that no code reads"


def test_the_figures_page_is_generated_from_the_code():
    assert (DOCS / "zh" / "指标口径.md").read_text(encoding="utf-8") == glossary.markdown(), (
        "docs/zh/指标口径.md is stale: run `make docs`")


@pytest.mark.parametrize("role", ["领导", "分析员", "报送员", "审核员", "管理员"])
def test_each_role_has_a_chinese_guide_with_pictures(role):
    path = DOCS / "zh" / guide.GUIDES[role]
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"# {role}手册")
    pictures = IMAGE.findall(text)
    assert pictures and all((path.parent / p).resolve().is_file() for p in pictures)
    kinds = [k for k, _ in guide.blocks(role)]
    assert kinds.count("img") == len(pictures) and "md" in kinds  # the 帮助 page shows them as images


def test_the_readme_opens_with_the_two_commands_and_a_picture():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 160, f"README has {len(lines)} lines; the rest belongs in docs/"
    first = "\n".join(lines[:40])  # the first screen
    assert "make run" in first and "make test" in first
    assert IMAGE.search(first), "no picture of the product on the README's first screen"


def test_the_help_page_shows_the_signed_in_roles_guide(tmp_path, monkeypatch):
    """Local mode's user is the 管理员: the 帮助 page opens on the 管理员手册, its pictures as images, and the
    other guides' links as plain text (the selector switches guides)."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import build_app_db

    monkeypatch.setenv("KAIGONG_DB", str(build_app_db(tmp_path / "help.duckdb")))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/help.py").run()
    assert not at.exception
    text = "\n".join(m.value for m in at.markdown)
    assert "# 管理员手册" in text and "kaigong review-mode" in text
    assert "「docs/deployment.md」" in text and "](../deployment.md)" not in text
    images = at.get("image")
    assert len(images) == len(IMAGE.findall((DOCS / "zh" / "管理员手册.md").read_text(encoding="utf-8")))
