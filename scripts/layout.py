"""Print the package layout of ``src/kt_jira`` for docs/architecture.md, one line per package and
top-level module, each with the first line of its docstring.

``python scripts/layout.py`` prints it; a unit test holds docs/architecture.md to this output,
so the documented tree is regenerated from the code, never written by hand.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "kt_jira"


def summary(path: Path) -> str:
    """The first sentence of a module's docstring, or "" without one."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    paragraph = " ".join(doc.strip().split("\n\n")[0].split())
    return paragraph.split(". ")[0].rstrip(".")


def entries(package: Path = PACKAGE) -> list[tuple[str, str]]:
    """(name, summary) for each top-level module and each package, sub-packages indented."""
    found: list[tuple[str, str]] = []
    for path in sorted(package.glob("*.py")):
        if path.name not in ("__init__.py", "__main__.py"):
            found.append((path.name, summary(path)))
    for path in sorted(p for p in package.rglob("__init__.py") if p.parent != package):
        relative = path.parent.relative_to(package)
        if "migrations" in relative.parts:
            continue
        found.append((f"{relative.as_posix()}/", summary(path)))
    return found


def render(package: Path = PACKAGE) -> str:
    rows = entries(package)
    width = max(len(name) for name, _ in rows) + 2
    lines = ["src/kt_jira/", *(f"  {name.ljust(width)}{text}".rstrip() for name, text in rows)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
