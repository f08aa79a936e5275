"""The admin API's values: query parameters and ids checked, request bodies parsed, and the
store's records as JSON. No I/O here; ``Invalid`` becomes a 422 problem document."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kt_jira.store import DeliveryRecord, Job

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_IDS = 1000  # ids in one dead-letter replay
MAX_ID = 2**63 - 1
# Never shown even if a stored delivery somehow kept them (the intake keeps none of these).
HIDDEN_HEADER_WORDS = ("signature", "authorization", "cookie", "token", "secret", "api-key")


class Invalid(ValueError):
    """A request the admin API refuses (422); the message says what to send instead."""


def query(items: Iterable[tuple[str, str]], names: Sequence[str]) -> dict[str, str]:
    """The query parameters (``(name, value)`` pairs), refusing any not in ``names`` (a
    misspelt filter is an error, not a silently unfiltered list) and any given twice."""
    params: dict[str, str] = {}
    for name, value in items:
        if name not in names:
            allowed = ", ".join(names) or "none"
            raise Invalid(f"unknown query parameter {name[:40]!r}; this endpoint takes {allowed}")
        if name in params:
            raise Invalid(f"give the query parameter {name!r} once")
        params[name] = value
    return params


def row_id(text: str, *, what: str = "id") -> int:
    """A positive integer id from a path or a query."""
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise Invalid(f"{what} must be a positive integer, not {text[:40]!r}")
    return int(text)


def page_of(params: Mapping[str, str]) -> tuple[int, int | None]:
    """``limit`` (1 to ``MAX_LIMIT``, default ``DEFAULT_LIMIT``) and ``before_id``."""
    raw = params.get("limit", str(DEFAULT_LIMIT))
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise Invalid(f"limit must be an integer from 1 to {MAX_LIMIT}, not {raw[:40]!r}")
    before = params.get("before_id")
    return int(raw), None if before is None else row_id(before, what="before_id")


def choice(params: Mapping[str, str], name: str, allowed: Sequence[str]) -> str | None:
    value = params.get(name)
    if value is not None and value not in allowed:
        raise Invalid(f"{name} must be one of {', '.join(allowed)}, not {value[:40]!r}")
    return value


def text_param(params: Mapping[str, str], name: str, *, max_chars: int = 100) -> str | None:
    value = params.get(name)
    if value is not None and not 0 < len(value) <= max_chars:
        raise Invalid(f"{name} must be 1 to {max_chars} characters")
    return value


class _ReplayIds(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    ids: list[int] | None = Field(default=None, max_length=MAX_IDS)


def replay_ids(body: bytes, content_type: str) -> list[int] | None:
    """The job ids a dead-letter replay names (JSON ``{"ids": [...]}`` or form fields
    ``ids=1&ids=2``); ``None`` (every dead letter) for an empty body or one without ``ids``."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        try:
            texts = parse_qs(body.decode("utf-8")).get("ids")
        except UnicodeDecodeError as exc:
            raise Invalid("the form is not valid URL-encoded UTF-8") from exc
        if texts is not None and len(texts) > MAX_IDS:
            raise Invalid(f"at most {MAX_IDS} ids at a time")
        return None if texts is None else [row_id(text, what="each id") for text in texts]
    if not body.strip():
        return None
    try:
        ids = _ReplayIds.model_validate_json(body).ids
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise Invalid(
            f'{where}: {first["msg"]}; send {{"ids": [<job id>, ...]}} (at most {MAX_IDS}) '
            "or no body for every dead letter"
        ) from None
    if ids is not None and not all(0 < job_id <= MAX_ID for job_id in ids):
        raise Invalid("each id must be a positive integer")
    return ids


# -- records as JSON ---------------------------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def job_json(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "job_key": job.job_key,
        "status": job.status.value,
        "priority": job.priority,
        "attempts": job.attempts,
        "run_at": _time(job.run_at),
        "locked_by": job.locked_by,
        "locked_until": _time(job.locked_until),
        "last_error": job.last_error,
        "payload": job.payload,
        "created_at": _time(job.created_at),
        "updated_at": _time(job.updated_at),
    }


def delivery_json(delivery: DeliveryRecord) -> dict[str, Any]:
    """A delivery without its body and headers (``delivery_detail`` has them)."""
    return {
        "id": delivery.id,
        "source": delivery.source,
        "delivery_id": delivery.delivery_id,
        "event_type": delivery.event_type,
        "event_key": delivery.event_key,
        "status": delivery.status.value,
        "reason": delivery.reason,
        "http_status": delivery.http_status,
        "received_at": _time(delivery.received_at),
        "duplicates": delivery.duplicates,
        "escalation_id": delivery.escalation_id,
        "verified_by": delivery.verified_by,
    }


def delivery_detail(delivery: DeliveryRecord) -> dict[str, Any]:
    """A delivery with the headers kept at receipt (never a signature or credential) and its
    raw body: as text when it is UTF-8, else base64."""
    headers = {
        name: value
        for name, value in sorted(delivery.headers.items())
        if not any(word in name.lower() for word in HIDDEN_HEADER_WORDS)
    }
    raw = delivery.body or b""
    try:
        body = {"encoding": "utf-8", "content": raw.decode("utf-8")}
    except UnicodeDecodeError:
        body = {"encoding": "base64", "content": base64.b64encode(raw).decode()}
    return {**delivery_json(delivery), "headers": headers, "body": body}


def page_json(items: list[dict[str, Any]], *, limit: int) -> dict[str, Any]:
    """One page: up to ``limit`` items (the caller read ``limit + 1`` to know whether more
    follow) and the ``before_id`` of the next page (``None`` on the last)."""
    shown = items[:limit]
    more = len(items) > limit
    return {"items": shown, "next_before_id": shown[-1]["id"] if more and shown else None}
