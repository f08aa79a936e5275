"""The worker: claim a job from the database, run its handler, then finish, retry or dead-letter.

Claims, leases and heartbeats live in the store; retry decisions are ``retry``'s pure policy. A stop
request lets in-flight jobs finish within a grace period, then releases what is left, so a
SIGTERM never loses or double-runs work.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta

import structlog

from kt_jira.config.models import WorkerSettings
from kt_jira.errors import Deferred
from kt_jira.metrics import Metrics
from kt_jira.retry import describe_error, retry_at
from kt_jira.store import Job, Store

Handler = Callable[[Job], Awaitable[None]]
log = structlog.get_logger("kt_jira.worker")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Worker:
    """Runs ``settings.concurrency`` claim loops against the store until ``stop`` is set."""

    def __init__(
        self,
        *,
        store: Store,
        handlers: Mapping[str, Handler],
        settings: WorkerSettings,
        metrics: Metrics,
        worker_id: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.handlers = dict(handlers)
        self.settings = settings
        self.metrics = metrics
        self.worker_id = (
            worker_id or f"{socket.gethostname()}:{os.getpid()}:{random.getrandbits(24):06x}"
        )
        self.clock = clock
        self.rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._running: dict[int, Job] = {}

    def wake(self) -> None:
        """Hint that new work was enqueued (saves a poll interval of latency)."""
        self._wake.set()

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.lease_seconds)

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker.started", worker_id=self.worker_id, concurrency=self.settings.concurrency)
        loops = [asyncio.create_task(self._loop(stop)) for _ in range(self.settings.concurrency)]
        beat = asyncio.create_task(self._heartbeat(stop))
        try:
            await stop.wait()
            self._wake.set()
            done, pending = await asyncio.wait(loops, timeout=self.settings.shutdown_grace_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            for task in done:
                if task.exception() is not None:
                    log.error("worker.loop_crashed", error=repr(task.exception()))
        finally:
            beat.cancel()
            await asyncio.gather(beat, return_exceptions=True)
            for loop in loops:
                loop.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            log.info("worker.stopped", worker_id=self.worker_id)

    async def run_once(self) -> bool:
        """Claim and process at most one job; ``False`` when nothing was claimable."""
        jobs = await self.store.queue.claim(
            worker_id=self.worker_id,
            now=self.clock(),
            lease=self.lease,
            limit=1,
            kinds=list(self.handlers),
        )
        for job in jobs:
            await self._process(job)
        return bool(jobs)

    async def _loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                claimed = await self.run_once()
            except Exception as exc:  # the database may be briefly unavailable
                log.warning("worker.claim_failed", error=repr(exc))
                claimed = False
                await asyncio.sleep(self.settings.poll_interval_seconds * 4)
            if not claimed and not stop.is_set():
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._wake.wait(), timeout=self.settings.poll_interval_seconds
                    )

    async def _process(self, job: Job) -> None:
        handler = self.handlers[job.kind]
        self._running[job.id] = job
        bound = log.bind(job_id=job.id, kind=job.kind, attempt=job.attempts)
        try:
            await handler(job)
        except asyncio.CancelledError:
            # Stopping: give the job back untouched so another worker (or our restart) runs it.
            await asyncio.shield(
                self.store.queue.release(job.id, worker_id=self.worker_id, run_at=self.clock())
            )
            bound.info("job.released")
            raise
        except Deferred as exc:
            await self.store.queue.release(job.id, worker_id=self.worker_id, run_at=exc.run_at)
            bound.info("job.deferred", until=exc.run_at.isoformat(), reason=str(exc))
            self.metrics.jobs.labels(kind=job.kind, outcome="deferred").inc()
        except Exception as exc:
            await self._failed(job, exc, bound)
        else:
            await self.store.queue.finish(job.id, worker_id=self.worker_id, now=self.clock())
            bound.info("job.done")
            self.metrics.jobs.labels(kind=job.kind, outcome="done").inc()
        finally:
            self._running.pop(job.id, None)

    async def _failed(
        self, job: Job, exc: Exception, bound: structlog.typing.FilteringBoundLogger
    ) -> None:
        now = self.clock()
        when = retry_at(
            exception=exc, attempts=job.attempts, settings=self.settings, now=now, rng=self.rng
        )
        error = describe_error(exc)
        if when is None:
            await self.store.queue.fail(job.id, worker_id=self.worker_id, now=now, error=error)
            bound.error("job.dead", error=error)
            self.metrics.jobs.labels(kind=job.kind, outcome="dead").inc()
        else:
            await self.store.queue.retry(
                job.id, worker_id=self.worker_id, now=now, run_at=when, error=error
            )
            bound.warning("job.retry", error=str(exc), run_at=when.isoformat())
            self.metrics.jobs.labels(kind=job.kind, outcome="retry").inc()

    async def _heartbeat(self, stop: asyncio.Event) -> None:
        interval = self.settings.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            if self._running:
                try:
                    await self.store.queue.heartbeat(
                        list(self._running),
                        worker_id=self.worker_id,
                        now=self.clock(),
                        lease=self.lease,
                    )
                except Exception as exc:
                    log.warning("worker.heartbeat_failed", error=repr(exc))
