"""``Store`` and ``open_store``: one object per concept, all on one ``Database``.

``Store`` holds no statement and no method: ``store.queue.claim(...)``, ``store.links.get(...)``
and the rest open their own transactions on ``store.db``. It never reads the clock: callers
pass ``now``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from kt_jira.config.secrets import SecretRef
from kt_jira.store import engine
from kt_jira.store.audit import Audit
from kt_jira.store.counts import Counts
from kt_jira.store.database import Database
from kt_jira.store.deliveries import Deliveries
from kt_jira.store.escalations import Escalations
from kt_jira.store.feedback import Feedback
from kt_jira.store.groups import Groups
from kt_jira.store.links import Links
from kt_jira.store.pauses import Pauses
from kt_jira.store.quarantine import Quarantine
from kt_jira.store.queue import Queue
from kt_jira.store.reconcile import Reconcile
from kt_jira.store.reports import Reports
from kt_jira.store.retention import Retention
from kt_jira.store.sla import Sla
from kt_jira.store.storms import Storms
from kt_jira.store.sync import Sync


@asynccontextmanager
async def open_store(
    database_url: str, *, password: SecretRef | None = None
) -> AsyncIterator[Store]:
    """Open an engine for ``database_url`` and dispose of it on exit; does not migrate.

    ``password`` (``database_password``) is revealed once, here, into the engine's URL, whose
    repr and string hide it."""
    url = engine.normalise_url(database_url)
    if password is not None:
        url = url.set(password=password.reveal())
    sa_engine = engine.create_engine(url)
    try:
        yield Store(Database(sa_engine, url=url))
    finally:
        await sa_engine.dispose()


class Store:
    """Every read and write kt-jira makes to its database, by concept."""

    def __init__(self, db: Database) -> None:
        #: The engine, transactions, schema (``migrate``) and advisory locks (``exclusive``).
        self.db = db
        #: Signed deliveries: ingest, quarantine, record_ignored; get, list.
        self.deliveries = Deliveries(db)
        #: An admin's replay of a quarantined delivery: begin_replay, still_unusable.
        self.quarantine = Quarantine(db)
        #: Stored escalations: get, list; reconcile's learn and record_resolution.
        self.escalations = Escalations(db)
        #: The job queue: enqueue, claim, heartbeat, finish, retry, release, fail, replay, cancel…
        self.queue = Queue(db)
        #: Links to Jira issues and the create-exactly-once protocol.
        self.links = Links(db)
        #: The shared Jira pause (a ``jira.pause.PauseStore``).
        self.pauses = Pauses(db)
        #: Two-way sync: Jira intake, inbound effects, each write's origin.
        self.sync = Sync(db)
        #: SLA clocks: signals, the open clocks a scan reads, the breach actions taken.
        self.sla = Sla(db)
        #: Grouping: escalations that share one ticket, their comments, the guard's storms.
        self.groups = Groups(db)
        #: The runaway guard's storms: the running ones, and starting one with its group.
        self.storms = Storms(db)
        #: The false-positive loop: false positives, Stories and members, the Story's create.
        self.feedback = Feedback(db)
        #: Reports and the dashboard: tickets by date range, the backlog, dead letters.
        self.reports = Reports(db)
        #: Reconcile's reads.
        self.reconcile = Reconcile(db)
        #: Retention: what ``kt-jira prune`` may delete, counted and deleted in batches.
        self.retention = Retention(db)
        #: The audit trail (read-only; rows are written with the changes they describe).
        self.audit = Audit(db)
        #: Totals by state for the demo and /metrics.
        self.counts = Counts(db)
