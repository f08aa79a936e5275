"""``Reconcile`` (``store.reconcile``): what reconcile reads to compare the three views.

Read-only: reconcile's repairs are ``escalations.learn``, ``escalations.record_resolution`` and
``queue.enqueue_again``, each one transaction with the job that follows it. Ids named by the
caller are queried in chunks, well under every driver's parameter limit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select

from kt_jira.store.database import Database
from kt_jira.store.models import EscalationStatus
from kt_jira.store.queue import RECONCILE_SUFFIX
from kt_jira.store.tables import escalations, jobs, links

CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True, kw_only=True)
class ReconcileRow:
    """One escalation as the database holds it, with its link (if any)."""

    escalation_id: str
    status: str
    link_state: str | None
    issue_id: str | None
    issue_key: str | None


class Reconcile:
    """Reconcile's reads, each one read transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def rows(
        self, *, escalation_ids: Sequence[str] = (), issue_ids: Sequence[str] = ()
    ) -> list[ReconcileRow]:
        """Every open escalation, plus those named by id or by their linked issue's id, with
        their links."""
        queries = [_rows_query().where(escalations.c.status == EscalationStatus.OPEN.value)]
        queries += [
            _rows_query().where(escalations.c.escalation_id.in_(chunk))
            for chunk in _chunks(escalation_ids)
        ]
        queries += [
            _rows_query().where(links.c.issue_id.in_(chunk)) for chunk in _chunks(issue_ids)
        ]
        found: dict[str, ReconcileRow] = {}
        async with self._db.read() as conn:
            for query in queries:
                for row in await conn.execute(query):
                    found[row[0]] = ReconcileRow(
                        escalation_id=row[0],
                        status=row[1],
                        link_state=row[2],
                        issue_id=row[3],
                        issue_key=row[4],
                    )
        return list(found.values())

    async def job_statuses(
        self, *, escalation_ids: Sequence[str], kinds: Sequence[str]
    ) -> dict[tuple[str, str], list[str]]:
        """``(kind, escalation_id) -> statuses`` of its jobs, reconcile's re-enqueued copies
        included."""
        by_key = {f"{kind}:{eid}": (kind, eid) for kind in kinds for eid in set(escalation_ids)}
        queries = [
            select(jobs.c.job_key, jobs.c.status).where(jobs.c.job_key.in_(chunk))
            for chunk in _chunks(list(by_key))
        ]
        queries.append(
            select(jobs.c.job_key, jobs.c.status).where(
                jobs.c.kind.in_(list(kinds)), jobs.c.job_key.contains(RECONCILE_SUFFIX)
            )
        )
        found: dict[tuple[str, str], list[str]] = {}
        async with self._db.read() as conn:
            for query in queries:
                for key, status in await conn.execute(query):
                    target = by_key.get(str(key).split(RECONCILE_SUFFIX, 1)[0])
                    if target is not None:
                        found.setdefault(target, []).append(str(status))
        return found


def _chunks(values: Sequence[str]) -> Iterator[list[str]]:
    unique = sorted(set(values))
    for start in range(0, len(unique), CHUNK):
        yield unique[start : start + CHUNK]


def _rows_query() -> Select[Any]:
    joined = escalations.outerjoin(links, links.c.escalation_id == escalations.c.escalation_id)
    return select(
        escalations.c.escalation_id,
        escalations.c.status,
        links.c.state,
        links.c.issue_id,
        links.c.issue_key,
    ).select_from(joined)
