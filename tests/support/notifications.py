"""SLA notifications under test: events made the way a scan makes them, ``sla_notify`` jobs as
the worker hands them to a handler, and ``Receiver``, a loopback endpoint that records every
POST, verifies Standard Webhooks signatures with ``kt_jira.signing`` and fails on request."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from kt_jira.errors import SignatureError
from kt_jira.jobs import NewJob
from kt_jira.signing import SignatureScheme, Verifier
from kt_jira.sla.plan import AT_RISK, BREACHED, Clock, actions_due, notification, status_of
from kt_jira.store import Job, JobStatus

STARTED = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ISSUE_URL = "https://example.atlassian.net/browse/AIGOV-12"
STANDARD = SignatureScheme(kind="standard-webhooks", id_header="webhook-id")


def sample_event(
    *,
    action: str = BREACHED,
    target: str = "resolution",
    policy_name: str = "pii-detector",
    severity: str = "critical",
    escalation_id: str = "esc_123",
    issue_key: str = "AIGOV-12",
    issue_url: str = ISSUE_URL,
) -> dict[str, Any]:
    """The notification ``sla.plan`` makes for a 15 min / 1 h ticket: at 09:50 the resolution
    target is at risk (10 minutes left); at 10:05 both targets are breached."""
    clock = Clock(
        escalation_id=escalation_id,
        issue_key=issue_key,
        started_at=STARTED,
        first_response=timedelta(minutes=15),
        resolution=timedelta(hours=1),
        policy_name=policy_name,
        severity=severity,
    )
    now = STARTED + (timedelta(minutes=50) if action == AT_RISK else timedelta(minutes=65))
    status = status_of(clock, [], {}, at_risk=0.75, now=now)
    due = actions_due(status, [], breach_label="b", at_risk_label="r", warn=True)
    [chosen] = [a for a in due if (a.target, a.action) == (target, action)]
    return notification(clock, chosen, issue_url=issue_url, now=now)


def as_claimed(new: NewJob, *, attempts: int = 1, job_id: int = 1) -> Job:
    """``new`` as the worker hands it to a handler: claimed, its payload back from JSON."""
    return Job(
        id=job_id,
        kind=new.kind,
        job_key=new.job_key,
        payload=json.loads(json.dumps(dict(new.payload))),
        status=JobStatus.RUNNING,
        priority=new.priority,
        attempts=attempts,
        run_at=new.run_at,
        locked_by="test-worker",
        locked_until=new.run_at + timedelta(minutes=1),
        last_error=None,
        created_at=new.run_at,
        updated_at=new.run_at,
    )


@dataclass(frozen=True)
class Received:
    """One recorded POST; ``headers`` lower-cased; ``verified_by`` when a secret matched."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified_by: str | None = None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every POST and answers 200 ``ok``, or the answers queued by ``fail``.

    With ``secrets``, each request is verified the Standard Webhooks way at ``clock()``; one
    that no secret verifies is recorded and answered 401, as a careful receiver would.
    ``delay`` holds every answer back (to make the sender time out after sending).
    """

    secrets: tuple[str, ...] = ()
    delay: float = 0.0
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    received: list[Received] = field(default_factory=list)
    _answers: list[tuple[int, dict[str, str], str]] = field(default_factory=list)

    def fail(self, status: int, *, times: int = 1, body: str = "", **headers: str) -> None:
        """Answer the next ``times`` requests with ``status`` (headers: ``Retry_After="7"``)."""
        named = {name.replace("_", "-"): value for name, value in headers.items()}
        self._answers += [(status, named, body)] * times

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self._receive, methods=["POST"])])

    async def _receive(self, request: Request) -> Response:
        body = await request.body()
        headers = {name.lower(): value for name, value in request.headers.items()}
        verified = self._verify(body, headers)
        self.received.append(Received(request.url.path, headers, body, verified))
        await asyncio.sleep(self.delay)
        if self.secrets and verified is None:
            return PlainTextResponse("invalid signature", status_code=401)
        if self._answers:
            status, extra, text = self._answers.pop(0)
            return PlainTextResponse(text, status_code=status, headers=extra)
        return PlainTextResponse("ok")

    def _verify(self, body: bytes, headers: dict[str, str]) -> str | None:
        if not self.secrets:
            return None
        try:
            delivery = Verifier(STANDARD, self.secrets).verify(
                source="keeptrusts", body=body, headers=headers, now=self.clock()
            )
        except SignatureError:
            return None
        return delivery.verified_by


__all__ = ["ISSUE_URL", "STANDARD", "Received", "Receiver", "as_claimed", "sample_event"]
