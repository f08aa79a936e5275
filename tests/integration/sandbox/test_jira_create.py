"""Issue creation in the Jira sandbox is as strict as Jira Cloud v3, with its exact errors."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest

from .conftest import JiraSite, adf, create_body, running_jira

ADF_REQUIRED = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"


def field_errors(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"errorMessages", "errors"}
    errors: dict[str, str] = body["errors"]
    return errors


async def test_create_answers_201_with_string_id_key_and_self(jira: JiraSite) -> None:
    """A valid create returns 201 {id, key, self}; keys count per project, ids are strings."""
    first = await jira.create()
    second = await jira.create()
    assert first.status_code == 201
    assert first.json() == {
        "id": "10001",
        "key": "AIGOV-1",
        "self": f"{jira.url}/rest/api/3/issue/10001",
    }
    assert second.json()["key"] == "AIGOV-2"
    issue = jira.sandbox.issue("AIGOV-1")
    assert issue is not None
    assert issue.creator == jira.sandbox.settings.account_id
    view = jira.sandbox.view(issue)
    assert (view["status"], view["status_category"], view["priority"]) == ("Open", "new", "High")
    assert view["fields_by_name"]["Escalation ID"] == "esc_abc123"


async def test_get_issue_returns_fields_by_id_with_status_category(jira: JiraSite) -> None:
    """GET /issue/{key} carries status.statusCategory, labels, resolution and custom fields."""
    await jira.create(customfield_10435="https://console.keeptrusts.com/escalations/esc_1")
    body = (await jira.http.get("/rest/api/3/issue/AIGOV-1")).json()
    fields = body["fields"]
    assert body["key"] == "AIGOV-1"
    assert fields["status"]["statusCategory"]["key"] == "new"
    assert fields["labels"] == ["ai-governance", "keeptrusts"]
    assert fields["resolution"] is None
    assert fields["customfield_10431"] == "esc_abc123"
    assert fields["customfield_10435"].endswith("/esc_1")
    assert fields["issuetype"]["name"] == "Task"
    only = (await jira.http.get("/rest/api/3/issue/10001", params={"fields": "labels"})).json()
    assert only["fields"] == {"labels": ["ai-governance", "keeptrusts"]}
    missing = await jira.http.get("/rest/api/3/issue/AIGOV-99")
    assert missing.status_code == 404


async def test_plain_string_description_needs_adf(jira: JiraSite) -> None:
    """A wiki/plain string description on v3 gets Jira's exact ADF error body."""
    response = await jira.create(description="h2. AI Governance Escalation")
    assert response.status_code == 400
    assert response.json() == {"errorMessages": [], "errors": {"description": ADF_REQUIRED}}
    assert jira.sandbox.issues == []


@pytest.mark.parametrize(
    "description",
    [
        {"type": "doc", "content": []},
        {"type": "paragraph", "version": 1, "content": []},
        {"type": "doc", "version": 1, "content": [{"type": "text", "text": "bare text"}]},
        {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": "x"}]},
    ],
)
async def test_malformed_adf_is_unsupported_content(
    jira: JiraSite, description: dict[str, Any]
) -> None:
    """A dict that is not a well-formed ADF doc is rejected as unsupported content."""
    errors = field_errors(await jira.create(description=description))
    assert errors["description"].startswith("We can't create this issue for you right now")


async def test_description_over_32767_characters_is_rejected(jira: JiraSite) -> None:
    """Text beyond 32,767 characters gets Jira's length error; exactly the limit passes."""
    too_long = field_errors(await jira.create(description=adf("x" * 32_768)))
    assert too_long == {
        "description": (
            "The entered text is too long. It exceeds the allowed limit of 32,767 characters."
        )
    }
    assert (await jira.create(description=adf("x" * 32_767))).status_code == 201


async def test_summary_rules(jira: JiraSite) -> None:
    """Summary: required, at most 255 characters, no line breaks."""
    assert field_errors(await jira.create(summary="x" * 256)) == {
        "summary": "Summary can't exceed 255 characters."
    }
    assert field_errors(await jira.create(summary="first\nsecond")) == {
        "summary": "The summary is invalid because it contains newline characters."
    }
    assert field_errors(await jira.create(summary=None)) == {
        "summary": "You must specify a summary of the issue."
    }
    assert (await jira.create(summary="x" * 255)).status_code == 201


async def test_labels_rules(jira: JiraSite) -> None:
    """Labels take no whitespace and at most 255 characters each."""
    assert field_errors(await jira.create(labels=["ok", "PII Detector"])) == {
        "labels": "The label 'PII Detector' can't contain spaces."
    }
    long_label = "l" * 256
    assert field_errors(await jira.create(labels=[long_label])) == {
        "labels": (
            f"The label '{long_label}' exceeds the maximum length for a single label of "
            "255 characters"
        )
    }
    assert "labels" in field_errors(await jira.create(labels="not-a-list"))


async def test_field_not_on_screen_is_rejected_by_id(jira: JiraSite) -> None:
    """Decoys, unknown ids and fields removed from the screen cannot be set."""
    errors = field_errors(
        await jira.create(customfield_10299="pii", customfield_10100="esc", resolution=None)
    )
    assert errors == {
        "customfield_10299": (
            "Field 'customfield_10299' cannot be set. It is not on the appropriate screen, "
            "or unknown."
        ),
        "customfield_10100": (
            "Field 'customfield_10100' cannot be set. It is not on the appropriate screen, "
            "or unknown."
        ),
    }
    jira.sandbox.remove_field_from_screen("AIGOV", "Model", issue_type="Task")
    errors = field_errors(await jira.create(customfield_10433="gpt-4o"))
    assert errors == {
        "customfield_10433": (
            "Field 'customfield_10433' cannot be set. It is not on the appropriate screen, "
            "or unknown."
        )
    }
    bug = await jira.create(customfield_10433="gpt-4o", issuetype={"name": "Bug"})
    assert bug.status_code == 201


async def test_priority_must_be_allowed_on_the_screen(jira: JiraSite) -> None:
    """Priority by id or name must be one of the screen's allowedValues."""
    assert (await jira.create(priority={"id": "1"})).status_code == 201
    jira.sandbox.set_allowed_priorities("AIGOV", ["High", "Medium", "Low"])
    assert field_errors(await jira.create(priority={"name": "Highest"})) == {
        "priority": "Priority name 'Highest' is not valid"
    }
    assert "priority" in field_errors(await jira.create(priority={"id": "20000"}))
    assert (await jira.create(priority={"name": "medium"})).status_code == 201


async def test_custom_field_value_types(jira: JiraSite) -> None:
    """Textfields take strings only, textareas take ADF, URL fields take absolute http(s)."""
    assert field_errors(await jira.create(customfield_10432=adf("pii"))) == {
        "customfield_10432": "Operation value must be a string"
    }
    assert field_errors(await jira.create(customfield_10436="plain")) == {
        "customfield_10436": ADF_REQUIRED
    }
    assert "customfield_10435" in field_errors(await jira.create(customfield_10435="/esc/1"))
    assert "customfield_10435" in field_errors(
        await jira.create(customfield_10435="ftp://console/esc")
    )
    ok = await jira.create(
        customfield_10436=adf("notes"), customfield_10435="https://console.keeptrusts.com/e/1"
    )
    assert ok.status_code == 201


async def test_duedate_format(jira: JiraSite) -> None:
    """duedate must be a real YYYY-MM-DD date."""
    assert field_errors(await jira.create(duedate="2026/05/01")) == {
        "duedate": "Error parsing date string: 2026/05/01"
    }
    assert "duedate" in field_errors(await jira.create(duedate="2026-02-30"))
    assert (await jira.create(duedate="2026-05-01")).status_code == 201


async def test_project_and_issue_type_must_exist(jira: JiraSite) -> None:
    """Unknown project or issue type is a field error, like Jira."""
    assert field_errors(await jira.create(project={"key": "NOPE"})) == {
        "project": "Specify a valid project ID or key"
    }
    assert field_errors(await jira.create(issuetype={"name": "Epic"})) == {
        "issuetype": "Specify a valid issue type"
    }
    assert (await jira.create(issuetype={"id": "10004"})).status_code == 201


async def test_all_field_errors_are_reported_together(jira: JiraSite) -> None:
    """Several bad fields give one 400 naming each of them."""
    errors = field_errors(await jira.create(summary="a\nb", description="text", labels=["a b"]))
    assert set(errors) == {"summary", "description", "labels"}


async def test_non_json_body_is_rejected(jira: JiraSite) -> None:
    """A body without a JSON content type is 415, malformed JSON is 400."""
    form = await jira.http.post(
        "/rest/api/3/issue", content=b"fields=1", headers={"Content-Type": "text/plain"}
    )
    broken = await jira.http.post(
        "/rest/api/3/issue", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert (form.status_code, broken.status_code) == (415, 400)


async def test_request_validator_failures_are_400_and_recorded() -> None:
    """A plugged-in contract validator sees every body; its failures become 400s and are logged."""
    seen: list[tuple[str, str, object]] = []

    def validator(method: str, path: str, body: object) -> None:
        seen.append((method, path, body))
        if isinstance(body, dict) and "forbidden" in body.get("fields", {}):
            raise ValueError("body does not match the CreateIssue schema")

    async with running_jira(request_validator=validator) as site:
        good = await site.create()
        bad = await site.http.post("/rest/api/3/issue", json=create_body(forbidden=1))
        stats = (await site.http.get("/_sandbox/stats")).json()
    assert good.status_code == 201
    assert bad.status_code == 400
    assert bad.json()["errorMessages"] == ["body does not match the CreateIssue schema"]
    assert [(m, p) for m, p, _ in seen] == [("POST", "/rest/api/3/issue")] * 2
    assert stats["contract_violations"] == [
        {
            "method": "POST",
            "path": "/rest/api/3/issue",
            "message": "body does not match the CreateIssue schema",
        }
    ]
    assert len(site.sandbox.contract_violations) == 1


async def test_a_slow_request_validator_holds_up_no_other_request() -> None:
    """A contract check that takes seconds (a new ADF shape) delays its own request only: a
    request sent meanwhile is answered at once, as a real site would answer other clients."""
    release = threading.Event()

    def validator(method: str, path: str, body: object) -> None:
        if isinstance(body, dict) and body.get("fields", {}).get("summary") == "slow":
            release.wait(timeout=10)

    async with running_jira(request_validator=validator) as site:
        started = time.monotonic()
        slow = asyncio.create_task(site.create(summary="slow"))
        await asyncio.sleep(0.1)
        quick = await site.http.get("/rest/api/3/myself")
        waited = time.monotonic() - started
        release.set()
        assert (await slow).status_code == 201
    assert quick.status_code == 200
    assert waited < 2, f"a request waited {waited:.1f}s behind another's validation"


async def test_edit_labels_and_comment(jira: JiraSite) -> None:
    """PUT edits labels with add/remove; comments must be ADF and answer 201."""
    await jira.create()
    edit = await jira.http.put(
        "/rest/api/3/issue/AIGOV-1",
        json={"update": {"labels": [{"add": "sla-breached"}, {"remove": "keeptrusts"}]}},
    )
    assert edit.status_code == 204
    issue = jira.sandbox.issue("AIGOV-1")
    assert issue is not None
    assert issue.labels == ["ai-governance", "sla-breached"]
    bad = await jira.http.post("/rest/api/3/issue/AIGOV-1/comment", json={"body": "plain"})
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"comment": ADF_REQUIRED}
    good = await jira.http.post("/rest/api/3/issue/AIGOV-1/comment", json={"body": adf("hi")})
    assert good.status_code == 201
    assert good.json()["author"]["accountId"] == jira.sandbox.settings.account_id
    assert jira.sandbox.view(issue)["comments"] == [
        {"author": jira.sandbox.settings.account_id, "body": adf("hi")}
    ]
