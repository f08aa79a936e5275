"""Two-way sync against a Jira Data Center site: v2 payloads, users by key, wiki comments."""

from __future__ import annotations

from kt_jira.config.secrets import SecretRef
from kt_jira.sandbox import JiraSandbox, JiraSandboxSettings, guide_workflow, serve_app
from tests.support.sync import HarnessFactory


async def test_both_directions_on_data_center(make_harness: HarnessFactory) -> None:
    """On DC the bridge knows its own user key: its hops are echoes, its comment is wiki markup,
    and a person's resolution of another ticket resolves that escalation once."""
    sandbox = JiraSandbox(JiraSandboxSettings(flavor="datacenter", search_lag=0.2))
    sandbox.set_workflow("AIGOV", guide_workflow())
    async with serve_app(sandbox.app) as url:
        harness = await make_harness(
            site=(sandbox, url),
            jira={"flavor": "datacenter", "pat": SecretRef.literal(sandbox.settings.pat)},
        )
        upstream = await harness.ticket("esc_dc_up")
        harness.keeptrusts.resolve_in_console("esc_dc_up", resolution="denied", notes="*real*")
        await harness.settle()
        [comment] = harness.bot_comments(upstream)
        assert isinstance(comment["body"], str)
        assert "\\*real\\*" in comment["body"] or "*real*" not in comment["body"]
        assert harness.status(upstream)["status_category"] == "done"
        assert harness.status(upstream)["resolution"] == "Won't Do"

        inbound = await harness.ticket("esc_dc_in")
        harness.jira.transition_issue(inbound.key, "In Progress")
        harness.jira.transition_issue(inbound.key, "False Positive")
        await harness.settle()
        await sandbox.webhooks.drain()
    calls = harness.keeptrusts.escalations["esc_dc_in"].resolve_calls
    assert [c["body"]["resolution"] for c in calls] == ["denied"]
    assert harness.keeptrusts.escalations["esc_dc_up"].resolve_calls == []
    assert await harness.dead_jobs() == []
    audit = await harness.bridge.store.audit.list(entity="link", entity_id="esc_dc_up")
    echoes = [a.detail for a in audit if a.action == "jira_event"]
    assert echoes
    assert all(d["echo"] and d["actor"] == "JIRAUSER10100" for d in echoes)
