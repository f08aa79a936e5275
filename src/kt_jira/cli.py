"""The ``kt-jira`` command line: the composition root, where every object is built.

Commands parse arguments, load the config once, and call ``asyncio.run`` at the edge. Errors the
user can fix are printed as one clear message with exit code 2, never as a traceback.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from kt_jira import __version__, logs
from kt_jira.config.loader import inline_secrets, iter_secrets, load_settings
from kt_jira.config.models import Settings
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
def check_config(
    config: ConfigOption,
    online: Annotated[
        bool,
        typer.Option(
            "--online",
            help="Also check against the live Jira: login, and every rule's project, issue "
            "type, priority, components and fields on its create screen (reads only).",
        ),
    ] = False,
) -> None:
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
    from kt_jira.commands.check_config import offline_problems, offline_warnings

    problems += offline_problems(settings)
    for warning in offline_warnings(settings):
        err.print(f"warning: {warning}", markup=False, highlight=False)
    if online and not problems:
        problems += _check_online(settings)
    elif online:
        err.print("note: the online checks did not run; fix the problems below first")
    if problems:
        for problem in problems:
            err.print(f"error: {problem}", markup=False, highlight=False)
        raise typer.Exit(2)
    rules = len(settings.rules) or "default (the guide's)"
    out.print(
        f"{config}: OK (project {settings.jira.project}, {settings.jira.flavor}, rules: {rules})"
    )


def _check_online(settings: Settings) -> list[str]:
    async def go() -> Any:
        from kt_jira.commands.online import check_online
        from kt_jira.jira import JiraClient, MemoryPauseStore

        async with JiraClient(settings.jira, pause=MemoryPauseStore()) as jira:
            return await check_online(settings, jira)

    report = _run(go())
    if not report.problems:
        out.print(
            f"Jira: logged in as {report.user}; {report.rules} rule(s) fit the create screens "
            f"of {', '.join(report.projects)}",
            markup=False,
            highlight=False,
        )
    return [str(problem) for problem in report.problems]


@app.command()
def preview(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="YAML config (default: built-ins).")
    ] = None,
    event: Annotated[
        Path | None, typer.Option("--event", "-e", help="An escalation as JSON, flat or envelope.")
    ] = None,
    sample: Annotated[
        str, typer.Option(help="Built-in sample: block, compliance, escalate, redact or log.")
    ] = "block",
    flavor: Annotated[
        str | None, typer.Option(help="cloud or datacenter (default: jira.flavor).")
    ] = None,
    online: Annotated[
        bool, typer.Option("--online", help="Resolve field ids on the live Jira (reads only).")
    ] = False,
    output: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """Show the rule an escalation matches, why, and the exact create request; send nothing."""
    import json
    from datetime import UTC, datetime

    from kt_jira.commands.preview import (
        load_escalation,
        preview_json,
        preview_text,
        sample_escalation,
    )

    settings = _load(config) if config is not None else Settings()
    wanted = flavor or settings.jira.flavor
    if wanted not in ("cloud", "datacenter") or output not in ("text", "json"):
        err.print("error: --flavor takes cloud or datacenter, --format text or json")
        raise typer.Exit(2)
    chosen: Literal["cloud", "datacenter"] = "datacenter" if wanted == "datacenter" else "cloud"
    try:
        escalation = load_escalation(event.read_bytes()) if event else sample_escalation(sample)
    except (OSError, ValueError, KtJiraError) as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None

    async def go() -> Any:
        from kt_jira.commands.preview import build_preview

        now = datetime.now(UTC)
        if not online:
            return await build_preview(escalation, settings, flavor=chosen, received_at=now)
        from kt_jira.jira import JiraClient, JiraMetadata, MemoryPauseStore

        jira = settings.jira.model_copy(update={"flavor": chosen})
        async with JiraClient(jira, pause=MemoryPauseStore()) as client:
            build = JiraMetadata(client, jira).build_create_body
            return await build_preview(
                escalation, settings, flavor=chosen, received_at=now, build_body=build
            )

    shown = _run(go())
    if output == "json":
        typer.echo(json.dumps(preview_json(shown), indent=2, ensure_ascii=False))
    else:
        typer.echo(preview_text(shown))


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
def reconcile(
    config: ConfigOption,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan; write nothing anywhere.")
    ] = False,
    since: Annotated[
        str | None, typer.Option(help="Jira window, e.g. 7d (default: reconcile.since).")
    ] = None,
) -> None:
    """Compare Keeptrusts, the database and Jira, and repair what webhooks missed."""
    settings = _load(config)
    if since is not None:
        from kt_jira.tickets.sla import parse_duration

        try:
            parse_duration(since)
        except ValueError as exc:
            err.print(f"error: --since: {exc}", markup=False, highlight=False)
            raise typer.Exit(2) from None

    async def go() -> Any:
        from kt_jira.jira import JiraClient, MemoryPauseStore
        from kt_jira.reconcile.reconciler import LOCK, Reconciler
        from kt_jira.reconcile.source import KeeptrustsReader
        from kt_jira.reconcile.view import RichProgress
        from kt_jira.store import open_store

        async with open_store(settings.database_url) as store:
            # A dry run must not even record a Jira pause in the database.
            pause = MemoryPauseStore() if dry_run else store
            async with (
                store.exclusive(LOCK) as acquired,
                JiraClient(settings.jira, pause=pause) as jira,
                KeeptrustsReader.open(settings) as reader,
            ):
                if not acquired:
                    raise KtJiraError("another reconcile is running (the lock is held); try later")
                with RichProgress(err) as progress:
                    reconciler = Reconciler(
                        settings=settings,
                        store=store,
                        jira=jira,
                        keeptrusts=reader,
                        progress=progress,
                    )
                    return await reconciler.run(dry_run=dry_run, since=since)

    from kt_jira.reconcile.view import exit_code, render

    report = _run(go())
    render(report, out)
    raise typer.Exit(exit_code(report))


setup_app = typer.Typer(
    help="Register the bridge's webhooks in Keeptrusts and Jira.", no_args_is_help=True
)
app.add_typer(setup_app, name="setup")
UrlOption = Annotated[
    str,
    typer.Option("--url", help="The bridge's public base URL, e.g. https://kt-jira.example.com"),
]
ReplaceOption = Annotated[
    bool,
    typer.Option("--replace", help="Re-send the registration (and its secret) even if present."),
]


@setup_app.command("keeptrusts")
def setup_keeptrusts(
    config: ConfigOption,
    url: UrlOption,
    fields: Annotated[
        str,
        typer.Option(help="both (default), docs (events/enabled) or guide (event_types/active)."),
    ] = "both",
    replace: ReplaceOption = False,
) -> None:
    """Register the bridge's webhook in Keeptrusts (escalation.created and .resolved)."""
    from kt_jira.commands.setup import FieldStyle, register_keeptrusts

    if fields not in set(FieldStyle):
        err.print("error: --fields must be both, docs or guide")
        raise typer.Exit(2)
    settings = _load(config)
    style = FieldStyle(fields)
    done = _run(register_keeptrusts(settings, public_url=url, style=style, replace=replace))
    _print_registration(done)


@setup_app.command("jira-webhook")
def setup_jira_webhook(
    config: ConfigOption,
    url: UrlOption,
    project: Annotated[
        list[str] | None,
        typer.Option(help="Filter on this project (repeatable; default jira.project)."),
    ] = None,
    replace: ReplaceOption = False,
) -> None:
    """Register a Jira admin webhook with the secret and a JQL filter on the project(s)."""
    from kt_jira.commands.setup import register_jira_webhook

    settings = _load(config)
    done = _run(
        register_jira_webhook(settings, public_url=url, projects=project or (), replace=replace)
    )
    _print_registration(done)


def _print_registration(done: Any) -> None:
    """What was registered, one fact a line, never wrapped (scripts read it); no secret."""
    where = f" (id {done.webhook_id})" if done.webhook_id else ""
    lines = [f"{done.target} {done.outcome}{where}: {done.url}"]
    lines += [f"  events: {', '.join(done.events)}"] if done.events else []
    lines += [f"  {done.detail}"] if done.detail else []
    for line in lines:
        out.print(line, markup=False, highlight=False, soft_wrap=True)


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
    from kt_jira.commands.demo import run_demo

    if not verbose:
        logs.configure(level="error")

    ok = _run(run_demo(once=once, count=count, port=port, console=out))
    raise typer.Exit(0 if ok else 1)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
