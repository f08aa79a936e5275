"""``Pauses`` (``store.pauses``): the shared Jira pause, one row per name, across replicas.

It is the database-backed ``jira.pause.PauseStore``: after a 429 every worker of every replica
waits the pause out. A pause only ever extends: ``set_pause`` keeps the later of the stored and
the new time, and never deletes a row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, select

from kt_jira.store import audit
from kt_jira.store.database import Database
from kt_jira.store.tables import pauses


class Pauses:
    """Read and extend named pauses, each one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_pause(self, name: str) -> datetime | None:
        """The end of the pause ``name`` (may be in the past), or ``None``."""
        query = select(pauses.c.until).where(pauses.c.name == name)
        async with self._db.read() as conn:
            until: datetime | None = (await conn.execute(query)).scalar_one_or_none()
        return until

    async def set_pause(
        self, name: str, *, until: datetime, reason: str, now: datetime | None = None
    ) -> datetime:
        """Extend (never shorten) the pause ``name``; returns the time now in force."""
        async with self._db.write() as conn:
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
                    conn,
                    at=now or until,
                    entity="pause",
                    entity_id=name,
                    action="extended",
                    detail=detail,
                )
        return effective
