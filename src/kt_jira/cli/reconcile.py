"""``reconcile``: compare both sides and the database, and repair (``--dry-run`` to look)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kt_jira.cli.common import ConfigOption, app, duration_option, err, load_config, out, run_async
from kt_jira.errors import KtJiraError


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
    settings = load_config(config)
    if since is not None:
        duration_option("--since", since)

    async def go() -> Any:
        from kt_jira.jira import JiraClient, MemoryPauseStore
        from kt_jira.reconcile.reconciler import LOCK, Reconciler
        from kt_jira.reconcile.source import KeeptrustsReader
        from kt_jira.reconcile.view import RichProgress
        from kt_jira.store import open_store

        async with open_store(settings.database_url, password=settings.database_password) as store:
            # A dry run must not even record a Jira pause in the database.
            pause = MemoryPauseStore() if dry_run else store.pauses
            async with (
                store.db.exclusive(LOCK) as acquired,
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

    report = run_async(go())
    render(report, out)
    raise typer.Exit(exit_code(report))
