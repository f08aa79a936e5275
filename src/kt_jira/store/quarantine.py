"""``Quarantine`` (``store.quarantine``): an admin's replay of a quarantined delivery, audited.

A replay re-runs the stored body through the intake's own parse and record steps
(``web/replay.py``); this module only opens it (checked and audited with who asked) and keeps
the delivery quarantined, with the new reason, when it is still unusable. The accepting itself
is ``deliveries.ingest``'s promotion of the quarantined row. Nothing here changes a stored body.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from kt_jira.store import audit
from kt_jira.store.database import Database
from kt_jira.store.deliveries import ENTITY, to_delivery
from kt_jira.store.models import DeliveryRecord, DeliveryStatus
from kt_jira.store.tables import deliveries


class Quarantine:
    """The two writes of a replay, each one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def begin_replay(self, row_id: int, *, by: str, now: datetime) -> DeliveryRecord | None:
        """The delivery with its body (``None`` if there is none); when it is quarantined, the
        replay ``by`` asked for is audited. Any other status is returned unaudited, for the
        caller to refuse."""
        query = select(deliveries).where(deliveries.c.id == row_id)
        async with self._db.write() as conn:
            row = (await conn.execute(query)).mappings().first()
            if row is None:
                return None
            record = to_delivery(row, with_body=True)
            if record.status is DeliveryStatus.QUARANTINED:
                detail = {"by": by}
                await audit.write(
                    conn, at=now, entity=ENTITY, entity_id=row_id, action="replay", detail=detail
                )
        return record

    async def still_unusable(
        self, row_id: int, *, reason: str, http_status: int, by: str, now: datetime
    ) -> bool:
        """A replayed body failed again: keep it quarantined with the new ``reason``; False when
        it is no longer quarantined (a concurrent replay or retry accepted it)."""
        stmt = (
            update(deliveries)
            .where(
                deliveries.c.id == row_id,
                deliveries.c.status == DeliveryStatus.QUARANTINED.value,
            )
            .values(reason=reason, http_status=http_status)
        )
        detail = {"by": by, "reason": reason, "http_status": http_status}
        async with self._db.write() as conn:
            if (await conn.execute(stmt)).rowcount == 0:
                return False
            await audit.write(
                conn, at=now, entity=ENTITY, entity_id=row_id, action="replay_failed", detail=detail
            )
        return True
