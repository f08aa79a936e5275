"""Correlation markers: config validation, template quoting, and the JQL each marker sends."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kt_jira.config.loader import settings_from_dict
from kt_jira.config.models import JiraSettings, jql_template_names
from kt_jira.errors import ConfigError, DraftError
from kt_jira.jira import JiraClient, JiraMetadata, find_existing
from kt_jira.jira.correlation import fill_template

from .conftest import jira_settings

ESC_FIELD = {
    "id": "customfield_10431",
    "name": "Escalation ID",
    "custom": True,
    "searchable": True,
    "clauseNames": ["cf[10431]", "Escalation ID"],
    "schema": {"type": "string", "custom": "x:textfield", "customId": 10431},
}


def test_template_values_are_quoted_jql_strings() -> None:
    """Every substituted value is a quoted JQL literal, so a hostile id cannot add clauses."""
    jql = fill_template(
        'project = {project} AND "Escalation ID" ~ {escalation_id}',
        project="AIGOV",
        escalation_id='x" OR project = "SECRET',
        label="kt-esc-x",
    )
    assert jql == 'project = "AIGOV" AND "Escalation ID" ~ "x\\" OR project = \\"SECRET"'


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ("project = {projekt}", "unknown placeholder {projekt}"),
        ("x ~ {escalation_id!r}", "unknown placeholder {escalation_id!r}"),
        ("x ~ {escalation_id:>9}", "unknown placeholder {escalation_id:>9}"),
        ('x ~ "{escalation_id}"', "inserted already quoted"),
        ("x ~ {escalation_id", "not a valid template"),
    ],
)
def test_bad_templates_are_refused_with_the_reason(template: str, error: str) -> None:
    """Unknown placeholders, conversions, pre-quoted values and broken braces are refused."""
    with pytest.raises(ValueError, match=error):
        jql_template_names(template)


@pytest.mark.parametrize(
    ("correlation", "fields", "error"),
    [
        ({"marker": "label", "add_label": False}, {}, "the label IS the marker"),
        ({"marker": "jql"}, {}, "needs a jql template"),
        ({"marker": "jql", "jql": "project = {project}"}, {}, "must use {escalation_id}"),
        ({"marker": "field", "jql": "x"}, {}, "jql is used only with marker: jql"),
        ({"marker": "field"}, {"escalation_id": None}, "fields.escalation_id is null"),
        ({"marker": "fields"}, {}, "correlation.marker"),
    ],
)
def test_inconsistent_correlation_settings_name_the_key(
    correlation: dict[str, Any], fields: dict[str, Any], error: str
) -> None:
    """A marker that could never find its issue again is a config error at load time."""
    with pytest.raises(ConfigError, match="jira") as raised:
        settings_from_dict({"jira": {"correlation": correlation, "fields": fields}})
    assert error in str(raised.value)


def _recording(issues: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], Callable[..., Any]]:
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/field"):
            return httpx.Response(200, json=[ESC_FIELD])
        body = json.loads(request.content)
        sent.append({"path": request.url.path, **body})
        if request.url.path.endswith("/search"):
            return httpx.Response(200, json={"startAt": 0, "total": len(issues), "issues": issues})
        return httpx.Response(200, json={"issues": issues, "isLast": True})

    return sent, handler


def _issue(key: str, value: str | None, *labels: str) -> dict[str, Any]:
    fields = {"labels": list(labels), "customfield_10431": value}
    return {"id": key.rsplit("-", 1)[1], "key": key, "fields": fields}


async def _find(
    make_client: Callable[..., JiraClient], settings: JiraSettings, handler: Any
) -> list[str]:
    async with make_client(handler, settings=settings) as jira:
        found = await find_existing(
            jira,
            JiraMetadata(jira),
            settings,
            project="AIGOV",
            escalation_id="esc-1",
            correlation_label="kt-esc-esc-1",
        )
    return [issue["key"] for issue in found]


async def test_field_marker_searches_by_clause_name_and_keeps_exact_values(
    make_client: Callable[..., JiraClient],
) -> None:
    """The field marker asks `cf[10431] ~ "esc-1"` and keeps only issues whose value is exactly
    the id; a label alone does not count."""
    hits = [_issue("AIGOV-1", "esc-1-2"), _issue("AIGOV-2", "esc-1"), _issue("AIGOV-3", "ESC-1")]
    hits.append(_issue("AIGOV-4", None, "kt-esc-esc-1"))
    sent, handler = _recording(hits)
    settings = jira_settings(correlation={"marker": "field"})
    assert await _find(make_client, settings, handler) == ["AIGOV-2"]
    [search] = sent
    assert search["path"] == "/rest/api/3/search/jql"
    assert search["jql"] == 'project = "AIGOV" AND (cf[10431] ~ "esc-1") ORDER BY created ASC'
    assert "customfield_10431" in search["fields"]


async def test_jql_marker_accepts_the_exact_field_or_the_exact_label(
    make_client: Callable[..., JiraClient],
) -> None:
    """A template's hits count when the field equals the id or the label is there exactly."""
    hits = [_issue("AIGOV-1", "esc-1-2"), _issue("AIGOV-2", None, "kt-esc-esc-1")]
    hits.append(_issue("AIGOV-3", "esc-1"))
    sent, handler = _recording(hits)
    template = 'project = {project} AND ("Escalation ID" ~ {escalation_id} OR labels = {label})'
    settings = jira_settings(correlation={"marker": "jql", "jql": template})
    assert await _find(make_client, settings, handler) == ["AIGOV-2", "AIGOV-3"]
    assert sent[0]["jql"] == (
        'project = "AIGOV" AND ("Escalation ID" ~ "esc-1" OR labels = "kt-esc-esc-1")'
    )


async def test_data_center_field_marker_uses_offset_search(
    make_client: Callable[..., JiraClient],
) -> None:
    """On Data Center the same lookup goes to POST /rest/api/2/search with startAt."""
    sent, handler = _recording([_issue("AIGOV-2", "esc-1")])
    settings = jira_settings(
        flavor="datacenter", pat=jira_settings().api_token, correlation={"marker": "field"}
    )
    assert await _find(make_client, settings, handler) == ["AIGOV-2"]
    assert (sent[0]["path"], sent[0]["startAt"]) == ("/rest/api/2/search", 0)


async def test_field_marker_without_such_a_field_is_a_draft_error(
    make_client: Callable[..., JiraClient],
) -> None:
    """No field of the configured name: the lookup fails loudly instead of finding nothing."""
    sent, handler = _recording([])
    settings = jira_settings(correlation={"marker": "field"}, fields={"escalation_id": "Esc No"})
    with pytest.raises(DraftError, match="no Jira field is named exactly 'Esc No'"):
        await _find(make_client, settings, handler)
    assert sent == []
