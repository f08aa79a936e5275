"""Reconcile: compare Keeptrusts, the bridge's database and Jira, and repair what webhooks missed.

``Reconciler.run`` gathers the three views, plans with the pure ``reconcile_plan.plan`` and
carries the plan out: creates and resolves go through the job queue exactly as webhooks do (the
handlers keep their exactly-once rules); duplicates are folded in Jira directly. With
``dry_run`` it plans and reports but writes nowhere. The worker's periodic run holds
``store.db.exclusive("reconcile")``, so one replica reconciles at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import structlog

from kt_jira.config.models import Settings
from kt_jira.errors import PermanentError
from kt_jira.jira import JiraClient
from kt_jira.jira.search import search_all
from kt_jira.jobs import Kind
from kt_jira.reconcile.apply import Repairs, follow_up
from kt_jira.reconcile.plan import (
    Action,
    ActionKind,
    JiraIssue,
    JobState,
    LocalEscalation,
    Plan,
    RemoteEscalation,
    escalation_of,
    linked_issues_to_fetch,
    needs_detail,
    plan,
)
from kt_jira.reconcile.report import NoProgress, Outcome, Progress, Report, Status
from kt_jira.reconcile.signals import sla_facts
from kt_jira.reconcile.source import KeeptrustsReader, jira_issue
from kt_jira.render.sanitise import jql_string, project_jql
from kt_jira.store import SlaSignal, Store
from kt_jira.tickets.rules import projects
from kt_jira.tickets.sla import parse_duration

LOCK = "reconcile"
JOB_KINDS = (Kind.CREATE_ISSUE, Kind.RESOLVE_JIRA, Kind.RESOLVE_KEEPTRUSTS, Kind.RESOLVE_GROUP)
SEARCH_FIELDS = (
    "labels",
    "created",
    "updated",
    "status",
    "resolution",
    "resolutiondate",
    "statuscategorychangedate",
)
log = structlog.get_logger("kt_jira.reconcile")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(kw_only=True)
class Reconciler:
    settings: Settings
    store: Store
    jira: JiraClient
    keeptrusts: KeeptrustsReader | None  #: None: run_locked opens one per run
    clock: Callable[[], datetime] = utcnow
    progress: Progress = field(default_factory=NoProgress)
    on_enqueue: Callable[[], None] = lambda: None
    _marker_fields: list[str] = field(default_factory=list, init=False)

    async def run_locked(self) -> Report | None:
        """One periodic run under the fleet-wide lock; logs instead of raising.

        ``None`` when another replica holds the lock or the run failed."""
        try:
            async with self.store.db.exclusive(LOCK) as acquired:
                if not acquired:
                    log.info("reconcile.skipped", reason="another replica is reconciling")
                    return None
                async with KeeptrustsReader.open(self.settings) as reader:
                    report = await replace(self, keeptrusts=reader).run()
        except Exception as exc:  # the next run tries again; the bridge keeps serving
            log.error("reconcile.failed", error=str(exc))
            return None
        counts = {f"{k.value}: {s.value}": n for (k, s), n in report.counts().items()}
        log.info("reconcile.finished", counts=counts, failed=len(report.failed))
        return report

    @property
    def reader(self) -> KeeptrustsReader:
        if self.keeptrusts is None:
            raise RuntimeError("Reconciler.run needs a KeeptrustsReader; run_locked opens one")
        return self.keeptrusts

    @property
    def repairs(self) -> Repairs:
        return Repairs(settings=self.settings, store=self.store, jira=self.jira)

    async def run(self, *, dry_run: bool = False, since: str | None = None) -> Report:
        """Survey, plan and (unless ``dry_run``) repair; one action's failure stops no other."""
        now = self.clock()
        found = await self.survey(now, since=since or self.settings.reconcile.since)
        self.progress.start("repairing" if not dry_run else "planning", len(found.actions))
        outcomes: list[Outcome] = []
        handled: set[int] = set()
        for index, action in enumerate(found.actions):
            if index not in handled:
                follow = follow_up(found.actions, index)
                if follow is not None:
                    handled.add(follow)
                pair = [action] + ([found.actions[follow]] if follow is not None else [])
                outcomes += await self._carry_out(pair, now, dry_run=dry_run)
            self.progress.advance()
        if not dry_run:
            await self._record_sla(found, now)
        if not dry_run and any(o.status is Status.DONE for o in outcomes):
            self.on_enqueue()
        return Report(
            plan=found,
            outcomes=tuple(outcomes),
            dry_run=dry_run,
            unreadable=self.reader.unreadable,
        )

    async def survey(self, now: datetime, *, since: str) -> Plan:
        """Read Keeptrusts, Jira and the database (never writing) and plan the repairs."""
        self.progress.start("Keeptrusts: open escalations")
        open_upstream = await self.reader.list_open()
        self.progress.advance(len(open_upstream))
        self.progress.start("Jira: issues updated in the window")
        issues = await self._search(parse_duration(since))
        self.progress.advance(len(issues))
        marked = {eid for i in issues for label in i.labels if (eid := escalation_of(label, {}))}
        marked |= {eid for i in issues for eid in i.marker_ids}
        rows = await self.store.reconcile.rows(
            escalation_ids=[*(r.escalation_id for r in open_upstream), *marked],
            issue_ids=[i.issue_id for i in issues],
        )
        local = [
            LocalEscalation(
                escalation_id=r.escalation_id,
                status=r.status,
                link_state=r.link_state,
                issue_id=r.issue_id,
                issue_key=r.issue_key,
                group_role=r.group_role,
                group_open=r.group_open,
            )
            for r in rows
        ]
        asked = needs_detail(open_upstream, local)
        self.progress.start("Keeptrusts: escalations no longer open", len(asked))
        upstream: dict[str, RemoteEscalation] = {}
        for eid in asked:
            upstream[eid] = await self.reader.get(eid)
            self.progress.advance()
        missing = linked_issues_to_fetch(upstream, local, issues)
        self.progress.start("Jira: linked issues", len(missing))
        for issue_id in missing:
            issue = await self._get_issue(issue_id)
            if issue is not None:
                issues.append(issue)
            self.progress.advance()
        ids = {
            *(r.escalation_id for r in open_upstream),
            *(e.escalation_id for e in local),
            *marked,
        }
        statuses = await self.store.reconcile.job_statuses(
            escalation_ids=list(ids), kinds=JOB_KINDS
        )
        jira = self.settings.jira
        found = plan(
            keeptrusts_open=open_upstream,
            local=local,
            jira_issues=issues,
            now=now,
            upstream=upstream,
            jobs={key: _state(values) for key, values in statuses.items()},
            grace=timedelta(seconds=jira.timeout_seconds + jira.search_consistency_delay_seconds),
        )
        return replace(found, sla_signals=sla_facts(local, issues))

    async def _record_sla(self, found: Plan, now: datetime) -> None:
        """Give the SLA clocks the dated facts webhooks may have missed (kept once each)."""
        by_escalation: dict[str, list[SlaSignal]] = {}
        for escalation_id, signal in found.sla_signals:
            stored = SlaSignal(kind=signal.kind.value, at=signal.at)
            by_escalation.setdefault(escalation_id, []).append(stored)
        for escalation_id, signals in by_escalation.items():
            await self.store.sla.record(escalation_id, signals, now=now)

    async def _search(self, since: timedelta) -> list[JiraIssue]:
        minutes = max(1, math.ceil(since.total_seconds() / 60))
        label = jql_string(self.settings.reconcile.jira_label)
        jql = (
            f"{project_jql(projects(self.settings.content))} AND labels = {label} "
            f"AND updated >= -{minutes}m ORDER BY created ASC"
        )
        self._marker_fields = await self._escalation_id_fields()
        wanted = (*SEARCH_FIELDS, *self._marker_fields)
        found = await search_all(self.jira, jql, fields=wanted)
        return [i for raw in found if (i := jira_issue(raw, self._marker_fields)) is not None]

    async def _escalation_id_fields(self) -> list[str]:
        """Field ids named like the Escalation ID field, when that field is the marker."""
        name = self.settings.jira.fields.escalation_id
        if self.settings.jira.correlation.marker == "label" or name is None:
            return []
        return [f.id for f in await self.jira.fields() if f.name == name]

    async def _get_issue(self, issue_id: str) -> JiraIssue | None:
        try:
            raw = await self.jira.get_issue(issue_id, fields=(*SEARCH_FIELDS, *self._marker_fields))
        except PermanentError as exc:
            if exc.status == 404:
                return None
            raise
        return jira_issue(raw, self._marker_fields)

    async def _carry_out(
        self, pair: list[Action], now: datetime, *, dry_run: bool
    ) -> list[Outcome]:
        first = pair[0]
        if first.kind is ActionKind.NOTE:
            return [Outcome(action=first, status=Status.NOTED)]
        if dry_run:
            return [Outcome(action=a, status=Status.WOULD) for a in pair]
        try:
            details, changed = await self.repairs.apply(pair, now)
        except Exception as exc:  # one failed repair must not stop the others
            log.warning(
                "reconcile.action_failed",
                kind=first.kind.value,
                escalation_id=first.escalation_id,
                error=str(exc),
            )
            return [Outcome(action=a, status=Status.FAILED, detail=str(exc)) for a in pair]
        status = Status.DONE if changed else Status.ALREADY
        log.info(
            "reconcile.repaired",
            kind=first.kind.value,
            escalation_id=first.escalation_id,
            detail="; ".join(details),
            status=status.value,
        )
        return [
            Outcome(action=a, status=status, detail=d) for a, d in zip(pair, details, strict=False)
        ]


def _state(statuses: Iterable[str]) -> JobState:
    found = set(statuses)
    if found & {"queued", "running"}:
        return JobState.PENDING
    return JobState.DONE if "done" in found else JobState.DEAD


async def run_periodically(
    *,
    settings: Settings,
    store: Store,
    jira: JiraClient,
    stop: asyncio.Event,
    on_enqueue: Callable[[], None] = lambda: None,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Reconcile every ``reconcile.interval`` until ``stop``; one replica at a time. Never raises
    (a failed run is logged and the next one comes), and returns only once ``stop`` is set."""
    interval = settings.reconcile.interval
    if interval is None or settings.keeptrusts.api_token is None:
        why = "reconcile.interval is off" if interval is None else "keeptrusts.api_token is unset"
        log.info("reconcile.periodic_disabled", reason=why)
        await stop.wait()
        return
    seconds = parse_duration(interval).total_seconds()
    reconciler = Reconciler(
        settings=settings,
        store=store,
        jira=jira,
        keeptrusts=None,
        clock=clock,
        on_enqueue=on_enqueue,
    )
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds)
            return
        except TimeoutError:
            pass
        run = asyncio.create_task(reconciler.run_locked())
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({run, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if not run.done():  # stopping: a half-done run is safe, every repair commits alone
            run.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await run
