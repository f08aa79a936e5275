"""How ``kt-jira reconcile`` looks in a terminal: a progress bar while it runs, tables after.

Rendering only: it reads a ``Report`` and writes to a rich ``Console``; no I/O of its own.
"""

from __future__ import annotations

from collections import Counter
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from kt_jira.reconcile.plan import ActionKind
from kt_jira.reconcile.report import Report, Status

DETAIL_ROWS = 50  #: the per-escalation table stops here; the summary counts everything
_FINDINGS = {
    ActionKind.LEARN: "open in Keeptrusts, never received",
    ActionKind.CREATE: "open in Keeptrusts, no ticket",
    ActionKind.RESOLVE_KEEPTRUSTS: "done in Jira, open in Keeptrusts",
    ActionKind.RECORD_RESOLUTION: "closed in Keeptrusts, open in the database",
    ActionKind.RESOLVE_JIRA: "closed in Keeptrusts, ticket not done",
    ActionKind.RESOLVE_GROUP: "every escalation of a group closed, its ticket not done",
    ActionKind.FOLD: "duplicate tickets",
    ActionKind.NOTE: "needs a person / in progress",
}


class RichProgress:
    """``Progress`` for the CLI: one bar per phase, on stderr, gone when the run ends."""

    def __init__(self, console: Console) -> None:
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> RichProgress:
        self._bar.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._bar.__exit__(exc_type, exc, tb)

    def start(self, phase: str, total: int | None = None) -> None:
        if self._task is not None:
            self._bar.update(self._task, completed=self._bar.tasks[-1].total or 0)
        self._task = self._bar.add_task(phase, total=total)

    def advance(self, steps: int = 1) -> None:
        if self._task is not None:
            self._bar.advance(self._task, steps)


def summary_table(report: Report) -> Table:
    """One row per kind of finding: how many, and what was done (or would be, on a dry run)."""
    plan = report.plan
    title = (
        f"reconcile{' (dry run: nothing written)' if report.dry_run else ''} — "
        f"{plan.keeptrusts_open} open in Keeptrusts, {plan.local_checked} in the database, "
        f"{plan.jira_issues} Jira issues"
    )
    table = Table("finding", "found", "action", "outcome", title=title)
    counts = report.counts()
    for kind, finding in _FINDINGS.items():
        found = sum(n for (k, _), n in counts.items() if k is kind)
        if not found:
            continue
        outcomes = ", ".join(f"{n} {s.value}" for (k, s), n in sorted(counts.items()) if k is kind)
        table.add_row(finding, str(found), kind.value, outcomes)
    if not report.outcomes:
        table.add_row("nothing to repair", "0", "-", "-")
    if report.unreadable:
        table.add_row("Keeptrusts items without an id", str(report.unreadable), "skipped", "-")
    return table


def detail_table(report: Report) -> Table | None:
    """Each escalation that needed attention (at most ``DETAIL_ROWS``)."""
    if not report.outcomes:
        return None
    table = Table("escalation", "issue", "action", "outcome", "why")
    for outcome in report.outcomes[:DETAIL_ROWS]:
        action = outcome.action
        why = action.reason + (f" — {outcome.detail}" if outcome.detail else "")
        issue = action.issue_key or action.keep_key or ""
        kind = "-" if action.kind is ActionKind.NOTE else action.kind.value
        table.add_row(action.escalation_id, issue, kind, outcome.status.value, why)
    hidden = len(report.outcomes) - DETAIL_ROWS
    if hidden > 0:
        table.caption = f"… and {hidden} more"
    return table


DRIFT = 3  #: a dry run found repairs to make (for cron: alert, then run it for real)


def exit_code(report: Report) -> int:
    """0: nothing to repair, or every repair succeeded; 1: a repair failed; 3 (``DRIFT``): a
    dry run found repairs to make."""
    if Counter(o.status for o in report.outcomes)[Status.FAILED]:
        return 1
    return DRIFT if report.dry_run and report.plan.writes else 0


def render(report: Report, console: Console) -> None:
    details = detail_table(report)
    if details is not None:
        console.print(details)
    console.print(summary_table(report))
