"""JiraClient's issue links, labels and assignment against the sandbox over real HTTP, on Cloud
(every request checked against Jira's published contract) and on Data Center."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from kt_jira.errors import PermanentError
from kt_jira.jira import IssueLinkType
from kt_jira.sandbox.jira.state import HUMAN

from .conftest import Site, open_site


@pytest.fixture(params=["cloud", "datacenter"])
async def flavored(request: pytest.FixtureRequest) -> AsyncIterator[Site]:
    async with open_site(flavor=request.param, search_lag=0.0) as opened:
        yield opened


async def _create(site: Site, summary: str, **fields: Any) -> str:
    base = {"project": {"key": "AIGOV"}, "issuetype": {"name": "Task"}, "summary": summary}
    created = await site.jira.create_issue({"fields": base | fields})
    return created.key


async def _fields(site: Site, key: str, *names: str) -> dict[str, Any]:
    issue = await site.jira.get_issue(key, fields=names)
    fields: dict[str, Any] = issue["fields"]
    return fields


def _human(site: Site) -> str:
    return HUMAN.account_id if site.sandbox.settings.flavor == "cloud" else HUMAN.name


async def test_issue_link_types_are_typed(flavored: Site) -> None:
    """issue_link_types() gives the site's types with their inward and outward wording."""
    types = await flavored.jira.issue_link_types()
    blocks = IssueLinkType(id="10000", name="Blocks", inward="is blocked by", outward="blocks")
    assert blocks in types
    assert [t.name for t in types] == ["Blocks", "Cloners", "Duplicate", "Relates"]


async def test_link_issues_shows_on_both_and_a_repeat_adds_nothing(flavored: Site) -> None:
    """link_issues: the outward issue lists the inward one and vice versa; linking again (or by
    numeric id) keeps the one link."""
    story = await _create(flavored, "Tune the pii policy")
    bug = await _create(flavored, "pii fired on a legitimate request")
    await flavored.jira.link_issues("Relates", inward=bug, outward=story)
    await flavored.jira.link_issues("Relates", inward=bug, outward=story)
    [bug_id] = [i.id for i in flavored.sandbox.issues if i.key == bug]
    await flavored.jira.link_issues("Relates", inward=bug_id, outward=story)
    [on_story] = (await _fields(flavored, story, "issuelinks"))["issuelinks"]
    [on_bug] = (await _fields(flavored, bug, "issuelinks"))["issuelinks"]
    assert on_story["type"]["name"] == on_bug["type"]["name"] == "Relates"
    assert on_story["inwardIssue"]["key"] == bug
    assert on_bug["outwardIssue"]["key"] == story
    assert on_bug["outwardIssue"]["fields"]["summary"] == "Tune the pii policy"


async def test_link_issues_errors_say_what_jira_said(flavored: Site) -> None:
    """An unknown link type or issue is a PermanentError carrying Jira's 404 message."""
    first = await _create(flavored, "One")
    second = await _create(flavored, "Two")
    with pytest.raises(PermanentError, match="No issue link type with name 'Causes' found") as err:
        await flavored.jira.link_issues("Causes", inward=first, outward=second)
    assert err.value.status == 404
    with pytest.raises(PermanentError, match="404"):
        await flavored.jira.link_issues("Blocks", inward=first, outward="AIGOV-99")
    assert (await _fields(flavored, first, "issuelinks"))["issuelinks"] == []


async def test_add_labels_sanitises_and_keeps_the_others(flavored: Site) -> None:
    """add_labels makes each label label-safe, drops empty ones, adds each once and leaves the
    issue's other labels in place."""
    key = await _create(flavored, "Labelled", labels=["keeptrusts"])
    await flavored.jira.add_labels(key, ["SLA Breached", "sla-breached", " ", "kt:fp/Policy"])
    await flavored.jira.add_labels(key, [])
    labels = (await _fields(flavored, key, "labels"))["labels"]
    assert labels == ["keeptrusts", "sla-breached", "kt:fp-policy"]


async def test_assign_uses_the_flavours_user_reference(flavored: Site) -> None:
    """assign() sends an accountId on Cloud and a user name on Data Center; Jira then shows the
    person as assignee. An unknown user is Jira's 400, an unknown issue its 404."""
    key = await _create(flavored, "Assigned")
    await flavored.jira.assign(key, _human(flavored))
    assignee = (await _fields(flavored, key, "assignee"))["assignee"]
    assert assignee["displayName"] == HUMAN.display_name
    assert assignee.get("accountId", assignee.get("name")) == _human(flavored)
    with pytest.raises(PermanentError, match="User 'nobody' does not exist") as err:
        await flavored.jira.assign(key, "nobody")
    assert err.value.status == 400
    with pytest.raises(PermanentError, match="404"):
        await flavored.jira.assign("AIGOV-99", _human(flavored))
    still = (await _fields(flavored, key, "assignee"))["assignee"]
    assert still["displayName"] == HUMAN.display_name
