"""The jobs two-way sync enqueues, and what every sync handler shares (``SyncContext``).

Web intake, the handlers and reconcile build sync jobs only through these functions, so kinds,
keys, payloads and priorities stay one contract: priority 10 (creates are 0), unique keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kt_jira.config.models import Settings
from kt_jira.errors import PermanentError
from kt_jira.events.jira import JiraEvent
from kt_jira.jira import JiraClient
from kt_jira.keeptrusts import KeeptrustsClient
from kt_jira.render.adf import to_adf
from kt_jira.render.nodes import Document
from kt_jira.render.wiki import to_wiki
from kt_jira.store import PRIORITY_UPDATE, EscalationRecord, EscalationStatus, NewJob, Store
from kt_jira.sync.decisions import (
    APPLY_JIRA_EVENT,
    EXPLAIN_REOPEN,
    RESOLVE_JIRA,
    RESOLVE_KEEPTRUSTS,
    explain_reopen_key,
    jira_event_key,
    resolve_jira_key,
    resolve_keeptrusts_key,
)
from kt_jira.sync.text import UpstreamResolution


def jira_event_job(event: JiraEvent, *, delivery_id: str, run_at: datetime) -> NewJob:
    """Applies one Jira delivery; the store adds ``escalation_id`` when the issue is linked."""
    return _job(APPLY_JIRA_EVENT, jira_event_key(delivery_id), {"event": event.as_job()}, run_at)


def resolve_jira_job(escalation_id: str, *, run_at: datetime) -> NewJob:
    """Outbound: move the issue of a closed escalation to done (reads the stored resolution)."""
    return _job(
        RESOLVE_JIRA, resolve_jira_key(escalation_id), {"escalation_id": escalation_id}, run_at
    )


def resolve_keeptrusts_job(
    *,
    escalation_id: str,
    issue_id: str,
    issue_key: str,
    resolution: str,
    actor_name: str,
    actor_account_id: str,
    run_at: datetime,
) -> NewJob:
    """Inbound: resolve the escalation; ``resolution`` is the Jira resolution name."""
    payload = {
        "escalation_id": escalation_id,
        "issue_id": issue_id,
        "issue_key": issue_key,
        "resolution": resolution,
        "actor_name": actor_name,
        "actor_account_id": actor_account_id,
    }
    return _job(RESOLVE_KEEPTRUSTS, resolve_keeptrusts_key(escalation_id), payload, run_at)


def explain_reopen_job(
    escalation_id: str, *, change: str, actor_name: str, run_at: datetime
) -> NewJob:
    """One explanatory comment per reopen (``change``: its changelog id)."""
    payload = {"escalation_id": escalation_id, "actor_name": actor_name}
    return _job(EXPLAIN_REOPEN, explain_reopen_key(escalation_id, change), payload, run_at)


def _job(kind: str, key: str, payload: Mapping[str, Any], run_at: datetime) -> NewJob:
    return NewJob(kind=kind, job_key=key, payload=payload, run_at=run_at, priority=PRIORITY_UPDATE)


@dataclass(kw_only=True)
class SyncContext:
    """The clients, store and settings sync handlers work with, and their shared steps."""

    settings: Settings
    store: Store
    jira: JiraClient
    keeptrusts: KeeptrustsClient
    clock: Callable[[], datetime]

    def later(self, seconds: float) -> datetime:
        return self.clock() + timedelta(seconds=seconds)

    async def escalation(self, escalation_id: str) -> EscalationRecord:
        record = await self.store.get_escalation(escalation_id)
        if record is None:
            raise PermanentError(f"escalation {escalation_id} is not in the database")
        return record

    async def comment(self, issue_id: str, doc: Document) -> None:
        """A comment in the site's format: ADF on Cloud, wiki markup on Data Center."""
        cloud = self.settings.jira.flavor == "cloud"
        await self.jira.add_comment(issue_id, to_adf(doc) if cloud else to_wiki(doc))


def upstream(record: EscalationRecord) -> UpstreamResolution:
    """What Keeptrusts said about a closed escalation, for comments."""
    return UpstreamResolution(
        escalation_id=record.escalation_id,
        outcome=record.resolution,
        notes=record.resolution_notes,
        resolved_by=record.resolved_by,
        expired=record.status is EscalationStatus.EXPIRED,
    )
