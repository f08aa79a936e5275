"""``jql``: the JQL pack, each query on one line under a line that says what it finds."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Literal

import typer

from kt_jira.cli.common import ConfigOption, app, load_config


@app.command("jql")
def jql(
    config: ConfigOption,
    output: Annotated[
        Literal["text", "json"],
        typer.Option("--format", help="text (to read and paste) or json (for scripts)."),
    ] = "text",
) -> None:
    """Print ready-to-paste JQL for the bridge's tickets, each query under its explanation."""
    from kt_jira.reports.jql import jql_pack

    queries = jql_pack(load_config(config))
    if output == "json":
        typer.echo(json.dumps([asdict(q) for q in queries], indent=2))
        return
    # Plain echo, never the rich console: it would wrap a long query onto two lines.
    typer.echo("\n\n".join(f"# {q.title}: {q.explanation}\n{q.jql}" for q in queries))
