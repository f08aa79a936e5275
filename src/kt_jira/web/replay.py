"""Replaying a quarantined delivery: its stored body through the intake's own parse and record.

The signature was checked when the delivery arrived (only verified bodies are quarantined), so
the stored bytes are re-issued as a ``VerifiedDelivery`` (``signing.kept``) and meet exactly what
a sender's retry would after the signature check: the parser, then the intake's ``record``,
whose ingest promotes the quarantined row. A body that still does not parse stays quarantined,
with the new reason. Jira's ``webhook_max_age_seconds`` is not applied: it guards against
replays by others, and this one is the admin's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from starlette.responses import JSONResponse

from kt_jira.errors import PayloadError
from kt_jira.events.jira import parse_jira_event
from kt_jira.events.keeptrusts import parse_event
from kt_jira.signing import VerifiedDelivery, kept
from kt_jira.store import DeliveryRecord, Store
from kt_jira.web.jira import JiraIntake
from kt_jira.web.keeptrusts import KeeptrustsIntake


@dataclass(frozen=True, kw_only=True)
class Replayed:
    """What a replay did: ``accepted``, ``duplicate`` (that event was accepted already),
    ``ignored`` (an event type the bridge does not handle) or ``quarantined`` (still unusable;
    ``detail`` says why)."""

    outcome: str
    detail: str = ""


@dataclass(kw_only=True)
class Replayer:
    store: Store
    keeptrusts: KeeptrustsIntake
    jira: JiraIntake
    clock: Callable[[], datetime]

    async def replay(self, record: DeliveryRecord, *, by: str) -> Replayed:
        """Re-run a quarantined ``record`` (read with its body) through its source's intake."""
        if record.body is None or record.source not in ("keeptrusts", "jira"):
            raise ValueError(f"delivery {record.id} has no body or an unknown source")
        delivery = kept(
            source="jira" if record.source == "jira" else "keeptrusts",
            body=record.body,
            delivery_id=record.delivery_id,
            headers=record.headers,
            received_at=record.received_at,
            verified_by=record.verified_by,
        )
        try:
            response = await self._parse_and_record(delivery)
        except PayloadError as exc:
            await self.store.quarantine.still_unusable(
                record.id, reason=str(exc), http_status=exc.status, by=by, now=self.clock()
            )
            return Replayed(outcome="quarantined", detail=str(exc))
        return Replayed(outcome=_status(response))

    async def _parse_and_record(self, delivery: VerifiedDelivery) -> JSONResponse:
        """``PayloadError`` (from the parser, before anything is written) when still unusable."""
        if delivery.source == "jira":
            return await self.jira.record(delivery, parse_jira_event(delivery.body))
        return await self.keeptrusts.record(delivery, parse_event(delivery.body))


def _status(response: JSONResponse) -> str:
    status = json.loads(bytes(response.body)).get("status", "")
    return str(status)
