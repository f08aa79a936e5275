"""Issue links in the Jira sandbox: the seeded link types, POST /issueLink and its strictness,
and links read back in both issues' ``issuelinks`` (GET issue and search), on both flavours."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import JiraSite, adf, running_jira

LINK_TYPES = [
    ("10000", "Blocks", "is blocked by", "blocks"),
    ("10001", "Cloners", "is cloned by", "clones"),
    ("10002", "Duplicate", "is duplicated by", "duplicates"),
    ("10003", "Relates", "relates to", "relates to"),
]


def _link(link_type: dict[str, str], inward: str, outward: str) -> dict[str, Any]:
    return {"type": link_type, "inwardIssue": {"key": inward}, "outwardIssue": {"key": outward}}


async def _two_issues(jira: JiraSite) -> None:
    assert (await jira.create(summary="The blocker")).status_code == 201
    assert (await jira.create(summary="The blocked one")).status_code == 201


async def _links(jira: JiraSite, key: str, api: str = "3") -> list[dict[str, Any]]:
    response = await jira.http.get(f"/rest/api/{api}/issue/{key}", params={"fields": "issuelinks"})
    assert response.status_code == 200, response.text
    links: list[dict[str, Any]] = response.json()["fields"]["issuelinks"]
    return links


@pytest.mark.parametrize(("flavor", "api"), [("cloud", "3"), ("datacenter", "2")])
async def test_link_types_are_the_seeded_four(flavor: str, api: str) -> None:
    """GET /issueLinkType lists Blocks, Cloners, Duplicate and Relates with Jira's wording."""
    async with running_jira(flavor=flavor) as jira:
        response = await jira.http.get(f"/rest/api/{api}/issueLinkType")
    assert response.status_code == 200
    types = response.json()["issueLinkTypes"]
    assert [(t["id"], t["name"], t["inward"], t["outward"]) for t in types] == LINK_TYPES
    assert types[0]["self"] == f"{jira.url}/rest/api/{api}/issueLinkType/10000"


async def test_a_link_shows_on_both_issues_under_each_ones_role(jira: JiraSite) -> None:
    """Blocks with inward AIGOV-1 and outward AIGOV-2: AIGOV-1 blocks AIGOV-2, so AIGOV-2 lists
    AIGOV-1 as inwardIssue and AIGOV-1 lists AIGOV-2 as outwardIssue, with summary and status."""
    await _two_issues(jira)
    created = await jira.http.post(
        "/rest/api/3/issueLink", json=_link({"name": "Blocks"}, "AIGOV-1", "AIGOV-2")
    )
    assert (created.status_code, created.content) == (201, b"")
    [on_blocked] = await _links(jira, "AIGOV-2")
    [on_blocker] = await _links(jira, "AIGOV-1")
    assert on_blocked["id"] == on_blocker["id"]
    assert on_blocked["type"]["name"] == "Blocks"
    assert (on_blocked["type"]["inward"], on_blocked["type"]["outward"]) == (
        "is blocked by",
        "blocks",
    )
    assert "outwardIssue" not in on_blocked
    assert on_blocked["inwardIssue"]["key"] == "AIGOV-1"
    assert on_blocked["inwardIssue"]["fields"]["summary"] == "The blocker"
    assert on_blocked["inwardIssue"]["fields"]["status"]["name"] == "Open"
    assert "inwardIssue" not in on_blocker
    assert on_blocker["outwardIssue"]["key"] == "AIGOV-2"
    assert on_blocker["outwardIssue"]["fields"]["summary"] == "The blocked one"


async def test_links_by_ids_and_in_search_results(jira: JiraSite) -> None:
    """Type and issues may be given by id; search hits carry the links too, with live status."""
    await _two_issues(jira)
    ids = [i.id for i in jira.sandbox.issues]
    body = {"type": {"id": "10003"}, "inwardIssue": {"id": ids[0]}, "outwardIssue": {"id": ids[1]}}
    assert (await jira.http.post("/rest/api/3/issueLink", json=body)).status_code == 201
    jira.sandbox.transition_issue("AIGOV-1", "In Progress")
    found = await jira.search("project = AIGOV ORDER BY key ASC", fields=["issuelinks"])
    first, second = (i["fields"]["issuelinks"] for i in found.json()["issues"])
    assert [link["type"]["name"] for link in (*first, *second)] == ["Relates", "Relates"]
    assert first[0]["outwardIssue"]["key"] == "AIGOV-2"
    assert second[0]["inwardIssue"]["fields"]["status"]["name"] == "In Progress"


async def test_linking_the_same_pair_twice_keeps_one_link(jira: JiraSite) -> None:
    """A repeated link is answered 201 and stored once; another type is another link."""
    await _two_issues(jira)
    relates = _link({"name": "Relates"}, "AIGOV-1", "AIGOV-2")
    for _ in range(2):
        assert (await jira.http.post("/rest/api/3/issueLink", json=relates)).status_code == 201
    assert len(await _links(jira, "AIGOV-1")) == 1
    assert len(await _links(jira, "AIGOV-2")) == 1
    duplicate = _link({"name": "duplicate"}, "AIGOV-1", "AIGOV-2")
    assert (await jira.http.post("/rest/api/3/issueLink", json=duplicate)).status_code == 201
    names = [link["type"]["name"] for link in await _links(jira, "AIGOV-2")]
    assert names == ["Relates", "Duplicate"]


async def test_bad_link_requests_are_refused_and_store_nothing(jira: JiraSite) -> None:
    """Missing parts are a 400 naming each; an unknown type or issue a 404; a self-link a 400."""
    await _two_issues(jira)
    post = jira.http.post
    missing = await post("/rest/api/3/issueLink", json={"inwardIssue": {"key": "AIGOV-1"}})
    assert missing.status_code == 400
    assert missing.json() == {
        "errorMessages": [],
        "errors": {
            "type": "Field 'type' is required.",
            "outwardIssue": "Field 'outwardIssue' is required.",
        },
    }
    unnamed = await post("/rest/api/3/issueLink", json=_link({}, "AIGOV-1", "AIGOV-2"))
    assert unnamed.json()["errors"] == {"type": "Field 'type' is required."}
    unknown = await post("/rest/api/3/issueLink", json=_link({"name": "Causes"}, "AIGOV-1", "X"))
    assert unknown.status_code == 404
    assert unknown.json()["errorMessages"] == ["No issue link type with name 'Causes' found."]
    by_id = await post("/rest/api/3/issueLink", json=_link({"id": "999"}, "AIGOV-1", "AIGOV-2"))
    assert by_id.json()["errorMessages"] == ["No issue link type with id '999' found."]
    ghost = await post(
        "/rest/api/3/issueLink", json=_link({"name": "Blocks"}, "AIGOV-1", "AIGOV-9")
    )
    assert ghost.status_code == 404
    itself = await post(
        "/rest/api/3/issueLink", json=_link({"name": "Blocks"}, "AIGOV-1", "aigov-1")
    )
    assert itself.status_code == 400
    assert itself.json()["errorMessages"] == ["You cannot link an issue to itself."]
    not_adf = _link({"name": "Blocks"}, "AIGOV-1", "AIGOV-2") | {"comment": {"body": "plain"}}
    assert (await post("/rest/api/3/issueLink", json=not_adf)).status_code == 400
    assert await _links(jira, "AIGOV-1") == []
    assert await _links(jira, "AIGOV-2") == []
    assert (await jira.http.get("/rest/api/3/issue/AIGOV-2/comment")).json()["comments"] == []


async def test_a_link_comment_goes_to_the_outward_issue(jira: JiraSite) -> None:
    """``comment`` on a link is added to the outward issue, by the caller."""
    await _two_issues(jira)
    body = _link({"name": "Relates"}, "AIGOV-1", "AIGOV-2") | {"comment": {"body": adf("Same")}}
    assert (await jira.http.post("/rest/api/3/issueLink", json=body)).status_code == 201
    inward = (await jira.http.get("/rest/api/3/issue/AIGOV-1/comment")).json()["comments"]
    [comment] = (await jira.http.get("/rest/api/3/issue/AIGOV-2/comment")).json()["comments"]
    assert inward == []
    assert comment["body"] == adf("Same")
    assert comment["author"]["accountId"] == jira.sandbox.settings.account_id


async def test_a_deleted_issue_leaves_no_link_behind(jira: JiraSite) -> None:
    """Deleting an issue deletes its links: the other issue no longer lists it."""
    await _two_issues(jira)
    body = _link({"name": "Blocks"}, "AIGOV-1", "AIGOV-2")
    assert (await jira.http.post("/rest/api/3/issueLink", json=body)).status_code == 201
    jira.sandbox.delete_issue("AIGOV-1")
    assert await _links(jira, "AIGOV-2") == []


async def test_links_on_data_center_are_v2_with_wiki_comments() -> None:
    """DC serves /rest/api/2/issueLink: a wiki-markup comment, v2 links in ``issuelinks``."""
    async with running_jira(flavor="datacenter") as jira:
        for summary in ("First", "Second"):
            fields = {
                "project": {"key": "AIGOV"},
                "issuetype": {"name": "Task"},
                "summary": summary,
            }
            created = await jira.http.post("/rest/api/2/issue", json={"fields": fields})
            assert created.status_code == 201, created.text
        with_adf = _link({"name": "Relates"}, "AIGOV-1", "AIGOV-2") | {
            "comment": {"body": adf("x")}
        }
        refused = await jira.http.post("/rest/api/2/issueLink", json=with_adf)
        assert refused.json()["errors"] == {"comment": "Operation value must be a string"}
        with_wiki = _link({"name": "Relates"}, "AIGOV-1", "AIGOV-2") | {
            "comment": {"body": "Same *cause*"}
        }
        assert (await jira.http.post("/rest/api/2/issueLink", json=with_wiki)).status_code == 201
        [link] = await _links(jira, "AIGOV-2", api="2")
        comments = (await jira.http.get("/rest/api/2/issue/AIGOV-2/comment")).json()["comments"]
    assert link["inwardIssue"]["key"] == "AIGOV-1"
    assert link["self"].startswith(f"{jira.url}/rest/api/2/issueLink/")
    assert "/rest/api/3/" not in str(link)
    assert [c["body"] for c in comments] == ["Same *cause*"]
