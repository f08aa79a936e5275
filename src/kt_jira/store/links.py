"""``Links`` (``store.links``): each escalation's Jira issue and the create-exactly-once protocol.

Protocol (DESIGN.md, "Exactly once, without trusting search"): ``begin_create_attempt`` commits
``attempting`` before Jira is called; ``clear_create_attempt`` says the call certainly created
nothing; ``save_created`` records the issue. A link found in ``attempting`` means the last
outcome is unknown, and the next attempt must search for the correlation marker before
creating. A ``created`` link never goes back, and never changes its issue. The sync columns of a
link are written by ``sync``; ``mark_attempting`` is the step reconcile's repairs share.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, func, literal, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira.errors import KtJiraError
from kt_jira.store import audit
from kt_jira.store.database import Database
from kt_jira.store.models import Attempt, CreatedIssue, Deadlines, LinkRecord, LinkState
from kt_jira.store.tables import UTCDateTime, links

ENTITY = "link"


class Links:
    """Every link read, and the create protocol's writes, each one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def begin_create_attempt(
        self, escalation_id: str, *, project: str, correlation_label: str, now: datetime
    ) -> LinkRecord:
        """Commit ``attempting`` before calling Jira; a ``created`` link comes back unchanged."""
        attempt = Attempt(project=project, correlation_label=correlation_label)
        async with self._db.write() as conn:
            await mark_attempting(conn, escalation_id, attempt, now=now)
            return await _require(conn, escalation_id)

    async def clear_create_attempt(self, escalation_id: str, *, now: datetime) -> bool:
        """The attempt certainly created nothing: back to ``pending`` (no search next time)."""
        stmt = (
            update(links)
            .where(links.c.escalation_id == escalation_id)
            .where(links.c.state == LinkState.ATTEMPTING.value)
            .values(state=LinkState.PENDING.value, updated_at=now)
        )
        async with self._db.write() as conn:
            if (await conn.execute(stmt)).rowcount == 0:
                return False
            await audit.write(
                conn, at=now, entity=ENTITY, entity_id=escalation_id, action="attempt_cleared"
            )
        return True

    async def save_created(
        self, escalation_id: str, issue: CreatedIssue, deadlines: Deadlines, *, now: datetime
    ) -> LinkRecord:
        """Record the created (or adopted) issue; compare the result's ``issue_id`` with yours.

        Saving the same issue again is a no-op for ``created_at``; a link already created with a
        *different* issue is returned unchanged, so the caller sees the duplicate (reconcile
        folds it)."""
        stmt = (
            update(links)
            .where(links.c.escalation_id == escalation_id)
            .where(
                (links.c.state != LinkState.CREATED.value) | (links.c.issue_id == issue.issue_id)
            )
            .values(
                state=LinkState.CREATED.value,
                issue_id=issue.issue_id,
                issue_key=issue.issue_key,
                adopted=case(
                    (links.c.state == LinkState.CREATED.value, links.c.adopted),
                    else_=issue.adopted,
                ),
                created_at=func.coalesce(links.c.created_at, literal(now, UTCDateTime())),
                first_response_due=deadlines.first_response_due,
                resolution_due=deadlines.resolution_due,
                sla_started_at=deadlines.started_at,
                sla_first_response_seconds=_seconds(deadlines.first_response),
                sla_resolution_seconds=_seconds(deadlines.resolution),
                sla_calendar=deadlines.calendar,
                priority=issue.priority,
                issue_type=issue.issue_type,
                updated_at=now,
            )
        )
        async with self._db.write() as conn:
            if (await conn.execute(stmt)).rowcount:
                await audit.write(
                    conn,
                    at=now,
                    entity=ENTITY,
                    entity_id=escalation_id,
                    action="adopted" if issue.adopted else "created",
                    detail={"issue_id": issue.issue_id, "issue_key": issue.issue_key},
                )
            return await _require(conn, escalation_id)

    async def get(self, escalation_id: str) -> LinkRecord | None:
        async with self._db.read() as conn:
            return await _find(conn, links.c.escalation_id == escalation_id)

    async def find_by_issue(self, issue_id: str) -> LinkRecord | None:
        """The link holding ``issue_id`` (its durable identity), if any."""
        async with self._db.read() as conn:
            return await _find(conn, links.c.issue_id == issue_id)

    # Last: annotations after it would name this method, not the builtin.
    async def list(self, *, state: str | None = None, limit: int = 100) -> list[LinkRecord]:
        """Most recently updated first."""
        query = select(links).order_by(links.c.updated_at.desc()).limit(limit)
        if state is not None:
            query = query.where(links.c.state == state)
        async with self._db.read() as conn:
            return [to_link(row) for row in (await conn.execute(query)).mappings()]


async def mark_attempting(
    conn: AsyncConnection, escalation_id: str, attempt: Attempt, *, now: datetime
) -> None:
    """Mark an attempt as started (audited); a link already ``created`` is left unchanged."""
    ins = audit.insert(conn, links).values(
        escalation_id=escalation_id,
        project=attempt.project,
        correlation_label=attempt.correlation_label,
        state=LinkState.ATTEMPTING.value,
        attempts=1,
        attempt_started_at=now,
        adopted=False,
        updated_at=now,
    )
    new = ins.excluded
    stmt = ins.on_conflict_do_update(
        index_elements=[links.c.escalation_id],
        set_={
            "project": new.project,
            "correlation_label": new.correlation_label,
            "state": new.state,
            "attempts": links.c.attempts + 1,
            "attempt_started_at": new.attempt_started_at,
            "updated_at": new.updated_at,
        },
        where=links.c.state != LinkState.CREATED.value,
    ).returning(links.c.attempts)
    attempts = (await conn.execute(stmt)).scalar_one_or_none()
    if attempts is not None:
        await audit.write(
            conn,
            at=now,
            entity=ENTITY,
            entity_id=escalation_id,
            action="attempt_started",
            detail={"attempt": attempts},
        )


async def _find(conn: AsyncConnection, where: ColumnElement[bool]) -> LinkRecord | None:
    row = (await conn.execute(select(links).where(where))).mappings().first()
    return None if row is None else to_link(row)


async def _require(conn: AsyncConnection, escalation_id: str) -> LinkRecord:
    record = await _find(conn, links.c.escalation_id == escalation_id)
    if record is None:
        raise KtJiraError(
            f"escalation {escalation_id!r} has no link: call begin_create_attempt first"
        )
    return record


def to_link(row: RowMapping) -> LinkRecord:
    return LinkRecord(
        escalation_id=row["escalation_id"],
        project=row["project"],
        correlation_label=row["correlation_label"],
        state=LinkState(row["state"]),
        attempts=row["attempts"],
        attempt_started_at=row["attempt_started_at"],
        issue_id=row["issue_id"],
        issue_key=row["issue_key"],
        adopted=bool(row["adopted"]),
        created_at=row["created_at"],
        first_response_due=row["first_response_due"],
        resolution_due=row["resolution_due"],
        first_response_at=row["first_response_at"],
        breached_at=row["breached_at"],
        last_origin=row["last_origin"],
        last_synced_at=row["last_synced_at"],
        updated_at=row["updated_at"],
        jira_status_id=row["jira_status_id"],
        jira_status_category=row["jira_status_category"],
        jira_status_at=row["jira_status_at"],
        jira_changelog_id=row["jira_changelog_id"],
        bridge_busy_until=row["bridge_busy_until"],
        synced_to_keeptrusts_at=row["synced_to_keeptrusts_at"],
        synced_to_jira_at=row["synced_to_jira_at"],
        deleted_at=row["deleted_at"],
        sla_started_at=row["sla_started_at"],
        sla_first_response=_span(row["sla_first_response_seconds"]),
        sla_resolution=_span(row["sla_resolution_seconds"]),
        sla_calendar=row["sla_calendar"] or "",
        sla_settled_at=row["sla_settled_at"],
        jira_resolution=row["jira_resolution"],
        resolved_in_jira_at=row["resolved_in_jira_at"],
        priority=row["priority"],
        issue_type=row["issue_type"],
    )


def _seconds(amount: timedelta | None) -> int | None:
    return None if amount is None else round(amount.total_seconds())


def _span(seconds: int | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=seconds)
