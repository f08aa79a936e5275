"""Create/edit validation of the simulated Jira, with Jira's exact error strings: Cloud v3
(rich text is ADF, users by accountId) or Data Center v2 (rich text is a wiki-markup string,
users by name).

Strict on purpose: whatever a real site rejects, this rejects, so a bridge cannot pass here and
fail in production. Errors are collected per field, as Jira reports them. No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from kt_jira.sandbox.jira.adf import MAX_TEXT, TOO_LONG, adf_error
from kt_jira.sandbox.jira.site import (
    COMPONENTS,
    ISSUE_TYPES,
    PRIORITIES,
    REQUIRED_ON_CREATE,
    FieldDef,
    Named,
    Project,
    Site,
    find_named,
)

NOT_ON_SCREEN = "Field '{fid}' cannot be set. It is not on the appropriate screen, or unknown."
MUST_BE_STRING = "Operation value must be a string"
SUMMARY_REQUIRED = "You must specify a summary of the issue."
SUMMARY_TOO_LONG = "Summary can't exceed 255 characters."
SUMMARY_NEWLINE = "The summary is invalid because it contains newline characters."
LABEL_SPACES = "The label '{label}' can't contain spaces."
LABEL_TOO_LONG = (
    "The label '{label}' exceeds the maximum length for a single label of 255 characters"
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Dialect:
    """What the REST version accepts: ``flavor``, and Data Center user names -> stored ids."""

    flavor: str = "cloud"
    users: Mapping[str, str] = field(default_factory=dict)


CLOUD = Dialect()


def text_error(value: object, flavor: str) -> str | None:
    """Rich text (description, comment, textarea): an ADF document on Cloud v3, a wiki-markup
    string on Data Center v2, whose answer to an ADF object is the string below."""
    if flavor == "cloud":
        return adf_error(value)
    if value is None:
        return None
    if not isinstance(value, str):
        return MUST_BE_STRING
    return TOO_LONG.format(limit=MAX_TEXT) if len(value) > MAX_TEXT else None


@dataclass
class Checked:
    """The outcome of validation: Jira-style errors, or the values to store by field id."""

    errors: dict[str, str] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    values: JsonDict = field(default_factory=dict)
    label_ops: list[tuple[str, str]] = field(default_factory=list)
    project: Project | None = None
    issue_type: Named | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and not self.messages

    def body(self) -> JsonDict:
        return {"errorMessages": self.messages, "errors": self.errors}


def check_create(site: Site, body: object, dialect: Dialect = CLOUD) -> Checked:
    """Validate a `POST /rest/api/{3|2}/issue` body the way Jira Cloud (or DC) does."""
    out = Checked()
    fields = body.get("fields") if isinstance(body, dict) else None
    if not isinstance(fields, dict):
        out.messages.append("Can not deserialize the request: 'fields' must be an object.")
        return out
    if isinstance(body, dict) and body.get("update"):
        out.messages.append("The sandbox supports 'fields' only on create; 'update' was sent.")
    out.project = site.project(_ref(fields.get("project"), "key"))
    if out.project is None:
        out.errors["project"] = "Specify a valid project ID or key"
    issue_type = find_named(ISSUE_TYPES, fields.get("issuetype"))
    if "issuetype" not in fields:
        out.errors["issuetype"] = "Specify an issue type"
    elif issue_type is None or (
        out.project is not None and issue_type.id not in out.project.issue_type_ids
    ):
        out.errors["issuetype"] = "Specify a valid issue type"
    else:
        out.issue_type = issue_type
    if out.project is None or out.issue_type is None:
        return out
    screen = out.project.screens[out.issue_type.id]
    for fid, value in fields.items():
        if fid in ("project", "issuetype"):
            continue
        fdef = site.field(fid)
        if fdef is None or fid not in screen.fields:
            out.errors[fid] = NOT_ON_SCREEN.format(fid=fid)
            continue
        _check_value(out, fdef, value, screen.priority_ids, dialect)
    for fid in REQUIRED_ON_CREATE - set(fields):
        out.errors.setdefault(fid, SUMMARY_REQUIRED if fid == "summary" else f"{fid} is required.")
    return out


def check_edit(
    site: Site, project: Project, issue_type_id: str, body: object, dialect: Dialect = CLOUD
) -> Checked:
    """Validate a `PUT /rest/api/{3|2}/issue/{id}` body (edit screen = create screen here)."""
    out = Checked(project=project)
    if not isinstance(body, dict):
        out.messages.append("Can not deserialize the request: the body must be an object.")
        return out
    fields = dict(body.get("fields") or {})
    screen = project.screens[issue_type_id]
    for fid, ops in (body.get("update") or {}).items():
        if not isinstance(ops, list) or not all(isinstance(o, dict) and len(o) == 1 for o in ops):
            out.errors[fid] = "Operations must be a list of objects with one verb each."
        elif fid == "labels" and all(next(iter(o)) in ("add", "remove") for o in ops):
            for op in ops:
                verb, label = next(iter(op.items()))
                error = _labels_error([label])
                if error:
                    out.errors["labels"] = error
                else:
                    out.label_ops.append((verb, label))
        elif all(next(iter(o)) == "set" for o in ops):
            fields[fid] = ops[-1]["set"]
        else:
            out.errors[fid] = f"Field '{fid}' supports only the 'set' operation here."
    if out.label_ops and "labels" not in screen.fields:
        out.errors["labels"] = NOT_ON_SCREEN.format(fid="labels")
    for fid, value in fields.items():
        fdef = site.field(fid)
        if fdef is None or fid not in screen.fields or fid in ("project", "issuetype"):
            out.errors[fid] = NOT_ON_SCREEN.format(fid=fid)
            continue
        _check_value(out, fdef, value, screen.priority_ids, dialect)
    return out


def _ref(value: object, key: str) -> object:
    if isinstance(value, dict):
        return value.get(key, value.get("id"))
    return None


def _check_value(
    out: Checked, fdef: FieldDef, value: object, priority_ids: list[str], dialect: Dialect
) -> None:
    fid, kind = fdef.id, fdef.kind
    error: str | None = None
    stored: object = value
    if kind == "summary":
        error = _summary_error(value)
    elif kind in ("description", "textarea"):
        error = text_error(value, dialect.flavor)
    elif kind == "textfield":
        if value is not None and not isinstance(value, str):
            error = MUST_BE_STRING
        elif isinstance(value, str) and len(value) > 255:
            error = TOO_LONG.format(limit=255)
    elif kind == "url":
        error = _url_error(value)
    elif kind == "labels":
        error = _labels_error(value)
    elif kind == "priority":
        prio = find_named(PRIORITIES, value)
        if prio is None or prio.id not in priority_ids:
            error = _bad_named("Priority", value)
        stored = prio.id if prio else None
    elif kind == "components":
        stored, error = _components(value)
    elif kind == "duedate":
        error = _date_error(value)
    elif kind in ("reporter", "assignee"):
        stored, error = _user(value, kind, dialect)
    if error is not None:
        out.errors[fid] = error
    else:
        out.values[fid] = stored


def _user(value: object, kind: str, dialect: Dialect) -> tuple[object, str | None]:
    """Cloud takes ``{"accountId": …}``; Data Center ``{"name": …}`` of an existing user."""
    if value is None:
        return None, None
    key = "accountId" if dialect.flavor == "cloud" else "name"
    ref = value.get(key) if isinstance(value, dict) else None
    if not isinstance(ref, str):
        return None, f"Specify a valid value for {kind}"
    if dialect.flavor == "cloud":
        return ref, None
    if ref not in dialect.users:
        return None, f"User '{ref}' does not exist."
    return dialect.users[ref], None


def _summary_error(value: object) -> str | None:
    if not isinstance(value, str):
        return MUST_BE_STRING if value is not None else SUMMARY_REQUIRED
    if not value.strip():
        return SUMMARY_REQUIRED
    if "\n" in value or "\r" in value:
        return SUMMARY_NEWLINE
    return SUMMARY_TOO_LONG if len(value) > 255 else None


def _labels_error(value: object) -> str | None:
    if not isinstance(value, list):
        return "data was not an array"
    for label in value:
        if not isinstance(label, str):
            return MUST_BE_STRING
        if not label or any(ch.isspace() for ch in label):
            return LABEL_SPACES.format(label=label)
        if len(label) > 255:
            return LABEL_TOO_LONG.format(label=label)
    return None


def _url_error(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        return MUST_BE_STRING
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        return f"Not a valid URL: '{value}'"
    return None


def _date_error(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            date.fromisoformat(value)
        except ValueError:
            pass
        else:
            return None
    return f"Error parsing date string: {value}"


def _bad_named(what: str, value: object) -> str:
    if isinstance(value, dict) and "id" not in value and isinstance(value.get("name"), str):
        return f"{what} name '{value['name']}' is not valid"
    return f"The {what.lower()} selected is invalid."


def _components(value: object) -> tuple[list[str], str | None]:
    if not isinstance(value, list):
        return [], "data was not an array"
    ids: list[str] = []
    for item in value:
        comp = find_named(COMPONENTS, item)
        if comp is None:
            return [], _bad_named("Component", item)
        ids.append(comp.id)
    return ids, None
