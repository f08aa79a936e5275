"""Correlation markers against the sandbox: label (exact), the Escalation ID field (fuzzy `~`,
filtered exactly in code) and a user's JQL template (values always quoted)."""

from __future__ import annotations

from typing import Any

import pytest

from kt_jira.config.models import JiraSettings
from kt_jira.errors import DraftError
from kt_jira.jira import JiraMetadata, find_existing
from kt_jira.render.sanitise import correlation_label

from .conftest import Site, client_settings, open_site
from .routing import draft_for, escalation

# Near-misses of "esc-1" under Jira's tokenised, case-insensitive `~` (words "esc" and "1").
NEAR_MISSES = ("esc-1-2", "2-esc-1", "ESC-1", "esc 1")
TEMPLATE = 'project = {project} AND "Escalation ID" ~ {escalation_id} ORDER BY created ASC'


def _marker(site: Site, **correlation: Any) -> JiraSettings:
    return client_settings(site.sandbox, site.url, correlation=correlation)


async def _create_all(site: Site, settings: JiraSettings, ids: tuple[str, ...]) -> dict[str, str]:
    """Create one routed issue per escalation id; returns id -> issue key."""
    metadata = JiraMetadata(site.jira, settings)
    keys = {}
    for escalation_id in ids:
        draft = draft_for(escalation(escalation_id), settings)
        keys[escalation_id] = (
            await site.jira.create_issue(await metadata.build_create_body(draft))
        ).key
    return keys


async def _find(site: Site, settings: JiraSettings, escalation_id: str) -> list[str]:
    found = await find_existing(
        site.jira,
        JiraMetadata(site.jira, settings),
        settings,
        project="AIGOV",
        escalation_id=escalation_id,
        correlation_label=correlation_label(escalation_id),
    )
    return [issue["key"] for issue in found]


@pytest.mark.parametrize("flavor", ["cloud", "datacenter"])
async def test_field_marker_filters_fuzzy_near_misses_exactly(flavor: str) -> None:
    """`~` on the Escalation ID field returns look-alike ids; only the exact one is adopted,
    and with add_label false the issues carry no kt-esc label at all."""
    async with open_site(flavor=flavor, search_lag=0.0) as site:
        settings = _marker(site, marker="field", add_label=False)
        keys = await _create_all(site, settings, ("esc-1", *NEAR_MISSES))
        fuzzy = await site.jira.search(
            'project = "AIGOV" AND cf[10431] ~ "esc-1"', fields=["customfield_10431"]
        )
        assert len(fuzzy.issues) == 1 + len(NEAR_MISSES)  # the sandbox's `~` is as fuzzy as Jira's
        assert await _find(site, settings, "esc-1") == [keys["esc-1"]]
        assert await _find(site, settings, "esc-1-2") == [keys["esc-1-2"]]
        assert await _find(site, settings, "esc-9") == []
        assert all(not any(x.startswith("kt-esc-") for x in i.labels) for i in site.sandbox.issues)
        assert site.sandbox.contract_violations == []


async def test_field_marker_keeps_the_label_by_default(site: Site) -> None:
    """With marker field the label is still added (harmless) unless add_label is false."""
    settings = _marker(site, marker="field")
    await _create_all(site, settings, ("esc-5",))
    [issue] = site.sandbox.issues
    assert "kt-esc-esc-5" in issue.labels
    await _wait_indexed(site)
    assert len(await _find(site, settings, "esc-5")) == 1


async def test_label_marker_is_the_default_and_exact(site: Site) -> None:
    """The default marker is the kt-esc-<id> label; a label match is exact, not fuzzy."""
    settings = _marker(site)
    assert settings.correlation.marker == "label"
    keys = await _create_all(site, settings, ("esc-1", "esc-1-2"))
    await _wait_indexed(site)
    assert await _find(site, settings, "esc-1") == [keys["esc-1"]]


@pytest.mark.parametrize("flavor", ["cloud", "datacenter"])
async def test_jql_marker_quotes_every_value_and_compares_exactly(flavor: str) -> None:
    """A user's template finds the issue; values are inserted as JQL strings (a hostile id
    cannot widen the query) and fuzzy hits are dropped unless field or label match exactly."""
    async with open_site(flavor=flavor, search_lag=0.0) as site:
        settings = _marker(site, marker="jql", jql=TEMPLATE, add_label=False)
        keys = await _create_all(site, settings, ("esc-1", *NEAR_MISSES))
        assert await _find(site, settings, "esc-1") == [keys["esc-1"]]
        hostile = 'esc-1" OR project = "AIGOV'
        assert await _find(site, settings, hostile) == []
        assert site.sandbox.contract_violations == []


async def test_jql_marker_also_accepts_the_label(site: Site) -> None:
    """A template on the label alone works: issues are compared on the exact label."""
    settings = _marker(site, marker="jql", jql="project = {project} AND labels = {label}")
    keys = await _create_all(site, settings, ("esc-3",))
    await _wait_indexed(site)
    assert await _find(site, settings, "esc-3") == [keys["esc-3"]]


async def test_field_without_a_search_template_is_an_actionable_error(site: Site) -> None:
    """A field marker on a field Jira cannot search fails loudly instead of finding nothing."""
    site.sandbox.set_field_searchable("customfield_10431", False)
    settings = _marker(site, marker="field")
    with pytest.raises(DraftError, match=r"no search template.*marker: label"):
        await _find(site, settings, "esc-1")


async def test_field_marker_refuses_a_draft_without_the_field(site: Site) -> None:
    """A draft that would not carry its own field marker is refused before anything is sent."""
    settings = _marker(site, marker="field")
    draft = draft_for(escalation("esc-8"), settings)
    bare = type(draft)(**{**vars(draft), "fields": {}})
    with pytest.raises(DraftError, match="does not set 'Escalation ID'"):
        await JiraMetadata(site.jira, settings).build_create_body(bare)
    assert site.sandbox.issues == []


async def _wait_indexed(site: Site) -> None:
    """Let the sandbox's search index catch up (its lag is 0.3 s in these fixtures)."""
    import asyncio

    await asyncio.sleep(site.sandbox.search_lag + 0.05)
