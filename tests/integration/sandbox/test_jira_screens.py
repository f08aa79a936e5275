"""The Jira sandbox's custom fields and screens over HTTP: creating a field, walking a project's
issue type screen scheme to its create screens, adding a field to a tab, and the refusals."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import JiraSite, running_jira

API = "/rest/api/3"
CF = "com.atlassian.jira.plugin.system.customfieldtypes:"


def field_body(name: str, kind: str = "textfield", searcher: str | None = "textsearcher") -> Any:
    body = {"name": name, "type": CF + kind, "description": "Created by a test"}
    return body | ({"searcherKey": CF + searcher} if searcher else {})


async def createmeta_ids(http: httpx.AsyncClient, type_id: str, api: str = API) -> set[str]:
    page = (await http.get(f"{api}/issue/createmeta/AIGOV/issuetypes/{type_id}")).json()
    return {f["fieldId"] for f in page.get("fields", page.get("values", []))}


async def create_screen(http: httpx.AsyncClient, type_id: str) -> tuple[int, int, str]:
    """(screen id, tab id, screen name) of AIGOV's create screen for one issue type, found the
    way a client must: project -> issue type screen scheme -> mapping -> screen scheme."""
    project = (await http.get(f"{API}/project/AIGOV")).json()
    schemes = await http.get(f"{API}/issuetypescreenscheme/project?projectId={project['id']}")
    [entry] = schemes.json()["values"]
    scheme_id = entry["issueTypeScreenScheme"]["id"]
    mapping = await http.get(
        f"{API}/issuetypescreenscheme/mapping?issueTypeScreenSchemeId={scheme_id}"
    )
    by_type = {m["issueTypeId"]: m["screenSchemeId"] for m in mapping.json()["values"]}
    screen_scheme_id = by_type.get(type_id, by_type["default"])
    [scheme] = (await http.get(f"{API}/screenscheme?id={screen_scheme_id}")).json()["values"]
    screen_id = scheme["screens"].get("create", scheme["screens"]["default"])
    [screen] = (await http.get(f"{API}/screens?id={screen_id}")).json()["values"]
    [tab] = (await http.get(f"{API}/screens/{screen_id}/tabs")).json()
    return screen_id, tab["id"], screen["name"]


async def test_a_created_field_is_listed_but_on_no_screen_until_added(jira: JiraSite) -> None:
    """POST /field makes a new id in /field (names may repeat); only adding it to the create
    screen's tab puts it in that issue type's createmeta, and then a create may set it."""
    first = await jira.http.post(f"{API}/field", json=field_body("Reviewer Team"))
    again = await jira.http.post(f"{API}/field", json=field_body("Reviewer Team"))
    assert (first.status_code, again.status_code) == (201, 201)
    created, duplicate = first.json(), again.json()
    assert created["id"] == "customfield_10500"
    assert duplicate["id"] == "customfield_10501"
    assert created["schema"]["custom"] == CF + "textfield"
    assert created["searchable"] is True
    listed = [f["id"] for f in (await jira.http.get(f"{API}/field")).json()]
    assert {"customfield_10500", "customfield_10501"} <= set(listed)
    assert "customfield_10500" not in await createmeta_ids(jira.http, "10002")
    refused = await jira.create(customfield_10500="blue team")
    assert refused.status_code == 400

    screen_id, tab_id, name = await create_screen(jira.http, "10002")
    assert name == "AIGOV: Task Create Screen"
    tab = f"{API}/screens/{screen_id}/tabs/{tab_id}/fields"
    added = await jira.http.post(tab, json={"fieldId": "customfield_10500"})
    assert added.json() == {"id": "customfield_10500", "name": "Reviewer Team"}
    assert "customfield_10500" in [f["id"] for f in (await jira.http.get(tab)).json()]
    assert "customfield_10500" in await createmeta_ids(jira.http, "10002")
    assert "customfield_10500" not in await createmeta_ids(jira.http, "10004")  # Bug's screen
    assert (await jira.create(customfield_10500="blue team")).status_code == 201


async def test_a_types_default_screen_is_not_its_create_screen(jira: JiraSite) -> None:
    """Bug's screen scheme has a create screen and a different default one: a field added to
    the default screen stays out of Bug's createmeta."""
    created = (await jira.http.post(f"{API}/field", json=field_body("Triage Notes"))).json()
    [scheme] = (await jira.http.get(f"{API}/screenscheme?id=2001")).json()["values"]
    assert scheme["screens"]["create"] != scheme["screens"]["default"]
    default = scheme["screens"]["default"]
    [tab] = (await jira.http.get(f"{API}/screens/{default}/tabs")).json()
    await jira.http.post(
        f"{API}/screens/{default}/tabs/{tab['id']}/fields", json={"fieldId": created["id"]}
    )
    assert created["id"] not in await createmeta_ids(jira.http, "10004")


async def test_field_and_screen_requests_are_checked_like_jira(jira: JiraSite) -> None:
    """An unknown type or a searcher that does not fit is 400; adding a field twice is 400; an
    unknown field, screen or tab is 404; a missing projectId is 400."""
    unknown = await jira.http.post(f"{API}/field", json=field_body("X", kind="colourpicker"))
    mismatched = await jira.http.post(f"{API}/field", json=field_body("X", kind="url"))
    nameless = await jira.http.post(f"{API}/field", json=field_body(" "))
    assert [r.status_code for r in (unknown, mismatched, nameless)] == [400, 400, 400]
    assert "colourpicker" in unknown.json()["errors"]["type"]
    screen_id, tab_id, _name = await create_screen(jira.http, "10002")
    tab = f"{API}/screens/{screen_id}/tabs/{tab_id}/fields"
    twice = await jira.http.post(tab, json={"fieldId": "customfield_10431"})
    ghost = await jira.http.post(tab, json={"fieldId": "customfield_99999"})
    no_screen = await jira.http.get(f"{API}/screens/4242/tabs")
    no_tab = await jira.http.get(f"{API}/screens/{screen_id}/tabs/1/fields")
    no_project = await jira.http.get(f"{API}/issuetypescreenscheme/project")
    assert twice.status_code == 400
    assert "already exists" in twice.json()["errorMessages"][0]
    assert [r.status_code for r in (ghost, no_screen, no_tab)] == [404, 404, 404]
    assert no_project.status_code == 400
    assert len(jira.sandbox.state.site.fields) == 28  # nothing was created


async def test_a_bot_without_administer_jira_is_refused() -> None:
    """Without the admin permission the scheme and screen calls answer 403 and POST /field 400
    (what Cloud's spec says), and nothing changes."""
    async with running_jira(admin=False) as site:
        calls = [
            await site.http.get(f"{API}/issuetypescreenscheme/project?projectId=10000"),
            await site.http.get(f"{API}/issuetypescreenscheme/mapping"),
            await site.http.get(f"{API}/screenscheme"),
            await site.http.get(f"{API}/screens"),
            await site.http.get(f"{API}/screens/1002/tabs"),
            await site.http.post(f"{API}/screens/1002/tabs/10021/fields", json={"fieldId": "x"}),
        ]
        assert [c.status_code for c in calls] == [403] * 6
        assert "Only Jira administrators" in calls[0].json()["errorMessages"][0]
        created = await site.http.post(f"{API}/field", json=field_body("Reviewer Team"))
        assert created.status_code == 400
        assert not site.sandbox.state.site.fields_named("Reviewer Team")


async def test_a_team_managed_project_has_no_schemes() -> None:
    """Jira lists only company-managed projects' schemes: a team-managed one gets none."""
    async with running_jira() as site:
        site.sandbox.state.site.projects["AIGOV"].team_managed = True
        found = await site.http.get(f"{API}/issuetypescreenscheme/project?projectId=10000")
    assert found.status_code == 200
    assert found.json()["values"] == []


async def test_data_center_creates_fields_but_has_no_scheme_calls() -> None:
    """DC serves POST /rest/api/2/field and the screen tab calls, but none of the scheme calls
    (404), so no client can find a project's create screen over REST there; a bot without
    the admin permission gets 403."""
    async with running_jira(flavor="datacenter") as site:
        api = "/rest/api/2"
        created = await site.http.post(f"{api}/field", json=field_body("Reviewer Team"))
        assert created.status_code == 201
        for path in ("issuetypescreenscheme/project?projectId=10000", "screenscheme", "screens"):
            assert (await site.http.get(f"{api}/{path}")).status_code == 404
        tab = f"{api}/screens/1002/tabs/10021/fields"
        added = await site.http.post(tab, json={"fieldId": created.json()["id"]})
        assert added.status_code == 200
        assert created.json()["id"] in await createmeta_ids(site.http, "10002", api)
    async with running_jira(flavor="datacenter", admin=False) as site:
        refused = await site.http.post("/rest/api/2/field", json=field_body("Reviewer Team"))
        assert refused.status_code == 403
