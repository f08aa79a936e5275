"""The database: SQLAlchemy tables, Alembic migrations and every SQL statement kt-jira runs.

Nothing outside this package writes SQL or knows which dialect it talks to. Open it with
``async with open_store(url) as store``; run ``await store.migrate()`` before first use.
"""

from __future__ import annotations

from kt_jira.store.engine import normalise_url
from kt_jira.store.models import (
    AuditRecord,
    DeliveryRecord,
    DeliveryStatus,
    EscalationRecord,
    EscalationStatus,
    IngestOutcome,
    Job,
    JobStatus,
    LinkRecord,
    LinkState,
    Outcome,
)
from kt_jira.store.store import Store, open_store
from kt_jira.store.sync_store import JiraStatus, SyncStore

__all__ = [
    "AuditRecord",
    "DeliveryRecord",
    "DeliveryStatus",
    "EscalationRecord",
    "EscalationStatus",
    "IngestOutcome",
    "JiraStatus",
    "Job",
    "JobStatus",
    "LinkRecord",
    "LinkState",
    "Outcome",
    "Store",
    "SyncStore",
    "normalise_url",
    "open_store",
]
