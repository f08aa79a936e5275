"""The admin API's jobs and dead letters over real HTTP: a dead job from a real Jira failure,
retried into a ticket in the sandbox; replay by ids; cancel; filters, pages and bad input."""

from __future__ import annotations

import json

from kt_jira.render.sanitise import correlation_label
from kt_jira.sandbox import escalation_payload

from .conftest import AdminHarness

POLICY_NAME_FIELD = "customfield_10432"  # the real one; 10299 is a decoy


def _payload(escalation_id: str) -> bytes:
    return json.dumps(escalation_payload(escalation_id, action="escalate")).encode()


async def _dead_creates(admin: AdminHarness, *escalation_ids: str) -> list[int]:
    """Create jobs that died on a field missing from the create screen (a permanent failure)."""
    admin.harness.sandbox.remove_field_from_screen("AIGOV", "Policy Name")
    for escalation_id in escalation_ids:
        assert (await admin.harness.deliver(_payload(escalation_id))).status_code == 202
    store = admin.harness.bridge.store

    async def all_dead() -> bool:
        return len(await store.queue.list(status="dead")) == len(escalation_ids)

    await admin.harness.work_until(all_dead)
    admin.harness.sandbox.add_field_to_screen("AIGOV", POLICY_NAME_FIELD)
    return [job.id for job in reversed(await store.queue.list(status="dead"))]


def _tickets(admin: AdminHarness, escalation_id: str) -> int:
    return len(admin.harness.sandbox.issues_with_label(correlation_label(escalation_id)))


async def _created(admin: AdminHarness, escalation_id: str) -> bool:
    link = await admin.harness.bridge.store.links.get(escalation_id)
    return link is not None and link.state == "created"


async def test_a_dead_job_is_listed_and_retried_into_a_ticket(admin: AdminHarness) -> None:
    """A create that died on Jira's answer is a dead letter with its error; retrying it after
    the fix queues it now and the ticket appears in Jira; retrying a queued job is 409."""
    [job_id] = await _dead_creates(admin, "esc_dead_1")
    dead = (await admin.api("GET", "/dead-letters")).json()["items"]
    assert [(j["id"], j["kind"], j["status"]) for j in dead] == [(job_id, "create_issue", "dead")]
    assert "Policy Name" in dead[0]["last_error"]
    one = (await admin.api("GET", f"/jobs/{job_id}")).json()
    assert one["payload"] == {"escalation_id": "esc_dead_1"}
    retried = await admin.api("POST", f"/jobs/{job_id}/retry")
    assert retried.status_code == 200
    assert (retried.json()["job"]["status"], retried.json()["job"]["attempts"]) == ("queued", 0)
    assert (await admin.api("POST", f"/jobs/{job_id}/retry")).status_code == 409
    await admin.harness.work_until(lambda: _created(admin, "esc_dead_1"))
    assert _tickets(admin, "esc_dead_1") == 1
    trail = await admin.harness.bridge.store.audit.list(entity="job", entity_id=str(job_id))
    assert trail[0].action == "done"
    assert ("replayed", {"by": "admin"}) in [(a.action, a.detail) for a in trail]


async def test_dead_letters_replay_by_ids_then_all(admin: AdminHarness) -> None:
    """``{"ids": [...]}`` (or a dashboard form's ``ids`` fields) replays just those dead
    letters; no body replays every other one."""
    first, second = await _dead_creates(admin, "esc_ids_1", "esc_ids_2")
    some = await admin.api("POST", "/dead-letters/replay", json={"ids": [first, 999999]})
    assert some.json() == {"replayed": [first]}
    browser = await admin.browser()
    absent = [str(n) for n in range(900000, 900100)]  # a long form still passes the gate
    form = {"csrf_token": browser.csrf, "ids": absent}
    none = await browser.client.post(
        "/api/v1/dead-letters/replay", data=form, headers={"Origin": admin.url}
    )
    assert none.json() == {"replayed": []}
    assert [j["id"] for j in (await admin.api("GET", "/dead-letters")).json()["items"]] == [second]
    assert (await admin.api("POST", "/dead-letters/replay")).json() == {"replayed": [second]}

    async def both() -> bool:
        return await _created(admin, "esc_ids_1") and await _created(admin, "esc_ids_2")

    await admin.harness.work_until(both)
    assert (_tickets(admin, "esc_ids_1"), _tickets(admin, "esc_ids_2")) == (1, 1)


async def test_cancel_turns_a_queued_job_into_a_dead_letter(admin: AdminHarness) -> None:
    """Cancelling a queued job makes it dead, ``cancelled by`` the session, so no ticket is
    made; cancelling it again, or a job that does not exist, is refused."""
    await admin.harness.deliver(_payload("esc_cancel_1"))
    [job] = (await admin.api("GET", "/jobs", params={"status": "queued"})).json()["items"]
    browser = await admin.browser()
    cancelled = await browser.post(f"/api/v1/jobs/{job['id']}/cancel")
    assert cancelled.status_code == 200
    after = cancelled.json()["job"]
    assert after["status"] == "dead"
    assert after["last_error"].startswith("cancelled by session:")
    again = await admin.api("POST", f"/jobs/{job['id']}/cancel")
    assert (again.status_code, "only queued" in again.json()["detail"]) == (409, True)
    assert (await admin.api("POST", "/jobs/999999/cancel")).status_code == 404
    await admin.harness.bridge.worker.run_once()
    assert _tickets(admin, "esc_cancel_1") == 0


async def test_jobs_filter_by_status_and_kind_and_page(admin: AdminHarness) -> None:
    """Jobs filter by status and kind and page by ``before_id``."""
    for n in range(3):
        await admin.harness.deliver(_payload(f"esc_page_{n}"))
    page = (await admin.api("GET", "/jobs", params={"kind": "create_issue", "limit": 2})).json()
    assert [j["payload"]["escalation_id"] for j in page["items"]] == ["esc_page_2", "esc_page_1"]
    rest = await admin.api("GET", "/jobs", params={"limit": 2, "before_id": page["next_before_id"]})
    assert [j["payload"]["escalation_id"] for j in rest.json()["items"]] == ["esc_page_0"]
    assert (await admin.api("GET", "/jobs", params={"status": "done"})).json()["items"] == []
    assert (await admin.api("GET", "/jobs", params={"kind": "resolve_jira"})).json()["items"] == []


async def test_bad_input_is_refused_with_a_problem_document(admin: AdminHarness) -> None:
    """Ids must be integers, limits at most 200, filters known values and bodies small and
    well-formed: each refusal is a 422 (or 413) problem document saying what to send."""
    refusals = {
        "/jobs/abc": 422,
        "/jobs/0": 422,
        "/jobs?limit=201": 422,
        "/jobs?limit=x": 422,
        "/jobs?before_id=-1": 422,
        "/jobs?status=finished": 422,
        "/jobs?kind=nope": 422,
        "/jobs?state=dead": 422,
        "/jobs?status=dead&status=queued": 422,
        "/deliveries?source=slack": 422,
        "/report?since=soon": 422,
    }
    for path, status in refusals.items():
        response = await admin.api("GET", path)
        assert (response.status_code, path) == (status, path)
        assert response.json()["detail"], path
    bad_ids = await admin.api("POST", "/dead-letters/replay", json={"ids": ["1"]})
    not_json = await admin.api("POST", "/dead-letters/replay", content=b"ids=1")
    extra = await admin.api("POST", "/dead-letters/replay", json={"ids": [], "all": True})
    big = await admin.api("POST", "/dead-letters/replay", content=b"[" + b"1," * 40000 + b"1]")
    form = await admin.api("POST", "/dead-letters/replay", data={"ids": ["2", "x"]})
    unknown = await admin.api("POST", "/jobs/1/retry", params={"force": "1"})
    responses = (bad_ids, not_json, extra, big, form, unknown)
    assert [r.status_code for r in responses] == [422, 422, 422, 413, 422, 422]
    assert "ids" in bad_ids.json()["detail"]
    assert "each id" in form.json()["detail"]


async def test_the_report_is_the_one_the_cli_prints(admin: AdminHarness) -> None:
    """GET /api/v1/report answers the report of ``since`` (for one ``project`` when given)
    as ``kt-jira report --format json`` has it, counting the tickets created."""
    for n in range(2):
        await admin.harness.deliver(_payload(f"esc_report_{n}"))

    async def both() -> bool:
        return await _created(admin, "esc_report_0") and await _created(admin, "esc_report_1")

    await admin.harness.work_until(both)
    report = (await admin.api("GET", "/report", params={"since": "7d"})).json()
    assert report["escalations"] == 2
    assert sum(report["by_policy"].values()) == 2
    other = await admin.api("GET", "/report", params={"project": "OTHER"})
    assert (other.json()["project"], other.json()["escalations"]) == ("OTHER", 0)
