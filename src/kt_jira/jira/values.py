"""Convert a draft's field value into the JSON a Jira field of a given schema accepts.

Pure: the caller passes the field's create metadata and a renderer for rich text (ADF on Cloud,
wiki markup on Data Center). A value that cannot fit is a ``DraftError`` naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from kt_jira.errors import DraftError
from kt_jira.jira.models import CreateField
from kt_jira.render.nodes import Document, paragraph, text
from kt_jira.render.sanitise import label_safe, one_line
from kt_jira.tickets.draft import FieldValue

RenderDoc = Callable[[Document], Any]

_RICH_TEXT = ("textarea",)  # multi-line custom fields take rich text; textfield does not
_TEXT_LIMIT = 255  # a single-line text field holds at most this many characters


def convert_value(
    meta: CreateField,
    value: FieldValue,
    *,
    render: RenderDoc,
    where: str,
    flavor: str = "cloud",
) -> Any:
    """The JSON for ``value`` in field ``meta``; ``where`` names the field in errors.

    ``render`` turns a document into the flavour's rich text (ADF or wiki markup).
    """
    # Cloud identifies users by accountId, Data Center by user name.
    user_key = "accountId" if flavor == "cloud" else "name"
    kind = meta.schema_type
    custom = (meta.schema_custom or "").rsplit(":", 1)[-1]
    if kind == "string":
        one = _one(value, where)
        if custom in _RICH_TEXT:
            return render(Document(content=(paragraph(text(one)),)))
        if custom == "url":
            return _url(one, where)
        return one_line(one, _TEXT_LIMIT) if custom == "textfield" else one
    if kind == "number":
        return _number(value, where)
    if kind == "date":
        return _date(value, where)
    if kind == "datetime":
        return _datetime(value, where)
    if kind == "option":
        return {"value": _allowed(meta, _one(value, where), where)}
    if kind == "user":
        return {user_key: _one(value, where)}
    if kind == "array":
        items = [value] if isinstance(value, str) else list(_many(value, where))
        if meta.schema_items == "string":
            return [label_safe(item) for item in items] if custom == "labels" else items
        if meta.schema_items == "option":
            return [{"value": _allowed(meta, item, where)} for item in items]
        if meta.schema_items == "user":
            return [{user_key: item} for item in items]
        kind = f"array of {meta.schema_items}"
    raise DraftError(
        f"{where} has type '{kind}', which kt-jira cannot fill; remove it from the rule's "
        "fields or change the field's type in Jira"
    )


def _one(value: FieldValue, where: str) -> str:
    if isinstance(value, tuple):
        if len(value) == 1:
            return value[0]
        raise DraftError(f"{where} takes one value, but the rule gives {len(value)}")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _many(value: FieldValue, where: str) -> tuple[str, ...]:
    if isinstance(value, tuple):
        return value
    return (_one(value, where),)


def _number(value: FieldValue, where: str) -> float:
    if isinstance(value, bool | tuple | date):
        raise DraftError(f"{where} takes a number, not {value!r}")
    try:
        return float(value)
    except ValueError:
        raise DraftError(f"{where} takes a number, not {value!r}") from None


def _date(value: FieldValue, where: str) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(_one(value, where)).isoformat()
    except ValueError:
        raise DraftError(f"{where} takes a date (YYYY-MM-DD), not {value!r}") from None


def _datetime(value: FieldValue, where: str) -> str:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        try:
            moment = datetime.fromisoformat(_one(value, where))
        except ValueError:
            raise DraftError(f"{where} takes a date and time (ISO 8601), not {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # Jira's own format: 2024-05-11T12:00:00.000+0000
    return (
        moment.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{moment.microsecond // 1000:03d}"
        + (moment.strftime("%z"))
    )


def _allowed(meta: CreateField, value: str, where: str) -> str:
    if not meta.allowed_values:
        return value
    names = [v.label for v in meta.allowed_values]
    if value in names:
        return value
    raise DraftError(f"{where} does not allow '{value}' (allowed: {', '.join(names)})")


def _url(value: str, where: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in value.strip():
        raise DraftError(f"{where} takes an http(s) URL, not {value[:80]!r}; fix the rule's value")
    return value.strip()


def user_value(user: str, *, flavor: str) -> dict[str, str]:
    """A user reference: ``{"accountId": ...}`` on Cloud, ``{"name": ...}`` on Data Center."""
    return {"accountId" if flavor == "cloud" else "name": user}


def component_values(
    meta: CreateField, names: tuple[str, ...], *, where: str, rule: str
) -> list[dict[str, str]]:
    """``[{"name": ...}]`` for each component, checked against the screen's allowed values."""
    allowed = {value.label.casefold(): value.label for value in meta.allowed_values}
    out: list[dict[str, str]] = []
    for name in dict.fromkeys(names):
        if allowed and name.casefold() not in allowed:
            listed = ", ".join(sorted(allowed.values())) or "none"
            raise DraftError(
                f"component '{name}' is not offered on the {where} (it has: {listed}); fix "
                f"set.components of rule '{rule or '?'}' or add the component in Jira "
                "(Project settings → Components)"
            )
        out.append({"name": allowed.get(name.casefold(), name)})
    return out
