"""Rules that route to several projects, whose create screens carry DIFFERENT custom field ids
under the same field names: each issue lands with its own project's ids, on Cloud and DC."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kt_jira.config.models import Rule, Settings
from kt_jira.errors import DraftError
from kt_jira.jira import JiraMetadata, find_existing
from kt_jira.tickets.draft import IssueDraft
from kt_jira.tickets.rules import decide

from .conftest import Site, client_settings, open_site
from .routing import RECEIVED, draft_for, escalation

# SAFETY's own fields: same names as AIGOV's customfield_10431/10432, other ids.
SAFETY_FIELDS = {"Escalation ID": "customfield_10531", "Policy Name": "customfield_10532"}
RULES: list[dict[str, Any]] = [
    {
        "name": "safety-block",
        "match": {"action": "block", "category": "Content safety"},
        "set": {"project": "SAFETY", "issue_type": "Bug", "priority": "Highest"},
    },
    {"name": "everything-else", "set": {"issue_type": "Task", "priority": "Low"}},
]


@contextlib.asynccontextmanager
async def two_projects(flavor: str) -> AsyncIterator[Site]:
    """A sandbox with AIGOV and SAFETY, SAFETY's screens carrying its own same-named fields."""
    async with open_site(flavor=flavor, search_lag=0.0, projects=("AIGOV", "SAFETY")) as site:
        for name, field_id in SAFETY_FIELDS.items():
            site.sandbox.add_project_field("SAFETY", name, field_id)
        yield site
        assert site.sandbox.contract_violations == []


def _routed(site: Site, escalation_id: str, **overrides: Any) -> IssueDraft:
    settings = Settings(jira=site.jira.settings, rules=[Rule.model_validate(r) for r in RULES])
    item = escalation(escalation_id, **overrides)
    return decide(item, settings.content, received_at=RECEIVED).draft


@pytest.mark.parametrize("flavor", ["cloud", "datacenter"])
async def test_routed_drafts_land_with_each_projects_own_field_ids(flavor: str) -> None:
    """A content-safety block goes to SAFETY with customfield_10531/10532, anything else to
    AIGOV with 10431/10432; no issue carries the other project's ids."""
    async with two_projects(flavor) as site:
        metadata = JiraMetadata(site.jira)
        safety = _routed(site, "esc-s-1", policy_name="toxicity-filter", action="block")
        other = _routed(site, "esc-a-1", action="log")
        assert (safety.project, other.project) == ("SAFETY", "AIGOV")
        for draft in (safety, other):
            await site.jira.create_issue(await metadata.build_create_body(draft))
        views = {v["project"]: v for v in (site.sandbox.view(i) for i in site.sandbox.issues)}
    s_fields, a_fields = views["SAFETY"]["fields"], views["AIGOV"]["fields"]
    assert (views["SAFETY"]["issue_type"], views["SAFETY"]["priority"]) == ("Bug", "Highest")
    assert (s_fields["customfield_10531"], s_fields["customfield_10532"]) == (
        "esc-s-1",
        "toxicity-filter",
    )
    assert "customfield_10431" not in s_fields
    assert "customfield_10432" not in s_fields
    assert (a_fields["customfield_10431"], a_fields["customfield_10432"]) == (
        "esc-a-1",
        "pii-detector",
    )
    assert "customfield_10531" not in a_fields
    assert views["SAFETY"]["key"] == "SAFETY-1"


@pytest.mark.parametrize("flavor", ["cloud", "datacenter"])
async def test_field_marker_finds_issues_in_either_project(flavor: str) -> None:
    """The field marker searches every field named 'Escalation ID' (cf[10431] OR cf[10531]),
    so an uncertain create is found whichever project the rule routed it to."""
    async with two_projects(flavor) as site:
        settings = client_settings(site.sandbox, site.url, correlation={"marker": "field"})
        metadata = JiraMetadata(site.jira, settings)
        for project, escalation_id in (("SAFETY", "esc-9"), ("AIGOV", "esc-9-b")):
            draft = dataclasses.replace(
                draft_for(escalation(escalation_id), settings), project=project
            )
            await site.jira.create_issue(await metadata.build_create_body(draft))
        found = {
            project: await find_existing(
                site.jira,
                metadata,
                settings,
                project=project,
                escalation_id=escalation_id,
                correlation_label=f"kt-esc-{escalation_id}",
            )
            for project, escalation_id in (("SAFETY", "esc-9"), ("AIGOV", "esc-9-b"))
        }
    assert [i["key"] for i in found["SAFETY"]] == ["SAFETY-1"]
    assert [i["key"] for i in found["AIGOV"]] == ["AIGOV-1"]


async def test_a_field_missing_from_one_projects_screen_fails_only_there() -> None:
    """Taking Policy Name off SAFETY's Bug screen fails SAFETY drafts with the screen named,
    while AIGOV drafts still build."""
    async with two_projects("cloud") as site:
        site.sandbox.remove_field_from_screen("SAFETY", "Policy Name", issue_type="Bug")
        metadata = JiraMetadata(site.jira)
        with pytest.raises(DraftError, match=r"'Policy Name' .* not on the SAFETY Bug create"):
            await metadata.build_create_body(
                _routed(site, "esc-1", policy_name="toxicity-filter", action="block")
            )
        await metadata.build_create_body(_routed(site, "esc-2", action="block"))
