"""The ``kt-jira`` command line: the composition root, where every object is built.

Commands parse arguments, load the config once, and call ``asyncio.run`` at the edge (``common``).
Each module holds one group of commands; importing them registers them on ``app``. Errors the
user can fix are printed as one clear message with exit code 2, never as a traceback.
"""

from __future__ import annotations

import sys

from kt_jira.cli import (
    content,
    demo,
    doctor,
    jobs,
    jql,
    prune,
    reconcile,
    report,
    service,
    setup,
    sla,
)
from kt_jira.cli.common import app

__all__ = [
    "app",
    "content",
    "demo",
    "doctor",
    "jobs",
    "jql",
    "main",
    "prune",
    "reconcile",
    "report",
    "service",
    "setup",
    "sla",
]


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
