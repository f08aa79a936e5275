"""``serve``, ``worker`` and ``migrate``: running the bridge and its schema."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from kt_jira.cli.common import ConfigOption, app, load_config, out, run_async
from kt_jira.config.models import Settings


@app.command()
def serve(
    config: ConfigOption,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Web only (split deployments).")
    ] = False,
) -> None:
    """Run the web app and an embedded worker until SIGTERM/SIGINT."""
    settings = load_config(config)
    run_async(_serve(settings, web=True, work=not no_worker))


@app.command()
def worker(config: ConfigOption) -> None:
    """Run workers only, against the configured database."""
    settings = load_config(config)
    run_async(_serve(settings, web=False, work=True))


async def _serve(settings: Settings, *, web: bool, work: bool) -> None:
    from kt_jira.service import Bridge, install_stop_signals

    stop = asyncio.Event()
    install_stop_signals(stop)
    async with Bridge.open(settings) as bridge:
        await bridge.run(stop, web=web, work=work)


@app.command()
def migrate(config: ConfigOption) -> None:
    """Bring the database schema up to date."""
    settings = load_config(config)

    async def go() -> tuple[str | None, str]:
        from kt_jira.store import open_store

        async with open_store(settings.database_url, password=settings.database_password) as store:
            before, _ = await store.db.migration_status()
            await store.db.migrate()
            after, _ = await store.db.migration_status()
            return before, str(after)

    before, after = run_async(go())
    out.print(f"database schema: {before or 'empty'} -> {after}")
