"""Job handlers, one function per job kind. They hold the exactly-once protocol for creates.

A handler reads state from the store, decides with the pure modules, calls one remote side, and
records the outcome. Errors are raised, not swallowed: the worker decides retry or dead letter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from kt_jira.config.models import Settings
from kt_jira.errors import (
    Deferred,
    KtJiraError,
    PermanentError,
    RetryableError,
    UncertainOutcome,
)
from kt_jira.events.keeptrusts import Escalation
from kt_jira.jira import JiraClient, JiraMetadata, find_existing
from kt_jira.jobs import Kind
from kt_jira.metrics import Metrics
from kt_jira.store import CreatedIssue, EscalationRecord, Job, Store
from kt_jira.store import Deadlines as LinkDeadlines
from kt_jira.tickets.draft import IssueDraft
from kt_jira.tickets.grouping import Grouping
from kt_jira.tickets.rules import decide
from kt_jira.tickets.sla import Deadlines
from kt_jira.worker import Handler

log = structlog.get_logger("kt_jira.handlers")


@dataclass(kw_only=True)
class Handlers:
    settings: Settings
    store: Store
    jira: JiraClient
    metadata: JiraMetadata
    metrics: Metrics
    clock: Callable[[], datetime]
    grouping: Grouping

    def table(self) -> dict[str, Handler]:
        return {Kind.CREATE_ISSUE: self.create_issue}

    async def create_issue(self, job: Job) -> None:
        """Create the escalation's issue exactly once; adopt a possibly-created one first."""
        escalation_id = str(job.payload["escalation_id"])
        record = await self.store.escalations.get(escalation_id)
        if record is None:
            raise PermanentError(f"escalation {escalation_id} is not in the database")
        link = await self.store.links.get(escalation_id)
        if link is not None and link.state == "created":
            return
        decision = decide(_escalation(record), self.settings.content, received_at=record.created_at)
        if link is None or link.state == "pending":  # never tried, or certainly nothing created
            placed = await self.grouping.place(record, decision)
            if placed is not None and placed.role == "member":
                return  # its group_comment job makes it a comment on the group's ticket
        draft = decision.draft
        if link is not None and link.state == "attempting":
            # An earlier attempt may have created it (timeout, 5xx, crash): look before creating.
            found = await find_existing(
                self.jira,
                self.metadata,
                self.settings.jira,
                project=link.project,
                escalation_id=escalation_id,
                correlation_label=link.correlation_label,
            )
            if found:
                await self._adopt(escalation_id, found, decision.deadlines, draft)
                return
            # A crashed attempt may commit as late as its timeout; search lags that by the delay.
            jira = self.settings.jira
            settle = (link.attempt_started_at or self.clock()) + timedelta(
                seconds=jira.timeout_seconds + jira.search_consistency_delay_seconds
            )
            if self.clock() < settle:
                raise Deferred(
                    "waiting for Jira search to catch up before re-creating", run_at=settle
                )
        body = await self.metadata.build_create_body(draft)
        await self.store.links.begin_create_attempt(
            escalation_id,
            project=draft.project,
            correlation_label=draft.correlation_label,
            now=self.clock(),
        )
        try:
            created = await self.jira.create_issue(body)
        except UncertainOutcome:
            # The link stays "attempting", so the next try searches first. Re-stamp it now: Jira
            # may still be committing, and search lags behind whenever that happens.
            await self.store.links.begin_create_attempt(
                escalation_id,
                project=draft.project,
                correlation_label=draft.correlation_label,
                now=self.clock(),
            )
            raise
        except (RetryableError, PermanentError):
            await self.store.links.clear_create_attempt(escalation_id, now=self.clock())
            raise
        await self.store.links.save_created(
            escalation_id,
            CreatedIssue(
                issue_id=created.issue_id,
                issue_key=created.key,
                priority=draft.priority,
                issue_type=draft.issue_type,
            ),
            _due(decision.deadlines),
            now=self.clock(),
        )
        self.metrics.issues.labels(how="created").inc()
        log.info(
            "issue.created", escalation_id=escalation_id, key=created.key, rule=decision.rule.name
        )
        await self._add_watchers(created.key, draft.watchers)

    async def _add_watchers(self, key: str, watchers: tuple[str, ...]) -> None:
        """Best effort: the issue exists and is linked; a watcher Jira refuses is only logged."""
        for watcher in watchers:
            try:
                await self.jira.add_watcher(key, watcher)
            except KtJiraError as exc:
                log.warning("issue.watcher_failed", key=key, watcher=watcher, error=str(exc))

    async def _adopt(
        self,
        escalation_id: str,
        found: list[dict[str, Any]],
        clock: Deadlines,
        draft: IssueDraft,
    ) -> None:
        oldest = min(
            found,
            key=lambda issue: (str(issue.get("fields", {}).get("created", "")), int(issue["id"])),
        )
        await self.store.links.save_created(
            escalation_id,
            CreatedIssue(
                issue_id=str(oldest["id"]),
                issue_key=str(oldest["key"]),
                adopted=True,
                priority=draft.priority,
                issue_type=draft.issue_type,
            ),
            _due(clock),
            now=self.clock(),
        )
        self.metrics.issues.labels(how="adopted").inc()
        await self._add_watchers(str(oldest["key"]), draft.watchers)
        log.warning(
            "issue.adopted",
            escalation_id=escalation_id,
            key=oldest["key"],
            duplicates=[issue["key"] for issue in found if issue is not oldest],
        )


def _due(deadlines: Deadlines) -> LinkDeadlines:
    """The SLA clock's deadlines as the link keeps them."""
    return LinkDeadlines(
        first_response_due=deadlines.first_response_due,
        resolution_due=deadlines.resolution_due,
        started_at=deadlines.started_at,
        first_response=deadlines.first_response,
        resolution=deadlines.resolution,
        calendar=deadlines.calendar,
    )


def _escalation(record: EscalationRecord) -> Escalation:
    return Escalation(
        escalation_id=record.escalation_id,
        policy_name=record.policy_name,
        action=record.action,
        model=record.model,
        gateway_id=record.gateway_id,
        user_id=record.user_id,
        org_id=record.org_id,
        severity=record.severity,
        category=record.category,
        occurred_at=record.occurred_at,
    )
