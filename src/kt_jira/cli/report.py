"""``report``: what the bridge handled over a range, from its own database."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import typer
from rich.table import Table

from kt_jira.cli.common import ConfigOption, app, duration_option, load_config, out, run_async

SECTIONS = (
    ("By priority", "by_priority"),
    ("By policy", "by_policy"),
    ("By action", "by_action"),
    ("By model", "by_model"),
    ("By gateway", "by_gateway"),
    ("Open backlog by age", "backlog"),
)


@app.command()
def report(
    config: ConfigOption,
    since: Annotated[str, typer.Option(help="How far back: 24h, 7d, 30d, 12w.")] = "30d",
    project: Annotated[str | None, typer.Option(help="Only this Jira project's tickets.")] = None,
    output: Annotated[
        Literal["table", "json", "csv"], typer.Option("--format", help="table, json or csv.")
    ] = "table",
) -> None:
    """Volume, created vs resolved, SLA success, response times, false positives, backlog and
    dead letters, from the bridge's database."""
    from kt_jira.reports.aggregate import Report
    from kt_jira.reports.load import load_report

    settings = load_config(config)
    span = duration_option("--since", since)

    async def go() -> Report:
        from kt_jira.store import open_store

        async with open_store(settings.database_url, password=settings.database_password) as store:
            return await load_report(
                store, settings, since=span, now=datetime.now(UTC), project=project
            )

    data = run_async(go()).as_json()
    if output == "json":
        typer.echo(json.dumps(data, indent=2))
    elif output == "csv":
        typer.echo(as_csv(data), nl=False)
    else:
        _tables(data)


def flatten(data: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """The report as ``(section, key, value)`` rows: one number each, for spreadsheets."""
    rows: list[tuple[str, str, Any]] = [
        ("escalations", "total", data["escalations"]),
        ("grouped", "total", data["grouped"]),
    ]
    for section in ("by_priority", "by_policy", "by_action", "by_model", "by_gateway", "backlog"):
        rows += [(section, key, value) for key, value in data[section].items()]
    for day in data["per_day"]:
        rows += [("created", day["day"], day["created"]), ("resolved", day["day"], day["resolved"])]
    for target, by in data["sla"].items():
        for priority, cell in by.items():
            rows += [(f"sla_{target}_{name}", priority, cell[name]) for name in ("met", "breached")]
    for target, times in data["times"].items():
        rows += [(f"time_to_{target}", name, value) for name, value in times.items()]
    for policy, cell in data["false_positives"].items():
        rows += [
            (f"false_positives_{name}", policy, cell[name])
            for name in ("resolved", "false_positives")
        ]
    rows += [("dead_letters", kind, n) for kind, n in data["dead_letters"]["by_kind"].items()]
    return rows


def as_csv(data: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("section", "key", "value"))
    writer.writerows(("" if v is None else v for v in row) for row in flatten(data))
    return buffer.getvalue()


def _tables(data: dict[str, Any]) -> None:
    window = f"{data['since'][:16]} to {data['until'][:16]} UTC"
    out.print(f"[bold]{data['escalations']} escalations[/bold], {window}"
              + (f", project {data['project']}" if data["project"] else ""))  # fmt: skip
    out.print(f"{data['grouped']} more grouped into an open ticket as comments")
    for title, section in SECTIONS:
        _counts(title, data[section])
    days = Table("day", "created", "resolved", title="Created vs resolved")
    for day in data["per_day"]:
        days.add_row(day["day"], str(day["created"]), str(day["resolved"]))
    out.print(days)
    sla = Table("target", "priority", "met", "breached", "success", title="SLA success")
    for target, by in data["sla"].items():
        for priority, cell in by.items():
            sla.add_row(target.replace("_", " "), priority, str(cell["met"]),
                        str(cell["breached"]), _percent(cell["rate"]))  # fmt: skip
    out.print(sla)
    times = Table("to", "tickets", "mean", "median", "p90", title="Time to")
    for target, t in data["times"].items():
        times.add_row(target.replace("_", " "), str(t["count"]), *(
            _minutes(t[k]) for k in ("mean_seconds", "median_seconds", "p90_seconds")))  # fmt: skip
    out.print(times)
    fps = Table("policy", "resolved", "false positives", "rate", title="False positives")
    for policy, cell in data["false_positives"].items():
        fps.add_row(
            policy, str(cell["resolved"]), str(cell["false_positives"]), _percent(cell["rate"])
        )
    out.print(fps)
    dead = data["dead_letters"]
    _counts(f"Dead letters ({dead['total']})", dead["by_kind"])


def _counts(title: str, counts: dict[str, int]) -> None:
    table = Table("", "count", title=title)
    for key, value in counts.items():
        table.add_row(key, str(value))
    out.print(table)


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.0%}"


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds / 3600:.1f} h" if seconds >= 5400 else f"{seconds / 60:.0f} min"
