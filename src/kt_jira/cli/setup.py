"""``setup keeptrusts`` and ``setup jira-webhook`` register the bridge's webhooks; ``setup
jira`` puts the fields the config names on the Jira project's create screens."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import typer

from kt_jira.cli.common import ConfigOption, app, err, load_config, out, run_async

setup_app = typer.Typer(
    help="Register the bridge's webhooks in Keeptrusts and Jira; set up the Jira fields.",
    no_args_is_help=True,
)
app.add_typer(setup_app, name="setup")
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="The bridge's public base URL, e.g. https://kt-jira.example.com "
        "(default: server.public_url).",
    ),
]
ReplaceOption = Annotated[
    bool,
    typer.Option("--replace", help="Re-send the registration (and its secret) even if present."),
]


@setup_app.command("keeptrusts")
def setup_keeptrusts(
    config: ConfigOption,
    url: UrlOption = None,
    fields: Annotated[
        Literal["both", "docs", "guide"],
        typer.Option(help="both (default), docs (events/enabled) or guide (event_types/active)."),
    ] = "both",
    replace: ReplaceOption = False,
) -> None:
    """Register the bridge's webhook in Keeptrusts (escalation.created and .resolved)."""
    from kt_jira.commands.setup import FieldStyle, register_keeptrusts

    settings = load_config(config)
    style = FieldStyle(fields)
    public = _public_url(url, settings)
    done = run_async(register_keeptrusts(settings, public_url=public, style=style, replace=replace))
    _print_registration(done)


@setup_app.command("jira-webhook")
def setup_jira_webhook(
    config: ConfigOption,
    url: UrlOption = None,
    project: Annotated[
        list[str] | None,
        typer.Option(help="Filter on this project (repeatable; default jira.project)."),
    ] = None,
    replace: ReplaceOption = False,
) -> None:
    """Register a Jira admin webhook with the secret and a JQL filter on the project(s)."""
    from kt_jira.commands.setup import register_jira_webhook

    settings = load_config(config)
    public = _public_url(url, settings)
    done = run_async(
        register_jira_webhook(settings, public_url=public, projects=project or (), replace=replace)
    )
    _print_registration(done)


@setup_app.command("jira")
def setup_jira(
    config: ConfigOption,
    create_fields: Annotated[
        bool,
        typer.Option(
            "--create-fields",
            help="Create the missing custom fields and add them to the create screens "
            "(needs Administer Jira).",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only say what --create-fields would do.")
    ] = False,
) -> None:
    """Check that every field the config names is on its create screens; --create-fields
    makes it so.

    Exit code 0 when every field is in place, 1 when steps are left to do by hand (they are
    printed), 3 when a check or dry run found changes --create-fields would make."""
    from kt_jira.commands.field_setup import setup_jira_fields

    settings = load_config(config)
    apply = create_fields and not dry_run
    code = run_async(setup_jira_fields(settings, apply=apply, echo=_line))
    raise typer.Exit(code)


def _line(text: str) -> None:
    """One step, never wrapped (scripts read it)."""
    out.print(text, markup=False, highlight=False, soft_wrap=True)


def _public_url(url: str | None, settings: Any) -> str:
    """``--url``, else ``server.public_url``; neither is a usage error saying what to pass."""
    chosen = url or settings.server.public_url
    if not chosen:
        err.print(
            "error: pass --url https://<the bridge's public address>, or set server.public_url",
            markup=False,
        )
        raise typer.Exit(2)
    return str(chosen)


def _print_registration(done: Any) -> None:
    """What was registered, one fact a line, never wrapped (scripts read it); no secret."""
    where = f" (id {done.webhook_id})" if done.webhook_id else ""
    lines = [f"{done.target} {done.outcome}{where}: {done.url}"]
    lines += [f"  events: {', '.join(done.events)}"] if done.events else []
    lines += [f"  {done.detail}"] if done.detail else []
    for line in lines:
        _line(line)
