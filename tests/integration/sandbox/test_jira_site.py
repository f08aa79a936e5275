"""The Jira sandbox's site data over HTTP: auth, fields, myself and create metadata."""

from __future__ import annotations

import httpx
import pytest

from .conftest import JiraSite, running_jira

CUSTOM_TEXT = "com.atlassian.jira.plugin.system.customfieldtypes:textfield"


async def test_every_rest_call_requires_basic_auth(jira: JiraSite) -> None:
    """No or wrong credentials get Jira's 401 body, and nothing is created."""
    async with httpx.AsyncClient(base_url=jira.url) as anonymous:
        missing = await anonymous.get("/rest/api/3/myself")
        wrong = await anonymous.post(
            "/rest/api/3/issue", json={"fields": {}}, auth=(jira.sandbox.settings.email, "nope")
        )
        bearer = await anonymous.get(
            "/rest/api/3/field", headers={"Authorization": "Bearer sandbox-jira-token"}
        )
    for response in (missing, wrong, bearer):
        assert response.status_code == 401
        assert response.json() == {
            "errorMessages": [
                "You are not authenticated. Authentication required to perform this operation."
            ],
            "errors": {},
        }
    assert jira.sandbox.issues == []


async def test_myself_returns_the_bot_account(jira: JiraSite) -> None:
    """/myself identifies the API token's account by a 24-character accountId."""
    me = (await jira.http.get("/rest/api/3/myself")).json()
    assert len(me["accountId"]) == 24
    assert me["emailAddress"] == jira.sandbox.settings.email
    assert me["displayName"]


async def test_field_list_has_field_details_and_decoys(jira: JiraSite) -> None:
    """/field returns FieldDetails with real ids unlike the guide's, plus look-alike decoys."""
    fields = (await jira.http.get("/rest/api/3/field")).json()
    by_id = {f["id"]: f for f in fields}
    escalation = by_id["customfield_10431"]
    assert escalation["name"] == "Escalation ID"
    assert escalation["custom"] is True
    assert escalation["clauseNames"] == ["cf[10431]", "Escalation ID"]
    assert escalation["schema"] == {"type": "string", "custom": CUSTOM_TEXT, "customId": 10431}
    assert by_id["customfield_10435"]["schema"]["custom"].endswith(":url")
    assert by_id["summary"]["schema"] == {"type": "string", "system": "summary"}
    assert {"orderable", "navigable", "searchable", "key"} <= set(escalation)
    assert not {f"customfield_{n}" for n in range(10100, 10105)} & set(by_id)
    names = [f["name"] for f in fields]
    assert names.count("Policy Name") == 2
    assert {"Escalation Id", "Escalation ID (legacy)", "Model Version"} <= set(names)
    # The decoy comes first, so "first field with that name" is the wrong one.
    first_policy = next(f for f in fields if f["name"] == "Policy Name")
    assert first_policy["id"] == "customfield_10299"


async def test_createmeta_issue_types_paginate(jira: JiraSite) -> None:
    """Create-metadata issue types page with startAt/maxResults and report the total."""
    first = (
        await jira.http.get(
            "/rest/api/3/issue/createmeta/AIGOV/issuetypes", params={"maxResults": 2}
        )
    ).json()
    rest = (
        await jira.http.get("/rest/api/3/issue/createmeta/AIGOV/issuetypes", params={"startAt": 2})
    ).json()
    assert (first["total"], first["startAt"], first["maxResults"]) == (3, 0, 2)
    names = [t["name"] for t in first["issueTypes"] + rest["issueTypes"]]
    assert sorted(names) == ["Bug", "Story", "Task"]
    ids = {t["name"]: t["id"] for t in first["issueTypes"] + rest["issueTypes"]}
    assert ids == {"Bug": "10004", "Task": "10002", "Story": "10001"}


async def test_createmeta_fields_show_the_screen_and_priorities(jira: JiraSite) -> None:
    """The Task screen lists the real custom fields (not the decoy) and priority allowedValues."""
    response = await jira.http.get(
        "/rest/api/3/issue/createmeta/AIGOV/issuetypes/10002", params={"maxResults": 200}
    )
    body = response.json()
    fields = {f["fieldId"]: f for f in body["fields"]}
    assert body["total"] == len(fields)
    assert {"customfield_10431", "customfield_10432", "customfield_10435"} <= set(fields)
    assert "customfield_10299" not in fields
    assert fields["summary"]["required"] is True
    assert fields["labels"]["operations"] == ["add", "set", "remove"]
    allowed = fields["priority"]["allowedValues"]
    assert [(p["id"], p["name"]) for p in allowed] == [
        ("1", "Highest"),
        ("2", "High"),
        ("3", "Medium"),
        ("4", "Low"),
        ("5", "Lowest"),
    ]
    assert all(p["self"].endswith(f"/rest/api/3/priority/{p['id']}") for p in allowed)


async def test_createmeta_rejects_max_results_over_200(jira: JiraSite) -> None:
    """maxResults above 200 is a 400 with Jira's exact message."""
    response = await jira.http.get(
        "/rest/api/3/issue/createmeta/AIGOV/issuetypes/10002", params={"maxResults": 201}
    )
    assert response.status_code == 400
    assert response.json() == {
        "errorMessages": ["Parameter 'maxResults' must not exceed the limit '200'"],
        "errors": {},
    }


async def test_screen_and_priority_edits_show_in_createmeta(jira: JiraSite) -> None:
    """Removing a field from a screen or a priority from a scheme is visible to clients."""
    jira.sandbox.remove_field_from_screen("AIGOV", "customfield_10432", issue_type="Task")
    jira.sandbox.set_allowed_priorities("AIGOV", ["High", "Low"], issue_type="Task")
    task = (await jira.http.get("/rest/api/3/issue/createmeta/AIGOV/issuetypes/10002")).json()
    bug = (await jira.http.get("/rest/api/3/issue/createmeta/AIGOV/issuetypes/10004")).json()
    task_fields = {f["fieldId"]: f for f in task["fields"]}
    assert "customfield_10432" not in task_fields
    assert [p["name"] for p in task_fields["priority"]["allowedValues"]] == ["High", "Low"]
    assert "customfield_10432" in {f["fieldId"] for f in bug["fields"]}


async def test_unknown_project_is_404_and_several_projects_exist() -> None:
    """Projects are configurable; createmeta for an unknown key is a 404."""
    async with running_jira(projects=("AIGOV", "SECOPS")) as site:
        ok = await site.http.get("/rest/api/3/issue/createmeta/SECOPS/issuetypes")
        missing = await site.http.get("/rest/api/3/issue/createmeta/NOPE/issuetypes")
        created = await site.create(project={"key": "SECOPS"})
    assert ok.status_code == 200
    assert missing.status_code == 404
    assert created.json()["key"] == "SECOPS-1"


async def test_screen_helpers_take_ids_or_names(jira: JiraSite) -> None:
    """A name removes every field of that name; adding by an ambiguous name is refused."""
    jira.sandbox.remove_field_from_screen("AIGOV", "Policy Name")
    screen = jira.sandbox.state.site.projects["AIGOV"].screens["10002"]
    assert "customfield_10432" not in screen.fields
    with pytest.raises(ValueError, match="pass the field id"):
        jira.sandbox.add_field_to_screen("AIGOV", "Policy Name")
    jira.sandbox.add_field_to_screen("AIGOV", "customfield_10299", issue_type="Task")
    assert (await jira.create(customfield_10299="decoy")).status_code == 201
