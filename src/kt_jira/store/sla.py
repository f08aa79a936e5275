"""SLA clocks: the signals they run on, the open clocks a scan reads, and the actions taken.

``act`` is the exactly-once step: the unique key on (ticket, target, action) decides, so two
scanners (replicas, or a scan repeated after a crash) act on one breach once, and the action's
jobs commit with its row or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira.jobs import NewJob
from kt_jira.store import audit, queue
from kt_jira.store.database import Database
from kt_jira.store.group_records import member_resolutions
from kt_jira.store.links import ENTITY, to_link
from kt_jira.store.models import (
    EscalationStatus,
    SlaActionRecord,
    SlaClockRow,
    SlaSignal,
)
from kt_jira.store.tables import escalations, links, sla_actions, sla_signals

_PAGE = 500
_ACTION_KEY = [sla_actions.c.escalation_id, sla_actions.c.target, sla_actions.c.action]


class Sla:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self, escalation_id: str, signals: Iterable[SlaSignal], *, now: datetime
    ) -> int:
        """Record dated signals for a linked ticket; repeats are kept once. Returns new rows."""
        async with self._db.write() as conn:
            return await insert_signals(conn, escalation_id, signals, now=now)

    async def clocks(
        self, *, after: str = "", limit: int = _PAGE, settled: bool = False
    ) -> list[SlaClockRow]:
        """Tracked tickets by escalation id after ``after``: the open clocks a scan reads, or
        with ``settled`` every tracked ticket (``sla ls --all``). Deleted issues are left out."""
        where = [
            links.c.state == "created",
            links.c.sla_started_at.is_not(None),
            links.c.deleted_at.is_(None),
            links.c.escalation_id > after,
        ]
        if not settled:
            where.append(links.c.sla_settled_at.is_(None))
        async with self._db.read() as conn:
            return await clock_rows(conn, where, limit=limit)

    async def act(
        self,
        escalation_id: str,
        *,
        target: str,
        action: str,
        due: datetime,
        jobs: Sequence[NewJob],
        now: datetime,
        detail: dict[str, Any],
    ) -> bool:
        """Take one action on one target, with its jobs, exactly once: ``False`` when it had
        been taken already (by this scanner or another)."""
        async with self._db.write() as conn:
            stmt = (
                audit.insert(conn, sla_actions)
                .values(
                    escalation_id=escalation_id, target=target, action=action, due=due, acted_at=now
                )
                .on_conflict_do_nothing(index_elements=_ACTION_KEY)
                .returning(sla_actions.c.id)
            )
            if (await conn.execute(stmt)).scalar_one_or_none() is None:
                return False
            if action == "breached":
                await conn.execute(
                    update(links)
                    .where(links.c.escalation_id == escalation_id)
                    .values(breached_at=func.coalesce(links.c.breached_at, due), updated_at=now)
                )
            enqueued = [job.job_key for job in jobs if await queue.insert(conn, job, now=now)]
            await audit.write(
                conn,
                at=now,
                entity=ENTITY,
                entity_id=escalation_id,
                action=f"sla_{action}",
                detail={**detail, "target": target, "due": due.isoformat(), "enqueued": enqueued},
            )
        return True

    async def settle(self, escalation_ids: Sequence[str], *, now: datetime) -> None:
        """Mark clocks final: every target met. Later scans skip them."""
        if not escalation_ids:
            return
        async with self._db.write() as conn:
            await conn.execute(
                update(links)
                .where(links.c.escalation_id.in_(escalation_ids), links.c.sla_settled_at.is_(None))
                .values(sla_settled_at=now)
            )


async def clock_rows(
    conn: AsyncConnection, where: Sequence[ColumnElement[bool]], *, limit: int | None = None
) -> list[SlaClockRow]:
    """Conn-level: created links matching ``where`` with their escalation's facts, signals and
    actions, by escalation id (``store.reports`` reads the same rows over a date range)."""
    query = (
        select(
            links,
            escalations.c.policy_name,
            escalations.c.severity,
            escalations.c.action,
            escalations.c.model,
            escalations.c.gateway_id,
            escalations.c.resolution.label("escalation_resolution"),
            escalations.c.status.label("escalation_status"),
            escalations.c.resolved_at.label("escalation_resolved_at"),
        )
        .join(escalations, escalations.c.escalation_id == links.c.escalation_id)
        .where(*where)
        .order_by(links.c.escalation_id)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = (await conn.execute(query)).mappings().all()
    ids = [row["escalation_id"] for row in rows]
    signals = await _by_escalation(conn, ids, sla_signals)
    actions = await _by_escalation(conn, ids, sla_actions)
    groups = await member_resolutions(conn, ids)
    return [
        _with_group(_clock_row(row, signals.get(eid, ()), actions.get(eid, ())), groups.get(eid))
        for row in rows
        if (eid := row["escalation_id"])
    ]


def _with_group(row: SlaClockRow, members: tuple[bool, datetime | None] | None) -> SlaClockRow:
    """A group's ticket is resolved when its last escalation is: not while a member is open."""
    if members is None:
        return row
    members_open, last = members
    if members_open:
        return replace(row, escalation_open=True, escalation_resolved_at=None)
    if row.escalation_open or last is None or row.escalation_resolved_at is None:
        return row
    return replace(row, escalation_resolved_at=max(last, row.escalation_resolved_at))


def _clock_row(row: RowMapping, signals: Iterable[Any], actions: Iterable[Any]) -> SlaClockRow:
    return SlaClockRow(
        link=to_link(row),
        policy_name=row["policy_name"],
        severity=row["severity"],
        action=row["action"],
        model=row["model"],
        gateway_id=row["gateway_id"],
        resolution=row["escalation_resolution"],
        escalation_open=row["escalation_status"] == EscalationStatus.OPEN.value,
        escalation_resolved_at=row["escalation_resolved_at"],
        signals=tuple(SlaSignal(kind=s["kind"], at=s["at"]) for s in signals),
        actions=tuple(
            SlaActionRecord(
                target=a["target"], action=a["action"], due=a["due"], acted_at=a["acted_at"]
            )
            for a in actions
        ),
    )


async def insert_signals(
    conn: AsyncConnection, escalation_id: str, signals: Iterable[SlaSignal], *, now: datetime
) -> int:
    """Conn-level: record ``signals`` (a repeat of one is kept once); returns the new rows."""
    added = 0
    for signal in signals:
        stmt = (
            audit.insert(conn, sla_signals)
            .values(escalation_id=escalation_id, kind=signal.kind, at=signal.at, recorded_at=now)
            .on_conflict_do_nothing(
                index_elements=[sla_signals.c.escalation_id, sla_signals.c.kind, sla_signals.c.at]
            )
        )
        added += (await conn.execute(stmt)).rowcount or 0
    return added


async def _by_escalation(conn: AsyncConnection, ids: list[str], table: Any) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    if not ids:
        return found
    query = select(table).where(table.c.escalation_id.in_(ids)).order_by(table.c.id)
    for row in (await conn.execute(query)).mappings():
        found.setdefault(row["escalation_id"], []).append(row)
    return found
