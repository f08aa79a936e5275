"""``jobs list`` and ``jobs replay``: the queue and its dead letters."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from kt_jira.cli.common import ConfigOption, jobs_app, load_config, out, run_async


@jobs_app.command("list")
def jobs_list(
    config: ConfigOption,
    status: Annotated[str | None, typer.Option(help="queued, running, done or dead.")] = None,
    limit: int = 50,
) -> None:
    """List jobs, newest first, with their last error."""
    settings = load_config(config)

    async def go() -> list[Any]:
        from kt_jira.store import open_store

        async with open_store(settings.database_url) as store:
            return list(await store.queue.list(status=status, limit=limit))

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
        for job in run_async(go())
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
    settings = load_config(config)

    async def go() -> int:
        from datetime import UTC, datetime

        from kt_jira.store import open_store

        async with open_store(settings.database_url) as store:
            return await store.queue.replay_dead(job_id=job_id, now=datetime.now(UTC))

    out.print(f"requeued {run_async(go())} job(s)")
