"""The Lambda handlers with synthetic API Gateway and EventBridge events, offline: signed
deliveries are stored in PostgreSQL, unsigned ones are not, the worker handler drains the queue
into the sandbox Jira within its time, and a config the function cannot run is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kt_jira import aws_lambda
from kt_jira.errors import ConfigError
from kt_jira.render.sanitise import correlation_label
from kt_jira.sandbox import escalation_payload
from kt_jira.signing import KEEPTRUSTS_DEFAULT, sign
from kt_jira.store import open_store
from tests.support.apigateway import LambdaContext, http_api_event, rest_api_event, scheduled_event
from tests.support.databases import temporary_postgres_database

from .conftest import WEBHOOK_SECRET, Function, Invoke

pytestmark = pytest.mark.postgres
PATH = "/webhooks/keeptrusts"
EVENTS = {"http-api": http_api_event, "rest-api": rest_api_event}


def _delivery(escalation_id: str, *, signed: bool = True) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(escalation_payload(escalation_id, policy_name="pii-detector")).encode()
    headers = {"Content-Type": "application/json"}
    if signed:
        headers.update(sign(WEBHOOK_SECRET, body, KEEPTRUSTS_DEFAULT))
    return body, headers


async def _post(function: Function, event: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = await function.invoke(aws_lambda.handler, event, LambdaContext())
    return answer


@pytest.mark.parametrize("base64", [False, True], ids=["text", "base64"])
@pytest.mark.parametrize("api", list(EVENTS))
async def test_a_signed_delivery_is_202_and_stored_in_postgresql(
    function: Function, api: str, base64: bool
) -> None:
    """An HTTP API or REST API event carrying a signed delivery (its body as text or base64)
    answers 202, and the escalation, the delivery and the create job are in the database."""
    body, headers = _delivery("esc_lambda_1")
    response = await _post(function, EVENTS[api]("POST", PATH, body, headers, base64=base64))
    assert response["statusCode"] == 202, response
    assert json.loads(response["body"]) == {"status": "accepted"}
    async with open_store(function.database_url) as store:
        escalation = await store.escalations.get("esc_lambda_1")
        assert escalation is not None
        assert escalation.policy_name == "pii-detector"
        [listed] = await store.deliveries.list()
        delivery = await store.deliveries.get(listed.id)
        assert delivery is not None
        assert (delivery.source, delivery.body) == ("keeptrusts", body)  # the raw bytes, decoded
        jobs = await store.queue.list(kind="create_issue")
        assert [job.job_key for job in jobs] == ["create_issue:esc_lambda_1"]


@pytest.mark.parametrize("api", list(EVENTS))
async def test_an_unsigned_delivery_is_401_and_nothing_is_stored(
    function: Function, api: str
) -> None:
    """Without a signature the answer is 401 with a JSON detail, and the database stays empty."""
    body, headers = _delivery("esc_lambda_forged", signed=False)
    response = await _post(function, EVENTS[api]("POST", PATH, body, headers))
    assert response["statusCode"] == 401
    assert "signature" in json.loads(response["body"])["detail"]
    async with open_store(function.database_url) as store:
        assert await store.deliveries.list() == []
        assert await store.escalations.get("esc_lambda_forged") is None


async def test_one_bridge_serves_every_invocation_of_a_container(function: Function) -> None:
    """The bridge is opened by the first invocation and reused by the next ones."""
    ready = http_api_event("GET", "/readyz", b"", {})
    first = await _post(function, ready)
    opened = aws_lambda.current()
    second = await _post(function, ready)
    assert (first["statusCode"], second["statusCode"]) == (200, 200)
    assert opened is not None
    assert aws_lambda.current() is opened


async def test_the_worker_handler_drains_the_queue_into_jira(function: Function) -> None:
    """A scheduled invocation runs the queued create: one issue in the sandbox Jira, the link
    recorded; the next invocation finds the queue empty and scans the new ticket's SLA clock."""
    body, headers = _delivery("esc_lambda_work")
    assert (await _post(function, http_api_event("POST", PATH, body, headers)))["statusCode"] == 202
    first = await function.invoke(
        aws_lambda.worker_handler, scheduled_event(), LambdaContext(remaining_ms=60_000)
    )
    assert first["jobs"] >= 1
    assert first["queue_empty"] is True
    [issue] = function.sandbox.issues_with_label(correlation_label("esc_lambda_work"))
    async with open_store(function.database_url) as store:
        link = await store.links.get("esc_lambda_work")
        assert link is not None
        assert (link.state, link.issue_key) == ("created", function.sandbox.view(issue)["key"])
    second = await function.invoke(
        aws_lambda.worker_handler, {"max_seconds": 5}, LambdaContext(remaining_ms=60_000)
    )
    assert (second["jobs"], second["queue_empty"], second["sla_scanned"]) == (0, True, 1)


async def test_the_worker_handler_leaves_a_margin_before_the_timeout(function: Function) -> None:
    """With less time left than the margin, no job is started: it stays queued for the next
    invocation."""
    body, headers = _delivery("esc_lambda_late")
    assert (await _post(function, http_api_event("POST", PATH, body, headers)))["statusCode"] == 202
    context = LambdaContext(remaining_ms=int(aws_lambda.MARGIN_SECONDS * 1000) - 1)
    result = await function.invoke(aws_lambda.worker_handler, scheduled_event(), context)
    assert (result["jobs"], result["queue_empty"]) == (0, False)
    assert function.sandbox.issues_with_label(correlation_label("esc_lambda_late")) == []
    async with open_store(function.database_url) as store:
        [job] = await store.queue.list(kind="create_issue")
        assert job.status.value == "queued"


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("database_url: sqlite:///kt-jira.db\n", "PostgreSQL"),
        (None, "KT_JIRA_CONFIG is not set"),
    ],
    ids=["sqlite", "no-config"],
)
async def test_a_function_it_cannot_run_is_refused_at_the_first_invocation(
    invoke: Invoke,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    config: str | None,
    expected: str,
) -> None:
    """SQLite (not durable on Lambda) or no KT_JIRA_CONFIG: a ConfigError saying what to do,
    and no runtime is kept, so a fixed configuration is picked up by the next invocation."""
    if config is None:
        monkeypatch.delenv(aws_lambda.CONFIG_ENV, raising=False)
    else:
        (tmp_path / "kt-jira.yaml").write_text(config, encoding="utf-8")
        monkeypatch.setenv(aws_lambda.CONFIG_ENV, str(tmp_path / "kt-jira.yaml"))
    event = http_api_event("GET", "/healthz", b"", {})
    with pytest.raises(ConfigError, match=expected):
        await invoke(aws_lambda.handler, event, LambdaContext())
    assert aws_lambda.current() is None


async def test_a_database_that_is_not_migrated_is_refused_with_the_command_to_run(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The function never migrates: on an empty PostgreSQL database the first invocation fails
    saying to run ``kt-jira migrate``, and nothing is kept."""
    async with temporary_postgres_database() as url:
        config = tmp_path / "kt-jira.yaml"
        config.write_text(
            f"database_url: {url}\n"
            "keeptrusts: {webhook: {secrets: ['inline:lambda-webhook-secret-0123456789']}}\n",
            encoding="utf-8",
        )
        monkeypatch.setenv(aws_lambda.CONFIG_ENV, str(config))
        with pytest.raises(ConfigError, match="run `kt-jira migrate"):
            await invoke(aws_lambda.handler, http_api_event("GET", "/healthz", b"", {}), None)
        assert aws_lambda.current() is None
