"""The breach scan end to end on a clock the test moves: the bridge creates the ticket in the
strict Jira sandbox, the scan finds each breach as the clock passes its deadline, and the
``sla_action`` job labels and comments the ticket once per target, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from kt_jira.config.secrets import SecretRef
from kt_jira.jira.comments import plain_text
from kt_jira.reconcile.reconciler import Reconciler
from kt_jira.reconcile.source import KeeptrustsReader
from kt_jira.sandbox import JiraSandbox, JiraSandboxSettings, SandboxIssue, serve_app
from kt_jira.sandbox.jira.state import HUMAN
from tests.support.clock import ManualClock
from tests.support.notifications import Receiver
from tests.support.running import sandbox_validator
from tests.support.sync import HarnessFactory, SyncHarness

NO_WARNINGS = {"at_risk": None}


def sla_comments(harness: SyncHarness, issue: SandboxIssue) -> list[str]:
    live = harness.jira.issue(issue.id)
    assert live is not None
    return [
        plain_text(c["body"])
        for c in harness.bot_comments(live)
        if " SLA " in plain_text(c["body"])
    ]


def labels(harness: SyncHarness, issue: SandboxIssue) -> list[str]:
    live = harness.jira.issue(issue.id)
    assert live is not None
    return live.labels


async def scan(harness: SyncHarness) -> int:
    report = await harness.bridge.sla.run_locked()
    assert report is not None
    await harness.settle()
    return report.acted


async def test_each_breach_is_labelled_and_commented_once(make_harness: HarnessFactory) -> None:
    clock = ManualClock()
    harness = await make_harness(clock=clock, sla=NO_WARNINGS)
    issue = await harness.ticket("esc_sla_breach", action="block")  # first response 15m, 1h

    clock.advance(minutes=14)
    assert await scan(harness) == 0
    assert sla_comments(harness, issue) == []

    clock.advance(minutes=2)
    assert await scan(harness) == 1
    assert "sla-breached" in labels(harness, issue)
    [first] = sla_comments(harness, issue)
    assert first.startswith("First response SLA breached: the target was 15 minutes, missed by")

    for _ in range(3):  # later scans find nothing new to do
        assert await scan(harness) == 0
    assert len(sla_comments(harness, issue)) == 1

    clock.advance(minutes=45)
    assert await scan(harness) == 1
    comments = sla_comments(harness, issue)
    assert len(comments) == 2
    assert comments[1].startswith("Resolution SLA breached: the target was 1 hour, missed by")
    assert labels(harness, issue).count("sla-breached") == 1

    link = await harness.bridge.store.links.get("esc_sla_breach")
    assert link is not None
    assert link.breached_at is not None
    assert link.first_response_due is not None
    assert link.breached_at == link.first_response_due
    trail = await harness.bridge.store.audit.list(entity_id="esc_sla_breach", limit=200)
    assert sorted(r.detail["target"] for r in trail if r.action == "sla_breached") == [
        "first_response",
        "resolution",
    ]
    metrics = harness.bridge.metrics.render().decode()
    assert 'kt_jira_sla_breaches_total{target="first_response"} 1.0' in metrics
    assert 'kt_jira_sla_breaches_total{target="resolution"} 1.0' in metrics
    assert await harness.dead_jobs() == []


async def test_no_action_on_a_ticket_handled_in_time(make_harness: HarnessFactory) -> None:
    clock = ManualClock()
    harness = await make_harness(clock=clock)
    issue = await harness.ticket("esc_sla_in_time", action="block")
    harness.jira.comment_issue(issue.key, "Looking into it")  # a person responds
    await harness.settle()
    for status in ("In Progress", "Under Review", "Resolved"):
        harness.jira.transition_issue(issue.key, status)
    await harness.settle()

    clock.advance(hours=3)  # long past both deadlines
    assert await scan(harness) == 0
    assert sla_comments(harness, issue) == []
    assert "sla-breached" not in labels(harness, issue)
    link = await harness.bridge.store.links.get("esc_sla_in_time")
    assert link is not None
    assert link.breached_at is None
    assert link.sla_settled_at is not None  # not read by later scans


async def test_the_bridges_own_comments_are_not_a_response(make_harness: HarnessFactory) -> None:
    clock = ManualClock()
    harness = await make_harness(clock=clock)  # at-risk warnings on (75 %)
    issue = await harness.ticket("esc_sla_bot", action="block")

    clock.advance(minutes=12)  # 80 % of the 15-minute first response
    assert await scan(harness) == 1
    [warning] = sla_comments(harness, issue)
    assert warning.startswith("First response SLA at risk: ")
    assert "minutes left of the 15 minutes target (deadline " in warning
    assert "sla-at-risk" in labels(harness, issue)

    clock.advance(minutes=4)  # the warning (the bridge's comment) did not stop the clock
    assert await scan(harness) == 1
    assert sla_comments(harness, issue)[-1].startswith("First response SLA breached")


async def test_a_human_assignee_meets_first_response(make_harness: HarnessFactory) -> None:
    clock = ManualClock()
    harness = await make_harness(clock=clock, sla=NO_WARNINGS)
    issue = await harness.ticket("esc_sla_assign", action="block")
    harness.jira.assign_issue(issue.key, HUMAN.account_id)
    await harness.settle()

    clock.advance(minutes=30)  # first response met by the assignment; resolution still running
    assert await scan(harness) == 0
    clock.advance(minutes=31)
    assert await scan(harness) == 1
    [breach] = sla_comments(harness, issue)
    assert breach.startswith("Resolution SLA breached")


async def test_reconcile_gives_the_clocks_what_webhooks_missed(
    make_harness: HarnessFactory,
) -> None:
    clock = ManualClock()
    harness = await make_harness(clock=clock, sla=NO_WARNINGS)
    issue = await harness.ticket("esc_sla_missed", action="block")
    harness.jira.webhooks.hold = True
    harness.jira.transition_issue(issue.key, "In Progress")  # a person starts work...
    assert harness.jira.webhooks.discard() == 1  # ...and Jira never tells the bridge
    harness.jira.webhooks.hold = False
    await asyncio.sleep(0.3)  # the sandbox's search lags like Jira's

    clock.advance(minutes=5)
    async with KeeptrustsReader.open(harness.bridge.settings) as reader:
        reconciler = Reconciler(
            settings=harness.bridge.settings,
            store=harness.bridge.store,
            jira=harness.bridge.jira,
            keeptrusts=reader,
            clock=clock,
        )
        await reconciler.run()
    clock.advance(minutes=11)  # past the 15-minute first response
    assert await scan(harness) == 0
    assert sla_comments(harness, issue) == []
    row = next(r for r in await harness.bridge.store.sla.clocks() if r.link.issue_id == issue.id)
    assert [s.kind for s in row.signals] == ["left to-do"]


async def test_a_breach_notifies_each_channel_once(make_harness: HarnessFactory) -> None:
    clock = ManualClock()
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    signed, slack_site = Receiver(secrets=(secret,), clock=clock), Receiver()
    async with serve_app(signed.app) as url, serve_app(slack_site.app) as slack_url:
        notify = {
            "webhook": {
                "url": SecretRef.literal(f"{url}/sla"),
                "secret": SecretRef.literal(secret),
            },
            "slack": {"url": SecretRef.literal(f"{slack_url}/slack"), "channel": "#ai-critical"},
        }
        harness = await make_harness(clock=clock, sla={**NO_WARNINGS, "notify": notify})
        issue = await harness.ticket("esc_sla_notify", action="block", policy_name="pii <b>")
        clock.advance(minutes=16)
        assert await scan(harness) == 1
        assert await scan(harness) == 0
    [webhook] = signed.received
    [posted] = slack_site.received
    assert webhook.verified_by is not None
    event = webhook.json()
    assert (event["type"], event["target"], event["issue_key"]) == (
        "sla.breached",
        "first_response",
        issue.key,
    )
    assert event["issue_url"].endswith(f"/browse/{issue.key}")
    slack = posted.json()
    assert slack["channel"] == "#ai-critical"
    assert "pii &lt;b&gt;" in json.dumps(slack)
    assert await harness.dead_jobs() == []


async def test_waiting_for_customer_stops_the_clocks(make_harness: HarnessFactory) -> None:
    clock = ManualClock()
    waiting = {**NO_WARNINGS, "pause_statuses": ["waiting for customer"]}
    harness = await make_harness(clock=clock, sla=waiting)
    harness.jira.state.clock = lambda: clock.now.timestamp()  # Jira's changes on the same clock
    issue = await harness.ticket("esc_sla_pause", action="block")  # 15 min / 1 h

    async def move(status: str, *, after: float) -> None:
        clock.advance(minutes=after)
        harness.jira.transition_issue(issue.key, status)
        await harness.settle()

    await move("In Progress", after=5)  # the first response, at 5 minutes
    await move("Waiting for customer", after=5)  # both clocks stop at 10 minutes
    clock.advance(hours=3)
    assert await scan(harness) == 0
    await move("In Progress", after=0)  # 50 minutes of resolution time left
    clock.advance(minutes=49)
    assert await scan(harness) == 0
    clock.advance(minutes=2)
    assert await scan(harness) == 1
    [breach] = sla_comments(harness, issue)
    assert breach.startswith("Resolution SLA breached: the target was 1 hour, missed by 1 minute")


async def test_jsm_mode_reads_service_managements_own_clocks(
    make_harness: HarnessFactory,
) -> None:
    clock = ManualClock()
    goals = (("Time to first response", 30 * 60.0), ("Time to resolution", 8 * 3600.0))
    desk = JiraSandbox(
        JiraSandboxSettings(search_lag=0.2, jsm_slas=goals, request_validator=sandbox_validator()),
        clock=lambda: clock.now.timestamp(),
    )
    async with serve_app(desk.app) as url:
        harness = await make_harness(
            site=(desk, url), clock=clock, sla={**NO_WARNINGS, "mode": "jsm"}
        )
        issue = await harness.ticket("esc_sla_jsm", action="block")  # the rule says 15 minutes

        clock.advance(minutes=20)
        assert await scan(harness) == 0  # JSM's goal is 30 minutes, and JSM decides
        clock.advance(minutes=11)
        assert await scan(harness) == 1
        [breach] = sla_comments(harness, issue)
        assert breach.startswith(
            "First response SLA breached: the target was 30 minutes, missed by 1 minute"
        )
        assert "sla-breached" in labels(harness, issue)
        assert await scan(harness) == 0
        await desk.webhooks.drain()
    assert desk.contract_violations == []


async def test_a_rules_business_calendar_keeps_holidays_off_the_clock(
    make_harness: HarnessFactory,
) -> None:
    clock = ManualClock()
    today = clock.now.date()
    office = {"timezone": "UTC", "holidays": [today, today + timedelta(days=1)]}
    rule = {
        "name": "office-hours",
        "match": {"action": "block"},
        "set": {"issue_type": "Bug", "priority": "Highest", "sla_first_response": "15m",
                "sla_calendar": "office"},
    }  # fmt: skip
    harness = await make_harness(
        clock=clock, sla={**NO_WARNINGS, "calendars": {"office": office}}, rules=[rule]
    )
    issue = await harness.ticket("esc_sla_holiday", action="block")
    link = await harness.bridge.store.links.get("esc_sla_holiday")
    assert link is not None
    assert (link.sla_calendar, link.sla_first_response) == ("office", timedelta(minutes=15))

    clock.advance(hours=20)  # within today and tomorrow, both holidays: no working time yet
    assert await scan(harness) == 0
    assert sla_comments(harness, issue) == []


async def test_breach_comments_are_wiki_markup_on_data_center(
    make_harness: HarnessFactory,
) -> None:
    clock = ManualClock()
    site = JiraSandbox(JiraSandboxSettings(flavor="datacenter", search_lag=0.2))
    async with serve_app(site.app) as url:
        harness = await make_harness(
            site=(site, url),
            clock=clock,
            sla=NO_WARNINGS,
            jira={"flavor": "datacenter", "pat": SecretRef.literal(site.settings.pat)},
        )
        issue = await harness.ticket("esc_sla_dc", action="block")
        clock.advance(minutes=16)
        assert await scan(harness) == 1
        live = site.issue(issue.id)
        assert live is not None
        [comment] = harness.bot_comments(live)
        assert isinstance(comment["body"], str)  # v2 takes wiki markup, and the sandbox checks it
        assert comment["body"].startswith("First response SLA breached: the target was 15 minutes")
        assert "sla-breached" in live.labels
        # The resolution target breaches an hour in, commented the same way.
        clock.advance(minutes=45)
        assert await scan(harness) == 1
        await site.webhooks.drain()


async def test_the_periodic_scan_runs_the_false_positive_loop_too(
    make_harness: HarnessFactory,
) -> None:
    clock = ManualClock()
    loop = {"false_positive": {"threshold": 2, "window": "7d"}}
    harness = await make_harness(clock=clock, sla=NO_WARNINGS, feedback=loop)
    for n in (1, 2):
        issue = await harness.ticket(f"esc_sla_fp_{n}", policy_name="noisy-policy")
        for status in ("In Progress", "False Positive"):
            harness.jira.transition_issue(issue.key, status)
        await harness.settle()
    report = await harness.bridge.sla.run_locked()
    assert report is not None
    await harness.settle()
    stories = [i for i in harness.jira.state.issues.values() if i.values.get("summary", "")
               .startswith("Policy improvement: noisy-policy")]  # fmt: skip
    assert len(stories) == 1
