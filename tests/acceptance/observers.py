"""Public helpers for the high-availability tests: readers of what a fleet of replicas shares
(jobs and their audit trail in PostgreSQL, the advisory locks each replica's sessions hold) and a
log of the requests each replica sends to the sandbox Jira.

As in ``harness``, nothing here imports the bridge: PostgreSQL's own views (``pg_locks``,
``pg_stat_activity``), the bridge's tables read with plain SQL, and HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.support.databases import libpq_url

# -- what the replicas share, read from PostgreSQL ---------------------------------------------


@dataclass(frozen=True, kw_only=True)
class JobEvent:
    """One row of a job's audit trail: claimed, done, retried, released or dead, by a worker."""

    job_id: int
    action: str
    worker_id: str
    at: float  #: seconds since the epoch, on the bridge's clock


@contextlib.asynccontextmanager
async def connect(database_url: str) -> AsyncIterator[psycopg.AsyncConnection[dict[str, Any]]]:
    conn = await psycopg.AsyncConnection.connect(
        libpq_url(database_url), autocommit=True, row_factory=dict_row
    )
    async with conn:
        yield conn


async def jobs(conn: psycopg.AsyncConnection[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every job row: id, kind, job_key, status, attempts, locked_by."""
    found = await conn.execute(
        "SELECT id, kind, job_key, status, attempts, locked_by FROM jobs ORDER BY id"
    )
    return await found.fetchall()


async def job_history(conn: psycopg.AsyncConnection[dict[str, Any]]) -> list[JobEvent]:
    """The job audit trail, oldest first."""
    found = await conn.execute(
        "SELECT entity_id, action, detail, at FROM audit WHERE entity = 'job' ORDER BY id"
    )
    return [
        JobEvent(
            job_id=int(row["entity_id"]),
            action=row["action"],
            worker_id=str(row["detail"].get("worker_id", "")),
            at=row["at"].timestamp(),
        )
        for row in await found.fetchall()
    ]


def orphaned(history: list[JobEvent], worker: Callable[[str], bool]) -> set[int]:
    """Jobs whose last claim by a matching worker was never followed by that worker's own
    transition out of ``running`` (done, retried, released, dead): what its death left held."""
    held: set[int] = set()
    for event in history:
        if not worker(event.worker_id):
            continue
        if event.action == "claimed":
            held.add(event.job_id)
        else:
            held.discard(event.job_id)
    return held


# -- advisory locks, sampled -------------------------------------------------------------------

HOLDERS = """
SELECT a.application_name, l.objid::bigint AS key
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.database = (
    SELECT oid FROM pg_database WHERE datname = current_database())
"""


@dataclass(frozen=True)
class LockSample:
    at: float  #: time.monotonic() of the test process
    holders: dict[str, list[str]]  #: lock name -> application names of the holding sessions


@dataclass
class LockWatch:
    """Which sessions hold the advisory locks ``names`` (as the bridge's ``exclusive(name)``
    takes them: the key is ``hashtext(name)``), sampled every ``interval`` seconds."""

    names: tuple[str, ...]
    samples: list[LockSample] = field(default_factory=list)

    @classmethod
    @contextlib.asynccontextmanager
    async def watching(
        cls, database_url: str, names: tuple[str, ...], *, interval: float = 0.02
    ) -> AsyncIterator[LockWatch]:
        watch = cls(names)
        async with connect(database_url) as conn:
            keys = {}
            for name in names:  # pg_locks.objid holds the low 32 bits of the bigint key
                found = await conn.execute("SELECT hashtext(%s)::bigint & 4294967295 AS k", (name,))
                row = await found.fetchone()
                assert row is not None
                keys[int(row["k"])] = name
            task = asyncio.create_task(watch._sample(conn, keys, interval))
            try:
                yield watch
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _sample(
        self, conn: psycopg.AsyncConnection[dict[str, Any]], keys: dict[int, str], interval: float
    ) -> None:
        while True:
            holders: dict[str, list[str]] = {name: [] for name in self.names}
            for row in await (await conn.execute(HOLDERS)).fetchall():
                if int(row["key"]) in keys:
                    holders[keys[int(row["key"])]].append(row["application_name"])
            self.samples.append(LockSample(time.monotonic(), holders))
            await asyncio.sleep(interval)

    def holders(self, name: str, *, since: float = 0.0) -> list[str]:
        """Every application name seen holding ``name`` since ``since`` (repeats kept)."""
        return [app for s in self.samples if s.at >= since for app in s.holders[name]]

    def latest(self, name: str) -> list[str]:
        return self.samples[-1].holders[name] if self.samples else []


# -- the requests each replica sends to Jira ---------------------------------------------------


@dataclass(frozen=True)
class Request:
    at: float  #: time.monotonic() when it arrived (or, for an answer, when it was answered)
    replica: str
    method: str
    path: str
    status: int | None = None  #: None for an arrival


@dataclass
class RequestLog:
    """ASGI middleware in front of the sandbox Jira that gives each replica a base URL of its own
    (``base(name)``) and records every request's arrival and answer with the replica's name.

    Hand-written: it is the observation point the pause test needs (which replica sent what,
    when), and no sandbox keeps per-request times."""

    arrivals: list[Request] = field(default_factory=list)
    answers: list[Request] = field(default_factory=list)
    _app: ASGIApp | None = None

    PREFIX = "/replica/"

    def base(self, name: str) -> str:
        return f"{self.PREFIX}{name}"

    def around(self, app: ASGIApp) -> ASGIApp:
        self._app = app
        return self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self._app is not None
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not path.startswith(self.PREFIX):
            await self._app(scope, receive, send)
            return
        replica, _, rest = path.removeprefix(self.PREFIX).partition("/")
        inner = f"/{rest}"
        method = str(scope["method"])
        self.arrivals.append(Request(time.monotonic(), replica, method, inner))

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                self.answers.append(Request(time.monotonic(), replica, method, inner, status))
            await send(message)

        await self._app({**scope, "path": inner, "raw_path": inner.encode()}, receive, answer)
