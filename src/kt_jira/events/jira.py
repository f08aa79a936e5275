"""Parse Jira admin-webhook bodies (Cloud and Data Center) into typed change events.

Pure: bytes in, frozen values out; never touches the store, the network or the clock. Only what
sync needs is kept: the issue's id (its durable identity: keys change when issues move), who
acted, the status it is in afterwards, and the status/resolution/assignee changes of
``changelog.items``. A job carries an event as ``as_job()`` and gets it back with ``from_job()``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from kt_jira.errors import PayloadError


class JiraEventType(StrEnum):
    ISSUE_UPDATED = "jira:issue_updated"
    ISSUE_DELETED = "jira:issue_deleted"
    COMMENT_CREATED = "comment_created"
    OTHER = "other"


@dataclass(frozen=True, kw_only=True)
class Change:
    """One ``changelog.items`` entry: ids (``from``/``to``) and display strings."""

    from_id: str = ""
    from_name: str = ""
    to_id: str = ""
    to_name: str = ""


@dataclass(frozen=True, kw_only=True)
class JiraEvent:
    """What one Jira webhook says happened to one issue. Empty strings mean "not said"."""

    type: JiraEventType
    raw_type: str
    timestamp: datetime | None
    issue_id: str = ""
    issue_key: str = ""
    labels: tuple[str, ...] = ()
    actor_id: str = ""  #: accountId (Cloud) or user key/name (Data Center)
    actor_name: str = ""
    status_id: str = ""  #: the issue's status after the change
    status_name: str = ""
    status_category: str = ""  #: statusCategory.key: new, indeterminate or done
    resolution: str = ""  #: the issue's resolution name after the change
    status_change: Change | None = None
    resolution_change: Change | None = None
    assignee_change: Change | None = None
    changelog_id: str = ""
    comment_id: str = ""
    comment_created: datetime | None = None

    @property
    def dedup_key(self) -> str:
        """Identifies the change, not the delivery: two webhooks for one change share it."""
        if self.type is JiraEventType.ISSUE_UPDATED and self.changelog_id:
            return f"{self.type.value}:{self.issue_id}:{self.changelog_id}"
        if self.type is JiraEventType.COMMENT_CREATED and self.comment_id:
            return f"{self.type.value}:{self.comment_id}"
        if self.type is JiraEventType.ISSUE_DELETED:
            return f"{self.type.value}:{self.issue_id}"
        return ""

    def as_job(self) -> dict[str, Any]:
        """A JSON-safe dict for a job payload."""
        data = asdict(self)
        data["type"] = self.type.value
        data["labels"] = list(self.labels)
        for name in ("timestamp", "comment_created"):
            moment = getattr(self, name)
            data[name] = moment.isoformat() if moment else None
        return data

    @classmethod
    def from_job(cls, data: Mapping[str, Any]) -> JiraEvent:
        values = dict(data)
        values["type"] = JiraEventType(values["type"])
        values["labels"] = tuple(values.get("labels") or ())
        for name in ("timestamp", "comment_created"):
            raw = values.get(name)
            values[name] = datetime.fromisoformat(raw) if raw else None
        for name in ("status_change", "resolution_change", "assignee_change"):
            raw = values.get(name)
            values[name] = Change(**raw) if isinstance(raw, dict) else None
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in values.items() if k in known})


HANDLED = frozenset(t.value for t in JiraEventType if t is not JiraEventType.OTHER)


def parse_jira_event(body: bytes) -> JiraEvent:
    """Parse one webhook body; ``PayloadError`` 400 if not JSON, 422 if not a usable event."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(
            f"body is not JSON ({exc}); is the webhook set to 'Exclude body'?", status=400
        ) from exc
    if not isinstance(doc, dict):
        raise PayloadError("body must be a JSON object", status=422)
    raw_type = _str(doc.get("webhookEvent"))
    if not raw_type:
        raise PayloadError("no webhookEvent: not a Jira webhook", status=422)
    timestamp = _millis(doc.get("timestamp"))
    if timestamp is None:
        raise PayloadError(
            "no envelope timestamp: cannot tell a replay from a delivery", status=422
        )
    kind = JiraEventType(raw_type) if raw_type in HANDLED else JiraEventType.OTHER
    if kind is JiraEventType.OTHER:
        return JiraEvent(type=kind, raw_type=raw_type, timestamp=timestamp)
    issue = _dict(doc.get("issue"))
    issue_id = _str(issue.get("id"))
    if not issue_id:
        raise PayloadError(f"{raw_type} without issue.id: cannot correlate it", status=422)
    fields = _dict(issue.get("fields"))
    status = _dict(fields.get("status"))
    comment = _dict(doc.get("comment"))
    changelog = _dict(doc.get("changelog"))
    items = [_dict(i) for i in changelog.get("items") or () if isinstance(i, dict)]
    actor = _dict(doc.get("user")) or _dict(changelog.get("author"))
    if kind is JiraEventType.COMMENT_CREATED:
        actor = _dict(comment.get("author")) or _dict(comment.get("updateAuthor")) or actor
    return JiraEvent(
        type=kind,
        raw_type=raw_type,
        timestamp=timestamp,
        issue_id=issue_id,
        issue_key=_str(issue.get("key")),
        labels=tuple(_str(x) for x in fields.get("labels") or () if _str(x)),
        actor_id=user_id(actor),
        actor_name=_str(actor.get("displayName")) or _str(actor.get("name")),
        status_id=_str(status.get("id")),
        status_name=_str(status.get("name")),
        status_category=_str(_dict(status.get("statusCategory")).get("key")),
        resolution=_str(_dict(fields.get("resolution")).get("name")),
        status_change=_change(items, "status"),
        resolution_change=_change(items, "resolution"),
        assignee_change=_change(items, "assignee"),
        changelog_id=_str(changelog.get("id")),
        comment_id=_str(comment.get("id")),
        comment_created=_jira_time(comment.get("created")),
    )


def user_id(user: Mapping[str, Any]) -> str:
    """The id sync compares with ``/myself``: accountId, else the Data Center key or name."""
    for key in ("accountId", "key", "name"):
        value = _str(user.get(key))
        if value:
            return value
    return ""


def _change(items: list[dict[str, Any]], name: str) -> Change | None:
    for item in items:
        if _str(item.get("field")).lower() == name or _str(item.get("fieldId")) == name:
            return Change(
                from_id=_str(item.get("from")),
                from_name=_str(item.get("fromString")),
                to_id=_str(item.get("to")),
                to_name=_str(item.get("toString")),
            )
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def _millis(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _jira_time(value: Any) -> datetime | None:
    """Jira's ``2026-05-01T12:34:56.789+0000`` (or ISO 8601) as an aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
