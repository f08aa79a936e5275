"""``doctor``: every health check of a deployment, one line each (or JSON), exit 0 or 1."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from kt_jira.cli.common import ConfigOption, app, duration_option, err, out, run_async


@app.command()
def doctor(
    config: ConfigOption,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="The bridge's public base URL, to check the webhooks point at it "
            "(default: server.public_url).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
    max_queue_age: Annotated[
        str, typer.Option(help="A queued job waiting longer than this fails the check.")
    ] = "15m",
) -> None:
    """Check the config, database, Jira, Keeptrusts, webhooks and queue; say how to fix each.

    Exit code 0 when every check passed (or was skipped), 1 when any failed, 2 when the config
    cannot be loaded. Reads only; no secret is printed."""
    from datetime import UTC, datetime

    from kt_jira.commands.doctor import config_failure, exit_code, render_line, run_doctor
    from kt_jira.config.loader import load_settings
    from kt_jira.errors import ConfigError

    max_age = duration_option("--max-queue-age", max_queue_age)
    try:
        settings = load_settings(config)
    except ConfigError as exc:
        failed = config_failure(config, exc)
        if as_json:
            typer.echo(json.dumps([failed.as_json()], indent=2, ensure_ascii=False))
        else:
            err.print(render_line(failed, unicode=False), markup=False, highlight=False)
        raise typer.Exit(2) from None
    checks = run_async(
        run_doctor(
            settings,
            config_path=config,
            public_url=url,
            max_queue_age=max_age,
            now=lambda: datetime.now(UTC),
        )
    )
    if as_json:
        typer.echo(json.dumps([c.as_json() for c in checks], indent=2, ensure_ascii=False))
    else:
        unicode = out.is_terminal and (out.encoding or "").lower().startswith("utf")
        for check in checks:
            typer.echo(render_line(check, unicode=unicode))
    raise typer.Exit(exit_code(checks))
