"""``check-config`` (offline and ``--online``) and ``preview``: the ticket content, checked."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from kt_jira.cli.common import ConfigOption, app, err, load_config, out, run_async
from kt_jira.config.loader import inline_secrets, iter_secrets
from kt_jira.config.models import Settings
from kt_jira.errors import ConfigError, KtJiraError


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
    settings = load_config(config)
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

    report = run_async(go())
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
    feedback_story: Annotated[
        str | None,
        typer.Option(
            "--feedback-story",
            metavar="POLICY",
            help="Instead: the false-positive loop's Story for POLICY (from samples, or "
            "--false-positives).",
        ),
    ] = None,
    false_positives: Annotated[
        Path | None,
        typer.Option(help="With --feedback-story: the false positives as a JSON list."),
    ] = None,
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

    settings = load_config(config) if config is not None else Settings()
    wanted = flavor or settings.jira.flavor
    if wanted not in ("cloud", "datacenter") or output not in ("text", "json"):
        err.print("error: --flavor takes cloud or datacenter, --format text or json")
        raise typer.Exit(2)
    chosen: Literal["cloud", "datacenter"] = "datacenter" if wanted == "datacenter" else "cloud"
    if feedback_story is not None:
        _preview_story(feedback_story, false_positives, settings, chosen, online, output)
        return
    try:
        escalation = load_escalation(event.read_bytes()) if event else sample_escalation(sample)
    except (OSError, ValueError, KtJiraError) as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None

    async def go() -> Any:
        from kt_jira.commands.group_preview import group_lookup
        from kt_jira.commands.preview import build_preview

        now = datetime.now(UTC)
        async with group_lookup(settings if config is not None else None, now=now) as groups:
            if not online:
                return await build_preview(
                    escalation, settings, flavor=chosen, received_at=now, groups=groups
                )
            from kt_jira.jira import JiraClient, JiraMetadata, MemoryPauseStore

            jira = settings.jira.model_copy(update={"flavor": chosen})
            async with JiraClient(jira, pause=MemoryPauseStore()) as client:
                build = JiraMetadata(client, jira).build_create_body
                return await build_preview(
                    escalation,
                    settings,
                    flavor=chosen,
                    received_at=now,
                    build_body=build,
                    groups=groups,
                )

    shown = run_async(go())
    if output == "json":
        typer.echo(json.dumps(preview_json(shown), indent=2, ensure_ascii=False))
    else:
        typer.echo(preview_text(shown))


def _preview_story(
    policy: str,
    path: Path | None,
    settings: Settings,
    flavor: Literal["cloud", "datacenter"],
    online: bool,
    output: str,
) -> None:
    """``preview --feedback-story``: the Story the false-positive loop would create."""
    import json
    from datetime import UTC, datetime

    from kt_jira.commands import story_preview as sp

    try:
        if path is not None:
            found, resolved = sp.load_false_positives(path.read_bytes())
        else:
            threshold = settings.feedback.false_positive.threshold
            found, resolved = sp.sample_false_positives(threshold, now=datetime.now(UTC))
    except (OSError, KtJiraError) as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None

    async def go() -> Any:
        if not online:
            return await sp.build_story_preview(policy, found, resolved, settings, flavor=flavor)
        from kt_jira.config.models import CorrelationSettings
        from kt_jira.jira import JiraClient, JiraMetadata, MemoryPauseStore

        # As the loop does: flavour as asked, and a Story's marker is always its label.
        jira = settings.jira.model_copy(
            update={"flavor": flavor, "correlation": CorrelationSettings()}
        )
        async with JiraClient(jira, pause=MemoryPauseStore()) as client:
            build = JiraMetadata(client, jira).build_create_body
            return await sp.build_story_preview(
                policy, found, resolved, settings, flavor=flavor, build_body=build
            )

    shown = run_async(go())
    if output == "json":
        typer.echo(json.dumps(sp.story_preview_json(shown), indent=2, ensure_ascii=False))
    else:
        typer.echo(sp.story_preview_text(shown))
