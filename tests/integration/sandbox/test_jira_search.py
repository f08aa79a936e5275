"""Enhanced JQL search in the Jira sandbox: eventual consistency, paging, fuzzy `~`, errors."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from .conftest import JiraSite, running_jira

REMOVED = {
    "errorMessages": [
        "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
        "A full migration guideline is available at "
        "https://developer.atlassian.com/changelog/#CHANGE-2046"
    ],
    "errors": {},
}


def keys(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [issue["key"] for issue in response.json()["issues"]]


def error_text(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    return " ".join(response.json()["errorMessages"])


async def test_new_issues_appear_in_search_only_after_the_lag() -> None:
    """Search is eventually consistent; GET by key and reconcileIssues are not."""
    async with running_jira(search_lag=0.2) as site:
        created = (await site.create(labels=["kt-esc-esc_1"])).json()
        jql = 'project = AIGOV AND labels = "kt-esc-esc_1"'
        early = await site.search(jql, fields=["summary"])
        direct = await site.http.get(f"/rest/api/3/issue/{created['key']}")
        reconciled = await site.search(
            jql, fields=["summary"], reconcileIssues=[int(created["id"])]
        )
        await asyncio.sleep(0.25)
        late = await site.search(jql, fields=["summary"])
    assert keys(early) == []
    assert direct.status_code == 200
    assert keys(reconciled) == ["AIGOV-1"]
    assert keys(late) == ["AIGOV-1"]


async def test_status_changes_also_reach_search_after_the_lag() -> None:
    """Search sees each issue as it was search_lag seconds ago, updates included."""
    async with running_jira(search_lag=0.2) as site:
        await site.create()
        await asyncio.sleep(0.25)
        site.sandbox.transition_issue("AIGOV-1", "In Progress")
        jql = "project = AIGOV AND statusCategory = indeterminate"
        before = await site.search(jql)
        await asyncio.sleep(0.25)
        after = await site.search(jql)
    assert before.json()["issues"] == []
    assert [i["id"] for i in after.json()["issues"]] == ["10001"]


@pytest.mark.parametrize("path", ["/rest/api/3/search", "/rest/api/2/search"])
async def test_old_search_endpoints_are_gone(jira: JiraSite, path: str) -> None:
    """The removed /search endpoints answer 410 with Atlassian's migration message."""
    get = await jira.http.get(path, params={"jql": "project = AIGOV"})
    post = await jira.http.post(path, json={"jql": "project = AIGOV"})
    assert (get.status_code, post.status_code) == (410, 410)
    assert get.json() == post.json() == REMOVED


async def test_fields_default_to_id_and_there_is_no_total(jira: JiraSite) -> None:
    """Without `fields` only ids come back; the response never carries `total`."""
    await jira.create()
    bare = (await jira.http.post("/rest/api/3/search/jql", json={"jql": "project = AIGOV"})).json()
    assert bare == {"issues": [{"id": "10001"}], "isLast": True}
    get = await jira.http.get(
        "/rest/api/3/search/jql", params={"jql": "project = AIGOV", "fields": "summary,labels"}
    )
    [issue] = get.json()["issues"]
    assert issue["key"] == "AIGOV-1"
    assert set(issue["fields"]) == {"summary", "labels"}


async def test_pages_follow_next_page_token(jira: JiraSite) -> None:
    """maxResults pages with nextPageToken until isLast; a token is bound to its query."""
    for _ in range(5):
        await jira.create()
    jql = "project = AIGOV ORDER BY created ASC"
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        params = {"maxResults": 2, "fields": ["summary"]}
        if token:
            params["nextPageToken"] = token
        body = (await jira.search(jql, **params)).json()
        pages += 1
        assert "total" not in body
        seen += [i["key"] for i in body["issues"]]
        if body["isLast"]:
            assert "nextPageToken" not in body
            break
        token = body["nextPageToken"]
    assert pages == 3
    assert seen == [f"AIGOV-{n}" for n in range(1, 6)]
    other = await jira.search("project = AIGOV AND labels = x", nextPageToken=token)
    assert "next page token" in error_text(other)


async def test_tilde_is_fuzzy_but_labels_are_exact(jira: JiraSite) -> None:
    """`~` matches word sets in any order (so post-filter!); `labels =` matches exactly."""
    await jira.create(customfield_10431="esc-2024-00123", labels=["kt-esc-esc-2024-00123"])
    await jira.create(customfield_10431="ESC-00123-2024", labels=["kt-esc-esc-00123-2024"])
    await jira.create(customfield_10431="esc-2024-00124", labels=["kt-esc-esc-2024-00124"])
    by_cf = await jira.search('project = AIGOV AND cf[10431] ~ "esc-2024-00123" ORDER BY key')
    by_name = await jira.search(
        "project = AIGOV AND \"Escalation ID\" ~ 'esc-2024-00123' ORDER BY key ASC"
    )
    by_label = await jira.search('project = AIGOV AND labels = "kt-esc-esc-2024-00123"')
    phrase = await jira.search('project = AIGOV AND cf[10431] ~ "\\"esc 2024 00123\\""')
    assert keys(by_cf) == ["AIGOV-1", "AIGOV-2"]
    assert keys(by_name) == ["AIGOV-1", "AIGOV-2"]
    assert keys(by_label) == ["AIGOV-1"]
    assert keys(phrase) == ["AIGOV-1"]
    equality = await jira.search('project = AIGOV AND cf[10431] = "esc-2024-00123"')
    assert "The operator '=' is not supported" in error_text(equality)


async def test_summary_text_search_drops_stop_words_and_ignores_case(jira: JiraSite) -> None:
    """summary ~ is case-insensitive, word-based and ignores stop words."""
    await jira.create(summary="AI Escalation: PII-Detector blocked the request")
    await jira.create(summary="Another escalation")
    hits = await jira.search('project = AIGOV AND summary ~ "the pii detector"')
    misses = await jira.search('project = AIGOV AND summary ~ "detect"')
    assert keys(hits) == ["AIGOV-1"]
    assert keys(misses) == []


async def test_quoted_values_with_escapes(jira: JiraSite) -> None:
    """Double and single quoted JQL strings honour backslash escapes."""
    await jira.create(labels=['say"hi', "back\\slash", "it's"])
    assert keys(await jira.search('project = AIGOV AND labels = "say\\"hi"')) == ["AIGOV-1"]
    assert keys(await jira.search("project = AIGOV AND labels = 'it\\'s'")) == ["AIGOV-1"]
    assert keys(await jira.search('project = AIGOV AND labels = "back\\\\slash"')) == ["AIGOV-1"]


async def test_clauses_and_or_in_and_dates(jira: JiraSite) -> None:
    """project in, labels in, OR, NOT, key =, status =, created >= -30d and ORDER BY work."""
    jira.sandbox.add_project("SECOPS")
    await jira.create(labels=["a"])
    await jira.create(labels=["b"], project={"key": "SECOPS"})
    await jira.create(labels=["c"])
    both = await jira.search("project in (AIGOV, SECOPS) AND labels in (a, b) ORDER BY key DESC")
    either = await jira.search("labels = a OR labels = c ORDER BY created DESC")
    negated = await jira.search("project = AIGOV AND NOT labels = a")
    recent = await jira.search('project = AIGOV AND created >= -30d AND status = "Open"')
    by_key = await jira.search("key = AIGOV-2")
    future = await jira.search('project = AIGOV AND created >= "2999-01-01"')
    assert keys(both) == ["SECOPS-1", "AIGOV-1"]
    assert keys(either) == ["AIGOV-2", "AIGOV-1"]
    assert keys(negated) == ["AIGOV-2"]
    assert sorted(keys(recent)) == ["AIGOV-1", "AIGOV-2"]
    assert keys(by_key) == ["AIGOV-2"]
    assert keys(future) == []


@pytest.mark.parametrize(
    ("jql", "fragment"),
    [
        ("ORDER BY created DESC", "Unbounded JQL queries are not allowed"),
        ("", "Unbounded JQL queries are not allowed"),
        ("project = AIGOV AND summary WAS x", "Expecting operator but got 'WAS'"),
        ("project = AIGOV AND nosuchfield = 1", "Field 'nosuchfield' does not exist"),
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
        ("project = AIGOV AND labels = a.b", "The character '.' is a reserved JQL character"),
        ('project = AIGOV AND labels = "open', "missing its closing quote"),
        ("project = AIGOV AND statusCategory = Finished", "does not exist for the field"),
        ("project = AIGOV AND created >= yesterday", "Date value 'yesterday'"),
        ("project = AIGOV ORDER BY cf[10431]", "Not able to sort using field"),
        ("project = AIGOV AND issueFunction in (x)", "Field 'issueFunction' does not exist"),
        ("project = AIGOV AND created >= startOfWeek()", "Unable to find JQL function"),
    ],
)
async def test_bad_or_unsupported_jql_is_a_400(jira: JiraSite, jql: str, fragment: str) -> None:
    """Unbounded, malformed or unsupported JQL answers 400 with an explanatory message."""
    assert fragment in error_text(await jira.search(jql))


async def test_done_category_and_resolution_clauses(jira: JiraSite) -> None:
    """statusCategory = Done / != Done and resolution clauses follow the workflow."""
    await jira.create()
    await jira.create()
    jira.sandbox.transition_issue("AIGOV-1", "In Progress")
    jira.sandbox.transition_issue("AIGOV-1", "False Positive")
    done = await jira.search("project = AIGOV AND statusCategory = Done")
    open_ = await jira.search("project = AIGOV AND statusCategory != Done")
    fp = await jira.search('project = AIGOV AND resolution = "False Positive"')
    unresolved = await jira.search("project = AIGOV AND resolution is EMPTY")
    assert keys(done) == keys(fp) == ["AIGOV-1"]
    assert keys(open_) == keys(unresolved) == ["AIGOV-2"]
