"""Public helpers for the high-availability tests: a fleet of ``kt-jira serve`` replicas on one
PostgreSQL database, a sender that fails over between them as a load balancer would, and bursts
of escalations spread over them.

As in ``harness``, the bridge is only driven from outside: its CLI and HTTP.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from kt_jira.sandbox import DeliveryResult, KeeptrustsSender, escalation_payload
from tests.acceptance.conftest import World
from tests.acceptance.harness import BridgeProcess, JiraSite, Json, eventually, merge
from tests.acceptance.observers import connect, jobs

# -- the fleet ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fleet:
    """Replicas of ``kt-jira serve`` sharing one database."""

    replicas: list[BridgeProcess]
    database_url: str

    @property
    def webhook_urls(self) -> list[str]:
        return [replica.webhook_url for replica in self.replicas]

    def alive(self) -> list[BridgeProcess]:
        return [r for r in self.replicas if r.proc is not None and r.proc.poll() is None]

    def by_pid(self, pid: int | str | None) -> BridgeProcess | None:
        for replica in self.replicas:
            if replica.proc is not None and str(replica.proc.pid) == str(pid):
                return replica
        return None

    def by_application(self, application_name: str) -> BridgeProcess | None:
        """The replica whose connection this is (the bridge names them ``kt-jira/<pid>``)."""
        prefix, _, pid = application_name.partition("/")
        return self.by_pid(pid) if prefix == "kt-jira" else None

    def name_of(self, application_name: str) -> str | None:
        replica = self.by_application(application_name)
        return replica.name if replica is not None else None

    def by_worker(self, worker_id: str | None) -> BridgeProcess | None:
        """The replica a worker id (``host:pid:random``) belongs to."""
        parts = (worker_id or "").split(":")
        return self.by_pid(parts[-2]) if len(parts) >= 3 else None


# The contract-checked sandbox takes seconds over a create whose ADF shape it has not seen
# (several replicas' first creates queue behind that check). Exactly-once assumes Jira commits
# a create within the timeout of the bridge giving up on it; the harness's 2 s is tighter than
# the sandbox can promise with three replicas on two cores, so fleets get more.
FLEET_JIRA_TIMEOUT = 5.0


async def migrate_with_cli(world: World, site: JiraSite, database_url: str) -> None:
    """``kt-jira migrate`` on ``database_url``: what an operator runs once before the replicas
    (``serve`` migrates SQLite only)."""
    config, _ = world.config(site, {"database_url": database_url}, name="migrate.yaml")
    migrated = world.cli("migrate", "--config", str(config))
    assert migrated.code == 0, migrated.text


async def start_fleet(
    world: World,
    site: JiraSite,
    *,
    database_url: str,
    count: int,
    overrides: Json | None = None,
    jira_url: Callable[[str], str] | None = None,
) -> Fleet:
    """Start ``count`` replicas on one migrated database, each on its own port (and, with
    ``jira_url``, its own Jira base URL); return once all are healthy."""
    base = {"jira": {"timeout_seconds": FLEET_JIRA_TIMEOUT}, "database_url": database_url}
    shared = merge(base, overrides or {})
    replicas = []
    for number in range(1, count + 1):
        name = f"replica-{number}"
        own = merge(shared, {"jira": {"url": jira_url(name)}}) if jira_url else shared
        replicas.append(world.launch(site, own, name=name))
    await asyncio.gather(*(replica.wait_healthy() for replica in replicas))
    return Fleet(replicas, database_url)


def exactly_one_each(site: JiraSite, ids: list[str]) -> None:
    """Exactly one issue per escalation id, and no other issue."""
    counts = site.count_by_escalation(ids)
    missing = sorted(eid for eid, n in counts.items() if n == 0)
    doubled = {eid: n for eid, n in counts.items() if n > 1}
    assert not missing, f"escalations without an issue: {missing}"
    assert not doubled, f"escalations with several issues: {doubled}"
    assert len(site.issues()) == len(ids)


# -- a sender behind a load balancer -----------------------------------------------------------


def _retryable(status: int | None) -> bool:
    return status is None or status == 429 or status >= 500


class FailoverSender:
    """Signed deliveries to several replicas, as through a load balancer: each delivery starts at
    the next replica (round robin) and, on a connection error, a 5xx or a 429, is tried again at
    the next one with the same delivery id and bytes, backing off once every replica failed."""

    def __init__(
        self, urls: Sequence[str], *, secret: str, attempts: int = 12, delay: float = 0.1
    ) -> None:
        self._senders = [KeeptrustsSender(url, secret=secret, attempts=1) for url in urls]
        self._turn = itertools.count()
        self.attempts = attempts
        self.delay = delay

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.gather(*(sender.aclose() for sender in self._senders))

    async def send(self, payload: Mapping[str, Any]) -> DeliveryResult:
        delivery = f"dlv_{secrets.token_hex(8)}"
        first = next(self._turn)
        tried: list[DeliveryResult] = []
        for number in range(self.attempts):
            sender = self._senders[(first + number) % len(self._senders)]
            result = await sender.send(payload, delivery_id=delivery)
            tried.append(result)
            if not _retryable(result.status):
                break
            if (number + 1) % len(self._senders) == 0:  # a whole round failed: back off
                await asyncio.sleep(self.delay * 2 ** min(number // len(self._senders), 4))
        attempts = tuple(attempt for result in tried for attempt in result.attempts)
        return DeliveryResult(delivery, tried[-1].event_type, tried[-1].body, attempts)


# -- bursts and their outcome ------------------------------------------------------------------


def payloads(prefix: str, count: int) -> dict[str, Json]:
    """``count`` escalations of one kind (one rule, one description shape): these tests are
    about replicas, not content, and the contract-checked sandbox then validates one new ADF
    document instead of one per rule (about a second each, holding creates behind it). Three
    policies, so no policy comes near the runaway guard's 50 tickets (it would group them)."""
    return {
        f"{prefix}_{n:02d}": escalation_payload(f"{prefix}_{n:02d}", policy_name=f"ha-{n % 3}")
        for n in range(count)
    }


def burst(
    sender: FailoverSender, sent: dict[str, Json], *, spread: float
) -> asyncio.Future[list[DeliveryResult]]:
    """Send every payload, the n-th after ``n * spread`` seconds, all concurrently."""

    async def one(n: int, payload: Json) -> DeliveryResult:
        await asyncio.sleep(n * spread)
        return await sender.send(payload)

    return asyncio.gather(*(one(n, p) for n, p in enumerate(sent.values())))


def created(site: JiraSite, *, at_least: int) -> None:
    assert len(site.issues()) >= at_least, f"{len(site.issues())} issues, waiting for {at_least}"


async def settled(fleet: Fleet, *, timeout: float = 60) -> list[Json]:
    """Wait until no job is queued or running; every job row then."""

    async def check() -> list[Json]:
        async with connect(fleet.database_url) as conn:
            rows = await jobs(conn)
        busy = [r for r in rows if r["status"] in ("queued", "running")]
        assert not busy, f"jobs still pending: {busy}"
        return rows

    return await eventually(check, timeout=timeout, interval=0.5)
