"""GET /api/v1/openapi.json is an accurate OpenAPI 3.1 document: it lists exactly the API's
routes, its schemas are valid JSON Schema 2020-12, and every operation it lists, called with
every parameter it documents, answers a documented status with a body that fits its schema.

Neither ``openapi-spec-validator`` nor the OpenAPI 3.1 meta-schema is installed, so the
document's own shape is checked structurally here and its schemas with ``jsonschema``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.routing import Route

from kt_jira.sandbox import escalation_payload
from kt_jira.signing import KEEPTRUSTS_DEFAULT, sign, verify
from tests.support.intake import WEBHOOK_SECRET

from .conftest import AdminHarness

URI = "urn:kt-jira:admin-openapi"
METHODS = {"get", "post", "put", "patch", "delete"}


def _validator(document: dict[str, Any], ref: str) -> Draft202012Validator:
    registry: Registry[Any] = Registry().with_resource(
        URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    return Draft202012Validator({"$ref": URI + ref}, registry=registry)


def _example(parameter: dict[str, Any]) -> str:
    schema = parameter["schema"]
    if "enum" in schema:
        return str(schema["enum"][0])
    if parameter["name"] == "since":
        return "7d"
    if schema.get("type") == "integer":
        return "2" if parameter["name"] == "limit" else str(10**9)
    return "AIGOV"


async def _fixtures(admin: AdminHarness) -> dict[str, int]:
    """The ids each operation is called with: a queued job, a dead job, a quarantined
    delivery whose body parses (so its replay succeeds) and one that does not."""
    harness = admin.harness
    store = harness.bridge.store
    for n in range(2):
        await harness.deliver(json.dumps(escalation_payload(f"esc_doc_{n}")).encode())
    garbage = (await harness.deliver(b"{not json")).json()["quarantine_id"]
    body = json.dumps(escalation_payload("esc_doc_fixed")).encode()
    headers = {"X-Keeptrusts-Delivery": "dlv_doc", **sign(WEBHOOK_SECRET, body, KEEPTRUSTS_DEFAULT)}
    fixed = await store.deliveries.quarantine(
        verify(source="keeptrusts", body=body, headers=headers, secrets=[WEBHOOK_SECRET],
               scheme=KEEPTRUSTS_DEFAULT, now=datetime.now(UTC)),
        reason="an old parser bug", http_status=422,
    )  # fmt: skip
    queued, doomed = await store.queue.list(kind="create_issue")
    assert await store.queue.cancel(doomed.id, now=datetime.now(UTC), by="test")
    return {
        "/deliveries/{id}": garbage,
        "/deliveries/{id}/replay": fixed,
        "/jobs/{id}": queued.id,
        "/jobs/{id}/retry": doomed.id,
        "/jobs/{id}/cancel": queued.id,
    }


async def test_the_document_lists_exactly_the_routes(admin: AdminHarness) -> None:
    """Every /api/v1 route is in the document with its method, and nothing else is."""
    document = (await admin.api("GET", "/openapi.json")).json()
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": "/api/v1"}]
    documented = {
        (path, method.upper())
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }
    served = {
        (route.path.removeprefix("/api/v1"), method)
        for route in admin.harness.bridge.app.routes
        if isinstance(route, Route) and route.path.startswith("/api/v1/")
        for method in (route.methods or set()) - {"HEAD"}
    }
    assert documented == served


async def test_the_document_is_well_formed(admin: AdminHarness) -> None:
    """Each schema is valid JSON Schema 2020-12, each $ref resolves, and each operation has
    parameters with a name, a place and a schema, and responses with a description."""
    document = (await admin.api("GET", "/openapi.json")).json()
    for name, schema in document["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
        _validator(document, f"#/components/schemas/{name}")  # resolvable
    refs = [value for value in _walk(document) if isinstance(value, str) and value.startswith("#/")]
    for ref in refs:
        node: Any = document
        for part in ref[2:].split("/"):
            node = node[part]
    for item in document["paths"].values():
        for operation in item.values():
            assert operation["summary"]
            assert operation["responses"]
            for parameter in operation["parameters"]:
                assert parameter["in"] in ("path", "query")
                assert parameter["schema"]
                Draft202012Validator.check_schema(parameter["schema"])
                assert parameter["required"] is (parameter["in"] == "path")
    for response in document["components"]["responses"].values():
        assert response["description"]
    assert not _validator(document, "#/components/schemas/JobPage").is_valid({"items": [{}]})


async def test_every_documented_operation_answers_as_documented(admin: AdminHarness) -> None:
    """Each operation, called with every parameter it documents, answers a status it
    documents with a body that fits that status's schema."""
    document = (await admin.api("GET", "/openapi.json")).json()
    ids = await _fixtures(admin)
    called = set()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            target = path.replace("{id}", str(ids.get(path, 0)))
            assert "{" not in target, f"no test data for {path}"
            query = {p["name"]: _example(p) for p in operation["parameters"] if p["in"] == "query"}
            if path in ("/jobs", "/deliveries", "/dead-letters"):
                query.pop("before_id", None)  # so the page is not empty
            response = await admin.api(method.upper(), target, params=query)
            documented = operation["responses"].get(str(response.status_code))
            assert documented is not None, f"{method} {path}: undocumented {response.status_code}"
            if "$ref" in documented:
                documented = document["components"]["responses"][documented["$ref"].split("/")[-1]]
            schema_ref = documented["content"]["application/json"]["schema"]["$ref"]
            _validator(document, schema_ref).validate(response.json())
            called.add((path, response.status_code))
    assert {path for path, status in called if status == 200} == set(document["paths"])
    assert (await admin.api("GET", "/jobs", params={"limit": 1})).json()["next_before_id"]


def _walk(value: Any) -> list[Any]:
    """Every ``$ref`` value in a document."""
    if isinstance(value, dict):
        found = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return found + [ref for item in value.values() for ref in _walk(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in _walk(item)]
    return []
