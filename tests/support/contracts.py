"""Jira Cloud's machine-readable contracts as test oracles: the ADF JSON schema and the platform
OpenAPI spec.

Public helpers for any test: ``validate_adf`` for one document, ``validate_jira_request`` for a
request the bridge would send (its body against the operation's schema, and every ADF document
inside it), and ``make_request_validator`` for the Jira sandbox.

Each reference file is looked for, in order, at ``$KT_JIRA_ADF_SCHEMA`` / ``$KT_JIRA_OPENAPI_SPEC``,
in ``../shared/reference/`` beside the repository, and in the cache ``scripts/fetch-contracts``
fills (``.contracts/``, or ``$KT_JIRA_CONTRACTS_DIR``). Every copy is compared with its SHA-256 pin
in ``scripts/contracts.sha256``:

- a cache copy must match: the script only installs pinned files, so a mismatch is a damaged or
  partial download and its tests fail, saying to rerun the script;
- a copy named by the environment variable or found in ``../shared/reference/`` is used as given
  (pointing at another version is a deliberate choice), and ``contract_notes`` reports it once in
  the terminal summary (tests/contract/conftest.py), never as a Python warning: the suite runs
  with ``filterwarnings = error``.

When a file is found nowhere, the calling test is skipped with the reason and the one command that
fixes it; ``KT_JIRA_REQUIRE_CONTRACTS=1`` (set by .ci/run) turns that skip into a failure.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NoReturn
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
CONTRACTS_DIR_ENV = "KT_JIRA_CONTRACTS_DIR"
REQUIRE_CONTRACTS_ENV = "KT_JIRA_REQUIRE_CONTRACTS"
FETCH_COMMAND = "scripts/fetch-contracts"
PINS_FILE = Path("scripts") / "contracts.sha256"  # relative to the repository root


@dataclass(frozen=True)
class Contract:
    """One of Atlassian's published files: what it is, its environment variable, its file name."""

    title: str
    env: str
    filename: str


ADF_SCHEMA = Contract("the ADF JSON schema", ADF_ENV, "adf-schema-v1-full.json")
OPENAPI_SPEC = Contract(
    "Jira Cloud's OpenAPI spec", OPENAPI_ENV, "jira-cloud-platform-openapi-v3.json"
)
CONTRACTS = (ADF_SCHEMA, OPENAPI_SPEC)
DEFAULT_OPENAPI_SPEC = REFERENCE_DIR / OPENAPI_SPEC.filename
DEFAULT_ADF_SCHEMA = REFERENCE_DIR / ADF_SCHEMA.filename

_SPEC_URI = "urn:kt-jira:jira-cloud-platform-openapi-v3"
_MAX_LISTED_ERRORS = 8

_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})

RequestValidator = Callable[[str, str, object], None]


class UnknownJiraOperation(LookupError):
    """No operation of the Jira OpenAPI spec matches a method and path."""


class ContractMissing(LookupError):
    """No copy of a contract anywhere the tests look; the message says how to get one."""


class ContractDamaged(ValueError):
    """The cache holds a copy of a contract whose SHA-256 is not the pinned one."""


@dataclass(frozen=True)
class FoundContract:
    """A copy of a contract: where it is, which rule found it, its digest and the pinned one."""

    path: Path
    source: str
    sha256: str
    pinned: str

    @property
    def is_pinned(self) -> bool:
        return self.sha256 == self.pinned


# -- locating and loading the reference files ---------------------------------------------------


def contracts_dir(root: Path = REPO_ROOT) -> Path:
    """The cache scripts/fetch-contracts fills: ``$KT_JIRA_CONTRACTS_DIR``, else ``.contracts/``."""
    return Path(os.environ.get(CONTRACTS_DIR_ENV) or root / ".contracts")


# Both caches are keyed on the file's mtime and size too, so a file rewritten during a session is
# read again; they matter because every validate_adf call locates (and so checks) its schema.


@cache
def _parse_pins(path: Path, mtime_ns: int, size: int) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            digest, name = line.split(maxsplit=1)
            pins[name.strip().lstrip("*")] = digest.lower()  # "*" marks binary mode in sha256sum
    return pins


@cache
def _digest(path: Path, mtime_ns: int, size: int) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def read_pins(root: Path = REPO_ROOT) -> dict[str, str]:
    """File name -> pinned SHA-256, from the ``sha256sum``-format pins file (``#`` comments)."""
    stat = (root / PINS_FILE).stat()
    return dict(_parse_pins(root / PINS_FILE, stat.st_mtime_ns, stat.st_size))


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, hex."""
    stat = path.stat()
    return _digest(path, stat.st_mtime_ns, stat.st_size)


def _shown(path: Path, root: Path) -> str:
    """``path`` relative to the repository when it is inside or beside it, else as given: short,
    and the same on every machine, so identical skips group into one line of the summary."""
    for base, prefix in ((root, ""), (root.parent, "../")):
        if path.is_relative_to(base):
            return prefix + path.relative_to(base).as_posix()
    return str(path)


def find_contract(contract: Contract, root: Path = REPO_ROOT) -> FoundContract:
    """The copy of ``contract`` the tests use: ``$<env>``, else ``../shared/reference/``, else the
    cache. ``ContractMissing`` when there is none, ``ContractDamaged`` when the cache copy is not
    the pinned version."""
    pinned = read_pins(root)[contract.filename]
    explicit = os.environ.get(contract.env)
    if explicit:
        # An explicit choice never falls back to another copy: that would test something else.
        path = Path(explicit)
        if not path.is_file():
            raise ContractMissing(
                f"{contract.env}={explicit} is not a file; point it at a copy of "
                f"{contract.title}, or unset it and run {FETCH_COMMAND}"
            )
        return FoundContract(path, contract.env, file_sha256(path), pinned)
    shared = root.parent / "shared" / "reference" / contract.filename
    if shared.is_file():
        return FoundContract(shared, "../shared/reference", file_sha256(shared), pinned)
    cached = contracts_dir(root) / contract.filename
    if not cached.is_file():
        # Short, and the same for every test: skips raised in fixtures are listed one per test.
        raise ContractMissing(
            f"no copy of {contract.title} ({contract.env} unset; none in "
            f"{_shown(shared.parent, root)}/ or {_shown(cached.parent, root)}/): "
            f"run {FETCH_COMMAND}, or set {contract.env}"
        )
    found = FoundContract(cached, "the cache", file_sha256(cached), pinned)
    if not found.is_pinned:
        raise ContractDamaged(
            f"{_shown(cached, root)} has SHA-256 {found.sha256}, but {PINS_FILE.as_posix()} pins "
            f"{pinned}: a damaged or partial download; rerun {FETCH_COMMAND} (to test another "
            f"version on purpose, point {contract.env} at it instead)"
        )
    return found


def contracts_required() -> bool:
    return os.environ.get(REQUIRE_CONTRACTS_ENV, "") == "1"


def contract_unavailable(reason: str) -> NoReturn:
    """Skip with ``reason`` or, when the contracts are required, fail with it."""
    if contracts_required():
        pytest.fail(f"{reason} ({REQUIRE_CONTRACTS_ENV}=1 requires the contracts)", pytrace=False)
    pytest.skip(f"{reason} ({REQUIRE_CONTRACTS_ENV}=1 fails instead of skipping)")


def require_contract(contract: Contract, root: Path = REPO_ROOT) -> Path:
    """The path of ``contract``'s copy; skips the calling test when there is none (or fails, see
    ``contract_unavailable``) and always fails on a damaged cache copy."""
    try:
        return find_contract(contract, root).path
    except (ContractDamaged, ContractMissing) as exc:
        problem = exc  # skip or fail outside the handler, so no chained traceback is shown
    if isinstance(problem, ContractDamaged):
        # Not a skip even locally: the fix is one command, and a skip would hide the damage.
        pytest.fail(str(problem), pytrace=False)
    contract_unavailable(str(problem))


def contract_notes(root: Path = REPO_ROOT) -> list[str]:
    """One line for each contract not checked as pinned: missing or damaged (its tests skipped or
    failed; this repeats the fix once, at the end) or another version in use."""
    notes: list[str] = []
    for contract in CONTRACTS:
        try:
            found = find_contract(contract, root)
        except (ContractMissing, ContractDamaged) as exc:
            notes.append(str(exc))
            continue
        if not found.is_pinned:
            # The variable's value as the user wrote it; the other places relative to the checkout.
            where = str(found.path) if found.source == contract.env else _shown(found.path, root)
            notes.append(
                f"{contract.title} from {found.source} ({where}) is not the "
                f"pinned version: SHA-256 {found.sha256}, {PINS_FILE.as_posix()} pins "
                f"{found.pinned}; verdicts may differ from CI's"
            )
    return notes


def adf_schema_path() -> Path:
    """The ADF schema the tests use (see ``find_contract``); skips or fails when there is none."""
    return require_contract(ADF_SCHEMA)


def openapi_spec_path() -> Path:
    """The OpenAPI spec the tests use (see ``find_contract``); skips or fails when there is none."""
    return require_contract(OPENAPI_SPEC)


@cache
def _load_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def load_adf_schema() -> dict[str, Any]:
    """The ADF JSON schema (draft-04), loaded once."""
    schema: dict[str, Any] = _load_json(adf_schema_path())
    return schema


def load_openapi_spec() -> dict[str, Any]:
    """The Jira Cloud platform OpenAPI 3.0 spec as published, loaded once."""
    spec: dict[str, Any] = _load_json(openapi_spec_path())
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
    validator = _adf_validator(adf_schema_path())
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
    spec_path = openapi_spec_path()
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
    spec_path = openapi_spec_path()
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
    openapi_spec_path()
    adf_schema_path()

    def validate(method: str, path: str, body: object) -> None:
        validate_jira_request(method, path, body)

    return validate


__all__ = [
    "ADF_ENV",
    "ADF_SCHEMA",
    "CONTRACTS",
    "CONTRACTS_DIR_ENV",
    "DEFAULT_ADF_SCHEMA",
    "DEFAULT_OPENAPI_SPEC",
    "FETCH_COMMAND",
    "OPENAPI_ENV",
    "OPENAPI_SPEC",
    "PINS_FILE",
    "REQUIRE_CONTRACTS_ENV",
    "Contract",
    "ContractDamaged",
    "ContractMissing",
    "FoundContract",
    "RequestValidator",
    "UnknownJiraOperation",
    "adf_schema_path",
    "contract_notes",
    "contract_unavailable",
    "contracts_dir",
    "contracts_required",
    "file_sha256",
    "find_contract",
    "find_operation",
    "load_adf_schema",
    "load_openapi_spec",
    "make_request_validator",
    "openapi_spec_path",
    "read_pins",
    "require_contract",
    "validate_adf",
    "validate_jira_request",
]
