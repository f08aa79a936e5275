"""Group commit: every webhook delivery waiting to be written shares one transaction.

A transaction costs a fixed price whatever it holds: ``BEGIN`` and ``COMMIT`` round trips, the
WAL flush on PostgreSQL, and on SQLite the process's one write lock, handed from waiter to waiter
through the event loop. Under a burst that price, not the rows, bounded intake
(docs/performance.md). So ``GroupCommit.run(work)`` queues ``work`` and one writer task takes
every queued piece (up to ``max_batch``) into one write transaction, and writes the batch's audit
rows together just before the ``COMMIT`` (``audit.buffered``). Every caller's ``run`` returns
only after that ``COMMIT``, so a 202 still means stored. When anything in a batch fails (a piece
raises, or the ``COMMIT`` does), nothing of it was stored, and each piece runs again in a
transaction of its own: a bad piece fails only its own caller, the others commit.

Not a ``SAVEPOINT`` per piece, which would give the same isolation without the second run: a
savepoint is two more statements per delivery (``SAVEPOINT``, ``RELEASE``), each a round trip to
aiosqlite's thread, and measured it cost about a millisecond of CPU per delivery of the ~3 that
the whole intake costs; a failing piece is a bug or a broken database, so its batch running
twice costs nothing in normal operation. Pieces are database work only, so running one again
after a rollback is safe. The writer starts when work arrives and ends when the queue is empty, so
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
        try:
            results = await self._together(batch)
        except (asyncio.CancelledError, KeyboardInterrupt) as exc:  # stopping: tell the callers
            for _, future in batch:
                _settle(future, None, exc)
            raise
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], None, exc)
                return
            # Something in the batch failed, and nothing of it was stored: each piece again in
            # a transaction of its own, so an error is only its own caller's.
            for piece in batch:
                await self._write([piece])
            return
        for (_, future), value in zip(batch, results, strict=True):
            _settle(future, value, None)

    async def _together(self, batch: list[tuple[Work, asyncio.Future[Any]]]) -> list[Any]:
        """Every piece in one transaction, its audit rows in one statement before the COMMIT."""
        async with self._begin() as conn, audit.buffered(conn):
            return [await work(conn) for work, _ in batch]


def _settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():  # its caller went away (the sender hung up); the rows stay
        return
    if error is None:
        future.set_result(value)
    else:
        future.set_exception(error)
