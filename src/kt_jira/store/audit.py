"""The audit trail (``Audit``, ``store.audit``) and the dialect-specific INSERT of ``store/``.

Audit rows are written by ``write``/``write_many`` inside the transaction of the change they
describe, never after it; ``Audit`` only reads them. Nothing here changes another table. Inside
``buffered(conn)`` (group commit's transactions) ``write`` only collects its row, and the whole
transaction's rows go in one ``executemany`` just before it commits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import BindParameter, Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira.store.models import AuditRecord
from kt_jira.store.tables import audit

if TYPE_CHECKING:  # database.py's group commit buffers audit rows: it imports this module
    from kt_jira.store.database import Database


def insert(conn: AsyncConnection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """``INSERT`` with ``ON CONFLICT`` support for the connection's dialect."""
    return dialect_insert(conn.dialect.name, table)


def dialect_insert(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def bound(table: Table, names: Iterable[str]) -> dict[str, BindParameter[Any]]:
    """Each named column as a typed parameter of the same name: for a statement built once
    (``functools.cache``) and executed with a dict, instead of built and cache-keyed per row."""
    return {name: bindparam(name, type_=table.c[name].type) for name in names}


_BUFFER: Final = "kt_jira.audit.buffer"  # in ``conn.info`` while ``buffered`` runs
_COLUMNS: Final = ("at", "entity", "entity_id", "action", "detail")


@cache
def _insert_row() -> Any:
    """``INSERT INTO audit`` with every value a parameter, built once (not per row)."""
    return audit.insert().values(bound(audit, _COLUMNS))


async def write(
    conn: AsyncConnection,
    *,
    at: datetime,
    entity: str,
    entity_id: str | int,
    action: str,
    detail: Mapping[str, Any] | None = None,
) -> None:
    row = {
        "at": at,
        "entity": entity,
        "entity_id": str(entity_id),
        "action": action,
        "detail": dict(detail or {}),
    }
    buffer: list[dict[str, Any]] | None = conn.info.get(_BUFFER)
    if buffer is not None:
        buffer.append(row)
    else:
        await conn.execute(_insert_row(), row)


async def write_many(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Rows with the keys of ``write``'s arguments; one round trip."""
    if rows:
        await conn.execute(
            audit.insert(),
            [{**row, "entity_id": str(row["entity_id"]), "detail": row["detail"]} for row in rows],
        )


@asynccontextmanager
async def buffered(conn: AsyncConnection) -> AsyncIterator[list[dict[str, Any]]]:
    """Collect the audit rows ``write`` makes on ``conn`` and write them at the end; the list
    is yielded so a rolled-back savepoint can drop its own rows (``del rows[mark:]``)."""
    rows: list[dict[str, Any]] = []
    conn.info[_BUFFER] = rows
    try:
        yield rows
    finally:
        conn.info.pop(_BUFFER, None)
    await write_many(conn, rows)


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
