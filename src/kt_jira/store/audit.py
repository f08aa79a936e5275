"""The audit trail (``Audit``, ``store.audit``) and the dialect-specific INSERT of ``store/``.

Audit rows are written by ``write``/``write_many`` inside the transaction of the change they
describe, never after it; ``Audit`` only reads them. Nothing here changes another table.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira.store.database import Database
from kt_jira.store.models import AuditRecord
from kt_jira.store.tables import audit


def insert(conn: AsyncConnection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """``INSERT`` with ``ON CONFLICT`` support for the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def write(
    conn: AsyncConnection,
    *,
    at: datetime,
    entity: str,
    entity_id: str | int,
    action: str,
    detail: Mapping[str, Any] | None = None,
) -> None:
    await conn.execute(
        audit.insert().values(
            at=at,
            entity=entity,
            entity_id=str(entity_id),
            action=action,
            detail=dict(detail or {}),
        )
    )


async def write_many(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Rows with the keys of ``write``'s arguments; one round trip."""
    if rows:
        await conn.execute(
            audit.insert(),
            [{**row, "entity_id": str(row["entity_id"]), "detail": row["detail"]} for row in rows],
        )


class Audit:
    """Reads of the audit trail."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def list(
        self, *, entity: str | None = None, entity_id: str | None = None, limit: int = 100
    ) -> list[AuditRecord]:
        """Newest first."""
        query = select(audit).order_by(audit.c.id.desc()).limit(limit)
        if entity is not None:
            query = query.where(audit.c.entity == entity)
        if entity_id is not None:
            query = query.where(audit.c.entity_id == entity_id)
        async with self._db.read() as conn:
            return [_record(row) for row in (await conn.execute(query)).mappings()]


def _record(row: RowMapping) -> AuditRecord:
    return AuditRecord(
        id=row["id"],
        at=row["at"],
        entity=row["entity"],
        entity_id=row["entity_id"],
        action=row["action"],
        detail=dict(row["detail"]),
    )
