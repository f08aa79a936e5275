"""Running the CLI in-process for tests, without leaking its log set-up into later tests."""

from __future__ import annotations

import structlog
from click.testing import Result
from typer.testing import CliRunner

from kt_jira.cli import app


def invoke(*args: str) -> Result:
    """Run ``kt-jira *args`` with typer's runner and give back its result.

    The CLI points structlog at the runner's stderr, which is closed afterwards; the previous
    configuration is restored so later tests can still log."""
    saved = structlog.get_config()
    try:
        return CliRunner().invoke(app, list(args))
    finally:
        structlog.configure(**saved)
