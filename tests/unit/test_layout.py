"""The package layout: the tree in docs/architecture.md is the code's, modules stay small, and
the top level holds only the cross-cutting modules."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "kt_jira"
MODULE_BUDGET = 350  # lines; about 300 is the house size


def _layout() -> object:
    spec = importlib.util.spec_from_file_location("layout", ROOT / "scripts" / "layout.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_documented_tree_is_generated_from_the_code() -> None:
    """docs/architecture.md shows exactly what ``python scripts/layout.py`` prints."""
    tree: str = _layout().render()  # type: ignore[attr-defined]
    assert tree in (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def test_no_module_is_over_budget() -> None:
    """Every source module stays within the line budget (split by concept past it)."""
    sizes = {
        str(p.relative_to(PACKAGE)): len(p.read_text(encoding="utf-8").splitlines())
        for p in PACKAGE.rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > MODULE_BUDGET} == {}


def test_every_package_says_what_it_holds() -> None:
    """Each package's ``__init__`` opens with a docstring (what it holds, what it must not do)."""
    missing = [
        str(init.parent.relative_to(PACKAGE))
        for init in PACKAGE.rglob("__init__.py")
        if "migrations" not in init.parts and not _layout().summary(init)  # type: ignore[attr-defined]
    ]
    assert missing == []
