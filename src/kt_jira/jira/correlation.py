"""Find the issue an earlier, uncertain create may have made, by the configured marker.

``jira.correlation.marker`` is the ``kt-esc-<id>`` label (an exact JQL match), the Escalation ID
field (``~`` is tokenised full-text search, so ``esc-1`` also finds ``esc-1-2``: every hit is
compared exactly here), or a user's JQL template (each value inserted as a quoted JQL string,
never raw; hits compared exactly on the field or the label). An empty answer right after a
create proves nothing: callers wait out the search-consistency delay before trusting it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kt_jira.config.models import JiraSettings, jql_template_names
from kt_jira.errors import DraftError
from kt_jira.jira.client import JiraClient
from kt_jira.jira.models import FieldInfo
from kt_jira.jira.search import LABEL_SEARCH_FIELDS, find_by_label, labels_of, search_all
from kt_jira.render.sanitise import jql_string
from kt_jira.tickets.draft import IssueDraft

if TYPE_CHECKING:  # metadata builds create bodies with ``check_marker``; no import cycle at run
    from kt_jira.jira.metadata import JiraMetadata

__all__ = ["check_marker", "fill_template", "find_existing", "marker_fields"]


async def find_existing(
    client: JiraClient,
    metadata: JiraMetadata,
    settings: JiraSettings,
    *,
    project: str,
    escalation_id: str,
    correlation_label: str,
) -> list[dict[str, Any]]:
    """Every issue that carries this escalation's marker exactly, in Jira's order.

    Raises ``DraftError`` when the configured marker cannot be searched at all (no field of
    that name, or the field has no search template), so the job stops instead of re-creating.
    """
    marker = settings.correlation
    if marker.marker == "label":
        return await find_by_label(client, project=project, label=correlation_label)
    id_fields = await marker_fields(metadata, settings)
    if marker.marker == "field":
        clauses = " OR ".join(f"{f.clause} ~ {jql_string(escalation_id)}" for f in id_fields)
        jql = f"project = {jql_string(project)} AND ({clauses}) ORDER BY created ASC"
        label = None  # the field is the marker; a label match alone does not count
    else:
        template = marker.jql or ""
        jql = fill_template(
            template, project=project, escalation_id=escalation_id, label=correlation_label
        )
        label = correlation_label
    wanted = (*LABEL_SEARCH_FIELDS, *(f.id for f in id_fields))
    issues = await search_all(client, jql, fields=wanted)
    return [i for i in issues if _marked(i, escalation_id, label, id_fields)]


async def marker_fields(metadata: JiraMetadata, settings: JiraSettings) -> list[FieldInfo]:
    """The searchable fields named exactly like the Escalation ID field (one per project, or
    one for all). Empty when no field is configured; ``DraftError`` when none can be searched
    although the marker needs one."""
    name = settings.fields.escalation_id
    if name is None:
        return []
    named = await metadata.fields_named(name)
    searchable = [f for f in named if f.searchable]
    if searchable or settings.correlation.marker == "jql":
        return searchable
    if named:
        ids = ", ".join(f.id for f in named)
        raise DraftError(
            f"field '{name}' ({ids}) has no search template, so the field marker cannot find "
            "issues by it; give it one in Jira settings → Issues → Custom fields, or set "
            "jira.correlation.marker: label"
        )
    raise DraftError(
        f"no Jira field is named exactly '{name}', so the field marker cannot search it; "
        "fix jira.fields.escalation_id or set jira.correlation.marker: label"
    )


def fill_template(template: str, *, project: str, escalation_id: str, label: str) -> str:
    """The lookup template with every placeholder replaced by a quoted JQL string literal."""
    jql_template_names(template)  # config validated it; a hand-built settings object may not be
    quoted = {
        "project": jql_string(project),
        "escalation_id": jql_string(escalation_id),
        "label": jql_string(label),
    }
    return template.format_map(quoted)


def check_marker(draft: IssueDraft, settings: JiraSettings) -> None:
    """Refuse a draft that would create an issue its own marker cannot find again."""
    marker = settings.correlation
    name = settings.fields.escalation_id
    needs_field = marker.marker == "field" or (marker.marker == "jql" and not marker.add_label)
    if needs_field and (name is None or not draft.fields.get(name)):
        raise DraftError(
            f"jira.correlation.marker is '{marker.marker}' but the draft does not set '{name}', "
            "so a retry could not find the issue again; set it in the rule's fields (or "
            "jira.fields.escalation_id), or use marker: label"
        )


def _marked(
    issue: dict[str, Any], escalation_id: str, label: str | None, id_fields: list[FieldInfo]
) -> bool:
    values = issue.get("fields") or {}
    if any(values.get(f.id) == escalation_id for f in id_fields):
        return True
    return label is not None and label in labels_of(issue)
