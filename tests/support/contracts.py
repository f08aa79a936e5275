"""Jira Cloud's machine-readable contracts as test oracles: the ADF JSON schema and the platform
OpenAPI spec.

Public helpers for any test: ``validate_adf`` for one document, ``validate_jira_request`` for a
request the bridge would send (its body against the operation's schema, and every ADF document
inside it), and ``make_request_validator`` for the Jira sandbox. The reference files are found
through ``KT_JIRA_ADF_SCHEMA`` / ``KT_JIRA_OPENAPI_SPEC``; when they are missing the calling test is
skipped with instructions to fetch them (or fails, when ``CI`` is set).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIR = REPO_ROOT.parent / "shared" / "reference"
OPENAPI_ENV = "KT_JIRA_OPENAPI_SPEC"
ADF_ENV = "KT_JIRA_ADF_SCHEMA"
DEFAULT_OPENAPI_SPEC = REFERENCE_DIR / "jira-cloud-platform-openapi-v3.json"
DEFAULT_ADF_SCHEMA = REFERENCE_DIR / "adf-schema-v1-full.json"

_SPEC_URI = "urn:kt-jira:jira-cloud-platform-openapi-v3"
_FETCH_HELP = {
    ADF_ENV: (
        "the ADF JSON schema: run `npm pack @atlaskit/adf-schema@57.7.22`, unpack it and point "
        f"{ADF_ENV} at package/dist/json-schema/v1/full.json"
    ),
    OPENAPI_ENV: (
        "Jira Cloud's OpenAPI spec: download "
        "https://dac-static.atlassian.com/cloud/jira/platform/swagger-v3.v3.json and point "
        f"{OPENAPI_ENV} at it"
    ),
}
_MAX_LISTED_ERRORS = 8

_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})

RequestValidator = Callable[[str, str, object], None]


class UnknownJiraOperation(LookupError):
    """No operation of the Jira OpenAPI spec matches a method and path."""


# -- locating and loading the reference files ---------------------------------------------------


def adf_schema_path() -> Path:
    """Where the ADF schema is expected (``KT_JIRA_ADF_SCHEMA`` or the shared reference dir)."""
    return Path(os.environ.get(ADF_ENV) or DEFAULT_ADF_SCHEMA)


def openapi_spec_path() -> Path:
    """Where the OpenAPI spec is expected (``KT_JIRA_OPENAPI_SPEC`` or the shared reference dir)."""
    return Path(os.environ.get(OPENAPI_ENV) or DEFAULT_OPENAPI_SPEC)


def _require(path: Path, env: str) -> Path:
    if path.is_file():
        return path
    message = f"{path} not found; to fetch {_FETCH_HELP[env]}."
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@cache
def _load_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def load_adf_schema() -> dict[str, Any]:
    """The ADF JSON schema (draft-04), loaded once."""
    schema: dict[str, Any] = _load_json(_require(adf_schema_path(), ADF_ENV))
    return schema


def load_openapi_spec() -> dict[str, Any]:
    """The Jira Cloud platform OpenAPI 3.0 spec as published, loaded once."""
    spec: dict[str, Any] = _load_json(_require(openapi_spec_path(), OPENAPI_ENV))
    return spec


@cache
def _adf_validator(path: Path) -> Draft4Validator:
    return Draft4Validator(_load_json(path))


# -- ADF ----------------------------------------------------------------------------------------


def _deepest(error: ValidationError) -> ValidationError:
    """The most deeply nested failure under an ``anyOf``: usually the real cause."""
    best = error
    for child in error.context or ():
        candidate = _deepest(child)
        if len(candidate.absolute_path) > len(best.absolute_path):
            best = candidate
    return best


def _shorten(message: str) -> str:
    return message if len(message) <= 300 else message[:300] + "…"


def _describe(errors: list[ValidationError], what: str) -> str:
    errors = sorted(errors, key=lambda error: [str(part) for part in error.absolute_path])
    lines = [f"{what} is invalid ({len(errors)} error(s)):"]
    for error in errors[:_MAX_LISTED_ERRORS]:
        lines.append(f"  at {error.json_path}: {_shorten(error.message)}")
        cause = _deepest(error)
        if cause is not error:
            lines.append(f"    likely cause at {cause.json_path}: {_shorten(cause.message)}")
    if len(errors) > _MAX_LISTED_ERRORS:
        lines.append(f"  … and {len(errors) - _MAX_LISTED_ERRORS} more")
    return "\n".join(lines)


def validate_adf(doc: object, *, where: str = "ADF document") -> None:
    """Assert that ``doc`` is a valid ADF v1 document per ``@atlaskit/adf-schema``."""
    validator = _adf_validator(_require(adf_schema_path(), ADF_ENV))
    errors = list(validator.iter_errors(doc))
    if errors:
        raise AssertionError(_describe(errors, where))


# -- OpenAPI ------------------------------------------------------------------------------------


def _as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema dialect -> JSON Schema draft 4: ``nullable: true`` admits ``null``.

    Other OpenAPI-only keywords (readOnly, discriminator, example, ...) are left in place; a
    draft-4 validator ignores keywords it does not know."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _as_json_schema(value) for key, value in node.items()}
    if converted.get("nullable") is not True:
        return converted
    converted.pop("nullable")
    if "enum" in converted and None not in converted["enum"]:
        converted["enum"] = [*converted["enum"], None]
    kind = converted.get("type")
    if isinstance(kind, str):
        converted["type"] = [kind, "null"]
        return converted
    if kind is None:
        return {"anyOf": [{"type": "null"}, converted]}
    return converted


@cache
def _spec_registry(path: Path) -> tuple[dict[str, Any], Registry[Any]]:
    spec = _as_json_schema(_load_json(path))
    resource: Resource[Any] = Resource.from_contents(spec, default_specification=DRAFT4)
    return spec, Registry().with_resource(_SPEC_URI, resource)


def _pointer_token(value: str) -> str:
    return value.replace("~", "~0").replace("/", "~1")


def _template_pattern(template: str) -> tuple[re.Pattern[str], tuple[int, ...]]:
    """A regex for a path template, and its literal-segment mask (for tie-breaking)."""
    parts: list[str] = []
    mask: list[int] = []
    for segment in template.strip("/").split("/"):
        pieces = re.split(r"(\{[^/}]+\})", segment)
        parts.append("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in pieces if p))
        mask.append(0 if "{" in segment else 1)
    return re.compile("/" + "/".join(parts) + r"\Z"), tuple(mask)


@cache
def _templates(path: Path) -> list[tuple[str, re.Pattern[str], tuple[int, ...]]]:
    spec = _load_json(path)
    return [(template, *_template_pattern(template)) for template in spec["paths"]]


def find_operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The spec's path template and operation for a concrete ``method`` and ``path``.

    Literal segments win over parameters when several templates match
    (``/issue/createmeta`` beats ``/issue/{issueIdOrKey}``)."""
    spec_path = _require(openapi_spec_path(), OPENAPI_ENV)
    spec = _load_json(spec_path)
    concrete = _normalise_path(path)
    matches = [
        (sum(mask), mask, template)
        for template, pattern, mask in _templates(spec_path)
        if pattern.match(concrete)
    ]
    if not matches:
        raise UnknownJiraOperation(
            f"no operation in the Jira OpenAPI spec matches path {concrete!r}"
        )
    _, _, template = max(matches)
    operation = spec["paths"][template].get(method.lower())
    if not isinstance(operation, dict):
        allowed = sorted(k.upper() for k in spec["paths"][template] if k in _HTTP_METHODS)
        raise UnknownJiraOperation(
            f"{template} has no {method.upper()} operation in the Jira OpenAPI spec "
            f"(it has {', '.join(allowed)})"
        )
    return template, operation


def _normalise_path(path: str) -> str:
    """The path part of a URL or path; a gateway prefix before ``/rest/`` is dropped."""
    concrete = urlsplit(path).path or "/"
    if "/rest/" in concrete and not concrete.startswith("/rest/"):
        concrete = concrete[concrete.index("/rest/") :]
    return concrete.rstrip("/") or "/"


@cache
def _body_validator(spec_path: Path, template: str, method: str) -> Draft4Validator | None:
    """A validator for the operation's JSON request body; ``None`` if it takes no JSON body."""
    spec, registry = _spec_registry(spec_path)
    body = spec["paths"][template][method].get("requestBody")
    if body is None:
        return None
    pointer = f"/paths/{_pointer_token(template)}/{method}/requestBody"
    if "$ref" in body:  # a shared request body under components/requestBodies
        pointer = body["$ref"].removeprefix("#")
        body = registry.resolver(_SPEC_URI).lookup(body["$ref"]).contents
    if "application/json" not in body.get("content", {}):
        return None
    pointer += "/content/application~1json/schema"
    return Draft4Validator({"$ref": f"{_SPEC_URI}#{pointer}"}, registry=registry)


def _adf_locations(template: str, body: object) -> Iterator[tuple[str, object]]:
    """Every place in a request body that Jira Cloud reads as an ADF document."""
    if not isinstance(body, dict):
        return
    fields = body.get("fields")
    if isinstance(fields, dict):
        for name in ("description", "environment"):
            if fields.get(name) is not None:
                yield f"fields.{name}", fields[name]
    update = body.get("update")
    if isinstance(update, dict):
        for index, operation in enumerate(_as_list(update.get("comment"))):
            if isinstance(operation, dict):
                for verb in ("add", "edit"):
                    if isinstance(operation.get(verb), dict) and "body" in operation[verb]:
                        yield f"update.comment[{index}].{verb}.body", operation[verb]["body"]
        for index, operation in enumerate(_as_list(update.get("description"))):
            if isinstance(operation, dict) and operation.get("set") is not None:
                yield f"update.description[{index}].set", operation["set"]
    if re.search(r"/comment(/\{[^}]+\})?\Z", template) and "body" in body:
        yield "body", body["body"]


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def validate_jira_request(method: str, path: str, body: object) -> None:
    """Assert that a request to Jira Cloud matches the published contract.

    The body is validated against the matched operation's JSON request schema and every ADF
    document in it against the ADF schema. ``UnknownJiraOperation`` if no operation matches; a
    body sent to an operation that takes none, or a missing required body, fail the assertion."""
    template, operation = find_operation(method, path)
    spec_path = _require(openapi_spec_path(), OPENAPI_ENV)
    what = f"{method.upper()} {path} (operation {template})"
    if body is None:
        if operation.get("requestBody", {}).get("required"):
            raise AssertionError(f"{what} requires a request body")
        return
    validator = _body_validator(spec_path, template, method.lower())
    if validator is None:
        raise AssertionError(f"{what} takes no JSON request body, got {type(body).__name__}")
    errors = list(validator.iter_errors(body))
    if errors:
        raise AssertionError(_describe(errors, f"request body of {what}"))
    for location, doc in _adf_locations(template, body):
        validate_adf(doc, where=f"{location} in {what}")


def make_request_validator() -> RequestValidator:
    """A callable for the Jira sandbox: ``(method, path_with_query, body) -> None``."""
    # Fail or skip now, not on the first request deep inside the sandbox.
    _require(openapi_spec_path(), OPENAPI_ENV)
    _require(adf_schema_path(), ADF_ENV)

    def validate(method: str, path: str, body: object) -> None:
        validate_jira_request(method, path, body)

    return validate


__all__ = [
    "ADF_ENV",
    "DEFAULT_ADF_SCHEMA",
    "DEFAULT_OPENAPI_SPEC",
    "OPENAPI_ENV",
    "RequestValidator",
    "UnknownJiraOperation",
    "adf_schema_path",
    "find_operation",
    "load_adf_schema",
    "load_openapi_spec",
    "make_request_validator",
    "openapi_spec_path",
    "validate_adf",
    "validate_jira_request",
]
