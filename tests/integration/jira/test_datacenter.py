"""The Data Center flavour end to end: REST v2, wiki markup, Bearer PAT, DC shapes, and the
same routed rule set on Cloud and Data Center sandboxes."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from kt_jira.config.models import JiraSettings
from kt_jira.config.secrets import SecretRef
from kt_jira.errors import ConfigError, PermanentError
from kt_jira.jira import JiraClient, JiraMetadata, MemoryPauseStore, find_by_label, find_existing
from kt_jira.jira.search import search_all
from kt_jira.render.nodes import Document, paragraph, text
from kt_jira.sandbox import JiraSandbox, JiraSandboxSettings, serve_app
from kt_jira.tickets.draft import IssueDraft

from .conftest import Site, client_settings, open_site
from .routing import ROUTED, draft_for, escalation

WIKI_STRING_ONLY = {
    "errorMessages": [],
    "errors": {"description": "Operation value must be a string"},
}


@pytest.fixture
async def dc() -> Any:
    async with open_site(flavor="datacenter", search_lag=0.0) as opened:
        yield opened


def _draft(**overrides: Any) -> IssueDraft:
    values: dict[str, Any] = {
        "project": "AIGOV",
        "issue_type": "Task",
        "summary": "Policy pii-block blocked a request",
        "description": Document(content=(paragraph(text("A *request* was blocked.")),)),
        "fields": {"Escalation ID": "esc_7"},
        "correlation_label": "kt-esc-esc_7",
    }
    values.update(overrides)
    return IssueDraft(**values)


async def test_create_path_on_data_center_leaves_one_wiki_issue(dc: Site) -> None:
    """A routed escalation becomes one DC issue: wiki-markup description, real field ids, and
    both the label and the field marker find it again through DC's /rest/api/2/search."""
    draft = draft_for(escalation("esc-dc-1", action="block"), dc.jira.settings)
    metadata = JiraMetadata(dc.jira)
    body = await metadata.build_create_body(draft)
    assert isinstance(body["fields"]["description"], str)
    assert body["fields"]["description"].startswith("h2. AI Governance Escalation")
    created = await dc.jira.create_issue(body)

    [issue] = dc.sandbox.issues
    view = dc.sandbox.view(issue)
    assert (view["key"], view["issue_type"], view["priority"]) == (created.key, "Bug", "Highest")
    assert view["fields"]["customfield_10431"] == "esc-dc-1"
    assert view["fields"]["customfield_10432"] == draft.fields["Policy Name"]
    assert "customfield_10299" not in view["fields"]  # the decoy "Policy Name"
    assert "||Field||Value||" in view["fields"]["description"]
    assert "kt-esc-esc-dc-1" in view["labels"]

    by_label = await find_by_label(dc.jira, project="AIGOV", label="kt-esc-esc-dc-1")
    assert [i["key"] for i in by_label] == [created.key]
    field_marker = client_settings(dc.sandbox, dc.url, correlation={"marker": "field"})
    found = await find_existing(
        dc.jira,
        metadata,
        field_marker,
        project="AIGOV",
        escalation_id="esc-dc-1",
        correlation_label="kt-esc-esc-dc-1",
    )
    assert [i["key"] for i in found] == [created.key]


async def test_data_center_refuses_adf_with_the_exact_error(dc: Site) -> None:
    """ADF (Cloud's format) in a description or comment gets DC's 400 'Operation value must be
    a string'; a wiki-markup comment is stored as sent."""
    adf = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": []}]}
    headers = {"Authorization": f"Bearer {dc.sandbox.settings.pat}"}
    body = {
        "fields": {
            "project": {"key": "AIGOV"},
            "issuetype": {"name": "Task"},
            "summary": "s",
            "description": adf,
        }
    }
    async with httpx.AsyncClient(base_url=dc.url, headers=headers) as http:
        answer = await http.post("/rest/api/2/issue", json=body)
        assert (answer.status_code, answer.json()) == (400, WIKI_STRING_ONLY)
        answer = await http.post("/rest/api/3/issue", json=body)
        assert answer.status_code == 404  # Data Center has no v3
    assert dc.sandbox.issues == []
    created = await dc.jira.create_issue(await JiraMetadata(dc.jira).build_create_body(_draft()))
    with pytest.raises(PermanentError, match="comment: Operation value must be a string"):
        await dc.jira.add_comment(created.key, adf)
    await dc.jira.add_comment(created.key, "h3. Resolved in Keeptrusts by *ada*")
    [issue] = dc.sandbox.issues
    assert [c["body"] for c in issue.comments] == ["h3. Resolved in Keeptrusts by *ada*"]


async def test_data_center_accepts_only_a_bearer_pat(dc: Site) -> None:
    """Basic auth is refused on DC, even with the PAT as password; only Bearer <PAT> passes."""
    s = dc.sandbox.settings
    attempts: list[dict[str, str]] = [
        {"Authorization": "Basic " + _b64(f"{s.email}:{s.api_token}")},
        {"Authorization": "Basic " + _b64(f"{s.user_name}:{s.pat}")},
        {"Authorization": "Bearer wrong-pat"},
        {},
    ]
    async with httpx.AsyncClient(base_url=dc.url) as http:
        for headers in attempts:
            assert (await http.get("/rest/api/2/myself", headers=headers)).status_code == 401
        good = await http.get("/rest/api/2/myself", headers={"Authorization": f"Bearer {s.pat}"})
    assert good.status_code == 200
    me = good.json()
    assert (me["name"], me["key"]) == (s.user_name, "JIRAUSER10100")
    assert "accountId" not in me
    assert me["self"].startswith(f"{dc.url}/rest/api/2/user")
    assert (await dc.jira.myself()).account_id == "JIRAUSER10100"


def _b64(value: str) -> str:
    import base64

    return base64.b64encode(value.encode()).decode()


async def test_cloud_credentials_against_data_center_are_a_clear_401(dc: Site) -> None:
    """A bridge configured for Cloud (Basic) against a DC site fails permanently with advice."""
    cloud = JiraSettings(
        url=dc.url,
        email=dc.sandbox.settings.email,
        api_token=SecretRef.literal(dc.sandbox.settings.api_token),
    )
    async with JiraClient(cloud, pause=MemoryPauseStore()) as jira:
        with pytest.raises(PermanentError, match=r"401.*jira\.pat \(Data Center\)"):
            await jira.myself()


async def test_missing_pat_is_a_config_error_and_nothing_is_sent() -> None:
    """flavor datacenter without jira.pat refuses to start; a token is never sent as Basic."""
    sent: list[httpx.Request] = []
    settings = JiraSettings(
        flavor="datacenter", email="bot@example.com", api_token=SecretRef.literal("tok")
    )
    transport = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200, json={}))
    with pytest.raises(ConfigError, match=r"jira\.pat is not set"):
        async with JiraClient(settings, pause=MemoryPauseStore(), transport=transport):
            pass
    assert sent == []


async def test_data_center_createmeta_and_search_shapes_are_walked(dc: Site) -> None:
    """DC's createmeta pages (values/isLast) and /search offsets (startAt/total) are followed."""
    headers = {"Authorization": f"Bearer {dc.sandbox.settings.pat}"}
    async with httpx.AsyncClient(base_url=dc.url, headers=headers) as http:
        meta = (await http.get("/rest/api/2/issue/createmeta/AIGOV/issuetypes")).json()
        assert set(meta) == {"values", "startAt", "maxResults", "total", "isLast"}
        jql = (
            await http.post("/rest/api/2/search/jql", json={"jql": "project = AIGOV"})
        ).status_code
        assert jql == 404  # DC has no enhanced search
    dc.jira.page_size = 2  # several createmeta pages
    types = await dc.jira.create_issue_types("AIGOV")
    assert sorted(t.name for t in types) == ["Bug", "Story", "Task"]
    task = next(t for t in types if t.name == "Task")
    screen = await dc.jira.create_fields("AIGOV", task.id)
    assert {"summary", "description", "customfield_10431"} <= {f.field_id for f in screen}

    metadata = JiraMetadata(dc.jira)
    for n in range(5):
        draft = _draft(correlation_label="kt-esc-shared", fields={"Escalation ID": f"esc_{n}"})
        await dc.jira.create_issue(await metadata.build_create_body(draft))
    jql = 'project = "AIGOV" AND labels = "kt-esc-shared" ORDER BY created ASC'
    page = await dc.jira.search(jql, fields=["labels"], max_results=2)
    assert (len(page.issues), page.next_page_token, page.is_last) == (2, "2", False)
    walked = await search_all(dc.jira, jql, fields=["labels"], page_size=2)
    assert [i["key"] for i in walked] == [f"AIGOV-{n}" for n in range(1, 6)]


async def test_user_fields_go_by_name_on_data_center_and_by_account_on_cloud() -> None:
    """An Assignee in a rule is {"name": …} on DC and {"accountId": …} on Cloud; both land."""
    for flavor, who in (("datacenter", "ada"), ("cloud", "5d53f3cbc6b9320d9ea5bdc2")):
        async with open_site(flavor=flavor, search_lag=0.0) as site:
            metadata = JiraMetadata(site.jira)
            body = await metadata.build_create_body(_draft(fields={"Assignee": who}))
            key = "name" if flavor == "datacenter" else "accountId"
            assert body["fields"]["assignee"] == {key: who}
            await site.jira.create_issue(body)
            [issue] = site.sandbox.issues
            assert issue.values["assignee"] == "5d53f3cbc6b9320d9ea5bdc2"
            assert site.sandbox.contract_violations == []


@pytest.mark.parametrize("flavor", ["cloud", "datacenter"])
async def test_the_routed_rule_set_lands_alike_on_both_flavours(flavor: str) -> None:
    """The guide's routing gives the same types, priorities, labels and field ids on Cloud and
    DC; only the description format differs (ADF vs wiki), and Cloud bodies meet the contract."""
    async with open_site(flavor=flavor, search_lag=0.0) as site:
        metadata = JiraMetadata(site.jira)
        for item in ROUTED:
            body = await metadata.build_create_body(draft_for(item, site.jira.settings))
            await site.jira.create_issue(body)
        await asyncio.sleep(0)
        found = {
            item.escalation_id: await find_by_label(
                site.jira, project="AIGOV", label=f"kt-esc-{item.escalation_id}"
            )
            for item in ROUTED
        }
        views = [site.sandbox.view(i) for i in site.sandbox.issues]
        assert site.sandbox.contract_violations == []
    assert all(len(hits) == 1 for hits in found.values())
    routed = [(v["issue_type"], v["priority"], v["fields"]["customfield_10431"]) for v in views]
    assert routed == [
        ("Bug", "Highest", "esc-safety-1"),
        ("Bug", "Highest", "esc-hipaa-1"),
        ("Bug", "Highest", "esc-block-1"),
        ("Task", "High", "esc-review-1"),
        ("Task", "Medium", "esc-pii-1"),
        ("Task", "Low", "esc-audit-1"),
    ]
    description = views[0]["fields"]["description"]
    if flavor == "cloud":
        assert description["type"] == "doc"
    else:
        assert description.startswith("h2. AI Governance Escalation")


async def test_sandbox_flavours_are_strict_about_their_own_api() -> None:
    """Cloud keeps refusing the removed /rest/api/2/search (410); DC serves it."""
    cloud = JiraSandbox(JiraSandboxSettings())
    auth = (cloud.settings.email, cloud.settings.api_token)
    async with serve_app(cloud.app) as url, httpx.AsyncClient(base_url=url, auth=auth) as http:
        gone = await http.post("/rest/api/2/search", json={"jql": "project = AIGOV"})
        assert gone.status_code == 410
    dc = JiraSandbox(JiraSandboxSettings(flavor="datacenter"))
    headers = {"Authorization": f"Bearer {dc.settings.pat}"}
    async with serve_app(dc.app) as url, httpx.AsyncClient(base_url=url, headers=headers) as http:
        ok = await http.get("/rest/api/2/search", params={"jql": "project = AIGOV"})
        assert ok.status_code == 200
        assert ok.json()["total"] == 0
