"""The issue draft: what rules decide a ticket should be, before Jira's ids are known.

Fields are keyed by Jira field NAME (``Policy Name``); the Jira client resolves names to the
site's ids and checks them against the create screen. Pure value objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from kt_jira.render.nodes import Document

FieldValue = str | float | int | date | tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class IssueDraft:
    project: str
    issue_type: str
    summary: str
    description: Document
    priority: str | None = None
    labels: tuple[str, ...] = ()
    due_date: date | None = None
    # Extra fields by Jira field name, e.g. {"Escalation ID": "esc_1", "Console URL": "https://…"}.
    fields: dict[str, FieldValue] = field(default_factory=dict)
    # Marker used to find this escalation's issue again (exactly-once): a label by default.
    correlation_label: str = ""
    components: tuple[str, ...] = ()  # component names, checked against the create screen
    assignee: str | None = None  # accountId on Cloud, user name on Data Center
    watchers: tuple[str, ...] = ()  # added after the create, where the site allows it
    rule: str = ""  # the rule that made this draft, named in errors that say what to fix


@dataclass(frozen=True, kw_only=True)
class CreatedIssue:
    issue_id: str
    key: str
