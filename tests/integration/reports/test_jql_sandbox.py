"""The JQL pack against the sandbox Jira's search: each query finds the tickets it says it finds.

The sandbox evaluates what Jira Software has (labels, status categories, resolutions,
priorities, dates, sorting by a text field); Service Management's SLA functions (``breached()``,
``remaining()``) exist only on JSM, so ``sla.mode: jsm`` queries are held to its parser alone
(tests/unit/reports/test_jql.py).
"""

from __future__ import annotations

from typing import Any

from kt_jira.config.models import Settings
from kt_jira.reports.jql import jql_pack
from kt_jira.sandbox.jira.jql import parse
from tests.integration.sandbox.conftest import JiraSite, create_body, running_jira

BASE_LABELS = ["ai-governance", "keeptrusts"]


async def create(site: JiraSite, summary: str, **fields: Any) -> str:
    response = await site.http.post(
        "/rest/api/3/issue", json=create_body(summary=summary, **fields)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


async def found(site: JiraSite, jql: str) -> list[str]:
    response = await site.search(jql, fields=["summary"], maxResults=100)
    assert response.status_code == 200, f"{jql}: {response.text}"
    return [issue["fields"]["summary"] for issue in response.json()["issues"]]


async def test_each_query_finds_what_it_says() -> None:
    """On a site with a breached, an at-risk, a quiet, a false-positive and a foreign ticket and
    one improvement Story, every query of the default pack finds exactly its tickets."""
    async with running_jira() as site:
        await create(
            site, "breached", priority={"name": "Highest"}, labels=[*BASE_LABELS, "sla-breached"]
        )
        await create(
            site, "at risk", priority={"name": "High"}, labels=[*BASE_LABELS, "sla-at-risk"]
        )
        await create(site, "quiet", priority={"name": "Low"})
        fp = await create(site, "false positive", priority={"name": "Medium"})
        await create(site, "foreign", priority={"name": "Highest"}, labels=["other-team"])
        await create(
            site, "story", issuetype={"name": "Story"}, priority=None, labels=["ai-policy-tuning"]
        )
        site.sandbox.transition_issue(fp, "In Progress")
        site.sandbox.transition_issue(fp, "False Positive", resolution="False Positive")
        results = {q.name: await found(site, q.jql) for q in jql_pack(Settings())}
    tickets = ["breached", "at risk", "false positive", "quiet"]  # by priority
    assert results == {
        "open": ["breached", "at risk", "quiet"],
        "all": tickets,
        "recent": ["false positive", "quiet", "at risk", "breached"],  # newest first
        "critical": ["breached"],
        "sla-breaches": ["breached"],
        "breached-open": ["breached"],
        "at-risk": ["at risk"],
        "false-positives": ["false positive"],
        "last-day": ["false positive", "quiet", "at risk", "breached"],
        "stories": ["story"],
    }


async def test_jsm_queries_parse_in_the_sandbox_but_need_service_management() -> None:
    """The sandbox's parser takes the SLA functions; its search, like Jira Software, has no SLA
    fields, so it answers 400 naming the field rather than a wrong list."""
    jsm = Settings.model_validate({"sla": {"mode": "jsm"}})
    breaches = next(q for q in jql_pack(jsm) if q.name == "sla-breaches")
    parse(breaches.jql)
    async with running_jira() as site:
        response = await site.search(breaches.jql)
    assert response.status_code == 400
    assert "Field 'Time to resolution' does not exist" in response.text
