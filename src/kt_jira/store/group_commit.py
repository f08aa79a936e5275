"""Group commit: every webhook delivery waiting to be written shares one transaction.

A transaction costs a fixed price whatever it holds: ``BEGIN`` and ``COMMIT`` round trips, the
WAL flush on PostgreSQL, and on SQLite the process's one write lock, handed from waiter to waiter
through the event loop. Under a burst that price, not the rows, bounded intake
(docs/performance.md). So ``GroupCommit.run(work)`` queues ``work`` and one writer task takes
every queued piece (up to ``max_batch``) into one write transaction, each piece inside its own
``SAVEPOINT``: a piece that raises is rolled back to its savepoint and fails only its own caller,
the others commit. The batch's audit rows are written together before the ``COMMIT``
(``audit.buffered``). Every caller's ``run`` returns only after the shared ``COMMIT``, so a 202
still means stored; if the ``COMMIT`` fails, every caller of that batch gets the error (nothing
of it was stored). The writer starts when work arrives and ends when the queue is empty, so
there is no task to stop at shutdown.

Hand-written: SQLAlchemy and the drivers offer savepoints and transactions, not a queue of
callers sharing one; it is thirty lines of asyncio.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira.store import audit

T = TypeVar("T")
Work = Callable[[AsyncConnection], Awaitable[Any]]
MAX_BATCH = 256


class GroupCommit:
    """Run ``work(conn)`` pieces from many callers in shared write transactions."""

    def __init__(
        self,
        begin: Callable[[], AbstractAsyncContextManager[AsyncConnection]],
        *,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._begin = begin
        self._max_batch = max_batch
        self._waiting: list[tuple[Work, asyncio.Future[Any]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def run(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """``work``'s result once the transaction that ran it has committed."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((work, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all())
        return await future

    async def _write_all(self) -> None:
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            await self._write(batch)

    async def _write(self, batch: list[tuple[Work, asyncio.Future[Any]]]) -> None:
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            async with self._begin() as conn, audit.buffered(conn) as audit_rows:
                for work, future in batch:
                    mark = len(audit_rows)
                    try:
                        async with conn.begin_nested():
                            outcomes.append((future, await work(conn), None))
                    except Exception as exc:  # this piece only: its savepoint is rolled back
                        del audit_rows[mark:]
                        outcomes.append((future, None, exc))
        except BaseException as exc:  # the transaction itself failed: nothing was stored
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for future, value, error in outcomes:
            if future.done():  # its caller went away (the sender hung up); the rows stay
                continue
            if error is None:
                future.set_result(value)
            else:
                future.set_exception(error)
