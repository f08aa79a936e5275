"""What every sync handler shares: ``SyncContext`` (clients, store, settings, clock) and the
upstream resolution facts comments quote.

Jobs are built by ``kt_jira.jobs``; this module only reads and comments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from kt_jira.config.models import Settings
from kt_jira.errors import PermanentError
from kt_jira.jira import JiraClient
from kt_jira.jira.comments import comment_body
from kt_jira.keeptrusts import KeeptrustsClient
from kt_jira.render.nodes import Document
from kt_jira.store import EscalationRecord, EscalationStatus, Store
from kt_jira.sync.text import UpstreamResolution


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
        record = await self.store.escalations.get(escalation_id)
        if record is None:
            raise PermanentError(f"escalation {escalation_id} is not in the database")
        return record

    async def comment(self, issue_id: str, doc: Document) -> None:
        """A comment in the site's format: ADF on Cloud, wiki markup on Data Center."""
        await self.jira.add_comment(issue_id, comment_body(doc, self.settings.jira.flavor))


def upstream(record: EscalationRecord) -> UpstreamResolution:
    """What Keeptrusts said about a closed escalation, for comments."""
    return UpstreamResolution(
        escalation_id=record.escalation_id,
        outcome=record.resolution,
        notes=record.resolution_notes,
        resolved_by=record.resolved_by,
        expired=record.status is EscalationStatus.EXPIRED,
    )
