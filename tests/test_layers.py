"""The layers of pipelines/ import downward only, and the data layer never imports streamlit."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PIPELINES = Path(__file__).resolve().parent.parent / "pipelines"

# Each layer may import itself and the layers listed for it (docs/architecture.md, Layout).
ALLOWED: dict[str, set[str]] = {
    "vocab": set(),
    "auth": {"vocab"},
    "ingest": {"vocab"},
    "metrics": {"vocab"},
    "warehouse": {"vocab", "auth", "ingest", "metrics"},
    "views": {"vocab", "auth", "ingest", "metrics", "warehouse"},  # ingest: a staged file against the store (views/layouts)
    "outputs": {"vocab", "auth", "metrics", "warehouse", "views"},
    "demo": {"vocab", "auth", "ingest", "metrics", "warehouse"},
    "cli": {"vocab", "auth", "ingest", "metrics", "warehouse", "views", "outputs", "demo", "accounts"},
    "session_token": {"vocab", "auth", "warehouse"},  # the signed session cookie (#30); warehouse: the data dir
    "accounts": {"vocab", "auth", "warehouse", "session_token"},  # audited user changes (kaigong user …)
}


def _layer(path: Path) -> str:
    rel = path.relative_to(PIPELINES)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, top module under pipelines, or 'streamlit') of every import in the file, nested ones too."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] == "pipelines":
                names = [parts[1]] if len(parts) > 1 else [a.name for a in node.names]
                found += [(node.lineno, n) for n in names]
            elif parts[0] == "streamlit":
                found.append((node.lineno, "streamlit"))
        elif isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split(".")
                if parts[0] == "pipelines" and len(parts) > 1:
                    found.append((node.lineno, parts[1]))
                elif parts[0] == "streamlit":
                    found.append((node.lineno, "streamlit"))
    return found


MODULES = sorted(p for p in PIPELINES.rglob("*.py") if p.name != "__init__.py" or p.parent != PIPELINES)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PIPELINES)))
def test_a_module_imports_only_its_own_layer_and_those_below(path: Path) -> None:
    layer = _layer(path)
    assert layer in ALLOWED, f"{path}: a layer docs/architecture.md's layout does not name"
    wrong = [(line, dst) for line, dst in _imports(path) if dst != layer and dst not in ALLOWED[layer]]
    assert not wrong, f"{path.relative_to(PIPELINES)} ({layer}) imports above or beside its layer: {wrong}"


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The rule itself: an ingest module importing the warehouse is caught (a check that cannot fail is none)."""
    bad = tmp_path / "x.py"
    bad.write_text("def f():\n    from pipelines.warehouse.store import Warehouse\n    import streamlit as st\n")
    assert _imports(bad) == [(2, "warehouse"), (3, "streamlit")]
    assert "warehouse" not in ALLOWED["ingest"] and "streamlit" not in set().union(*ALLOWED.values())


# ---- pages/ and ui/ --------------------------------------------------------------------------

ROOT = PIPELINES.parent
# Pages read through views (by way of ui/cached) and write through ui/writes: never the warehouse,
# the readers or the demo. ui/ is the Streamlit glue over the whole data layer (the command line aside).
PAGES_ALLOWED = {"vocab", "auth", "metrics", "views", "outputs"}
UI_ALLOWED = {"vocab", "auth", "ingest", "metrics", "warehouse", "views", "outputs", "demo", "session_token"}
APP_MODULES = sorted([*(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py"), ROOT / "app.py"])


@pytest.mark.parametrize("path", APP_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_use_views_and_ui_only(path: Path) -> None:
    allowed = UI_ALLOWED if path.parent.name == "ui" else PAGES_ALLOWED
    wrong = [(line, dst) for line, dst in _imports(path) if dst != "streamlit" and dst not in allowed]
    assert not wrong, f"{path.relative_to(ROOT)} imports what its layer may not: {wrong}"


def _warehouse_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pipelines.warehouse"):
            found |= {node.module} if node.module != "pipelines.warehouse" else {
                f"pipelines.warehouse.{a.name}" for a in node.names}
    return found


def test_the_pages_cached_reads_go_through_views():
    """ui/cached.py opens the store (warehouse/store) and reads through pipelines.views only."""
    assert _warehouse_modules(ROOT / "ui" / "cached.py") == {"pipelines.warehouse.store"}


def test_the_page_check_sees_a_page_on_the_warehouse(tmp_path: Path) -> None:
    bad = tmp_path / "page.py"
    bad.write_text("from pipelines.warehouse import supervision\nfrom pipelines.views import lights\n")
    assert [dst for _, dst in _imports(bad) if dst not in PAGES_ALLOWED] == ["warehouse"]
    assert _warehouse_modules(bad) == {"pipelines.warehouse.supervision"}
