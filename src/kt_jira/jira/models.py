"""Small frozen value objects the Jira client returns instead of raw JSON.

Parsing lives here (``from_json``) so the client stays one method per endpoint. These are read
models of what Jira says; nothing here performs I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class JiraUser:
    account_id: str
    display_name: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JiraUser:
        # Data Center has no accountId; its user key plays the same role.
        account_id = data.get("accountId") or data.get("key") or data.get("name") or ""
        return cls(account_id=str(account_id), display_name=str(data.get("displayName", "")))


@dataclass(frozen=True, kw_only=True)
class FieldInfo:
    """One entry of ``GET /field``: names are not unique, ids are."""

    id: str
    name: str
    custom: bool
    schema_type: str | None = None
    schema_custom: str | None = None
    schema_items: str | None = None
    clause_names: tuple[str, ...] = ()
    # A custom field without a search template cannot be used in JQL at all.
    searchable: bool = True

    @property
    def clause(self) -> str:
        """The unambiguous JQL name: ``cf[10431]`` for a custom field (names are not unique)."""
        for name in self.clause_names:
            if name.startswith("cf["):
                return name
        return self.clause_names[0] if self.clause_names else self.id

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FieldInfo:
        schema = data.get("schema") or {}
        return cls(
            id=str(data["id"]),
            name=str(data.get("name", "")),
            custom=bool(data.get("custom", False)),
            schema_type=schema.get("type"),
            schema_custom=schema.get("custom"),
            schema_items=schema.get("items"),
            clause_names=tuple(str(c) for c in data.get("clauseNames") or ()),
            searchable=bool(data.get("searchable", True)),
        )


@dataclass(frozen=True, kw_only=True)
class IssueTypeInfo:
    id: str
    name: str
    subtask: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IssueTypeInfo:
        return cls(
            id=str(data["id"]),
            name=str(data.get("name", "")),
            subtask=bool(data.get("subtask", False)),
        )


@dataclass(frozen=True, kw_only=True)
class IssueLinkType:
    """One entry of ``GET /issueLinkType``: a link reads "inward-issue <outward> outward-issue",
    and from the other side "<inward>" (Blocks: "blocks" / "is blocked by")."""

    id: str
    name: str
    inward: str
    outward: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IssueLinkType:
        return cls(
            id=str(data.get("id", "")),
            name=str(data.get("name", "")),
            inward=str(data.get("inward", "")),
            outward=str(data.get("outward", "")),
        )


@dataclass(frozen=True, kw_only=True)
class AllowedValue:
    """One allowed value of a select-like field (priority, option); which key is set varies."""

    id: str | None = None
    name: str | None = None
    value: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.value or self.id or ""

    @classmethod
    def from_json(cls, data: Any) -> AllowedValue:
        if not isinstance(data, Mapping):
            return cls(value=str(data))
        return cls(
            id=_opt_str(data.get("id")),
            name=_opt_str(data.get("name")),
            value=_opt_str(data.get("value")),
        )


@dataclass(frozen=True, kw_only=True)
class CreateField:
    """A field on the create screen of one project and issue type (createmeta)."""

    field_id: str
    key: str
    name: str
    required: bool
    schema_type: str | None = None
    schema_custom: str | None = None
    schema_items: str | None = None
    has_default_value: bool = False
    allowed_values: tuple[AllowedValue, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CreateField:
        schema = data.get("schema") or {}
        field_id = str(data.get("fieldId") or data.get("key") or "")
        return cls(
            field_id=field_id,
            key=str(data.get("key") or field_id),
            name=str(data.get("name", "")),
            required=bool(data.get("required", False)),
            has_default_value=bool(data.get("hasDefaultValue", False)),
            schema_type=schema.get("type"),
            schema_custom=schema.get("custom"),
            schema_items=schema.get("items"),
            allowed_values=tuple(
                AllowedValue.from_json(v) for v in data.get("allowedValues") or ()
            ),
        )


@dataclass(frozen=True, kw_only=True)
class SearchPage:
    """One page of search. Cloud's ``POST /search/jql`` pages by token; Data Center's
    ``POST /search`` by offset, which ``from_offset_json`` turns into an opaque token too."""

    issues: list[dict[str, Any]]
    next_page_token: str | None
    is_last: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SearchPage:
        token = data.get("nextPageToken") or None
        # Without a token there is no next page, whatever ``isLast`` says.
        is_last = bool(data.get("isLast", False)) or token is None
        return cls(issues=list(data.get("issues") or []), next_page_token=token, is_last=is_last)

    @classmethod
    def from_offset_json(cls, data: Mapping[str, Any]) -> SearchPage:
        """Data Center's ``{startAt, maxResults, total, issues}``: the token is the next offset."""
        issues = list(data.get("issues") or [])
        start = _int(data.get("startAt"))
        total = data.get("total")
        following = start + len(issues)
        more = bool(issues) and isinstance(total, int) and following < total
        token = str(following) if more else None
        return cls(issues=issues, next_page_token=token, is_last=not more)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True, kw_only=True)
class Transition:
    """One available transition, as ``GET .../transitions?expand=transitions.fields`` lists it."""

    id: str
    name: str
    to_id: str
    to_name: str
    to_category: str
    has_resolution: bool = False  #: its screen has the resolution field
    has_comment: bool = False  #: its screen takes a comment
    resolution_required: bool = False
    resolutions: tuple[str, ...] = ()  #: allowed values, when the screen lists them

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Transition:
        to = _obj(data.get("to"))
        resolution = _obj(_obj(data.get("fields")).get("resolution"))
        allowed = [_obj(v).get("name") for v in resolution.get("allowedValues") or ()]
        return cls(
            id=str(data.get("id", "")),
            name=str(data.get("name", "")),
            to_id=str(to.get("id", "")),
            to_name=str(to.get("name", "")),
            to_category=str(_obj(to.get("statusCategory")).get("key", "")),
            has_resolution="resolution" in _obj(data.get("fields")),
            has_comment="comment" in _obj(data.get("fields")),
            resolution_required=bool(resolution.get("required", False)),
            resolutions=tuple(str(name) for name in allowed if name),
        )

    @property
    def done(self) -> bool:
        return self.to_category == "done"

    def names(self) -> tuple[str, str]:
        return self.name.casefold(), self.to_name.casefold()


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, kw_only=True)
class Ref:
    """An id and a name: an issue type screen scheme, a screen, a screen tab or a tab's field.

    Jira writes some of these ids as numbers and some as strings; here they are strings."""

    id: str
    name: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Ref:
        return cls(id=str(data.get("id", "")), name=str(data.get("name", "")))


@dataclass(frozen=True, kw_only=True)
class ScreenScheme:
    """A screen scheme: which screen each operation shows (``GET /screenscheme``)."""

    id: str
    name: str
    screens: Mapping[str, str]  #: operation (default, create, edit, view) -> screen id

    @property
    def create_screen(self) -> str | None:
        """The create screen: the scheme's ``create`` entry, else its ``default`` one."""
        return self.screens.get("create") or self.screens.get("default")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScreenScheme:
        screens = _obj(data.get("screens"))
        return cls(
            id=str(data.get("id", "")),
            name=str(data.get("name", "")),
            screens={str(k): str(v) for k, v in screens.items() if v is not None},
        )
