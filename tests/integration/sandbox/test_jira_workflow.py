"""Workflow of the Jira sandbox: transitions by status, resolution screens, comments."""

from __future__ import annotations

from typing import Any

import httpx

from kt_jira.sandbox import Status, Transition, Workflow

from .conftest import JiraSite, adf

RESOLUTION_NOT_ON_SCREEN = (
    "Field 'resolution' cannot be set. It is not on the appropriate screen, or unknown."
)


async def transitions(jira: JiraSite, key: str = "AIGOV-1", **params: str) -> dict[str, Any]:
    response = await jira.http.get(f"/rest/api/3/issue/{key}/transitions", params=params)
    assert response.status_code == 200
    return {t["name"]: t for t in response.json()["transitions"]}


async def move(
    jira: JiraSite, transition_id: str, key: str = "AIGOV-1", **extra: Any
) -> httpx.Response:
    body = {"transition": {"id": transition_id}, **extra}
    return await jira.http.post(f"/rest/api/3/issue/{key}/transitions", json=body)


async def test_guide_workflow_to_resolved_and_closed(jira: JiraSite) -> None:
    """Open → In Progress → Under Review → Resolved (with resolution) → Closed, by lookup."""
    await jira.create()
    available = await transitions(jira)
    assert list(available) == ["Start Progress"]
    start = available["Start Progress"]
    assert start["to"]["name"] == "In Progress"
    assert start["to"]["statusCategory"] == {
        "self": f"{jira.url}/rest/api/3/statuscategory/4",
        "id": 4,
        "key": "indeterminate",
        "colorName": "yellow",
        "name": "In Progress",
    }
    assert (await move(jira, start["id"])).status_code == 204
    review = (await transitions(jira))["Submit for Review"]
    assert (await move(jira, review["id"])).status_code == 204
    resolve = (await transitions(jira, expand="transitions.fields"))["Resolve"]
    assert resolve["hasScreen"] is True
    names = [v["name"] for v in resolve["fields"]["resolution"]["allowedValues"]]
    assert "Won't Do" in names
    done = await move(jira, resolve["id"], fields={"resolution": {"name": "Won't Do"}})
    assert done.status_code == 204
    fields = (await jira.http.get("/rest/api/3/issue/AIGOV-1")).json()["fields"]
    assert fields["status"]["name"] == "Resolved"
    assert fields["status"]["statusCategory"]["key"] == "done"
    assert fields["resolution"]["name"] == "Won't Do"
    assert fields["resolutiondate"] is not None
    close = (await transitions(jira))["Close"]
    assert close["hasScreen"] is False
    assert (await move(jira, close["id"])).status_code == 204
    assert jira.sandbox.view(jira.sandbox.issues[0])["status"] == "Closed"


async def test_resolution_only_on_transitions_with_a_screen(jira: JiraSite) -> None:
    """Setting resolution on a screenless transition is Jira's 'cannot be set' 400."""
    await jira.create()
    rejected = await move(jira, "11", fields={"resolution": {"name": "Done"}})
    assert rejected.status_code == 400
    assert rejected.json() == {
        "errorMessages": [],
        "errors": {"resolution": RESOLUTION_NOT_ON_SCREEN},
    }
    issue = jira.sandbox.issues[0]
    assert jira.sandbox.view(issue)["status"] == "Open"


async def test_false_positive_path_and_post_function_resolution(jira: JiraSite) -> None:
    """In Progress → False Positive sets its resolution by post-function, then Close."""
    await jira.create()
    assert (await move(jira, "11")).status_code == 204
    assert (await move(jira, "51")).status_code == 204
    view = jira.sandbox.view(jira.sandbox.issues[0])
    assert (view["status"], view["status_category"]) == ("False Positive", "done")
    assert view["resolution"] == "False Positive"
    assert (await move(jira, "41")).status_code == 204


async def test_unavailable_transition_and_unknown_issue(jira: JiraSite) -> None:
    """A transition not available from the current status is a 400; unknown issue is 404."""
    await jira.create()
    wrong = await move(jira, "31")
    assert wrong.status_code == 400
    assert wrong.json()["errorMessages"] == ["Transition id '31' is not valid for this issue."]
    missing = await move(jira, "11", key="AIGOV-404")
    assert missing.status_code == 404


async def test_transition_comment_must_be_adf(jira: JiraSite) -> None:
    """A comment added during a transition is ADF, like every v3 comment."""
    await jira.create()
    await move(jira, "11")
    await move(jira, "21")
    plain = await move(jira, "31", update={"comment": [{"add": {"body": "plain"}}]})
    assert plain.status_code == 400
    ok = await move(jira, "31", update={"comment": [{"add": {"body": adf("Resolved in KT")}}]})
    assert ok.status_code == 204
    view = jira.sandbox.view(jira.sandbox.issues[0])
    assert view["comments"][0]["body"] == adf("Resolved in KT")
    assert view["resolution"] == "Done"


async def test_workflow_is_replaceable_per_project(jira: JiraSite) -> None:
    """A project can use another workflow: other ids, and no resolution screen at all."""
    workflow = Workflow(
        name="Simple",
        statuses=(Status("1", "To Do", "new"), Status("2", "Done", "done")),
        transitions=(Transition(id="901", name="Finish", to="2", sources=("1",)),),
    )
    jira.sandbox.set_workflow("AIGOV", workflow)
    await jira.create()
    assert list(await transitions(jira)) == ["Finish"]
    rejected = await move(jira, "901", fields={"resolution": {"name": "Done"}})
    assert rejected.json()["errors"] == {"resolution": RESOLUTION_NOT_ON_SCREEN}
    assert (await move(jira, "901")).status_code == 204
    view = jira.sandbox.view(jira.sandbox.issues[0])
    assert (view["status"], view["status_category"], view["resolution"]) == ("Done", "done", None)


async def test_resolutions_are_listed(jira: JiraSite) -> None:
    """/resolution and paginated /resolution/search list the site's resolutions."""
    plain = (await jira.http.get("/rest/api/3/resolution")).json()
    paged = (await jira.http.get("/rest/api/3/resolution/search")).json()
    assert "False Positive" in [r["name"] for r in plain]
    assert paged["values"] == plain
    assert paged["total"] == len(plain)


async def test_ui_transition_over_admin_http_records_who(jira: JiraSite) -> None:
    """A person's transition in the 'UI' (admin endpoint) is logged with their accountId."""
    await jira.create()
    step = await jira.http.post("/_sandbox/issues/AIGOV-1/transition", json={"to": "In Progress"})
    assert step.status_code == 200
    assert step.json()["status"] == "In Progress"
    assert step.json()["changelog"][-1]["by"] != jira.sandbox.settings.account_id
    impossible = await jira.http.post("/_sandbox/issues/AIGOV-1/transition", json={"to": "Closed"})
    assert impossible.status_code == 409


async def test_waiting_for_customer_is_in_progress_and_returns_to_it(jira: JiraSite) -> None:
    """In Progress → Waiting for customer (category indeterminate) → back to In Progress."""
    await jira.create()
    assert (await move(jira, "11")).status_code == 204
    wait = (await transitions(jira))["Wait for Customer"]
    assert (wait["to"]["name"], wait["to"]["statusCategory"]["key"]) == (
        "Waiting for customer",
        "indeterminate",
    )
    assert (await move(jira, wait["id"])).status_code == 204
    assert list(await transitions(jira)) == ["Back to In Progress"]
    assert (await move(jira, (await transitions(jira))["Back to In Progress"]["id"])).is_success
    fields = (await jira.http.get("/rest/api/3/issue/AIGOV-1")).json()["fields"]
    assert fields["status"]["name"] == "In Progress"
    assert "Wait for Customer" in await transitions(jira)
