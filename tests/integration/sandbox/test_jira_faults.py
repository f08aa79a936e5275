"""Rate limiting, Retry-After accounting, injected faults and inspection of the Jira sandbox."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from kt_jira.sandbox import JiraSandbox, JiraSandboxSettings

from .conftest import JiraSite, create_body, running_jira


async def test_burst_limit_answers_429_with_retry_after_and_counts_violations() -> None:
    """An empty bucket gives 429 + Retry-After; calls inside the window are counted, later not."""
    async with running_jira(rate_limit=1.0, rate_burst=2, retry_after=1) as site:
        statuses = [(await site.http.get("/rest/api/3/myself")).status_code for _ in range(2)]
        limited = await site.http.get("/rest/api/3/myself")
        other_endpoint = await site.http.get("/rest/api/3/field")
        impatient = await site.http.get("/rest/api/3/myself")
        assert site.sandbox.retry_after_violations == 1
        await asyncio.sleep(float(limited.headers["Retry-After"]))
        patient = await site.http.get("/rest/api/3/myself")
        stats = (await site.http.get("/_sandbox/stats")).json()
    assert statuses == [200, 200]
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    assert limited.headers["RateLimit-Reason"] == "jira-burst-based"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert "X-RateLimit-Reset" in limited.headers
    assert other_endpoint.status_code == 200  # buckets are per method and endpoint
    assert impatient.status_code == 429
    assert patient.status_code == 200
    assert stats["retry_after_violations"] == 1
    assert stats["rate_limited"] == 2
    assert stats["by_route"]["GET /rest/api/3/myself"] == {"200": 3, "429": 2}


async def test_latency_fault_delays_every_rest_call(jira: JiraSite) -> None:
    """`latency` adds seconds to each /rest request."""
    jira.sandbox.faults.latency = 0.3
    started = time.monotonic()
    response = await jira.http.get("/rest/api/3/myself")
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


async def test_error_rate_is_seeded_and_answers_before_doing_anything() -> None:
    """error_rate gives 502/503/504 reproducibly for a seed, and nothing is created."""
    runs: list[list[int]] = []
    for _ in range(2):
        async with running_jira(seed=7) as site:
            site.sandbox.faults.error_rate = 0.5
            runs.append([(await site.create()).status_code for _ in range(12)])
            created = sum(1 for s in runs[-1] if s == 201)
            assert len(site.sandbox.issues) == created
    assert runs[0] == runs[1]
    assert {502, 503, 504} & set(runs[0])
    assert 201 in runs[0]


async def test_outage_returns_503_with_retry_after(jira: JiraSite) -> None:
    """An outage answers 503 (with Retry-After when set); calls during it are violations."""
    jira.sandbox.faults.outage = True
    jira.sandbox.faults.outage_retry_after = 5
    first = await jira.http.get("/rest/api/3/myself")
    second = await jira.create()
    assert (first.status_code, second.status_code) == (503, 503)
    assert first.headers["Retry-After"] == "5"
    assert jira.sandbox.retry_after_violations == 1
    assert jira.sandbox.issues == []


async def test_slow_after_commit_creates_then_times_out_the_client(jira: JiraSite) -> None:
    """The next create commits, then answers later than the client waits: outcome unknown."""
    jira.sandbox.faults.slow_after_commit = 1
    jira.sandbox.faults.slow_seconds = 3.0
    with pytest.raises(httpx.ReadTimeout):
        await jira.http.post("/rest/api/3/issue", json=create_body(), timeout=0.3)
    assert [i.key for i in jira.sandbox.issues] == ["AIGOV-1"]
    started = time.monotonic()
    fast = await jira.create()  # the fault was for one create only
    assert fast.status_code == 201
    assert time.monotonic() - started < 1.0


async def test_slow_create_eventually_answers_201() -> None:
    """A patient client does get the 201 after slow_seconds."""
    async with running_jira() as site:
        site.sandbox.faults.slow_after_commit = 1
        site.sandbox.faults.slow_seconds = 0.3
        started = time.monotonic()
        response = await site.create()
    assert response.status_code == 201
    assert time.monotonic() - started >= 0.3


async def test_fail_next_and_faults_over_http(jira: JiraSite) -> None:
    """POST /_sandbox/faults queues statuses that the next /rest calls get, in order."""
    update = await jira.http.post("/_sandbox/faults", json={"fail_next": [500, 429]})
    assert update.json()["fail_next"] == [500, 429]
    first = await jira.create()
    second = await jira.http.get("/rest/api/3/myself")
    third = await jira.create()
    assert (first.status_code, second.status_code, third.status_code) == (500, 429, 201)
    assert second.headers["Retry-After"] == "1"
    assert len(jira.sandbox.issues) == 1
    bad = await jira.http.post("/_sandbox/faults", json={"error_rate": 2})
    unknown = await jira.http.post("/_sandbox/faults", json={"explode": True})
    assert (bad.status_code, unknown.status_code) == (400, 400)
    reset = await jira.http.post("/_sandbox/faults", json={"reset": True, "latency": 0.01})
    assert reset.json()["latency"] == 0.01
    assert reset.json()["fail_next"] == []


async def test_gateway_errors_are_not_json(jira: JiraSite) -> None:
    """Injected 502/504 come back as HTML like a real edge proxy, so clients must cope."""
    jira.sandbox.faults.fail_next = [502, 504]
    for expected in (502, 504):
        response = await jira.http.get("/rest/api/3/myself")
        assert response.status_code == expected
        assert response.headers["content-type"].startswith("text/html")


async def test_inspection_endpoints_show_issues_by_field_name(jira: JiraSite) -> None:
    """/_sandbox/issues resolves fields by name and filters by label; /stats counts routes."""
    await jira.create(labels=["kt-esc-esc_1"], customfield_10432="pii-detector")
    await jira.create(labels=["other"])
    listing = (await jira.http.get("/_sandbox/issues", params={"label": "kt-esc-esc_1"})).json()
    [issue] = listing["issues"]
    assert issue["fields_by_name"]["Policy Name"] == "pii-detector"
    assert issue["fields_by_name"]["Priority"] == "High"
    assert (issue["issue_type"], issue["priority"], issue["status"]) == ("Task", "High", "Open")
    assert issue["created"].endswith("+0000")
    assert [i.key for i in jira.sandbox.issues_with_label("other")] == ["AIGOV-2"]
    stats = (await jira.http.get("/_sandbox/stats")).json()
    assert stats["by_route"]["POST /rest/api/3/issue"] == {"201": 2}


def test_settings_are_frozen_and_keyword_only() -> None:
    """JiraSandboxSettings is an immutable, keyword-only value object."""
    settings = JiraSandboxSettings(search_lag=0.5)
    with pytest.raises(AttributeError):
        settings.search_lag = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        JiraSandboxSettings("bot@example.com")  # type: ignore[misc]
    assert JiraSandbox(settings).search_lag == 0.5
