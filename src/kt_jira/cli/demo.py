"""``demo``: the whole flow on loopback with the sandbox Jira and Keeptrusts."""

from __future__ import annotations

from typing import Annotated

import typer

from kt_jira import logs
from kt_jira.cli.common import app, out, run_async


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

    ok = run_async(run_demo(once=once, count=count, port=port, console=out))
    raise typer.Exit(0 if ok else 1)
