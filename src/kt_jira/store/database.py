"""``Database``: the engine, its write and read transactions, the schema and advisory locks.

Every concept object of the store (``Queue``, ``Links``…) opens its transactions here. SQLite
has one writer, so write transactions are serialised in-process by an ``asyncio.Lock`` and open
with ``BEGIN IMMEDIATE`` (other processes wait on ``busy_timeout``); ``:memory:`` is one shared
connection, so there reads take that lock too. It holds no statement about kt-jira's rows and
never reads the clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Any, Final

from sqlalchemy import func, select, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from kt_jira.errors import ConfigError
from kt_jira.store import engine, migrate
from kt_jira.store.batching import GroupCommit
from kt_jira.store.migrate import SchemaStatus

MIGRATION_LOCK: Final = "kt_jira.migrate"
# Names held by this process's SQLite databases, keyed by database file (see ``exclusive``).
_held: set[tuple[str, str]] = set()


class Database:
    """One engine and the transactions every store statement runs in."""

    def __init__(self, sa_engine: AsyncEngine, *, url: URL) -> None:
        self.engine = sa_engine
        self.url = url
        self.dialect: str = url.get_backend_name()
        sqlite = self.dialect == "sqlite"
        self._writer = sa_engine.execution_options(**{engine.WRITE_OPTION: True})
        self._write_lock = asyncio.Lock() if sqlite else None
        # ":memory:" is one shared connection: reads must not interleave with a write either.
        self._read_lock = self._write_lock if engine.is_memory(url) else None
        #: Webhook intake's writes: many callers' pieces in one transaction, a savepoint each.
        self.group = GroupCommit(self.write)

    # -- transactions -------------------------------------------------------------------------

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite, one writer per process)."""
        async with _maybe(self._write_lock), self._writer.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with _maybe(self._read_lock), self.engine.connect() as conn:
            yield conn

    # -- schema -------------------------------------------------------------------------------

    async def migrate(self) -> None:
        """``alembic upgrade head``; concurrent replicas serialise on an advisory lock. A
        database already migrated by a newer version is left alone (``ConfigError``)."""
        async with self.write() as conn:
            if conn.dialect.name == "postgresql":  # held until commit
                await conn.execute(
                    select(func.pg_advisory_xact_lock(func.hashtext(MIGRATION_LOCK)))
                )
            status = SchemaStatus(
                await conn.run_sync(migrate.current_revision), migrate.head_revision()
            )
            if status.state == "ahead":
                raise ConfigError(
                    f"database schema is at {status.current}, newer than this kt-jira knows "
                    f"(up to {status.head}): run migrate with the newer version"
                )
            await conn.run_sync(migrate.upgrade)

    async def migration_status(self) -> tuple[str | None, str]:
        """``(current, head)`` revision ids; current is ``None`` on an empty database."""
        async with self.read() as conn:
            current = await conn.run_sync(migrate.current_revision)
        return current, migrate.head_revision()

    async def schema_status(self) -> SchemaStatus:
        current, head = await self.migration_status()
        return SchemaStatus(current, head)

    async def ping(self) -> None:
        async with self.read() as conn:
            await conn.execute(text("SELECT 1"))

    # -- locks for periodic duties (SLA scan, reconcile) --------------------------------------

    @asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[bool]:
        """``async with db.exclusive(name) as acquired:`` one holder at a time, never waits.

        PostgreSQL: a session advisory lock held on one connection, so one replica in the fleet
        does each duty at a time. SQLite: held within this process only. SQLite is the
        one-process deployment (DESIGN.md, "Scale"), so a row with a lease in the database would
        buy nothing but a clock to trust.
        """
        if self.dialect != "postgresql":
            key = (engine.identity(self.url), name)
            acquired = key not in _held
            _held.add(key)
            try:
                yield acquired
            finally:
                if acquired:
                    _held.discard(key)
            return
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            lock = select(func.pg_try_advisory_lock(func.hashtext(name)))
            acquired = bool(await conn.scalar(lock))
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


def _maybe(lock: asyncio.Lock | None) -> AbstractAsyncContextManager[Any]:
    return lock if lock is not None else nullcontext()
