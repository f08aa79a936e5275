"""``jobs list``, ``jobs show`` and ``jobs replay``: the queue and its dead letters."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import typer
from rich.table import Table

from kt_jira.cli.common import (
    ConfigOption,
    FormatOption,
    err,
    jobs_app,
    load_config,
    out,
    run_async,
)
from kt_jira.config.models import Settings
from kt_jira.store import Job

HEADER = ("id", "kind", "key", "status", "attempts", "last error")


def job_json(job: Job) -> dict[str, Any]:
    data = asdict(job)
    data["status"] = job.status.value
    for name in ("run_at", "locked_until", "created_at", "updated_at"):
        data[name] = data[name].isoformat() if data[name] else None
    return data


@jobs_app.command("list")
def jobs_list(
    config: ConfigOption,
    status: Annotated[
        Literal["queued", "running", "done", "dead"] | None,
        typer.Option(help="queued, running, done or dead."),
    ] = None,
    limit: int = 50,
    output: FormatOption = "table",
) -> None:
    """List jobs, newest first, with their last error."""
    jobs = _list(load_config(config), status=status, limit=limit)
    if output == "json":
        typer.echo(json.dumps([job_json(job) for job in jobs], indent=2))
        return
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
        for job in jobs
    ]
    if not out.is_terminal:
        # Pipes and scripts get one job a line, tab-separated, never wrapped or cut.
        for row in (HEADER, *rows):
            typer.echo("\t".join(row))
        return
    table = Table(*HEADER)
    for row in rows:
        table.add_row(*row)
    out.print(table)


@jobs_app.command("show")
def jobs_show(
    config: ConfigOption, job_id: Annotated[int, typer.Argument(help="The job's id.")]
) -> None:
    """One job as JSON: kind, key, payload, status, attempts, schedule and the whole last error."""
    settings = load_config(config)

    async def go() -> Job | None:
        from kt_jira.store import open_store

        async with open_store(settings.database_url, password=settings.database_password) as store:
            return await store.queue.get(job_id)

    job = run_async(go())
    if job is None:
        err.print(f"error: no job {job_id} (see `kt-jira jobs list`)", markup=False)
        raise typer.Exit(2)
    typer.echo(json.dumps(job_json(job), indent=2))


@jobs_app.command("replay")
def jobs_replay(
    config: ConfigOption,
    job_id: Annotated[
        int | None, typer.Argument(help="A dead job's id; all dead jobs when omitted.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be replayed; change nothing.")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Replay all without asking (in a terminal).")
    ] = False,
) -> None:
    """Put dead-letter jobs back in the queue (after fixing the config that made them fail).

    Replaying all of them in a terminal asks first (``--yes`` does not); scripts are not asked.
    """
    settings = load_config(config)
    dead = [j for j in _list(settings, status="dead", limit=10_000)
            if job_id is None or j.id == job_id]  # fmt: skip
    if dry_run:
        for job in dead:
            typer.echo(f"would replay {job.id}\t{job.kind}\t{job.job_key}")
        typer.echo(f"{len(dead)} job(s) would be replayed; nothing changed")
        return
    if job_id is None and dead and sys.stdin.isatty() and not yes:
        typer.confirm(f"Replay all {len(dead)} dead job(s)?", abort=True)

    async def go() -> int:
        from kt_jira.store import open_store

        async with open_store(settings.database_url, password=settings.database_password) as store:
            return await store.queue.replay_dead(job_id=job_id, now=datetime.now(UTC))

    out.print(f"requeued {run_async(go())} job(s)")


def _list(settings: Settings, *, status: str | None, limit: int) -> list[Job]:
    async def go() -> list[Job]:
        from kt_jira.store import open_store

        async with open_store(settings.database_url, password=settings.database_password) as store:
            return list(await store.queue.list(status=status, limit=limit))

    return run_async(go())
