"""``kt-jira preview`` and grouping: the group an escalation would open or join, read from the
bridge's real database (SQLite and PostgreSQL); without a database it says why."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from kt_jira.commands.group_preview import group_lookup
from kt_jira.commands.preview import (
    Preview,
    build_preview,
    load_escalation,
    preview_json,
    preview_text,
)
from kt_jira.config.loader import settings_from_dict
from kt_jira.config.models import Settings
from kt_jira.sandbox import escalation_payload
from kt_jira.store import CreatedIssue, Deadlines, GroupOpening, open_store
from kt_jira.tickets.groups import rule_choice, storm_key
from kt_jira.tickets.rules import decide
from kt_jira.tickets.storms import storm_policy_key
from tests.unit.tickets.support import invoke

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
RULE = {"name": "grouped", "set": {"group_by": ["policy", "model"], "group_window": "2h"}}


def _settings(database_url: str) -> Settings:
    return settings_from_dict({"database_url": database_url, "rules": [RULE]})


async def _open_group(settings: Settings) -> None:
    """The group an earlier escalation of the same policy and model opened, with its ticket."""
    earlier = load_escalation(json.dumps(escalation_payload("esc_prev_1")).encode())
    decision = decide(earlier, settings.content, received_at=NOW)
    choice = rule_choice(earlier, decision)
    assert choice is not None
    async with open_store(settings.database_url) as store:
        await store.db.migrate()
        await store.escalations.learn(earlier, payload={}, now=NOW)
        opening = GroupOpening(
            key=choice.key,
            rule="grouped",
            policy_name=earlier.policy_name,
            reason="rule",
            summary=decision.draft.summary,
            window_ends_at=NOW + timedelta(hours=2),
        )
        await store.groups.join_or_open("esc_prev_1", opening, now=NOW)
        await store.links.begin_create_attempt(
            "esc_prev_1", project="AIGOV", correlation_label="kt-esc-esc_prev_1", now=NOW
        )
        issue = CreatedIssue(issue_id="10042", issue_key="AIGOV-42")
        await store.links.save_created("esc_prev_1", issue, Deadlines(), now=NOW)


async def _preview(escalation_id: str, settings: Settings, *, at: datetime) -> Preview:
    """The preview of a new escalation at ``at``, reading the database as the CLI does."""
    escalation = load_escalation(json.dumps(escalation_payload(escalation_id)).encode())
    async with group_lookup(settings, now=at) as groups:
        return await build_preview(
            escalation, settings, flavor="cloud", received_at=at, groups=groups
        )


async def test_preview_names_the_open_group_ticket_it_would_join(database_url: str) -> None:
    """An escalation of a group that is open in the database would become a comment on that
    group's ticket; the preview says which, how many it holds and until when."""
    settings = _settings(database_url)
    await _open_group(settings)
    shown = await _preview("esc_next_1", settings, at=NOW + timedelta(minutes=10))
    group = preview_json(shown)["group"]
    assert group["by"] == {"policy": "pii-detector", "model": "gpt-4o"}
    assert group["window"] == "2h"
    assert group["joins"] == {
        "issue_key": "AIGOV-42",
        "escalations": 1,
        "until": "2027-01-10T11:00+00:00",
    }
    assert "joins AIGOV-42 as a comment" in preview_text(shown)
    expired = await _preview("esc_next_1", settings, at=NOW + timedelta(hours=3))
    assert preview_json(expired)["group"]["joins"] is None
    assert "opens a new group" in preview_text(expired)


def test_cli_preview_without_a_database_shows_the_group_from_the_rules(tmp_path: Path) -> None:
    """With a config whose SQLite file does not exist yet, the preview still shows the group
    and says the database was not read (and creates no file)."""
    database = tmp_path / "absent.db"
    config = tmp_path / "kt-jira.yaml"
    config.write_text(yaml.safe_dump({"database_url": f"sqlite:///{database}", "rules": [RULE]}))
    result = invoke("preview", "--config", str(config), "--sample", "redact", "--format", "json")
    assert result.exit_code == 0, result.output
    group = json.loads(result.stdout)["group"]
    assert group["by"] == {"policy": "pii-detector", "model": "gpt-4o"}
    assert group["joins"] is None
    assert "does not exist yet" in group["database"]
    assert not database.exists()
    plain = invoke("preview", "--sample", "redact")
    assert "Group: none, its own ticket" in plain.stdout


async def test_preview_shows_the_storm_a_policy_is_in(database_url: str) -> None:
    """While its policy storms, an escalation that would get a ticket of its own is shown
    joining the storm's group instead."""
    settings = settings_from_dict({"database_url": database_url})
    earlier = load_escalation(json.dumps(escalation_payload("esc_storm_1")).encode())
    async with open_store(database_url) as store:
        await store.db.migrate()
        await store.escalations.learn(earlier, payload={}, now=NOW)
        opening = GroupOpening(
            key=storm_key("pii-detector"),
            rule="redact",
            policy_name="pii-detector",
            reason="storm",
            summary="AI Escalation: pii-detector",
            window_ends_at=NOW + timedelta(minutes=10),
        )
        await store.storms.start(
            "esc_storm_1",
            policy_key=storm_policy_key("pii-detector"),
            opening=opening,
            tickets=50,
            jobs=lambda _: [],
            now=NOW,
        )
    shown = await _preview("esc_storm_2", settings, at=NOW + timedelta(minutes=1))
    group = preview_json(shown)["group"]
    assert (group["reason"], group["by"]) == ("storm", {"policy": "pii-detector"})
    assert group["joins"]["escalations"] == 1
    assert group["joins"]["until"] == "2027-01-10T09:10+00:00"
    assert "storm until 09:10 UTC" in preview_text(shown)
