"""``prune``: delete what the bridge will never need again, so its database stops growing.

What goes and what stays is ``kt_jira.store.retention``'s docstring (and docs/operations.md,
"Retention"). The cutoff may not fall inside ``reconcile.since`` or the false-positive window:
reconcile and the loop read that far back, and a pruned escalation seen again there would be
learnt anew.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from kt_jira.cli.common import (
    ConfigOption,
    FormatOption,
    app,
    duration_option,
    err,
    load_config,
    out,
    run_async,
)
from kt_jira.config.models import Settings
from kt_jira.tickets.sla import parse_duration

BATCH = 1000


def shortest_allowed(settings: Settings) -> timedelta:
    """The shortest ``--older-than``: past every window that reads old rows back."""
    return max(
        parse_duration(settings.reconcile.since),
        parse_duration(settings.feedback.false_positive.window),
        timedelta(days=7),
    )


@app.command()
def prune(
    config: ConfigOption,
    older_than: Annotated[
        str, typer.Option("--older-than", help="Age of what may go, e.g. 90d (at least 7d).")
    ] = "90d",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would go; delete nothing.")
    ] = False,
    output: FormatOption = "table",
) -> None:
    """Delete old deliveries, finished jobs, audit rows and closed escalations; open work stays."""
    settings = load_config(config)
    age = duration_option("--older-than", older_than)
    floor = shortest_allowed(settings)
    if age < floor:
        err.print(
            f"error: --older-than {older_than} is shorter than {floor.days}d, the longest window "
            "that reads old rows (reconcile.since, feedback.false_positive.window, or 7d)",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(2)
    cutoff = datetime.now(UTC) - age
    counts = run_async(_prune(settings, cutoff=cutoff, dry_run=dry_run))
    if output == "json":
        typer.echo(json.dumps({"cutoff": cutoff.isoformat(), "dry_run": dry_run, **counts}))
        return
    verb = "would delete" if dry_run else "deleted"
    out.print(f"older than {cutoff:%Y-%m-%d %H:%M} UTC, {verb}:", highlight=False)
    for kind, number in counts.items():
        out.print(f"  {kind:<12} {number}", highlight=False)


async def _prune(settings: Settings, *, cutoff: datetime, dry_run: bool) -> dict[str, int]:
    from kt_jira.reconcile.view import RichProgress
    from kt_jira.store import open_store
    from kt_jira.store.retention import KINDS

    async with open_store(settings.database_url, password=settings.database_password) as store:
        totals = {kind: await store.retention.count(kind, cutoff=cutoff) for kind in KINDS}
        if dry_run:
            return totals
        done = dict.fromkeys(KINDS, 0)
        with RichProgress(err) as progress:  # reconcile's bar: one phase per table
            for kind in KINDS:
                progress.start(f"pruning {kind}", total=totals[kind])
                while deleted := await store.retention.prune_batch(
                    kind, cutoff=cutoff, limit=BATCH
                ):
                    done[kind] += deleted
                    progress.advance(deleted)
        return done
