"""What a scan does for one ticket (``sla.plan``) and how JSM's SLAs read (``sla.jsm``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kt_jira.sla.jsm import jsm_status
from kt_jira.sla.plan import AT_RISK, BREACHED, Clock, actions_due, settled, status_of
from kt_jira.tickets.sla_clock import SlaState

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CLOCK = Clock(
    escalation_id="esc_1",
    issue_key="AIGOV-1",
    started_at=START,
    first_response=timedelta(minutes=15),
    resolution=timedelta(hours=1),
)


def due(minutes: float, signals: list[tuple[str, datetime]], taken=()):  # type: ignore[no-untyped-def]
    status = status_of(CLOCK, signals, {}, at_risk=0.75, now=START + timedelta(minutes=minutes))
    actions = actions_due(status, taken, breach_label="b", at_risk_label="r", warn=True)
    return status, [(a.target, a.action) for a in actions]


def test_a_running_ticket_warns_then_breaches_each_target_once() -> None:
    assert due(10, [])[1] == []
    assert due(12, [])[1] == [("first_response", AT_RISK)]
    assert due(12, [], taken=[("first_response", AT_RISK)])[1] == []
    assert due(16, [], taken=[("first_response", AT_RISK)])[1] == [("first_response", BREACHED)]


def test_a_scan_that_first_sees_a_breach_sends_no_warning() -> None:
    assert due(70, [])[1] == [("first_response", BREACHED), ("resolution", BREACHED)]


def test_met_in_time_is_never_acted_on_and_settles() -> None:
    signals = [("assigned", START + timedelta(minutes=5)), ("done", START + timedelta(minutes=40))]
    status, actions = due(500, signals)
    assert actions == []
    assert settled(status)


def test_met_late_still_counts_as_breached() -> None:
    status, actions = due(500, [("human comment", START + timedelta(minutes=20))])
    assert ("first_response", BREACHED) in actions
    assert not settled(status)  # resolution still running (and breached)


def test_unknown_signal_kinds_from_a_newer_version_are_skipped() -> None:
    assert due(10, [("teleported", START)])[1] == []


def _cycle(*, goal_min: int, elapsed_min: int, breached: bool, stop: bool) -> dict[str, object]:
    start = int(START.timestamp() * 1000)
    cycle: dict[str, object] = {
        "startTime": {"epochMillis": start},
        "breachTime": {"epochMillis": start + goal_min * 60000},
        "breached": breached,
        "goalDuration": {"millis": goal_min * 60000},
        "elapsedTime": {"millis": elapsed_min * 60000},
        "remainingTime": {"millis": (goal_min - elapsed_min) * 60000},
    }
    if stop:
        cycle["stopTime"] = {"epochMillis": start + elapsed_min * 60000}
    return cycle


@pytest.mark.parametrize(
    ("elapsed", "breached", "stop", "state"),
    [
        (10, False, False, SlaState.RUNNING),
        (25, False, False, SlaState.AT_RISK),
        (35, True, False, SlaState.BREACHED),
        (20, False, True, SlaState.MET),
        (40, True, True, SlaState.BREACHED),
    ],
)
def test_jsm_cycles_become_target_states(
    elapsed: int, breached: bool, stop: bool, state: SlaState
) -> None:
    cycle = _cycle(goal_min=30, elapsed_min=elapsed, breached=breached, stop=stop)
    value = {"name": "Time to first response", "completedCycles": [cycle] if stop else []}
    if not stop:
        value["ongoingCycle"] = cycle
    status = jsm_status(
        [value],
        first_response="time to FIRST response",
        resolution="Time to resolution",
        at_risk=0.75,
    )
    assert status.resolution is None
    assert status.first_response is not None
    assert status.first_response.state is state
    assert status.first_response.due == START + timedelta(minutes=30)
    if state is SlaState.BREACHED:
        assert status.first_response.overdue_by == timedelta(minutes=elapsed - 30)
