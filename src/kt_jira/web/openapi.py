"""The admin API's OpenAPI 3.1 document, written by hand beside the routes it describes.

``document()`` is served at ``GET /api/v1/openapi.json``. Schemas are JSON Schema 2020-12 (as
OpenAPI 3.1 has it) and say exactly what ``web/api_values.py`` produces; a test calls every
operation listed here and validates each answer against its schema, so they cannot drift.
"""

from __future__ import annotations

import copy
from typing import Any

from kt_jira.jobs import Kind
from kt_jira.store import DeliveryStatus, JobStatus
from kt_jira.web.api_values import DEFAULT_LIMIT, MAX_IDS, MAX_LIMIT
from kt_jira.web.session import SESSION_COOKIE

Json = dict[str, Any]
TIME = {"type": "string", "format": "date-time"}
MAYBE_TIME = {"type": ["string", "null"], "format": "date-time"}
MAYBE_TEXT = {"type": ["string", "null"]}
ID = {"type": "integer", "minimum": 1}
PROBLEMS = {
    401: "No or wrong credentials",
    403: "Cross-origin, or a session request without its CSRF token",
    404: "Not found (or the admin API is disabled: no server.admin_token)",
    409: "Not in a state this action applies to",
    413: "Request body over 64 KiB",
    422: "Invalid parameter or body; `detail` says which",
}


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: Json, *, open_: bool = False) -> Json:
    return {
        "type": "object",
        "properties": properties,
        "required": sorted(properties),
        "additionalProperties": open_,
    }


def _page(item: str) -> Json:
    items = {"type": "array", "items": _ref(item), "maxItems": MAX_LIMIT}
    return _object({"items": items, "next_before_id": {"type": ["integer", "null"]}})


_DELIVERY = {
    "id": ID,
    "source": {"enum": ["keeptrusts", "jira"]},
    "delivery_id": {"type": "string"},
    "event_type": {"type": "string"},
    "event_key": {"type": "string"},
    "status": {"enum": [s.value for s in DeliveryStatus]},
    "reason": MAYBE_TEXT,
    "http_status": {"type": ["integer", "null"]},
    "received_at": TIME,
    "duplicates": {"type": "integer", "minimum": 0},
    "escalation_id": MAYBE_TEXT,
    "verified_by": {"type": "string"},
}
_BODY = _object({"encoding": {"enum": ["utf-8", "base64"]}, "content": {"type": "string"}})
_JOB = {
    "id": ID,
    "kind": {"type": "string"},
    "job_key": {"type": "string"},
    "status": {"enum": [s.value for s in JobStatus]},
    "priority": {"type": "integer"},
    "attempts": {"type": "integer", "minimum": 0},
    "run_at": TIME,
    "locked_by": MAYBE_TEXT,
    "locked_until": MAYBE_TIME,
    "last_error": MAYBE_TEXT,
    "payload": {"type": "object"},
    "created_at": TIME,
    "updated_at": TIME,
}
SCHEMAS: Json = {
    "Problem": {
        "type": "object",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    "Delivery": _object(_DELIVERY),
    "DeliveryDetail": _object(
        {
            **_DELIVERY,
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "body": _BODY,
        }
    ),
    "DeliveryPage": _page("Delivery"),
    "DeliveryReplay": _object(
        {"outcome": {"enum": ["accepted", "duplicate", "ignored"]}, "delivery": _ref("Delivery")}
    ),
    "Job": _object(_JOB),
    "JobPage": _page("Job"),
    "JobChange": _object({"job": _ref("Job")}),
    "ReplayRequest": {
        "type": "object",
        "properties": {"ids": {"type": "array", "items": ID, "maxItems": MAX_IDS}},
        "additionalProperties": False,
    },
    "Replayed": _object({"replayed": {"type": "array", "items": ID}}),
    "Report": {
        "type": "object",
        "description": "What `kt-jira report --format json` prints for the same range",
        "properties": {
            "since": TIME,
            "until": TIME,
            "project": MAYBE_TEXT,
            "escalations": {"type": "integer", "minimum": 0},
            "grouped": {"type": "integer", "minimum": 0},
            "by_priority": {"type": "object", "additionalProperties": {"type": "integer"}},
            "by_policy": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
        "required": ["since", "until", "project", "escalations", "by_priority", "by_policy"],
    },
    "OpenApi": {"type": "object", "required": ["openapi", "paths"]},
}


def _param(name: str, where: str, schema: Json, description: str) -> Json:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": schema,
        "description": description,
    }


PATH_ID = _param("id", "path", ID, "The row id")
PAGE = [
    _param(
        "limit",
        "query",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        "Items per page",
    ),
    _param("before_id", "query", ID, "Only older items: the previous page's next_before_id"),
]
KIND = _param("kind", "query", {"enum": [k.value for k in Kind]}, "Only jobs of this kind")


def _operation(
    summary: str,
    ok: str,
    *,
    params: list[Json] | None = None,
    problems: tuple[int, ...] = (),
    body: str | None = None,
) -> Json:
    responses: Json = {
        "200": {
            "description": "OK",
            "content": {"application/json": {"schema": _ref(ok)}},
        }
    }
    for status in sorted({401, 403, 404, *problems}):
        responses[str(status)] = {"$ref": f"#/components/responses/Problem{status}"}
    operation: Json = {"summary": summary, "parameters": params or [], "responses": responses}
    if body is not None:
        operation["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": _ref(body)}},
        }
    return operation


def document() -> Json:
    """The OpenAPI 3.1 document of ``/api/v1`` (a new dict each call)."""
    statuses = {
        "delivery": _param(
            "status", "query", {"enum": [s.value for s in DeliveryStatus]}, "Only this status"
        ),
        "job": _param("status", "query", {"enum": [s.value for s in JobStatus]}, "Only this"),
    }
    source = _param("source", "query", {"enum": ["keeptrusts", "jira"]}, "Only this sender")
    since = _param("since", "query", {"type": "string", "default": "30d"}, "A duration: 7d, 12h")
    project = _param("project", "query", {"type": "string", "maxLength": 100}, "A Jira project")
    mutation = (409, 413, 422)
    paths: Json = {
        "/deliveries": {
            "get": _operation(
                "List deliveries, newest first",
                "DeliveryPage",
                params=[statuses["delivery"], source, *PAGE],
                problems=(422,),
            )
        },
        "/deliveries/{id}": {
            "get": _operation(
                "One delivery with its kept headers and raw body",
                "DeliveryDetail",
                params=[PATH_ID],
                problems=(422,),
            )
        },
        "/deliveries/{id}/replay": {
            "post": _operation(
                "Re-run a quarantined delivery through its intake",
                "DeliveryReplay",
                params=[PATH_ID],
                problems=mutation,
            )
        },
        "/jobs": {
            "get": _operation(
                "List jobs, newest first",
                "JobPage",
                params=[statuses["job"], KIND, *PAGE],
                problems=(422,),
            )
        },
        "/jobs/{id}": {"get": _operation("One job", "Job", params=[PATH_ID], problems=(422,))},
        "/jobs/{id}/retry": {
            "post": _operation(
                "A dead job back to the queue, due now",
                "JobChange",
                params=[PATH_ID],
                problems=mutation,
            )
        },
        "/jobs/{id}/cancel": {
            "post": _operation(
                "A queued job to dead, as cancelled by you",
                "JobChange",
                params=[PATH_ID],
                problems=mutation,
            )
        },
        "/dead-letters": {
            "get": _operation(
                "List dead jobs, newest first", "JobPage", params=[KIND, *PAGE], problems=(422,)
            )
        },
        "/dead-letters/replay": {
            "post": _operation(
                "Every dead letter, or those listed, back to the queue",
                "Replayed",
                problems=(413, 422),
                body="ReplayRequest",
            )
        },
        "/report": {
            "get": _operation(
                "The escalation report", "Report", params=[since, project], problems=(422,)
            )
        },
        "/openapi.json": {"get": _operation("This document", "OpenApi")},
    }
    problem = {"application/json": {"schema": _ref("Problem")}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "kt-jira admin API",
            "version": "1",
            "description": "Deliveries, jobs and dead letters of a kt-jira bridge. Send "
            "Authorization: Bearer <server.admin_token>; a browser session (cookie "
            f"{SESSION_COOKIE}) must add its X-CSRF-Token to every POST.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "schemas": copy.deepcopy(SCHEMAS),
            "responses": {
                f"Problem{status}": {"description": text, "content": problem}
                for status, text in PROBLEMS.items()
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
            },
        },
    }
