"""The sandbox as a Jira Data Center: the v2 representation, DC's user and rich-text rules, and
the site-admin helpers for per-project fields and search templates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kt_jira.sandbox import JiraSandbox, JiraSandboxSettings, serve_app
from kt_jira.sandbox.jira.state import HUMAN

from .conftest import JiraSite, adf, running_jira


@pytest.fixture
async def dc() -> AsyncIterator[tuple[JiraSandbox, httpx.AsyncClient]]:
    sandbox = JiraSandbox(JiraSandboxSettings(flavor="datacenter", search_lag=0.0))
    headers = {"Authorization": f"Bearer {sandbox.settings.pat}"}
    async with (
        serve_app(sandbox.app) as url,
        httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as http,
    ):
        yield sandbox, http


def _body(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "project": {"key": "AIGOV"},
        "issuetype": {"name": "Task"},
        "summary": "An escalation",
        "description": "h2. Escalation\n\n||Field||Value||\n|Policy|pii|",
        "customfield_10431": "esc-1",
    }
    return {"fields": {k: v for k, v in (base | fields).items() if v is not None}}


async def test_issues_read_back_in_the_v2_shape(
    dc: tuple[JiraSandbox, httpx.AsyncClient],
) -> None:
    """A DC issue has v2 self links, users by name and key (no accountId), wiki text as sent."""
    sandbox, http = dc
    created = await http.post("/rest/api/2/issue", json=_body(assignee={"name": "ada"}))
    assert created.status_code == 201, created.text
    assert "/rest/api/2/issue/" in created.json()["self"]
    issue = (await http.get(f"/rest/api/2/issue/{created.json()['key']}")).json()
    fields = issue["fields"]
    assert fields["description"].startswith("h2. Escalation")
    assert (fields["assignee"]["name"], fields["assignee"]["key"]) == ("ada", HUMAN.key)
    assert (fields["reporter"]["name"]) == sandbox.settings.user_name
    assert "accountId" not in str(issue)
    assert "/rest/api/3/" not in str(issue)


async def test_users_are_named_not_account_ids_on_data_center(
    dc: tuple[JiraSandbox, httpx.AsyncClient],
) -> None:
    """DC refuses a Cloud accountId reference and names a user that does not exist."""
    sandbox, http = dc
    cloud_ref = await http.post("/rest/api/2/issue", json=_body(assignee={"accountId": "5d5"}))
    assert cloud_ref.json()["errors"] == {"assignee": "Specify a valid value for assignee"}
    ghost = await http.post("/rest/api/2/issue", json=_body(assignee={"name": "nobody"}))
    assert ghost.json()["errors"] == {"assignee": "User 'nobody' does not exist."}
    assert sandbox.issues == []


async def test_rich_text_is_a_string_everywhere_on_data_center(
    dc: tuple[JiraSandbox, httpx.AsyncClient],
) -> None:
    """Textarea fields and transition comments take wiki strings; ADF gets DC's error."""
    sandbox, http = dc
    bad = await http.post("/rest/api/2/issue", json=_body(customfield_10436=adf("notes")))
    assert bad.json()["errors"] == {"customfield_10436": "Operation value must be a string"}
    key = (await http.post("/rest/api/2/issue", json=_body(customfield_10436="*notes*"))).json()[
        "key"
    ]
    start = await http.post(
        f"/rest/api/2/issue/{key}/transitions", json={"transition": {"id": "11"}}
    )
    assert start.status_code == 204, start.text
    comment = {"comment": [{"add": {"body": adf("closing")}}]}
    refused = await http.post(
        f"/rest/api/2/issue/{key}/transitions",
        json={"transition": {"id": "51"}, "update": comment},
    )
    assert refused.json()["errors"] == {"comment": "Operation value must be a string"}
    comment = {"comment": [{"add": {"body": "Closed by *kt-jira*"}}]}
    moved = await http.post(
        f"/rest/api/2/issue/{key}/transitions",
        json={"transition": {"id": "51"}, "update": comment},
    )
    assert moved.status_code == 204, moved.text
    [issue] = sandbox.issues
    assert [c["body"] for c in issue.comments] == ["Closed by *kt-jira*"]


async def test_data_center_search_defaults_and_caps(
    dc: tuple[JiraSandbox, httpx.AsyncClient],
) -> None:
    """DC's /search returns navigable fields by default and caps a page at 1000 silently."""
    _, http = dc
    await http.post("/rest/api/2/issue", json=_body(labels=["kt-esc-esc-1"]))
    found = await http.get(
        "/rest/api/2/search", params={"jql": "labels = kt-esc-esc-1", "maxResults": "5000"}
    )
    body = found.json()
    assert (body["total"], body["maxResults"], body["startAt"]) == (1, 1000, 0)
    [issue] = body["issues"]
    assert issue["fields"]["summary"] == "An escalation"
    assert issue["fields"]["customfield_10431"] == "esc-1"


async def test_a_project_can_have_its_own_field_of_a_shared_name() -> None:
    """add_project_field: /field lists both 'Escalation ID' fields, each project's create
    screen carries only its own, and a create with the other project's id is refused."""
    async with running_jira(projects=("AIGOV", "SAFETY")) as jira:
        jira.sandbox.add_project_field("SAFETY", "Escalation ID", "customfield_10531")
        fields = (await jira.http.get("/rest/api/3/field")).json()
        named = sorted(f["id"] for f in fields if f["name"] == "Escalation ID")
        assert named == ["customfield_10431", "customfield_10531"]
        assert await _screen_ids(jira, "SAFETY") >= {"customfield_10531"}
        assert "customfield_10431" not in await _screen_ids(jira, "SAFETY")
        assert "customfield_10531" not in await _screen_ids(jira, "AIGOV")
        wrong = await jira.create(project={"key": "SAFETY"})  # carries customfield_10431
        assert wrong.json()["errors"] == {
            "customfield_10431": "Field 'customfield_10431' cannot be set. It is not on the "
            "appropriate screen, or unknown."
        }
        right = await jira.create(
            project={"key": "SAFETY"}, customfield_10431=None, customfield_10531="esc-9"
        )
        assert right.json()["key"] == "SAFETY-1"


async def _screen_ids(jira: JiraSite, project: str) -> set[str]:
    types = (await jira.http.get(f"/rest/api/3/issue/createmeta/{project}/issuetypes")).json()
    task = next(t for t in types["issueTypes"] if t["name"] == "Task")
    url = f"/rest/api/3/issue/createmeta/{project}/issuetypes/{task['id']}"
    return {f["fieldId"] for f in (await jira.http.get(url)).json()["fields"]}


async def test_a_field_without_search_template_is_refused_by_jql(jira: JiraSite) -> None:
    """set_field_searchable(False): JQL on the field answers Jira's 'only viewable' error."""
    jira.sandbox.set_field_searchable("customfield_10431", False)
    answer = await jira.search('project = AIGOV AND cf[10431] ~ "esc-1"')
    assert answer.status_code == 400
    assert answer.json()["errorMessages"] == [
        "Field 'cf[10431]' is not searchable, it is only viewable."
    ]
