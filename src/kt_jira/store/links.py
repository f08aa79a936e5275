"""Every link and pause statement: the create-exactly-once protocol and the shared Jira pause.

Protocol (DESIGN.md, "Exactly once, without trusting search"): ``begin_attempt`` commits
``attempting`` before Jira is called; ``clear_attempt`` says the call certainly created nothing;
``save_created`` records the issue. A link found in ``attempting`` means the last outcome is
unknown, and the next attempt must search for the correlation marker before creating.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, literal, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira.errors import KtJiraError
from kt_jira.store import audit
from kt_jira.store.models import LinkRecord, LinkState
from kt_jira.store.tables import UTCDateTime, links, pauses

ENTITY = "link"


async def begin_attempt(
    conn: AsyncConnection,
    escalation_id: str,
    *,
    project: str,
    correlation_label: str,
    now: datetime,
) -> LinkRecord:
    """Mark an attempt as started; a link already ``created`` is returned unchanged."""
    ins = audit.insert(conn, links).values(
        escalation_id=escalation_id,
        project=project,
        correlation_label=correlation_label,
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
    return await _require(conn, escalation_id)


async def clear_attempt(conn: AsyncConnection, escalation_id: str, *, now: datetime) -> bool:
    stmt = (
        update(links)
        .where(links.c.escalation_id == escalation_id)
        .where(links.c.state == LinkState.ATTEMPTING.value)
        .values(state=LinkState.PENDING.value, updated_at=now)
    )
    if (await conn.execute(stmt)).rowcount == 0:
        return False
    await audit.write(
        conn, at=now, entity=ENTITY, entity_id=escalation_id, action="attempt_cleared"
    )
    return True


async def save_created(
    conn: AsyncConnection,
    escalation_id: str,
    *,
    issue_id: str,
    issue_key: str,
    now: datetime,
    first_response_due: datetime | None,
    resolution_due: datetime | None,
    adopted: bool,
) -> LinkRecord:
    """Record the issue. Saving the same issue again is a no-op for ``created_at``; a link
    already created with a *different* issue is returned unchanged, so the caller sees the
    duplicate (reconcile folds it)."""
    stmt = (
        update(links)
        .where(links.c.escalation_id == escalation_id)
        .where((links.c.state != LinkState.CREATED.value) | (links.c.issue_id == issue_id))
        .values(
            state=LinkState.CREATED.value,
            issue_id=issue_id,
            issue_key=issue_key,
            adopted=case(
                (links.c.state == LinkState.CREATED.value, links.c.adopted), else_=adopted
            ),
            created_at=func.coalesce(links.c.created_at, literal(now, UTCDateTime())),
            first_response_due=first_response_due,
            resolution_due=resolution_due,
            updated_at=now,
        )
    )
    if (await conn.execute(stmt)).rowcount:
        detail = {"issue_id": issue_id, "issue_key": issue_key}
        await audit.write(
            conn,
            at=now,
            entity=ENTITY,
            entity_id=escalation_id,
            action="adopted" if adopted else "created",
            detail=detail,
        )
    return await _require(conn, escalation_id)


async def get_link(conn: AsyncConnection, escalation_id: str) -> LinkRecord | None:
    query = select(links).where(links.c.escalation_id == escalation_id)
    row = (await conn.execute(query)).mappings().first()
    return None if row is None else to_link(row)


async def find_by_issue(conn: AsyncConnection, issue_id: str) -> LinkRecord | None:
    row = (await conn.execute(select(links).where(links.c.issue_id == issue_id))).mappings()
    found = row.first()
    return None if found is None else to_link(found)


async def list_links(conn: AsyncConnection, *, state: str | None, limit: int) -> list[LinkRecord]:
    query = select(links).order_by(links.c.updated_at.desc()).limit(limit)
    if state is not None:
        query = query.where(links.c.state == state)
    return [to_link(row) for row in (await conn.execute(query)).mappings()]


async def _require(conn: AsyncConnection, escalation_id: str) -> LinkRecord:
    record = await get_link(conn, escalation_id)
    if record is None:
        raise KtJiraError(
            f"escalation {escalation_id!r} has no link: call begin_create_attempt first"
        )
    return record


async def get_pause(conn: AsyncConnection, name: str) -> datetime | None:
    until: datetime | None = (
        await conn.execute(select(pauses.c.until).where(pauses.c.name == name))
    ).scalar_one_or_none()
    return until


async def set_pause(
    conn: AsyncConnection, name: str, *, until: datetime, reason: str, now: datetime | None
) -> datetime:
    """Keep the later of the stored and the new time; return the one in force."""
    ins = audit.insert(conn, pauses).values(name=name, until=until, reason=reason)
    new, old = ins.excluded, pauses.c
    later = new.until > old.until
    stmt = ins.on_conflict_do_update(
        index_elements=[old.name],
        set_={
            "until": case((later, new.until), else_=old.until),
            "reason": case((later, new.reason), else_=old.reason),
        },
    ).returning(old.until)
    effective: datetime = (await conn.execute(stmt)).scalar_one()
    if effective == until:
        detail: dict[str, Any] = {"until": until.isoformat(), "reason": reason}
        await audit.write(
            conn, at=now or until, entity="pause", entity_id=name, action="extended", detail=detail
        )
    return effective


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
    )
