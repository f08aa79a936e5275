"""The breach scan: every ``sla.scan_interval``, one replica at a time (an advisory lock on
PostgreSQL, a process lock on SQLite), evaluate every open clock and act on what is due.

A scan reads pages of open clocks, decides with ``sla.plan`` and takes each action through
``store.sla.act``, which commits the action's row, its jobs (the ``sla_action`` label and
comment, and notifications) and an audit row together, once per ticket, target and action.
A crash between two actions loses nothing: the next scan finds the rest. Clocks with every
target met are marked settled and not read again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from kt_jira import jobs
from kt_jira.config.models import Settings
from kt_jira.errors import ConfigError, KtJiraError
from kt_jira.jira import JiraClient
from kt_jira.jobs import SlaActionPayload
from kt_jira.metrics import Metrics
from kt_jira.sla.jsm import jsm_status
from kt_jira.sla.notify import notify_jobs
from kt_jira.sla.plan import BREACHED, Action, Clock, actions_due, notification, settled, status_of
from kt_jira.store import SlaClockRow, Store
from kt_jira.tickets.calendar import BusinessCalendar
from kt_jira.tickets.sla_clock import SignalKind, SlaStatus

log = structlog.get_logger("kt_jira.sla")
LOCK = "sla-scan"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class ScanReport:
    scanned: int = 0
    acted: int = 0
    settled: int = 0


@dataclass(kw_only=True)
class SlaScan:
    """Evaluates open clocks and takes due actions; ``extra`` runs after each scan under the
    same lock (the false-positive loop's scan)."""

    settings: Settings
    store: Store
    metrics: Metrics
    jira: JiraClient | None = None  #: needed by ``sla.mode: jsm`` only
    clock: Callable[[], datetime] = utcnow
    on_enqueue: Callable[[], None] = lambda: None
    extra: list[Callable[[datetime], Awaitable[int]]] = field(default_factory=list)

    async def run_locked(self) -> ScanReport | None:
        """One scan, unless another replica (or task) holds the lock: then ``None``."""
        async with self.store.db.exclusive(LOCK) as acquired:
            if not acquired:
                log.debug("sla.scan_skipped", reason="another scan holds the lock")
                return None
            return await self.run()

    async def run(self) -> ScanReport:
        """Scan every open clock once at the current time. Call ``run_locked`` in a service."""
        now = self.clock()
        scanned = acted = settled_count = 0
        after = ""
        calendars = self.settings.content.calendars  # built per access: once per scan
        while rows := await self.store.sla.clocks(after=after):
            final: list[str] = []
            for row in rows:
                took, done = await self._scan_one(row, calendars, now)
                acted += took
                if done:
                    final.append(row.link.escalation_id)
            await self.store.sla.settle(final, now=now)
            scanned += len(rows)
            settled_count += len(final)
            after = rows[-1].link.escalation_id
        for step in self.extra:
            acted += await step(now)
        if acted:
            self.on_enqueue()
        report = ScanReport(scanned=scanned, acted=acted, settled=settled_count)
        log.info("sla.scanned", scanned=scanned, acted=acted, settled=settled_count)
        return report

    async def _scan_one(
        self, row: SlaClockRow, calendars: Mapping[str, BusinessCalendar], now: datetime
    ) -> tuple[int, bool]:
        sla = self.settings.sla
        clock = clock_of(row)
        if clock.calendar and clock.calendar not in calendars:
            log.warning("sla.calendar_missing", escalation_id=clock.escalation_id,
                        calendar=clock.calendar)  # fmt: skip
        if sla.mode == "jsm":
            found = await self._jsm(row)
            if found is None:
                return 0, False
            status = found
        else:
            status = status_of(clock, signal_rows(row), calendars, at_risk=sla.at_risk, now=now)
        due = actions_due(
            status,
            [(a.target, a.action) for a in row.actions],
            breach_label=sla.breach_label,
            at_risk_label=sla.at_risk_label,
            warn=sla.at_risk is not None,
        )
        acted = 0
        for action in due:
            if await self._act(clock, action, now):
                acted += 1
        return acted, settled(status)

    async def _jsm(self, row: SlaClockRow) -> SlaStatus | None:
        """Service Management's own clocks for the ticket; ``None`` (logged) when unreadable."""
        if self.jira is None:
            raise ConfigError("sla.mode is jsm but the scan has no Jira client")
        issue = row.link.issue_id or row.link.escalation_id
        try:
            values = await self.jira.request_slas(issue)
        except KtJiraError as exc:
            log.warning("sla.jsm_unreadable", escalation_id=row.link.escalation_id,
                        issue_key=row.link.issue_key, error=str(exc))  # fmt: skip
            return None
        names = self.settings.sla.jsm_fields
        return jsm_status(
            values,
            first_response=names.first_response,
            resolution=names.resolution,
            at_risk=self.settings.sla.at_risk,
        )

    async def _act(self, clock: Clock, action: Action, now: datetime) -> bool:
        sla = self.settings.sla
        payload: SlaActionPayload = {
            "escalation_id": clock.escalation_id,
            "target": action.target,
            "action": action.action,
            "due": action.due.isoformat(),
            "label": action.label,
            "comment": action.comment if sla.comment else "",
        }
        event = notification(
            clock, action, issue_url=self.settings.jira.browse_url(clock.issue_key), now=now
        )
        at_risk = action.action != BREACHED
        notices = notify_jobs(sla.notify, event, at_risk=at_risk, run_at=now)
        work = [jobs.sla_action(payload, run_at=now), *notices]
        taken = await self.store.sla.act(
            clock.escalation_id,
            target=action.target,
            action=action.action,
            due=action.due,
            jobs=work,
            now=now,
            detail={"issue_key": clock.issue_key, "text": action.comment},
        )
        if taken:
            counter = (
                self.metrics.sla_breaches if action.action == BREACHED else self.metrics.sla_at_risk
            )
            counter.labels(target=action.target).inc()
            log.info(f"sla.{action.action}", escalation_id=clock.escalation_id,
                     issue_key=clock.issue_key, target=action.target,
                     due=action.due.isoformat())  # fmt: skip
        return taken


def clock_of(row: SlaClockRow) -> Clock:
    link = row.link
    assert link.sla_started_at is not None  # store.sla.clocks reads tracked links only
    return Clock(
        escalation_id=link.escalation_id,
        issue_key=link.issue_key or link.issue_id or "",
        started_at=link.sla_started_at,
        first_response=link.sla_first_response,
        resolution=link.sla_resolution,
        calendar=link.sla_calendar,
        policy_name=row.policy_name,
        severity=row.severity,
    )


def signal_rows(row: SlaClockRow) -> list[tuple[str, datetime]]:
    """The recorded signals, plus the facts the link and escalation hold whichever way they were
    learnt (a webhook, or reconcile): the escalation's resolve and the first human response."""
    found = [(s.kind, s.at) for s in row.signals]
    if not row.escalation_open and row.escalation_resolved_at is not None:
        found.append((SignalKind.ESCALATION_RESOLVED.value, row.escalation_resolved_at))
    if row.link.first_response_at is not None:
        found.append((SignalKind.HUMAN_COMMENT.value, row.link.first_response_at))
    return found


async def run_periodically(scan: SlaScan, *, stop: asyncio.Event) -> None:
    """Scan every ``sla.scan_interval`` until ``stop``; never raises (a failed scan is logged and
    the next one comes), and returns only once ``stop`` is set."""
    every = scan.settings.sla.scan_every
    if every is None:
        log.info("sla.scan_disabled", reason="sla.scan_interval is 0")
        await stop.wait()
        return
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every.total_seconds())
            return
        try:
            await scan.run_locked()
        except Exception as exc:  # the scan must outlive one bad run; the next retries
            log.exception("sla.scan_failed", error=str(exc))
