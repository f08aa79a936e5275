"""The acceptance suite's fast contract check gives the same verdicts as the full one, so the
sandbox's ``contract_violations`` still mean "Jira Cloud would refuse this"."""

from __future__ import annotations

from typing import Any

import pytest

from tests.acceptance.harness import contract_validator
from tests.support.contracts import validate_jira_request

pytestmark = pytest.mark.slow


def _doc(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": list(content)}


def _text(value: str, **extra: Any) -> dict[str, Any]:
    return {"type": "text", "text": value, **extra}


def _create(description: object) -> dict[str, Any]:
    return {
        "fields": {
            "project": {"key": "AIGOV"},
            "issuetype": {"id": "10002"},
            "summary": "AI Escalation",
            "labels": ["ai-governance"],
            "description": description,
        }
    }


LINK = {"type": "link", "attrs": {"href": "https://console.keeptrusts.com/escalations/e1"}}
CASES = {
    "valid": _create(_doc({"type": "paragraph", "content": [_text("hi", marks=[LINK])]})),
    "valid-twice-other-text": _create(
        _doc({"type": "paragraph", "content": [_text("other words", marks=[LINK])]})
    ),
    "plain string": _create("a plain string is not ADF"),
    "empty text node": _create(_doc({"type": "paragraph", "content": [_text("")]})),
    "unknown node": _create(_doc({"type": "marquee", "content": []})),
    "text at top level": _create(_doc(_text("loose"))),
    "bad field type": {"fields": {"summary": 42, "labels": "not-a-list"}},
    "comment": {"body": _doc({"type": "paragraph", "content": [_text("noted")]})},
}


@pytest.mark.parametrize("name", list(CASES))
def test_fast_contract_check_agrees_with_the_full_one(name: str) -> None:
    """Each request body is accepted or refused exactly as the full OpenAPI + ADF check does."""
    path = "/rest/api/3/issue/AIGOV-1/comment" if name == "comment" else "/rest/api/3/issue"
    body = CASES[name]
    fast = contract_validator()
    try:
        validate_jira_request("POST", path, body)
    except AssertionError:
        with pytest.raises(AssertionError):
            fast("POST", path, body)
    else:
        fast("POST", path, body)
