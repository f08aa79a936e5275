"""Checking drafts against fields and create screens, and building the create body."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any

import pytest

from kt_jira.errors import DraftError
from kt_jira.jira import JiraClient, JiraMetadata
from kt_jira.render.nodes import Document, paragraph, text
from kt_jira.tickets.draft import IssueDraft

from .catalogue import Catalogue
from .conftest import FakeClock


def _draft(**overrides: Any) -> IssueDraft:
    values: dict[str, Any] = {
        "project": "AIGOV",
        "issue_type": "task",
        "summary": "Policy pii-block blocked a request",
        "description": Document(content=(paragraph(text("details")),)),
        "priority": "high",
        "labels": ("kt-jira", "pii", "kt-jira"),
        "due_date": date(2025, 6, 3),
        "fields": {"Escalation ID": "esc_1", "Policy Name": "pii-block"},
        "correlation_label": "kt-esc-esc_1",
    }
    values.update(overrides)
    return IssueDraft(**values)


@pytest.fixture
def catalogue() -> Catalogue:
    return Catalogue()


@pytest.fixture
async def metadata(
    catalogue: Catalogue, make_client: Callable[..., JiraClient], clock: FakeClock
) -> AsyncIterator[JiraMetadata]:
    async with make_client(catalogue.handler) as jira:
        yield JiraMetadata(jira, clock=clock.monotonic)


async def test_body_uses_exact_names_on_the_screen_despite_decoys(metadata: JiraMetadata) -> None:
    """Field names resolve to the one id with that exact name on the create screen."""
    body = await metadata.build_create_body(_draft())
    fields = body["fields"]
    assert fields["customfield_10431"] == "esc_1"  # not 10290 'Escalation Id'
    assert fields["customfield_10432"] == "pii-block"  # not 10299, off the screen
    assert "customfield_10290" not in fields
    assert "customfield_10299" not in fields
    assert fields["project"] == {"key": "AIGOV"}
    assert fields["issuetype"] == {"id": "10002"}
    assert fields["priority"] == {"id": "2"}
    assert fields["labels"] == ["kt-jira", "pii", "kt-esc-esc_1"]
    assert fields["duedate"] == "2025-06-03"
    assert fields["description"]["type"] == "doc"


async def test_unknown_issue_type_lists_what_exists(metadata: JiraMetadata) -> None:
    """An issue type the project lacks is a DraftError naming the types it has."""
    with pytest.raises(DraftError) as caught:
        await metadata.build_create_body(_draft(issue_type="Bug"))
    assert str(caught.value) == (
        "issue type 'Bug' does not exist in project AIGOV (it has: Task, Story); "
        "create it or change the rule"
    )


async def test_field_off_the_screen_says_which_screen_to_fix(
    metadata: JiraMetadata, catalogue: Catalogue
) -> None:
    """A field that exists but is not on the create screen names the field and the screen."""
    catalogue.screen.remove("customfield_10432")
    with pytest.raises(DraftError) as caught:
        await metadata.build_create_body(_draft())
    assert str(caught.value) == (
        "field 'Policy Name' (customfield_10299, customfield_10432) is not on the AIGOV Task "
        "create screen; add it to the screen in Project settings → Screens"
    )


async def test_two_fields_with_one_name_on_the_screen_are_ambiguous(
    metadata: JiraMetadata, catalogue: Catalogue
) -> None:
    """Two same-named fields on one screen is an error naming both ids."""
    catalogue.screen.append("customfield_10299")
    with pytest.raises(DraftError, match="ambiguous") as caught:
        await metadata.build_create_body(_draft())
    assert "customfield_10299, customfield_10432" in str(caught.value)


async def test_missing_field_suggests_the_closest_names(metadata: JiraMetadata) -> None:
    """A name no field has is an error that lists the closest names."""
    with pytest.raises(DraftError) as caught:
        await metadata.build_create_body(_draft(fields={"Escalation-ID": "esc_1"}))
    message = str(caught.value)
    assert message.startswith("no Jira field is named exactly 'Escalation-ID' (closest: ")
    assert "'Escalation ID'" in message
    assert "jira.fields" in message


async def test_disallowed_priority_lists_the_allowed_ones(metadata: JiraMetadata) -> None:
    """A priority outside the screen's allowed values names the allowed ones."""
    with pytest.raises(DraftError) as caught:
        await metadata.build_create_body(_draft(priority="Blocker"))
    assert "priority 'Blocker' is not allowed on the AIGOV Task create screen" in str(caught.value)
    assert "(allowed: High, Medium, Low)" in str(caught.value)


@pytest.mark.parametrize(
    ("field_id", "label"),
    [("labels", "Labels"), ("duedate", "Due date"), ("priority", "Priority")],
)
async def test_system_field_off_the_screen_is_reported(
    metadata: JiraMetadata, catalogue: Catalogue, field_id: str, label: str
) -> None:
    """Labels, due date and priority must be on the create screen when the draft sets them."""
    catalogue.screen.remove(field_id)
    with pytest.raises(DraftError) as caught:
        await metadata.build_create_body(_draft())
    assert str(caught.value) == (
        f"field '{label}' ({field_id}) is not on the AIGOV Task create screen; add it to the "
        "screen in Project settings → Screens"
    )


async def test_required_field_the_rule_does_not_set(
    metadata: JiraMetadata, catalogue: Catalogue
) -> None:
    """A required field without a default that the draft leaves out is caught before sending."""
    catalogue.required.add("customfield_10436")
    with pytest.raises(DraftError, match=r"requires 'Investigation Notes' \(customfield_10436\)"):
        await metadata.build_create_body(_draft())


async def test_labels_with_spaces_are_refused(metadata: JiraMetadata) -> None:
    """A label with a space would be a 400 from Jira; it is a DraftError here."""
    with pytest.raises(DraftError, match="no spaces"):
        await metadata.build_create_body(_draft(labels=("two words",)))


async def test_metadata_is_cached(metadata: JiraMetadata, catalogue: Catalogue) -> None:
    """Building many bodies reads fields and create metadata once."""
    for _ in range(3):
        await metadata.build_create_body(_draft())
    assert set(catalogue.calls.values()) == {1}


async def test_stale_cache_is_refreshed_once_before_failing(
    metadata: JiraMetadata, catalogue: Catalogue, clock: FakeClock
) -> None:
    """After an admin adds a field to the screen, the next build re-reads metadata and passes."""
    catalogue.screen.remove("customfield_10432")
    with pytest.raises(DraftError):
        await metadata.build_create_body(_draft())
    catalogue.screen.append("customfield_10432")
    clock.advance(60)
    body = await metadata.build_create_body(_draft())
    assert body["fields"]["customfield_10432"] == "pii-block"


async def test_fresh_metadata_is_not_reread_on_failure(
    metadata: JiraMetadata, catalogue: Catalogue
) -> None:
    """A draft that fails on just-read metadata does not re-read it again at once."""
    with pytest.raises(DraftError):
        await metadata.build_create_body(_draft(issue_type="Bug"))
    assert catalogue.calls["/issue/createmeta/AIGOV/issuetypes"] == 1


async def test_field_id_resolves_by_exact_name(metadata: JiraMetadata) -> None:
    """field_id finds the Escalation ID field's id for correlation lookups."""
    assert await metadata.field_id("AIGOV", "Task", "Escalation ID") == "customfield_10431"


async def test_textarea_field_gets_an_adf_document(metadata: JiraMetadata) -> None:
    """A multi-line custom field is sent as an ADF document on Cloud."""
    body = await metadata.build_create_body(_draft(fields={"Investigation Notes": "look here"}))
    notes = body["fields"]["customfield_10436"]
    assert notes["type"] == "doc"
    assert notes["content"][0]["content"][0]["text"] == "look here"
