"""The database: SQLAlchemy tables, Alembic migrations and every SQL statement kt-jira runs.

Nothing outside this package writes SQL or knows which dialect it talks to. Open it with
``async with open_store(url) as store``; run ``await store.db.migrate()`` before first use. The
store is one object per concept, each holding its own statements and opening its own
transactions on ``store.db`` (``database.Database``): ``store.deliveries``, ``.quarantine``,
``.escalations``, ``.queue``, ``.links``, ``.pauses``, ``.sync``, ``.sla``, ``.feedback``,
``.groups``, ``.storms``, ``.reconcile``, ``.audit`` and ``.counts``. Where one transaction
spans concepts (an accepted delivery upserts its escalation and enqueues its jobs), the
concept calls the other's conn-level step (``queue.insert(conn, job, now=…)``), never its
transaction-opening method.
"""

from __future__ import annotations

from kt_jira.store.engine import normalise_url
from kt_jira.store.group_records import (
    GroupOpening,
    GroupRecord,
    MemberRecord,
    Placement,
    StormRecord,
)
from kt_jira.store.models import (
    Attempt,
    AuditRecord,
    CreatedIssue,
    Deadlines,
    DeliveryRecord,
    DeliveryStatus,
    EscalationRecord,
    EscalationStatus,
    InboundChange,
    IngestOutcome,
    JiraStatus,
    Job,
    JobStatus,
    LinkRecord,
    LinkState,
    Outcome,
    SlaActionRecord,
    SlaClockRow,
    SlaSignal,
)
from kt_jira.store.reconcile import ReconcileRow
from kt_jira.store.store import Store, open_store
from kt_jira.store.stories import FalsePositiveRecord, StoryMember, StoryOpening, StoryRecord

__all__ = [
    "Attempt",
    "AuditRecord",
    "CreatedIssue",
    "Deadlines",
    "DeliveryRecord",
    "DeliveryStatus",
    "EscalationRecord",
    "EscalationStatus",
    "FalsePositiveRecord",
    "GroupOpening",
    "GroupRecord",
    "InboundChange",
    "IngestOutcome",
    "JiraStatus",
    "Job",
    "JobStatus",
    "LinkRecord",
    "LinkState",
    "MemberRecord",
    "Outcome",
    "Placement",
    "ReconcileRow",
    "SlaActionRecord",
    "SlaClockRow",
    "SlaSignal",
    "Store",
    "StormRecord",
    "StoryMember",
    "StoryOpening",
    "StoryRecord",
    "normalise_url",
    "open_store",
]
