"""The dashboard as a person uses it, in real headless Chromium: closed without the token, the
login form, every gadget showing what the database holds, a dead letter replayed from the page
into a ticket in the sandbox, CSRF refused, keyboard reachable, refreshed in place, and a
screenshot of the whole page kept (``build/artifacts/dashboard.png``)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from kt_jira.config.secrets import SecretRef
from kt_jira.render.sanitise import correlation_label
from kt_jira.reports.load import load_report
from kt_jira.web.dashboard_view import RANGES
from tests.support.browser import chromium
from tests.support.clock import ManualClock
from tests.support.sync import HarnessFactory, SyncHarness

pytestmark = pytest.mark.browser
TOKEN = "browser-test-admin-token-0123456789"
POLICY_NAME_FIELD = "customfield_10432"
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "artifacts"


async def scenario(harness: SyncHarness) -> int:
    """Tickets of every action, one resolved, one false positive; then one dead create.
    Returns the dead job's id."""
    for n, action in enumerate(("block", "escalate", "redact", "log", "block", "escalate")):
        await harness.ticket(f"esc_ui_{n}", action=action, policy_name=f"policy-{n % 3}")
    first = await harness.bridge.store.links.get("esc_ui_0")
    assert first is not None
    assert first.issue_key is not None
    for status in ("In Progress", "Under Review", "Resolved"):
        harness.jira.transition_issue(first.issue_key, status)
    second = await harness.bridge.store.links.get("esc_ui_1")
    assert second is not None
    assert second.issue_key is not None
    for status in ("In Progress", "False Positive"):
        harness.jira.transition_issue(second.issue_key, status)
    harness.jira.remove_field_from_screen("AIGOV", "Policy Name")
    harness.keeptrusts.add_escalation("esc_ui_dead", action="block", policy_name="policy-dead")
    await harness.settle()
    harness.jira.add_field_to_screen("AIGOV", POLICY_NAME_FIELD)
    [dead] = await harness.bridge.store.queue.list(status="dead")
    return dead.id


async def text(page: Any, selector: str) -> str:
    return str(await page.locator(selector).first.text_content()).strip()


async def test_the_dashboard_shows_the_database_and_replays_a_dead_letter(
    make_harness: HarnessFactory,
) -> None:
    clock = ManualClock()
    harness = await make_harness(clock=clock, server={"admin_token": SecretRef.literal(TOKEN)},
                                 jira={"metadata_cache_seconds": 0})  # fmt: skip
    dead_id = await scenario(harness)
    async with chromium() as browser:
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        await page.goto(f"{harness.url}/dashboard")
        assert page.url.endswith("/dashboard/login")  # closed without the token
        assert await page.locator("#content").count() == 0
        await page.get_by_label("Admin token").fill("not the token")
        await page.get_by_role("button", name="Sign in").click()
        assert "not the admin token" in (await page.get_by_role("alert").text_content() or "")
        await page.get_by_label("Admin token").fill(TOKEN)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(f"{harness.url}/dashboard")

        report = await load_report(harness.bridge.store, harness.bridge.settings,
                                   since=RANGES["7d"], now=clock.now)  # fmt: skip
        data = report.as_json()
        assert data["escalations"] == 6
        assert await text(page, "#total-escalations") == str(data["escalations"])
        priority = "; ".join(f"{k}: {v}" for k, v in data["by_priority"].items())
        assert await text(page, "#chart-priority desc") == priority
        label = harness.bridge.settings.reconcile.jira_label
        in_jira = Counter(
            harness.jira.view(i)["priority"]
            for i in harness.jira.state.issues.values()
            if label in i.labels
        )
        assert data["by_priority"] == dict(in_jira)  # the database agrees with Jira itself
        policies = "; ".join(f"{k}: {v}" for k, v in list(data["by_policy"].items())[:10])
        assert await text(page, "#chart-policies desc") == policies
        created = sum(day["created"] for day in data["per_day"])
        resolved = sum(day["resolved"] for day in data["per_day"])
        assert f"{created} created and {resolved} resolved" in await text(page, "#chart-daily desc")
        links = await harness.bridge.store.links.list(state="created", limit=100)
        shown = await page.locator("#recent tbody a").all_text_contents()
        assert sorted(shown) == sorted(link.issue_key for link in links if link.issue_key)
        fp = data["false_positives"]["policy-1"]
        assert fp["false_positives"] == 1
        assert f"policy-1: {100 * fp['rate']:.0f} %" in await text(
            page, "#chart-false-positives desc"
        )
        assert await text(page, "#queue-queued") == "0"
        dead_rows = await page.locator("#dead tbody tr").all_text_contents()
        assert len(dead_rows) == 1
        assert str(dead_id) in dead_rows[0]
        assert "Policy Name" in dead_rows[0]

        await page.keyboard.press("Tab")  # the first stop is the skip link
        focused = await page.evaluate("document.activeElement.textContent")
        assert focused == "Skip to the numbers"

        refused = await page.request.post(f"{harness.url}/dashboard/dead-letters/{dead_id}/replay",
                                          headers={"Origin": harness.url})  # fmt: skip
        assert refused.status == 403  # the cookie alone, without the page's CSRF token

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

        await page.get_by_role("button", name=f"Replay job {dead_id}").click()
        await page.wait_for_load_state()
        await harness.settle()
        marker = correlation_label("esc_ui_dead")
        assert len(harness.jira.issues_with_label(marker)) == 1  # the replay made its ticket
        await page.evaluate("window.ktJiraRefresh()")  # the live refresh, in place
        # The reload after the click already showed no dead letter (the job was queued again),
        # so wait for the refresh's own news: the new ticket counted.
        want, deadline = str(data["escalations"] + 1), time.monotonic() + 10
        while await text(page, "#total-escalations") != want:  # the page's CSP forbids eval,
            assert time.monotonic() < deadline, "the refresh never showed the new ticket"
            await asyncio.sleep(0.05)  # so poll from here rather than wait_for_function
        assert await text(page, "#total-dead") == "0"
        csv = await page.request.get(f"{harness.url}/dashboard/data/priority.csv?range=7d")
        assert csv.status == 200
        assert (await csv.text()).splitlines()[0] == "priority,tickets"
        await context.close()
