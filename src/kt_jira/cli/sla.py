"""``sla ls``: every tracked ticket's first-response and resolution targets, now."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from kt_jira.cli.common import ConfigOption, FormatOption, app, load_config, out, run_async
from kt_jira.store import SlaClockRow

sla_app = typer.Typer(
    help="SLA clocks: what is breached, at risk, running or met.", no_args_is_help=True
)
app.add_typer(sla_app, name="sla")


@sla_app.command("ls")
def sla_ls(
    config: ConfigOption,
    breached: Annotated[
        bool, typer.Option("--breached", help="Only tickets with a breached target.")
    ] = False,
    at_risk: Annotated[
        bool, typer.Option("--at-risk", help="Only tickets with a target at risk.")
    ] = False,
    everything: Annotated[
        bool, typer.Option("--all", help="Include tickets whose targets are all met.")
    ] = False,
    output: FormatOption = "table",
    limit: Annotated[int, typer.Option(min=1, help="At most this many tickets.")] = 500,
    at: Annotated[
        datetime | None,
        typer.Option(
            help="Evaluate at this instant (ISO 8601, UTC if no offset) instead of now.",
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"],
        ),
    ] = None,
) -> None:
    """List tracked tickets with each target's state, deadline and time left or overdue."""
    from kt_jira.sla.listing import HEADER, as_json, evaluate_rows, select, table_row

    settings = load_config(config)

    async def go() -> list[SlaClockRow]:
        from kt_jira.store import open_store

        rows: list[SlaClockRow] = []
        async with open_store(settings.database_url, password=settings.database_password) as store:
            after = ""
            while len(rows) < limit and (
                page := await store.sla.clocks(after=after, settled=everything)
            ):
                rows += page
                after = page[-1].link.escalation_id
        return rows[:limit]

    now = datetime.now(UTC) if at is None else at if at.tzinfo else at.replace(tzinfo=UTC)
    listed = evaluate_rows(
        run_async(go()), settings.content.calendars, at_risk=settings.sla.at_risk, now=now
    )
    chosen = select(listed, breached=breached, at_risk=at_risk)
    if output == "json":
        typer.echo(json.dumps([as_json(item) for item in chosen], indent=2))
        return
    rows = [table_row(item) for item in chosen]
    if not out.is_terminal:
        for row in (HEADER, *rows):
            typer.echo("\t".join(row))
        return
    if not rows:
        out.print("no tracked tickets match")
        return
    table = Table(*HEADER, title=f"SLA at {now.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
    for row in rows:
        table.add_row(*row)
    out.print(table)
