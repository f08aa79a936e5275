"""Prometheus metrics with stable names, on a registry per process (no import-time globals).

Counters and histograms count what this process did; the queue and pause gauges describe the
shared database and are refreshed on each scrape (``queue_state``), so every replica reports the
same values for them.
"""

from __future__ import annotations

import platform
import re
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest

from kt_jira import __version__

_ID = re.compile(r"^(\d+|[A-Z][A-Z0-9_]*-\d+)$")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.deliveries = Counter(
            "kt_jira_webhook_deliveries_total",
            "Webhook deliveries by source and outcome.",
            ["source", "outcome"],
            registry=self.registry,
        )
        self.jobs = Counter(
            "kt_jira_jobs_total",
            "Jobs processed by kind and outcome.",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.issues = Counter(
            "kt_jira_issues_total",
            "Jira issues linked, by how (created or adopted).",
            ["how"],
            registry=self.registry,
        )
        self.sla_breaches = Counter(
            "kt_jira_sla_breaches_total",
            "SLA targets breached and acted on (once per ticket), by target.",
            ["target"],
            registry=self.registry,
        )
        self.sla_at_risk = Counter(
            "kt_jira_sla_at_risk_total",
            "SLA at-risk warnings sent (once per ticket), by target.",
            ["target"],
            registry=self.registry,
        )
        self.notifications = Counter(
            "kt_jira_sla_notifications_total",
            "SLA notifications by channel (webhook, slack) and outcome (sent, retry, failed, "
            "skipped).",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.feedback_stories = Counter(
            "kt_jira_feedback_stories_total",
            "Policy improvement Stories of the false-positive loop, by how (opened, created, "
            "adopted).",
            ["how"],
            registry=self.registry,
        )
        self.storms = Counter(
            "kt_jira_storms_total",
            "Storms the runaway guard started (a policy opening too many tickets), by policy.",
            ["policy"],
            registry=self.registry,
        )
        self.storms_now = Gauge(
            "kt_jira_storms_active",
            "Storms running now, their policies' escalations grouped (at scrape time).",
            registry=self.registry,
        )
        self.intake_seconds = Histogram(
            "kt_jira_webhook_seconds",
            "Time to verify, persist and acknowledge a webhook.",
            ["source"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=self.registry,
        )

        self.jira_requests = Histogram(
            "kt_jira_jira_request_seconds",
            "Jira REST requests by method, endpoint (ids as {id}) and status (error: no answer).",
            ["method", "endpoint", "status"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
            registry=self.registry,
        )
        self.jobs_now = Gauge(
            "kt_jira_queue_jobs", "Jobs in the database by status (at scrape time).", ["status"],
            registry=self.registry,
        )  # fmt: skip
        self.oldest_queued = Gauge(
            "kt_jira_oldest_queued_job_age_seconds",
            "How long the longest-waiting queued job has waited (0: none queued).",
            registry=self.registry,
        )
        self.jira_paused = Gauge(
            "kt_jira_jira_pause_seconds",
            "Seconds left of the shared Jira pause after a 429 (0: not paused).",
            registry=self.registry,
        )
        Info("kt_jira_build", "The running kt-jira.", registry=self.registry).info(
            {"version": __version__, "python": platform.python_version()}
        )

    def jira_request(self, method: str, path: str, status: int | str, seconds: float) -> None:
        """One Jira request; ``path`` is templated so keys and ids do not explode the series."""
        self.jira_requests.labels(
            method=method.upper(), endpoint=endpoint(path), status=str(status)
        ).observe(seconds)

    def queue_state(
        self,
        counts: dict[str, int],
        *,
        oldest_queued: datetime | None,
        paused_until: datetime | None,
        now: datetime,
        storms: int = 0,
    ) -> None:
        """Set the database gauges (called before each scrape)."""
        self.storms_now.set(storms)
        for status, count in counts.items():
            self.jobs_now.labels(status=status).set(count)
        self.oldest_queued.set(
            max(0.0, (now - oldest_queued).total_seconds()) if oldest_queued else 0
        )
        self.jira_paused.set(max(0.0, (paused_until - now).total_seconds()) if paused_until else 0)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def endpoint(path: str) -> str:
    """``/rest/api/3/issue/AIGOV-12/comment`` -> ``/rest/api/3/issue/{id}/comment``."""
    parts = path.split("?", 1)[0].split("/")
    return "/".join(
        "{id}" if _ID.match(part) and (i == 0 or parts[i - 1] != "api") else part
        for i, part in enumerate(parts)
    )
