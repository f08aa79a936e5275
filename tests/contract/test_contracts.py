"""Request bodies the bridge sends to Jira Cloud against Atlassian's OpenAPI spec and ADF schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kt_jira.render.adf import to_adf
from kt_jira.render.nodes import Document, Heading, Link, paragraph, text
from tests.support import contracts
from tests.support.contracts import (
    UnknownJiraOperation,
    find_operation,
    make_request_validator,
    validate_adf,
    validate_jira_request,
)


def _description() -> dict[str, Any]:
    return to_adf(
        Document(
            content=(
                Heading(level=2, content=(text("Prompt injection blocked"),)),
                paragraph(
                    text("Open in "),
                    Link(text="Keeptrusts", href="https://console.keeptrusts.com/e/esc_1"),
                ),
            )
        )
    )


def _create_body(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "project": {"key": "AIGOV"},
        "issuetype": {"id": "10001"},
        "summary": "[critical] Prompt injection blocked on gw-eu-1",
        "description": _description(),
        "labels": ["kt-esc-esc_1", "policy-prompt-injection"],
        "priority": {"id": "1"},
        "duedate": "2026-12-01",
        "customfield_10431": "esc_1",
    }
    fields.update(overrides)
    return {"fields": fields}


def test_good_create_issue_body_validates() -> None:
    """A create-issue body (ADF description, labels, priority, due date, custom field) passes."""
    validate_jira_request("POST", "/rest/api/3/issue", _create_body())


def test_plain_string_description_fails_the_adf_check() -> None:
    """A wiki/plain-string description is rejected, as Jira Cloud v3 would with a 400."""
    with pytest.raises(AssertionError, match=r"fields\.description"):
        validate_jira_request("POST", "/rest/api/3/issue", _create_body(description="h1. text"))


def test_schema_violation_in_body_fails() -> None:
    """A body that breaks the operation's own schema fails with the JSON path of the problem."""
    with pytest.raises(AssertionError, match=r"\$\.fields"):
        validate_jira_request("POST", "/rest/api/3/issue", {"fields": ["not", "an", "object"]})


def test_transition_body_validates() -> None:
    """A transition with a resolution and an ADF comment passes."""
    body = {
        "transition": {"id": "31"},
        "fields": {"resolution": {"name": "Done"}},
        "update": {"comment": [{"add": {"body": _description()}}]},
    }
    validate_jira_request("POST", "/rest/api/3/issue/AIGOV-1/transitions", body)


def test_transition_comment_must_be_adf() -> None:
    """A transition whose comment body is a plain string fails the ADF check."""
    body = {"transition": {"id": "31"}, "update": {"comment": [{"add": {"body": "done"}}]}}
    with pytest.raises(AssertionError, match=r"update\.comment\[0\]\.add\.body"):
        validate_jira_request("POST", "/rest/api/3/issue/AIGOV-1/transitions", body)


def test_comment_body_validates() -> None:
    """An ADF comment body passes; a string body does not."""
    validate_jira_request("POST", "/rest/api/3/issue/AIGOV-1/comment", {"body": _description()})
    with pytest.raises(AssertionError, match="body"):
        validate_jira_request("POST", "/rest/api/3/issue/AIGOV-1/comment", {"body": "text"})


def test_search_body_validates() -> None:
    """An enhanced-search body passes; a wrongly typed field fails."""
    body = {
        "jql": 'project = AIGOV AND labels = "kt-esc-esc_1"',
        "fields": ["labels"],
        "maxResults": 5,
    }
    validate_jira_request("POST", "/rest/api/3/search/jql", body)
    with pytest.raises(AssertionError, match="maxResults"):
        validate_jira_request("POST", "/rest/api/3/search/jql", {"jql": "x", "maxResults": "5"})


def test_requests_without_body() -> None:
    """GET requests validate with no body, and a body where none is taken fails."""
    validate_jira_request(
        "GET", "/rest/api/3/issue/createmeta/AIGOV/issuetypes?maxResults=50", None
    )
    with pytest.raises(AssertionError, match="no JSON request body"):
        validate_jira_request("GET", "/rest/api/3/myself", {"x": 1})


def test_nullable_fields_accept_null() -> None:
    """OpenAPI ``nullable: true`` is honoured: null passes where the spec allows it."""
    body = {"name": "p", "iconUrl": None, "statusColor": "#123456"}
    validate_jira_request("POST", "/rest/api/3/priority", body)


def test_literal_segments_win_over_parameters() -> None:
    """Concrete paths map to the most literal template."""
    assert (
        find_operation("GET", "/rest/api/3/issue/createmeta")[0] == "/rest/api/3/issue/createmeta"
    )
    assert (
        find_operation("GET", "/rest/api/3/issue/AIGOV-1")[0] == "/rest/api/3/issue/{issueIdOrKey}"
    )
    assert (
        find_operation("POST", "/rest/api/3/issue/AIGOV-1/transitions")[0]
        == "/rest/api/3/issue/{issueIdOrKey}/transitions"
    )


def test_unknown_path_raises() -> None:
    """A path or method the spec does not have is a clear lookup error, not a silent pass."""
    with pytest.raises(UnknownJiraOperation, match="no operation"):
        validate_jira_request("POST", "/rest/api/3/not-a-thing", {})
    with pytest.raises(UnknownJiraOperation, match="has no PATCH"):
        validate_jira_request("PATCH", "/rest/api/3/issue", {})


def test_request_validator_strips_query_and_host() -> None:
    """The sandbox callable accepts paths with query strings and full URLs."""
    validate = make_request_validator()
    validate("POST", "/rest/api/3/issue?updateHistory=true", _create_body())
    validate("POST", "https://example.atlassian.net/rest/api/3/issue", _create_body())
    with pytest.raises(AssertionError):
        validate("POST", "/rest/api/3/issue?x=1", _create_body(description="plain"))


def test_validate_adf_reports_the_cause() -> None:
    """An invalid ADF document fails with the location of the real cause."""
    bad = {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": ""}]}],
    }
    with pytest.raises(AssertionError, match=r"content\[0\]\.content\[0\]\.text"):
        validate_adf(bad)


def test_missing_reference_file_skips_with_fetch_instructions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The public helpers skip without their file, naming the fix (fail when it is required)."""
    monkeypatch.setenv(contracts.ADF_ENV, str(tmp_path / "missing.json"))
    monkeypatch.delenv(contracts.REQUIRE_CONTRACTS_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="scripts/fetch-contracts"):
        validate_adf({"type": "doc", "version": 1, "content": []})
    monkeypatch.setenv(contracts.REQUIRE_CONTRACTS_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="scripts/fetch-contracts"):
        make_request_validator()


def test_default_reference_paths_are_relative_to_the_repository() -> None:
    """Defaults live in ../shared/reference next to the repository, not at an absolute path."""
    repo_root = Path(__file__).resolve().parents[2]
    reference = repo_root.parent / "shared" / "reference"
    assert reference / "adf-schema-v1-full.json" == contracts.DEFAULT_ADF_SCHEMA
    assert reference / "jira-cloud-platform-openapi-v3.json" == contracts.DEFAULT_OPENAPI_SPEC
