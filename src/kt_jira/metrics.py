"""Prometheus metrics with stable names, on a registry per process (no import-time globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest


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
        self.intake_seconds = Histogram(
            "kt_jira_webhook_seconds",
            "Time to verify, persist and acknowledge a webhook.",
            ["source"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
