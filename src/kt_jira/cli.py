"""The ``kt-jira`` command line: the composition root, where every object is built.

Commands parse arguments, load the config once, and call ``asyncio.run`` at the edge. Errors the
user can fix are printed as one clear message with exit code 2, never as a traceback.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from kt_jira import __version__, logs
from kt_jira.config import Settings, inline_secrets, iter_secrets, load_settings
from kt_jira.errors import ConfigError, KtJiraError

app = typer.Typer(help="Bridge Keeptrusts escalations and Jira, both ways.", no_args_is_help=True)
jobs_app = typer.Typer(help="Inspect and replay queued and dead-letter jobs.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
out = Console()
err = Console(stderr=True)
T = TypeVar("T")

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="YAML config file.", exists=False)
]


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coro)
    except KtJiraError as exc:
        err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(2) from None


def _load(path: Path) -> Settings:
    try:
        return load_settings(path)
    except ConfigError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None


@app.callback()
def _main(
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    logs.configure(level=log_level)


@app.command()
def version() -> None:
    """Print the version."""
    out.print(__version__)


@app.command()
def serve(
    config: ConfigOption,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Web only (split deployments).")
    ] = False,
) -> None:
    """Run the web app and an embedded worker until SIGTERM/SIGINT."""
    settings = _load(config)
    _run(_serve(settings, web=True, work=not no_worker))


@app.command()
def worker(config: ConfigOption) -> None:
    """Run workers only, against the configured database."""
    settings = _load(config)
    _run(_serve(settings, web=False, work=True))


async def _serve(settings: Settings, *, web: bool, work: bool) -> None:
    from kt_jira.service import Bridge, install_stop_signals

    stop = asyncio.Event()
    install_stop_signals(stop)
    async with Bridge.open(settings) as bridge:
        await bridge.run(stop, web=web, work=work)


@app.command()
def migrate(config: ConfigOption) -> None:
    """Bring the database schema up to date."""
    settings = _load(config)

    async def go() -> tuple[str | None, str]:
        from kt_jira.store import open_store

        async with open_store(settings.database_url) as store:
            before, _ = await store.migration_status()
            await store.migrate()
            after, _ = await store.migration_status()
            return before, str(after)

    before, after = _run(go())
    out.print(f"database schema: {before or 'empty'} -> {after}")


@app.command("check-config")
def check_config(config: ConfigOption) -> None:
    """Validate the config file and resolve its secrets (values are never printed)."""
    settings = _load(config)
    problems: list[str] = []
    for _key, secret in iter_secrets(settings):
        try:
            secret.reveal()
        except ConfigError as exc:
            problems.append(str(exc))
    for key in inline_secrets(settings):
        err.print(f"warning: {key} is written inline in the file; prefer env:NAME or file:PATH")
    try:
        from kt_jira.service import check_startup

        for warning in check_startup(settings):
            err.print(f"warning: {warning}")
    except ConfigError as exc:
        problems.append(str(exc))
    problems += _rule_problems(settings)
    if problems:
        for problem in problems:
            err.print(f"error: {problem}", markup=False, highlight=False)
        raise typer.Exit(2)
    rules = len(settings.rules) or "default (the guide's)"
    out.print(
        f"{config}: OK (project {settings.jira.project}, {settings.jira.flavor}, rules: {rules})"
    )


def _rule_problems(settings: Settings) -> list[str]:
    from kt_jira.sla import parse_duration

    problems = []
    for index, rule in enumerate(settings.rules):
        for key in ("sla_first_response", "sla_resolution"):
            value = getattr(rule.set, key)
            if value is not None:
                try:
                    parse_duration(value)
                except ValueError as exc:
                    problems.append(f"rules[{index}] ({rule.name}).set.{key}: {exc}")
    return problems


@jobs_app.command("list")
def jobs_list(
    config: ConfigOption,
    status: Annotated[str | None, typer.Option(help="queued, running, done or dead.")] = None,
    limit: int = 50,
) -> None:
    """List jobs, newest first, with their last error."""
    settings = _load(config)

    async def go() -> list[Any]:
        from kt_jira.store import open_store

        async with open_store(settings.database_url) as store:
            return list(await store.list_jobs(status=status, limit=limit))

    header = ("id", "kind", "key", "status", "attempts", "last error")
    rows = [
        (
            str(job.id),
            job.kind,
            job.job_key or "",
            job.status,
            str(job.attempts),
            # The whole first line: its end says what to fix ("... create screen; add it ...").
            (job.last_error or "").splitlines()[0] if job.last_error else "",
        )
        for job in _run(go())
    ]
    if not out.is_terminal:
        # Pipes and scripts get one job a line, tab-separated, never wrapped or cut.
        for row in (header, *rows):
            typer.echo("\t".join(row))
        return
    table = Table(*header)
    for row in rows:
        table.add_row(*row)
    out.print(table)


@jobs_app.command("replay")
def jobs_replay(
    config: ConfigOption,
    job_id: Annotated[
        int | None, typer.Argument(help="A dead job's id; all dead jobs when omitted.")
    ] = None,
) -> None:
    """Put dead-letter jobs back in the queue (after fixing the config that made them fail)."""
    settings = _load(config)

    async def go() -> int:
        from datetime import UTC, datetime

        from kt_jira.store import open_store

        async with open_store(settings.database_url) as store:
            return await store.replay_dead(job_id=job_id, now=datetime.now(UTC))

    out.print(f"requeued {_run(go())} job(s)")


@app.command()
def demo(
    once: Annotated[
        bool,
        typer.Option(
            "--once", help="Exit after the scenario (0 = every escalation got one ticket)."
        ),
    ] = False,
    count: Annotated[int, typer.Option(help="How many escalations to send.")] = 12,
    port: Annotated[int, typer.Option(help="Bridge port (0 = any free port).")] = 8080,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Show the bridge's own log lines.")
    ] = False,
) -> None:
    """Run the whole flow on loopback: sandbox Jira and Keeptrusts, the bridge, a scenario."""
    from kt_jira.demo import run_demo

    if not verbose:
        logs.configure(level="error")

    ok = _run(run_demo(once=once, count=count, port=port, console=out))
    raise typer.Exit(0 if ok else 1)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
