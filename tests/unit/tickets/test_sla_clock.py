"""SLA clocks: time-travel tests of first response and resolution, pauses, reopens and comments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import permutations
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kt_jira.tickets.calendar import EVERY_DAY, FULL_DAY, BusinessCalendar
from kt_jira.tickets.sla_clock import (
    Signal,
    SignalKind,
    SlaPolicy,
    SlaState,
    SlaStatus,
    Target,
    TargetStatus,
    at_risk_comment_text,
    breach_comment_text,
    duration_words,
    evaluate,
)

K = SignalKind
M = timedelta(minutes=1)
H = timedelta(hours=1)
T0 = datetime(2026, 12, 4, 10, tzinfo=UTC)  # a Friday
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = BusinessCalendar(timezone="Europe/Berlin")
POLICY = SlaPolicy(first_response=15 * M, resolution=H, at_risk=0.75)


def at(minutes: float) -> datetime:
    return T0 + minutes * M


def sig(kind: SignalKind, when: float | datetime) -> Signal:
    return Signal(kind=kind, at=when if isinstance(when, datetime) else at(when))


def run(
    *signals: Signal, now: datetime, policy: SlaPolicy = POLICY, started_at: datetime = T0
) -> SlaStatus:
    return evaluate(policy, started_at=started_at, signals=signals, now=now)


def response(*signals: Signal, now: datetime, policy: SlaPolicy = POLICY) -> TargetStatus:
    status = run(*signals, now=now, policy=policy).first_response
    assert status is not None
    return status


def resolution(
    *signals: Signal, now: datetime, policy: SlaPolicy = POLICY, started_at: datetime = T0
) -> TargetStatus:
    status = run(*signals, now=now, policy=policy, started_at=started_at).resolution
    assert status is not None
    return status


# --- first response ------------------------------------------------------------------------


@pytest.mark.parametrize("kinds", list(permutations([K.LEFT_TODO, K.ASSIGNED, K.HUMAN_COMMENT])))
def test_first_response_is_the_earliest_response_signal(kinds: tuple[SignalKind, ...]) -> None:
    """Whichever of left-to-do, assigned or human comment happened first meets first response."""
    signals = [sig(kinds[0], 12), sig(kinds[1], 5), sig(kinds[2], 8)]
    status = response(*signals, now=at(30))
    assert (status.state, status.met_at, status.elapsed, status.remaining) == (
        SlaState.MET,
        at(5),
        5 * M,
        10 * M,
    )


def test_an_unanswered_ticket_breaches_at_the_deadline() -> None:
    """With no response by the deadline the target is breached, and the comment says by how much."""
    status = response(now=at(22))
    assert (status.state, status.breached_at, status.overdue_by, status.remaining) == (
        SlaState.BREACHED,
        at(15),
        7 * M,
        timedelta(0),
    )
    assert breach_comment_text(status, Target.FIRST_RESPONSE) == (
        "First response SLA breached: the target was 15 minutes, missed by 7 minutes "
        "(deadline 2026-12-04 10:15 UTC)."
    )


def test_the_deadline_instant_itself_is_still_in_time() -> None:
    """At the due instant the target is not yet breached, and a response then meets it."""
    assert response(now=at(15)).state is SlaState.AT_RISK
    assert response(sig(K.ASSIGNED, 15), now=at(15)).state is SlaState.MET


def test_a_late_delivered_signal_that_happened_in_time_cures_the_breach() -> None:
    """Evaluation uses occurrence times: an assignment at 10:10 learned at 10:30 means met."""
    assert response(now=at(30)).state is SlaState.BREACHED
    cured = response(sig(K.ASSIGNED, 10), now=at(30))
    assert (cured.state, cured.met_at, cured.breached_at) == (SlaState.MET, at(10), None)


def test_a_response_after_the_deadline_is_breached_with_met_at() -> None:
    """A late response stops the clock but the target stays breached, overdue at the response."""
    status = response(sig(K.HUMAN_COMMENT, 20), now=at(60))
    assert (status.state, status.met_at, status.breached_at, status.overdue_by) == (
        SlaState.BREACHED,
        at(20),
        at(15),
        5 * M,
    )


def test_signals_after_now_have_not_happened_yet() -> None:
    """A signal dated after now is ignored: the clock is still running."""
    status = response(sig(K.ASSIGNED, 20), now=at(10))
    assert (status.state, status.met_at, status.elapsed) == (SlaState.RUNNING, None, 10 * M)


def test_signals_before_the_start_count_at_the_start() -> None:
    """An assignment dated before the SLA started counts as a response at the start."""
    status = response(sig(K.ASSIGNED, -5), now=at(10))
    assert (status.met_at, status.elapsed) == (T0, timedelta(0))


def test_now_before_the_start_means_nothing_has_elapsed() -> None:
    """A clock asked about an instant before it started is running with its whole budget."""
    status = resolution(now=at(-10))
    assert (status.state, status.elapsed, status.due) == (SlaState.RUNNING, timedelta(0), at(60))


@pytest.mark.parametrize("kind", [K.DONE, K.ESCALATION_RESOLVED])
def test_resolving_without_a_response_meets_first_response_too(kind: SignalKind) -> None:
    """A ticket resolved before anyone responded counts as responded at its resolution."""
    status = run(sig(kind, 10), now=at(30))
    assert status.first_response is not None
    assert status.resolution is not None
    assert status.first_response.met_at == status.resolution.met_at == at(10)


# --- business calendars, holidays, DST -----------------------------------------------------


def test_business_hours_carry_a_friday_ticket_into_monday() -> None:
    """A 1 h target opened Friday 16:30 in Berlin is due Monday 09:30 and breaches after it."""
    policy = SlaPolicy(first_response=H, calendar=OFFICE)
    start = datetime(2026, 12, 4, 16, 30, tzinfo=BERLIN)
    weekend = evaluate(
        policy, started_at=start, signals=[], now=datetime(2026, 12, 5, 12, tzinfo=BERLIN)
    ).first_response
    assert weekend is not None
    assert (weekend.state, weekend.elapsed, weekend.remaining) == (SlaState.RUNNING, 30 * M, 30 * M)
    assert weekend.due == datetime(2026, 12, 7, 9, 30, tzinfo=BERLIN)
    late = evaluate(
        policy, started_at=start, signals=[], now=datetime(2026, 12, 7, 9, 31, tzinfo=BERLIN)
    ).first_response
    assert late is not None
    assert (late.state, late.overdue_by) == (SlaState.BREACHED, M)
    assert breach_comment_text(late, Target.FIRST_RESPONSE) == (
        "First response SLA breached: the target was 1 hour, missed by 1 minute "
        "(deadline 2026-12-07 09:30 CET)."
    )


def test_holidays_and_the_weekend_are_not_working_time() -> None:
    """4 h from Wednesday 23 December 16:00 skip Christmas Eve, Christmas Day and the weekend."""
    calendar = BusinessCalendar(
        timezone="Europe/Berlin", holidays=frozenset({date(2026, 12, 24), date(2026, 12, 25)})
    )
    status = resolution(
        policy=SlaPolicy(resolution=4 * H, calendar=calendar),
        started_at=datetime(2026, 12, 23, 16, tzinfo=BERLIN),
        now=datetime(2026, 12, 26, tzinfo=BERLIN),
    )
    assert (status.due, status.elapsed) == (datetime(2026, 12, 28, 12, tzinfo=BERLIN), H)


ROUND_THE_CLOCK_BERLIN = BusinessCalendar(
    timezone="Europe/Berlin",
    days=EVERY_DAY,
    hours=FULL_DAY,
    holidays=frozenset({date(2026, 1, 1)}),  # a holiday, so not the ALWAYS shortcut
)
NEW_YORK_OFFICE = BusinessCalendar(timezone="America/New_York")


@pytest.mark.parametrize(
    ("calendar", "goal", "start", "due", "shown"),
    [
        (
            ROUND_THE_CLOCK_BERLIN,
            24 * H,
            datetime(2026, 3, 28, 12, tzinfo=BERLIN),
            datetime(2026, 3, 29, 13, tzinfo=BERLIN),
            "2026-03-29 13:00 CEST",
        ),
        (
            ROUND_THE_CLOCK_BERLIN,
            24 * H,
            datetime(2026, 10, 24, 12, tzinfo=BERLIN),
            datetime(2026, 10, 25, 11, tzinfo=BERLIN),
            "2026-10-25 11:00 CET",
        ),
        (
            NEW_YORK_OFFICE,
            2 * H,
            datetime(2026, 3, 6, 16, tzinfo=NEW_YORK),
            datetime(2026, 3, 9, 10, tzinfo=NEW_YORK),
            "2026-03-09 10:00 EDT",
        ),
        (
            NEW_YORK_OFFICE,
            2 * H,
            datetime(2026, 10, 30, 16, tzinfo=NEW_YORK),
            datetime(2026, 11, 2, 10, tzinfo=NEW_YORK),
            "2026-11-02 10:00 EST",
        ),
        (
            BusinessCalendar(timezone="America/New_York", days=EVERY_DAY, hours=FULL_DAY),
            H,
            datetime(2026, 3, 8, 1, 30, tzinfo=NEW_YORK),
            datetime(2026, 3, 8, 3, 30, tzinfo=NEW_YORK),
            "2026-03-08 03:30 EDT",
        ),
    ],
)
def test_deadlines_over_dst_changes(
    calendar: BusinessCalendar, goal: timedelta, start: datetime, due: datetime, shown: str
) -> None:
    """Spring forward and fall back, Europe and US: real working time, shown in local time."""
    policy = SlaPolicy(resolution=goal, calendar=calendar)
    status = resolution(policy=policy, started_at=start, now=due + M)
    assert (status.due, status.state) == (due, SlaState.BREACHED)
    assert f"(deadline {shown})" in breach_comment_text(status, Target.RESOLUTION)


# --- pauses --------------------------------------------------------------------------------


def test_a_pause_stops_the_clock() -> None:
    """Thirty paused minutes push the deadline back thirty minutes."""
    status = resolution(sig(K.PAUSED, 20), sig(K.RESUMED, 50), now=at(70))
    assert (status.state, status.elapsed, status.paused, status.due) == (
        SlaState.RUNNING,
        40 * M,
        30 * M,
        at(90),
    )


def test_a_pause_open_at_now_projects_the_deadline_from_now() -> None:
    """While paused, the deadline is where it would be if the clock resumed now."""
    for now, paused, due in ((at(50), 30 * M, at(90)), (at(100), 80 * M, at(140))):
        whole = run(sig(K.PAUSED, 20), now=now)
        status = whole.resolution
        assert whole.paused
        assert status is not None
        assert (status.state, status.elapsed, status.paused, status.due) == (
            SlaState.RUNNING,
            20 * M,
            paused,
            due,
        )


def test_repeated_pauses_and_stray_resumes_are_harmless() -> None:
    """A second PAUSED inside a pause and a RESUMED without one change nothing."""
    signals = (sig(K.RESUMED, 5), sig(K.PAUSED, 20), sig(K.PAUSED, 30), sig(K.RESUMED, 50))
    assert resolution(*signals, now=at(70)).paused == 30 * M


def test_pauses_stop_the_first_response_clock_too() -> None:
    """First response waits out a pause like resolution does."""
    assert response(sig(K.PAUSED, 5), sig(K.RESUMED, 25), now=at(30)).due == at(35)


def test_a_pause_over_a_weekend_counts_only_its_working_hours() -> None:
    """Paused Friday 16:00 to Monday 10:00 in office hours stops two working hours, not 66."""
    policy = SlaPolicy(resolution=4 * H, calendar=OFFICE)
    start = datetime(2026, 12, 4, 15, tzinfo=BERLIN)
    friday, monday = (
        datetime(2026, 12, 4, 16, tzinfo=BERLIN),
        datetime(2026, 12, 7, 10, tzinfo=BERLIN),
    )
    status = resolution(
        sig(K.PAUSED, friday),
        sig(K.RESUMED, monday),
        policy=policy,
        started_at=start,
        now=datetime(2026, 12, 7, 12, tzinfo=BERLIN),
    )
    assert (status.paused, status.elapsed, status.remaining) == (2 * H, 3 * H, H)
    assert status.due == datetime(2026, 12, 7, 13, tzinfo=BERLIN)


def test_a_pause_after_the_deadline_does_not_undo_the_breach() -> None:
    """Entering a waiting status once the deadline has passed leaves the target breached."""
    status = resolution(sig(K.PAUSED, 70), now=at(120))
    assert (status.state, status.breached_at, status.overdue_by) == (
        SlaState.BREACHED,
        at(60),
        10 * M,
    )


# --- resolution and reopening --------------------------------------------------------------


def test_a_reopen_resumes_the_resolution_clock_without_the_done_time() -> None:
    """Done 10:30, reopened 10:50: the twenty minutes done do not count, due moves to 11:20."""
    # 50 of 60 minutes used is past the 75% threshold: at risk, not yet breached.
    signals = (sig(K.DONE, 30), sig(K.REOPENED, 50))
    status = resolution(*signals, now=at(70))
    assert (status.state, status.elapsed, status.paused, status.due) == (
        SlaState.AT_RISK,
        50 * M,
        20 * M,
        at(80),
    )
    assert resolution(*signals, sig(K.DONE, 75), now=at(90)).met_at == at(75)
    assert resolution(*signals, now=at(90)).breached_at == at(80)
    assert response(*signals, now=at(90)).met_at == at(30)


def test_a_pause_overlapping_a_done_spell_is_not_subtracted_twice() -> None:
    """Paused 10:20-11:00 and done 10:30-10:40 inside it stop the resolution clock 40 minutes."""
    signals = (sig(K.PAUSED, 20), sig(K.DONE, 30), sig(K.REOPENED, 40), sig(K.RESUMED, 60))
    status = resolution(*signals, now=at(70))
    assert (status.elapsed, status.paused, status.due) == (30 * M, 40 * M, at(100))


def test_keeptrusts_resolution_is_final() -> None:
    """After the escalation is resolved in Keeptrusts a reopen in Jira does not reopen the SLA."""
    status = resolution(
        sig(K.ESCALATION_RESOLVED, 30), sig(K.DONE, 40), sig(K.REOPENED, 50), now=at(90)
    )
    assert (status.state, status.met_at) == (SlaState.MET, at(30))


def test_resolution_is_met_by_the_done_that_stuck() -> None:
    """Done then resolved in Keeptrusts is met when done; reopened then resolved, when resolved."""
    assert resolution(sig(K.DONE, 30), sig(K.ESCALATION_RESOLVED, 40), now=at(90)).met_at == at(30)
    assert resolution(
        sig(K.DONE, 30), sig(K.REOPENED, 40), sig(K.ESCALATION_RESOLVED, 55), now=at(90)
    ).met_at == at(55)


@pytest.mark.parametrize("order", [(K.DONE, K.REOPENED), (K.REOPENED, K.DONE)])
def test_done_and_reopened_at_the_same_instant_is_done(order: tuple[SignalKind, ...]) -> None:
    """Ties apply in SignalKind order whatever the input order: done wins over reopened."""
    status = resolution(*(sig(kind, 30) for kind in order), now=at(90))
    assert status.met_at == at(30)


# --- at risk, absent targets, validation ---------------------------------------------------


def test_at_risk_from_the_threshold_to_the_deadline() -> None:
    """At 75% of a 1 h target the status turns at-risk, then breached after the deadline."""
    assert resolution(now=at(44)).state is SlaState.RUNNING
    risky = resolution(now=at(45))
    assert (risky.state, risky.at_risk_at, risky.remaining) == (SlaState.AT_RISK, at(45), 15 * M)
    assert at_risk_comment_text(risky, Target.RESOLUTION) == (
        "Resolution SLA at risk: 15 minutes left of the 1 hour target "
        "(deadline 2026-12-04 11:00 UTC)."
    )
    assert resolution(now=at(61)).state is SlaState.BREACHED


def test_at_risk_on_a_business_calendar_is_working_time() -> None:
    """75% of 4 office hours from Friday 15:00 is reached Monday 10:00, not on the weekend."""
    policy = SlaPolicy(resolution=4 * H, calendar=OFFICE, at_risk=0.75)
    start = datetime(2026, 12, 4, 15, tzinfo=BERLIN)
    status = resolution(policy=policy, started_at=start, now=start)
    assert status.at_risk_at == datetime(2026, 12, 7, 10, tzinfo=BERLIN)


def test_comments_refuse_a_status_in_another_state_or_for_another_target() -> None:
    """Breach words need a breached status and at-risk words an at-risk one, of that target."""
    with pytest.raises(ValueError, match="running"):
        at_risk_comment_text(resolution(now=at(10)), Target.RESOLUTION)
    with pytest.raises(ValueError, match="met"):
        breach_comment_text(response(sig(K.ASSIGNED, 1), now=at(10)), Target.FIRST_RESPONSE)
    with pytest.raises(ValueError, match="not the first response"):
        breach_comment_text(resolution(now=at(90)), Target.FIRST_RESPONSE)


def test_targets_that_are_not_configured_are_absent() -> None:
    """A policy without a target has no status for it."""
    assert run(now=at(10), policy=SlaPolicy()).targets == ()
    only = run(now=at(10), policy=SlaPolicy(resolution=H))
    assert only.first_response is None
    assert [s.target for s in only.targets] == [Target.RESOLUTION]


@pytest.mark.parametrize(
    "kwargs",
    [{"first_response": timedelta(0)}, {"resolution": -H}, {"at_risk": 0.0}, {"at_risk": 1.0}],
)
def test_policies_reject_nonsense(kwargs: dict[str, object]) -> None:
    """Targets must be positive and the at-risk threshold a fraction strictly between 0 and 1."""
    with pytest.raises(ValueError, match=r"first_response|resolution|at_risk"):
        SlaPolicy(**kwargs)  # type: ignore[arg-type]


def test_naive_instants_are_rejected() -> None:
    """Signals, the start and now must all be timezone-aware."""
    naive = datetime(2026, 12, 4, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        Signal(kind=K.DONE, at=naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(POLICY, started_at=naive, signals=[], now=T0)
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(POLICY, started_at=T0, signals=[], now=naive)


def test_targets_in_words() -> None:
    """The targets' words are exactly the ones the comments start with."""
    assert (Target.FIRST_RESPONSE.words, Target.RESOLUTION.words) == (
        "first response",
        "resolution",
    )


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (timedelta(0), "less than a minute"),
        (timedelta(seconds=59), "less than a minute"),
        (M, "1 minute"),
        (65 * M, "1 hour 5 minutes"),
        (2 * H, "2 hours"),
        (24 * H, "1 day"),
        (timedelta(weeks=1), "1 week"),
        (timedelta(days=8, minutes=1, seconds=30), "1 week 1 day 1 minute"),
    ],
)
def test_duration_words(amount: timedelta, words: str) -> None:
    """Durations read as weeks, days, hours and minutes, seconds dropped."""
    assert duration_words(amount) == words


# --- properties ----------------------------------------------------------------------------

POLICIES = [POLICY, SlaPolicy(first_response=H, resolution=4 * H, calendar=OFFICE, at_risk=0.5)]
signal_lists = st.lists(
    st.builds(
        Signal,
        kind=st.sampled_from(SignalKind),
        at=st.integers(min_value=-30, max_value=600).map(at),
    ),
    max_size=10,
)
nows = st.integers(min_value=-10, max_value=5000).map(at)


@settings(max_examples=100)
@given(st.sampled_from(POLICIES), signal_lists, nows, st.data())
def test_order_and_duplicates_do_not_matter(
    policy: SlaPolicy, signals: list[Signal], now: datetime, data: st.DataObject
) -> None:
    """Any permutation of the signals, with any of them repeated, gives the same status."""
    shuffled = data.draw(st.permutations(signals))
    repeated = shuffled + data.draw(st.lists(st.sampled_from(signals))) if signals else shuffled
    expected = evaluate(policy, started_at=T0, signals=signals, now=now)
    assert evaluate(policy, started_at=T0, signals=repeated, now=now) == expected


@settings(max_examples=100)
@given(st.sampled_from(POLICIES), signal_lists, nows)
def test_the_status_is_self_consistent(
    policy: SlaPolicy, signals: list[Signal], now: datetime
) -> None:
    """Elapsed plus paused is the working time to the stop; the state follows the deadline."""
    for status in evaluate(policy, started_at=T0, signals=signals, now=now).targets:
        stop = status.met_at or max(now, T0)
        assert status.elapsed + status.paused == policy.calendar.working_time(T0, stop)
        assert (status.state is SlaState.BREACHED) == (stop > status.due)
        assert status.breached_at == (status.due if stop > status.due else None)
        assert (status.state is SlaState.MET) == (status.met_at is not None and stop <= status.due)
        if status.state is SlaState.BREACHED:
            assert status.elapsed == status.goal + status.overdue_by
        else:
            assert status.elapsed == status.goal - status.remaining
