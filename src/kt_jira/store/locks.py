"""Locks for periodic duties (SLA scan, reconcile) and for migrations.

PostgreSQL: session advisory locks, so one replica in the fleet does each duty at a time.
SQLite: held within this process only. SQLite is the one-process deployment (DESIGN.md,
"Scale"), so a row with a lease in the database would buy nothing but a clock to trust.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from kt_jira.store import engine

MIGRATION_LOCK: Final = "kt_jira.migrate"
# Names held by this process's SQLite stores, keyed by database file.
_held: set[tuple[str, str]] = set()


@asynccontextmanager
async def exclusive(sa_engine: AsyncEngine, url: URL, name: str) -> AsyncIterator[bool]:
    """Try to become the one holder of ``name``; yields whether it did, never waits."""
    if url.get_backend_name() != "postgresql":
        key = (engine.identity(url), name)
        acquired = key not in _held
        _held.add(key)
        try:
            yield acquired
        finally:
            if acquired:
                _held.discard(key)
        return
    async with sa_engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        acquired = bool(await conn.scalar(select(func.pg_try_advisory_lock(func.hashtext(name)))))
        try:
            yield acquired
        finally:
            if acquired:
                await _unlock(conn, name)


async def _unlock(conn: AsyncConnection, name: str) -> None:
    try:
        await conn.execute(select(func.pg_advisory_unlock(func.hashtext(name))))
    except BaseException:
        # Never return to the pool a session that may still hold the lock.
        await conn.invalidate()
        raise


async def lock_migrations(conn: AsyncConnection) -> None:
    """Serialise concurrent ``migrate`` runs of several replicas (PostgreSQL; until commit)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(MIGRATION_LOCK))))
