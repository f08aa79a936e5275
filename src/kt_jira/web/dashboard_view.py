"""What the dashboard shows, read from the store and rendered to HTML (Jinja2, autoescaped).

``load`` gathers one time range's numbers (the report, the recent tickets, the queue, the dead
letters, the feedback loop's Stories, the storms running now); ``render`` turns them into the
page's ``<main>``, which the page's script also fetches alone (``/dashboard/fragment``) to
refresh without a reload; ``chart_csv`` is each chart's data as CSV.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from kt_jira.config.models import Settings
from kt_jira.jira import PAUSE_NAME
from kt_jira.reports.aggregate import Report, Ticket
from kt_jira.reports.load import load_report_and_tickets
from kt_jira.store import Job, Store
from kt_jira.web import charts

RANGES = {"24h": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30),
          "90d": timedelta(days=90)}  # fmt: skip
DEFAULT_RANGE = "7d"
CHARTS = ("priority", "daily", "sla", "policies", "false_positives", "backlog")
_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, kw_only=True)
class Recent:
    key: str
    url: str
    policy: str
    priority: str
    created_at: datetime
    resolved: bool


@dataclass(frozen=True, kw_only=True)
class QueueState:
    counts: dict[str, int]
    oldest_queued: timedelta | None
    paused_until: datetime | None


@dataclass(frozen=True, kw_only=True)
class Story:
    policy: str
    sequence: int
    key: str | None
    url: str | None
    opened_at: datetime
    tickets: int


@dataclass(frozen=True, kw_only=True)
class StormView:
    """A storm running now: the policy, since and until when, and how many it grouped."""

    policy: str
    since: datetime
    until: datetime
    grouped: int
    key: str | None
    url: str | None


@dataclass(frozen=True, kw_only=True)
class DashboardData:
    range: str
    now: datetime
    report: Report
    recent: list[Recent]
    queue: QueueState
    dead: list[Job]
    stories: list[Story]
    storms: list[StormView]


def range_of(value: str | None) -> str:
    return value if value in RANGES else DEFAULT_RANGE


async def load(
    store: Store, settings: Settings, *, range_name: str, now: datetime
) -> DashboardData:
    """Everything one dashboard view shows, at ``now``."""
    span = RANGES[range_name]
    report, created = await load_report_and_tickets(store, settings, since=span, now=now)
    newest = sorted(created, key=lambda t: t.created_at, reverse=True)
    oldest = await store.reports.oldest_queued()
    stories = await store.reports.stories(limit=10)
    return DashboardData(
        range=range_name,
        now=now,
        report=report,
        recent=[_recent(t, settings) for t in newest[:10]],
        queue=QueueState(
            counts=await store.queue.counts(),
            oldest_queued=(now - oldest) if oldest else None,
            paused_until=_future(await store.pauses.get_pause(PAUSE_NAME), now),
        ),
        dead=await store.queue.list(status="dead", limit=20),
        stories=[
            Story(
                policy=p,
                sequence=n,
                key=key,
                url=settings.jira.browse_url(key) if key else None,
                opened_at=opened,
                tickets=count,
            )
            for p, n, key, opened, count in stories
        ],
        storms=await _storms(store, settings, now),
    )


async def _storms(store: Store, settings: Settings, now: datetime) -> list[StormView]:
    found = []
    for storm in await store.storms.running(now=now):
        group = await store.groups.group(storm.group_id) if storm.group_id else None
        key = group.issue_key if group else None
        found.append(
            StormView(
                policy=storm.policy_name,
                since=storm.started_at,
                until=storm.ends_at,
                grouped=storm.grouped,
                key=key,
                url=settings.jira.browse_url(key) if key else None,
            )
        )
    return found


def render(data: DashboardData, *, csrf: str) -> Markup:
    """The dashboard's ``<main>`` content."""
    template = _TEMPLATES.get_template("dashboard_main.html")
    return Markup(template.render(d=data, charts=_charts(data.report), csrf=csrf,  # noqa: S704
                                  ranges=list(RANGES), age=_age))  # fmt: skip


def page(data: DashboardData, *, csrf: str) -> str:
    template = _TEMPLATES.get_template("dashboard.html")
    return template.render(main=render(data, csrf=csrf), d=data, ranges=list(RANGES), csrf=csrf)


def chart_rows(report: Report, chart: str) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """A chart's data as a header and rows."""
    data = report.as_json()
    if chart == "priority":
        return ("priority", "tickets"), list(data["by_priority"].items())
    if chart == "policies":
        return ("policy", "tickets"), list(data["by_policy"].items())
    if chart == "daily":
        return ("day", "created", "resolved"), [(d["day"], d["created"], d["resolved"])
                                                for d in data["per_day"]]  # fmt: skip
    if chart == "sla":
        return ("target", "priority", "met", "breached", "rate"), [
            (target, p, c["met"], c["breached"], "" if c["rate"] is None else f"{c['rate']:.4f}")
            for target, by in data["sla"].items()
            for p, c in by.items()
        ]
    if chart == "false_positives":
        return ("policy", "resolved", "false_positives"), [
            (p, c["resolved"], c["false_positives"]) for p, c in data["false_positives"].items()
        ]
    if chart == "backlog":
        return ("age", "tickets"), list(data["backlog"].items())
    raise KeyError(chart)


def chart_csv(report: Report, chart: str) -> str:
    header, rows = chart_rows(report, chart)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _charts(report: Report) -> dict[str, Markup]:
    data = report.as_json()
    sla_items = []
    for target, by in data["sla"].items():
        cell = by.get("all")
        if cell and cell["rate"] is not None:
            sla_items.append((target.replace("_", " "), round(100 * cell["rate"], 1)))
    fp_items = [(p, round(100 * c["rate"], 1)) for p, c in data["false_positives"].items()
                if c["rate"] is not None][:10]  # fmt: skip
    return {
        "priority": charts.bars("chart-priority", "Tickets by priority",
                                list(data["by_priority"].items())),
        "daily": charts.daily("chart-daily", "Created vs resolved per day",
                              [(d["day"], d["created"], d["resolved"]) for d in data["per_day"]],
                              names=("created", "resolved")),
        "sla": charts.bars("chart-sla", "SLA success rate", sla_items, color=charts.GREEN,
                           unit=" %"),
        "policies": charts.bars("chart-policies", "Top policies",
                                list(data["by_policy"].items())[:10]),
        "false_positives": charts.bars("chart-false-positives", "False-positive rate by policy",
                                       fp_items, color=charts.RED, unit=" %"),
        "backlog": charts.bars("chart-backlog", "Open backlog by age",
                               list(data["backlog"].items())),
    }  # fmt: skip


def _recent(t: Ticket, settings: Settings) -> Recent:
    key = t.clock.issue_key
    return Recent(
        key=key,
        url=settings.jira.browse_url(key),
        policy=t.policy,
        priority=t.priority or "-",
        created_at=t.created_at,
        resolved=t.resolved_at is not None,
    )


def _future(until: datetime | None, now: datetime) -> datetime | None:
    return until if until is not None and until > now else None


def _age(amount: timedelta | None) -> str:
    if amount is None:
        return "-"
    minutes = int(amount.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} d"
