"""``Reconcile`` (``store.reconcile``): what reconcile reads to compare the three views.

Read-only: reconcile's repairs are ``escalations.learn``, ``escalations.record_resolution`` and
``queue.enqueue_again``, each one transaction with the job that follows it. Ids named by the
caller are queried in chunks, well under every driver's parameter limit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira.store.database import Database
from kt_jira.store.models import EscalationStatus
from kt_jira.store.queue import RECONCILE_SUFFIX
from kt_jira.store.tables import escalations, group_members, jobs, links, ticket_groups

CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True, kw_only=True)
class ReconcileRow:
    """One escalation as the database holds it, with its link (if any)."""

    escalation_id: str
    status: str
    link_state: str | None
    issue_id: str | None
    issue_key: str | None
    #: ``opener`` or ``member`` of a group; a member's link fields are its group ticket's
    group_role: str | None = None
    group_open: int = 0  #: an opener's members still open


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
            return await _with_groups(conn, found)

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


async def _with_groups(conn: AsyncConnection, found: dict[str, ReconcileRow]) -> list[ReconcileRow]:
    """Each row with its group: a member sees its group's ticket (the opener's link) as its
    own, and an opener how many of its members are still open."""
    opener = links.alias("opener")
    still_open = func.sum(case((escalations.c.status == EscalationStatus.OPEN.value, 1), else_=0))
    for chunk in _chunks(list(found)):
        members = (
            select(group_members.c.escalation_id, opener.c.state, opener.c.issue_id)
            .add_columns(opener.c.issue_key)
            .join(ticket_groups, ticket_groups.c.id == group_members.c.group_id)
            .outerjoin(opener, opener.c.escalation_id == ticket_groups.c.opener_id)
            .where(group_members.c.escalation_id.in_(chunk))
        )
        for eid, state, issue_id, issue_key in await conn.execute(members):
            found[eid] = replace(found[eid], group_role="member", link_state=state,
                                 issue_id=issue_id, issue_key=issue_key)  # fmt: skip
        openers = (
            select(ticket_groups.c.opener_id, still_open)
            .select_from(ticket_groups)
            .outerjoin(group_members, group_members.c.group_id == ticket_groups.c.id)
            .outerjoin(escalations, escalations.c.escalation_id == group_members.c.escalation_id)
            .where(ticket_groups.c.opener_id.in_(chunk))
            .group_by(ticket_groups.c.opener_id)
        )
        for eid, count in await conn.execute(openers):
            found[eid] = replace(found[eid], group_role="opener", group_open=int(count or 0))
    return list(found.values())


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
