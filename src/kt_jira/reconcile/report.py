"""What a reconcile run reports: its phases while it runs, and each action's outcome after.

Values only; ``reconcile_view`` draws them, the worker logs them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from kt_jira.reconcile.plan import Action, ActionKind, Plan


class Progress(Protocol):
    """Where a run reports its phases (the CLI draws a bar; the worker logs nothing)."""

    def start(self, phase: str, total: int | None = None) -> None: ...

    def advance(self, steps: int = 1) -> None: ...


class NoProgress:
    def start(self, phase: str, total: int | None = None) -> None:
        pass

    def advance(self, steps: int = 1) -> None:
        pass


class Status(StrEnum):
    DONE = "done"
    WOULD = "would do"
    ALREADY = "already queued"
    FAILED = "failed"
    NOTED = "left as is"


@dataclass(frozen=True, kw_only=True)
class Outcome:
    action: Action
    status: Status
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class Report:
    plan: Plan
    outcomes: tuple[Outcome, ...]
    dry_run: bool
    unreadable: int = 0  #: Keeptrusts items skipped for want of an escalation id

    def counts(self) -> Counter[tuple[ActionKind, Status]]:
        return Counter((o.action.kind, o.status) for o in self.outcomes)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status is Status.FAILED]
