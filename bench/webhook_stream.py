"""An open-loop stream of signed escalations through ``KeeptrustsSender``, for ``bench.vs_guide``.

Every delivery is scheduled at a fixed rate whatever the answers, and timed from its first send
to its final answer (the sender's retries included). Optionally a sandbox Jira outage is switched
on and off meanwhile over ``POST /_sandbox/faults``. Talks to 127.0.0.1 only; run it through
``python -m bench.vs_guide``.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from bench.common import escalation_body, percentile
from kt_jira.sandbox import KeeptrustsSender

# The sender's policy, the same for every target (see docs/performance.md).
ATTEMPTS = 4
BASE_DELAY = 0.5
TIMEOUT = 2.0


@dataclass(frozen=True, kw_only=True)
class Sent:
    """One escalation's delivery as the sender saw it."""

    escalation_id: str
    ack_s: float  #: first send to final answer
    lag_s: float  #: how late the first send left against its schedule
    ok: bool
    statuses: list[int | None]


@dataclass(frozen=True, kw_only=True)
class Outage:
    """Jira answers 503 from ``start`` s after the first send, for ``seconds``."""

    jira_url: str
    start: float
    seconds: float


async def send_all(
    webhook: str, *, secret: str, ids: list[str], rate: float, outage: Outage | None = None
) -> tuple[list[Sent], dict[str, float]]:
    """Send one escalation per id at ``rate``/s; returns the deliveries and the wall-clock times
    (``time.time()``) the outage began and ended, if there was one."""
    loop = asyncio.get_running_loop()
    marks: dict[str, float] = {}

    async def toggle(spec: Outage) -> None:
        async with httpx.AsyncClient(base_url=spec.jira_url, timeout=10) as admin:
            await asyncio.sleep(spec.start)
            (await admin.post("/_sandbox/faults", json={"outage": True})).raise_for_status()
            marks["outage_began"] = time.time()
            await asyncio.sleep(spec.seconds)
            (await admin.post("/_sandbox/faults", json={"outage": False})).raise_for_status()
            marks["outage_ended"] = time.time()

    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=200)
    async with (
        httpx.AsyncClient(timeout=TIMEOUT, limits=limits) as client,
        KeeptrustsSender(
            webhook, secret=secret, attempts=ATTEMPTS, base_delay=BASE_DELAY, client=client
        ) as sender,
    ):
        start = loop.time() + 0.2

        async def one(n: int, eid: str) -> Sent:
            due = start + n / rate
            await asyncio.sleep(max(0.0, due - loop.time()))
            began = loop.time()
            result = await sender.send_raw(escalation_body(eid, n))
            return Sent(
                escalation_id=eid,
                ack_s=loop.time() - began,
                lag_s=began - due,
                ok=result.ok,
                statuses=result.statuses,
            )

        toggles = asyncio.create_task(toggle(outage)) if outage is not None else None
        sends = asyncio.gather(*(one(n, eid) for n, eid in enumerate(ids)))
        sent = await asyncio.wait_for(sends, len(ids) / rate + 60)
        if toggles is not None:
            await asyncio.wait_for(toggles, 30)
    return list(sent), marks


def ack_stats(sent: list[Sent]) -> dict[str, Any]:
    """Ack latency percentiles (ms), give-ups and retries, and every delivery for the JSON."""
    acks = sorted(s.ack_s * 1000 for s in sent)
    attempts = Counter(len(s.statuses) for s in sent)
    return {
        "ack_p50_ms": percentile(acks, 50),
        "ack_p99_ms": percentile(acks, 99),
        "ack_max_ms": acks[-1] if acks else float("nan"),
        "gave_up": sum(1 for s in sent if not s.ok),
        "retried": sum(1 for s in sent if len(s.statuses) > 1),
        "attempts": dict(sorted(attempts.items())),
        "max_lag_ms": 1000 * max((s.lag_s for s in sent), default=0.0),
        "final_statuses": dict(Counter(str(s.statuses[-1]) for s in sent)),
        "sent": [asdict(s) for s in sent],
    }
