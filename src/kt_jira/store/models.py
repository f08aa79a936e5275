"""Frozen values the store hands to callers and takes from them; no SQL here.

Records (``Job``, ``LinkRecord``…) come back from reads; the inputs (``CreatedIssue``,
``Deadlines``, ``InboundChange``, ``JiraStatus``, ``Attempt``) stand in for long keyword lists.
Statuses are ``StrEnum`` members, so ``job.status == "queued"`` holds as well as
``job.status is JobStatus.QUEUED``. Every datetime is timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from kt_jira.events.keeptrusts import Escalation, Resolution
from kt_jira.jobs import NewJob


class DeliveryStatus(StrEnum):
    ACCEPTED = "accepted"  #: verified, parsed, turned into state and jobs
    QUARANTINED = "quarantined"  #: verified but unusable (400/422); raw body kept for replay
    IGNORED = "ignored"  #: verified and valid, but an event type the bridge does not handle


class EscalationStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    EXPIRED = "expired"


class JobStatus(StrEnum):
    QUEUED = "queued"  #: waiting for run_at
    RUNNING = "running"  #: claimed; locked_by holds it until locked_until
    DONE = "done"
    DEAD = "dead"  #: dead letter: permanent failure, replayable with replay_dead()


class LinkState(StrEnum):
    PENDING = "pending"  #: no create attempt in flight; the next attempt need not search
    ATTEMPTING = "attempting"  #: a create was (maybe) sent; its outcome is unknown until saved
    CREATED = "created"  #: the issue exists and issue_id is its durable identity


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


@dataclass(frozen=True, kw_only=True)
class Job:
    id: int
    kind: str
    job_key: str
    payload: dict[str, Any]
    status: JobStatus
    priority: int
    attempts: int  #: claims so far, counting the current one while running
    run_at: datetime
    locked_by: str | None
    locked_until: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, kw_only=True)
class IngestOutcome:
    """What ``ingest``/``record_ignored`` did with a delivery.

    For a duplicate, ``delivery_row_id`` and ``delivery_id`` name the original delivery.
    """

    outcome: Outcome
    delivery_row_id: int
    delivery_id: str
    escalation_id: str | None = None
    enqueued: tuple[str, ...] = ()  #: job keys newly enqueued (existing keys are left out)

    @property
    def duplicate(self) -> bool:
        return self.outcome is Outcome.DUPLICATE


@dataclass(frozen=True, kw_only=True)
class DeliveryRecord:
    id: int
    source: str
    delivery_id: str
    event_key: str
    event_type: str
    status: DeliveryStatus
    reason: str | None
    http_status: int | None
    headers: dict[str, str]
    received_at: datetime
    duplicates: int
    escalation_id: str | None
    verified_by: str
    body: bytes | None = field(default=None, repr=False)  #: only from deliveries.get()


@dataclass(frozen=True, kw_only=True)
class EscalationRecord:
    escalation_id: str
    policy_name: str
    action: str
    model: str
    gateway_id: str
    user_id: str
    org_id: str
    severity: str
    category: str
    occurred_at: datetime | None
    status: EscalationStatus
    resolution: str
    resolution_notes: str
    resolved_by: str
    resolved_at: datetime | None
    payload: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @property
    def escalation(self) -> Escalation:
        """The stored facts as the pure domain value the rules work on."""
        return Escalation(
            escalation_id=self.escalation_id,
            policy_name=self.policy_name,
            action=self.action,
            model=self.model,
            gateway_id=self.gateway_id,
            user_id=self.user_id,
            org_id=self.org_id,
            severity=self.severity,
            category=self.category,
            occurred_at=self.occurred_at,
        )

    @property
    def resolution_event(self) -> Resolution | None:
        if self.status is EscalationStatus.OPEN:
            return None
        return Resolution(
            outcome=self.resolution,
            notes=self.resolution_notes,
            resolved_by=self.resolved_by,
            resolved_at=self.resolved_at,
        )


@dataclass(frozen=True, kw_only=True)
class LinkRecord:
    """One escalation's Jira issue, or the attempt to create it."""

    escalation_id: str
    project: str
    correlation_label: str
    state: LinkState
    attempts: int
    attempt_started_at: datetime | None
    issue_id: str | None  #: durable identity; keys change when issues move
    issue_key: str | None
    adopted: bool  #: found by its correlation marker rather than created by us
    created_at: datetime | None  #: when the issue was created or adopted
    first_response_due: datetime | None
    resolution_due: datetime | None
    first_response_at: datetime | None
    breached_at: datetime | None
    last_origin: str | None  #: which side the last synced change began on: jira, keeptrusts
    last_synced_at: datetime | None
    updated_at: datetime
    jira_status_id: str | None = None  #: the newest Jira status seen (webhook or our write)
    jira_status_category: str | None = None
    jira_status_at: datetime | None = None
    jira_changelog_id: int | None = None  #: the Jira change that set it (None: our own write)
    bridge_busy_until: datetime | None = None  #: authorless Jira webhooks until then are echoes
    synced_to_keeptrusts_at: datetime | None = None  #: inbound resolve finished
    synced_to_jira_at: datetime | None = None  #: outbound resolve finished
    deleted_at: datetime | None = None  #: the issue was deleted in Jira; never recreated
    sla_started_at: datetime | None = None  #: None: created before SLA tracking (not tracked)
    sla_first_response: timedelta | None = None
    sla_resolution: timedelta | None = None
    sla_calendar: str = ""
    sla_settled_at: datetime | None = None  #: every target final; the scan skips it
    jira_resolution: str | None = None  #: the resolution of the done status last seen
    resolved_in_jira_at: datetime | None = None
    priority: str | None = None  #: what the ticket was created as, for reports
    issue_type: str | None = None


@dataclass(frozen=True, kw_only=True)
class SlaActionRecord:
    """A breach (or at-risk warning) the bridge acted on, once per ticket, target and action."""

    target: str
    action: str
    due: datetime
    acted_at: datetime


@dataclass(frozen=True, kw_only=True)
class SlaClockRow:
    """One tracked ticket as the scan and ``sla ls`` read it: its link, what the escalation
    says, the signals recorded and the actions taken."""

    link: LinkRecord
    policy_name: str
    severity: str
    escalation_open: bool
    escalation_resolved_at: datetime | None
    action: str = ""
    model: str = ""
    gateway_id: str = ""
    resolution: str = ""  #: the escalation's outcome once closed (Keeptrusts' word)
    signals: tuple[SlaSignal, ...]
    actions: tuple[SlaActionRecord, ...]


@dataclass(frozen=True, kw_only=True)
class AuditRecord:
    id: int
    at: datetime
    entity: str
    entity_id: str
    action: str
    detail: dict[str, Any]


# -- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CreatedIssue:
    """The Jira issue a link records (``links.save_created``)."""

    issue_id: str  #: durable identity; keys change when issues move
    issue_key: str
    adopted: bool = False  #: found by its correlation marker rather than created by us
    priority: str | None = None  #: as the draft asked (the site's default when None)
    issue_type: str | None = None


@dataclass(frozen=True, kw_only=True)
class Deadlines:
    """The SLA a link keeps for its issue: when the clocks started, the targets (working time on
    ``calendar``; ``None``: not tracked) and where they end if nothing pauses them."""

    first_response_due: datetime | None = None
    resolution_due: datetime | None = None
    started_at: datetime | None = None
    first_response: timedelta | None = None
    resolution: timedelta | None = None
    calendar: str = ""


@dataclass(frozen=True, kw_only=True)
class SlaSignal:
    """A dated fact an SLA clock runs on (``tickets.sla_clock.SignalKind`` values as ``kind``)."""

    kind: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class Attempt:
    """Mark a create as possibly done, so the job searches for the marker before creating."""

    project: str
    correlation_label: str


@dataclass(frozen=True, kw_only=True)
class JiraStatus:
    """A Jira status as a link records it, with the time it was set."""

    status_id: str
    category: str
    at: datetime
    changelog_id: int | None = None  #: Jira's change id (None: the bridge's own write)


@dataclass(frozen=True, kw_only=True)
class InboundChange:
    """One Jira event's effects on a link (``sync.apply_inbound``), applied atomically.

    ``seen_status_at``/``seen_changelog_id`` are the link's status stamps as the caller read
    them: a ``status`` is only recorded while they still hold (compare-and-set). Every other
    field left at its default changes nothing.
    """

    seen_status_at: datetime | None
    seen_changelog_id: int | None = None
    status: JiraStatus | None = None
    issue_key: str | None = None  #: the issue moved: its new key
    first_response_at: datetime | None = None  #: kept only if none was recorded
    deleted_at: datetime | None = None  #: kept only if none was recorded
    resolution: str = ""  #: the Jira resolution, recorded with a done ``status``
    signals: tuple[SlaSignal, ...] = ()  #: SLA facts the event carries (kept even when stale)
    jobs: tuple[NewJob, ...] = ()  #: enqueued in the same transaction
    #: the ticket went done: a resolve_keeptrusts for each open member of the group it holds
    members_resolve: NewJob | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)  #: for the audit row
