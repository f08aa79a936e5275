"""What every ``kt-jira`` command shares: the Typer app, the consoles, ``--config``, and the
edge where a coroutine runs and a user-fixable error becomes one line and exit code 2.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import typer
from rich.console import Console

from kt_jira import __version__, logs
from kt_jira.config.loader import load_settings
from kt_jira.config.models import Settings
from kt_jira.errors import ConfigError, KtJiraError

app = typer.Typer(help="Bridge Keeptrusts escalations and Jira, both ways.", no_args_is_help=True)
jobs_app = typer.Typer(help="Inspect and replay queued and dead-letter jobs.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
out = Console()
err = Console(stderr=True)
T = TypeVar("T")

CONFIG_ENV = "KT_JIRA_CONFIG"
#: Where a config is looked for when neither ``--config`` nor ``KT_JIRA_CONFIG`` names one.
DEFAULT_CONFIGS = (Path("kt-jira.yaml"), Path("/etc/kt-jira/kt-jira.yaml"))
ConfigOption = Annotated[
    Path,
    typer.Option(
        "--config",
        "-c",
        envvar=CONFIG_ENV,
        help="YAML config file (default: ./kt-jira.yaml, then /etc/kt-jira/kt-jira.yaml).",
        exists=False,
    ),
]
#: ``--format`` of a listing: a table for people, JSON for scripts.
FormatOption = Annotated[Literal["table", "json"], typer.Option("--format", help="table or json.")]


def duration_option(option: str, text: str) -> timedelta:
    """The value of a duration option (``--since 30d``), or one line naming it and exit 2."""
    from kt_jira.tickets.sla import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        err.print(f"error: {option}: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; an error the user can fix is one line and exit code 2."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        return asyncio.run(coro)
    except KtJiraError as exc:
        err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(2) from None
    except (OperationalError, ProgrammingError) as exc:
        # No such table, cannot connect, wrong password: never a 300-line traceback.
        first = str(exc.orig or exc).strip().splitlines()[0]
        err.print(
            f"error: the database is not ready ({first}): check database_url, then run "
            "`kt-jira migrate --config FILE`",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(2) from None


def load_config(path: Path) -> Settings:
    try:
        return load_settings(path)
    except ConfigError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None


def _print_version(value: bool) -> None:
    if value:
        out.print(__version__)
        raise typer.Exit()


@app.callback()
def _main(
    log_level: Annotated[
        Literal["debug", "info", "warning", "error"],
        typer.Option(help="debug, info, warning or error."),
    ] = "info",
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    logs.configure(level=log_level)
    _default_config()


def _default_config() -> None:
    """Without ``--config`` or ``KT_JIRA_CONFIG``, the first of ``DEFAULT_CONFIGS`` that exists
    becomes ``KT_JIRA_CONFIG`` for this process, which ``--config`` reads; the command's options
    are parsed after this callback, so an explicit ``--config`` still wins."""
    if os.environ.get(CONFIG_ENV):
        return
    for candidate in DEFAULT_CONFIGS:
        if candidate.is_file():
            os.environ[CONFIG_ENV] = str(candidate)
            return


@app.command()
def version() -> None:
    """Print the version."""
    out.print(__version__)
