"""``kt-jira setup jira``: every field the config names exists, by name, on each create screen
that needs it; with ``apply`` the missing ones are created and put there.

Cloud: ``POST /field`` (only for a name no field has: Jira allows duplicates, so the name is
looked up first), then the create screen's first tab. Data Center creates fields the same way,
but has no call that finds a project's create screen, so putting a field there is printed as
a step for a person, as is everything when the account lacks *Administer Jira*. Each step is
one line, printed as it happens; a run that has nothing to do changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from kt_jira.commands.field_plan import (
    DESCRIPTION,
    CreateScreen,
    FieldStep,
    add_text,
    create_text,
    exit_code,
    plan,
    wanted_fields,
)
from kt_jira.commands.field_screens import read_screens
from kt_jira.config.models import Settings
from kt_jira.errors import PermanentError
from kt_jira.jira import JiraClient, MemoryPauseStore

__all__ = ["PERMISSION", "setup_jira_fields"]

PERMISSION = (
    "the Jira account may not change fields or screens: it needs the 'Administer Jira' global "
    "permission; grant it, run this again with an admin's credentials, or do the steps marked "
    "'by hand' yourself"
)
Echo = Callable[[str], None]


async def setup_jira_fields(
    settings: Settings,
    *,
    apply: bool,
    echo: Echo,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """Check (``apply=False``: say what ``--create-fields`` would do) or set up the fields;
    the exit code of ``field_plan.exit_code``, or 1 when a change Jira refused is left."""
    wanted = wanted_fields(settings.content)
    async with JiraClient(settings.jira, pause=MemoryPauseStore(), transport=transport) as jira:
        fields = await jira.fields()
        read = await read_screens(jira, dict.fromkeys(t for w in wanted for t in w.targets))
        if read.refused:
            echo(PERMISSION)
        steps = plan(wanted, fields, read.screens)
        run = _Run(jira=jira, apply=apply, echo=echo, by_hand_only=read.refused)
        for step in steps:
            await run.field(step)
    code = max(exit_code(steps, applied=apply), 1 if run.refused else 0)
    echo(_summary(code, apply=apply))
    return code


def _summary(code: int, *, apply: bool) -> str:
    if code == 0:
        return "every field is on its create screens" + ("" if apply else "; nothing to do")
    if code == 3:
        return "run again with --create-fields to make these changes"
    return "steps are left to do by hand (above); run this again afterwards to check"


@dataclass(kw_only=True)
class _Run:
    """Carries out (or, without ``apply``, describes) the steps; after Jira refuses a change,
    the rest are printed as steps by hand."""

    jira: JiraClient
    apply: bool
    echo: Echo
    by_hand_only: bool = False
    refused: bool = field(default=False, init=False)

    @property
    def flavor(self) -> str:
        return self.jira.settings.flavor

    def by_hand(self, text: str) -> None:
        self.echo(f"by hand: {text}")

    async def field(self, step: FieldStep) -> None:
        name, field_id = step.wanted.name, step.field_id
        if field_id is not None:
            self.echo(f"field {name} already present ({field_id})")
        for screen in step.present_on:
            self.echo(f"{name} already present on {screen.label}")
        screens = step.add_to
        if step.create:
            if self.by_hand_only:
                self.by_hand(create_text(step, self.flavor))  # it names the screens too
                screens = ()
            elif not self.apply:
                self.echo(f"would create field {name} ({step.wanted.kind.key})")
            else:
                field_id = await self._create(step)
                screens = screens if field_id is not None else ()
        for screen in screens:
            await self._add(step, field_id, screen)
        for text in step.by_hand:
            self.by_hand(text)

    async def _create(self, step: FieldStep) -> str | None:
        """``POST /field``: the new field's id, or None (and the step by hand) if refused."""
        name, kind = step.wanted.name, step.wanted.kind
        try:
            created = await self.jira.create_custom_field(
                name=name,
                type_key=kind.type_key,
                searcher_key=kind.searcher_key,
                description=DESCRIPTION,
            )
        except PermanentError as exc:
            self._refusal(f"create field {name}", exc)
            self.by_hand(create_text(step, self.flavor))
            return None
        self.echo(f"created field {name} ({created.id}, {kind.key})")
        return created.id

    async def _add(self, step: FieldStep, field_id: str | None, screen: CreateScreen) -> None:
        name = step.wanted.name
        tab = f"{screen.label} (tab {screen.tab_name})"
        if self.by_hand_only or screen.screen_id is None or screen.tab_id is None:
            self.by_hand(add_text(name, field_id, screen, self.flavor))
        elif not self.apply or field_id is None:
            self.echo(f"would add {name} to {tab}")
        else:
            try:
                await self.jira.add_screen_tab_field(screen.screen_id, screen.tab_id, field_id)
            except PermanentError as exc:
                self._refusal(f"add {name} to {screen.label}", exc)
                self.by_hand(add_text(name, field_id, screen, self.flavor))
            else:
                self.echo(f"added {name} to {tab}")

    def _refusal(self, what: str, exc: PermanentError) -> None:
        """Say why Jira refused; every later change is then printed as a step by hand."""
        if exc.status == 403 and not self.by_hand_only:
            self.echo(PERMISSION)
        elif exc.status != 403:
            self.echo(f"could not {what}: {exc}")
        self.refused = self.by_hand_only = True
