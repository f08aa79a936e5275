"""Preview online equals what is then sent: the body previewed against the sandbox Jira is the
body the real create path sends, and previewing sends nothing."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from kt_jira.commands.preview import build_preview, load_escalation
from kt_jira.config.loader import settings_from_dict
from kt_jira.config.models import Settings
from kt_jira.config.secrets import SecretRef
from kt_jira.errors import DraftError
from kt_jira.jira import JiraClient, JiraMetadata, MemoryPauseStore
from kt_jira.sandbox import (
    JiraSandbox,
    JiraSandboxSettings,
    escalation_payload,
    serve_app,
    serve_app_in_thread,
)
from kt_jira.sandbox.jira.state import HUMAN
from kt_jira.service import Bridge
from kt_jira.signing import KEEPTRUSTS_DEFAULT, sign
from kt_jira.tickets.rules import decide
from tests.support.contracts import make_request_validator
from tests.unit.tickets.support import invoke

ROOT = Path(__file__).resolve().parents[3]
ROUTING = ROOT / "examples" / "routing.yaml"
WEBHOOK_SECRET = "preview-test-secret"
# A past timestamp: the SLA starts at the escalation, so preview and create agree on deadlines.
OCCURRED = (datetime.now(UTC) - timedelta(minutes=5)).isoformat(timespec="seconds")


@dataclass
class Recorder:
    """Validates every request against Atlassian's contracts and records the bodies sent."""

    validate: Any = field(default_factory=make_request_validator)
    sent: list[tuple[str, str, Any]] = field(default_factory=list)

    def __call__(self, method: str, path: str, body: object) -> None:
        self.validate(method, path, body)
        self.sent.append((method, path, copy.deepcopy(body)))

    def creates(self) -> list[Any]:
        return [
            body
            for method, path, body in self.sent
            if (method, path) == ("POST", "/rest/api/3/issue")
        ]


def sandbox(recorder: Recorder) -> JiraSandbox:
    """A sandbox with the routing example's projects, checking and recording every request."""
    jira = JiraSandbox(JiraSandboxSettings(search_lag=0.0, request_validator=recorder))
    for key in ("SAFETY", "COMPLY"):
        jira.add_project(key)
    return jira


def routing_settings(url: str, jira: JiraSandbox, database_url: str = "sqlite://") -> Settings:
    """examples/routing.yaml pointed at the sandbox (and a test database and secret)."""
    data = yaml.safe_load(ROUTING.read_text(encoding="utf-8"))
    data["database_url"] = database_url
    data["keeptrusts"]["webhook"] = {"secrets": [SecretRef.literal(WEBHOOK_SECRET)]}
    data["jira"].update(
        url=url,
        email=jira.settings.email,
        api_token=SecretRef.literal(jira.settings.api_token),
        max_requests_per_second=200,
    )
    return settings_from_dict(data)


def payload(kind: str) -> dict[str, Any]:
    """A flat escalation payload of one of the routing example's kinds."""
    policy, action = {
        "safety": ("toxicity-filter", "block"),
        "compliance": ("hipaa-phi-guard", "block"),
        "redaction": ("pii-detector", "redact"),
        "other": ("audit-log", "log"),
    }[kind]
    return escalation_payload(
        f"esc_preview_{kind}", policy_name=policy, action=action, timestamp=OCCURRED
    )


@contextlib.asynccontextmanager
async def metadata(settings: Settings) -> AsyncIterator[tuple[JiraClient, JiraMetadata]]:
    """A fresh client and metadata cache, as a new process would have."""
    async with JiraClient(settings.jira, pause=MemoryPauseStore()) as client:
        yield client, JiraMetadata(client, settings.jira)


async def preview_online(settings: Settings, body: dict[str, Any]) -> dict[str, Any]:
    """The previewed create body for an escalation payload, from the live (sandbox) site."""
    escalation = load_escalation(json.dumps(body).encode())
    async with metadata(settings) as (_, meta):
        shown = await build_preview(
            escalation,
            settings,
            flavor="cloud",
            received_at=datetime.now(UTC),
            build_body=meta.build_create_body,
        )
    return shown.body


@pytest.mark.parametrize("kind", ["safety", "compliance", "redaction", "other"])
async def test_preview_equals_the_body_then_sent(kind: str) -> None:
    """For every routing-example rule, the online preview equals what the create path sends,
    and previewing alone created nothing."""
    recorder = Recorder()
    jira = sandbox(recorder)
    async with serve_app(jira.app) as url:
        settings = routing_settings(url, jira)
        previewed = await preview_online(settings, payload(kind))
        assert recorder.creates() == []
        assert jira.issues == []
        assert {method for method, _, _ in recorder.sent} <= {"GET"}
        escalation = load_escalation(json.dumps(payload(kind)).encode())
        draft = decide(escalation, settings.content, received_at=datetime.now(UTC)).draft
        async with metadata(settings) as (client, meta):
            await client.create_issue(await meta.build_create_body(draft))
    assert recorder.creates() == [previewed]
    assert jira.contract_violations == []


async def test_redaction_ticket_has_component_assignee_and_field() -> None:
    """The routing example's redaction rule reaches Jira: component, assignee, templated field."""
    recorder = Recorder()
    jira = sandbox(recorder)
    async with serve_app(jira.app) as url:
        settings = routing_settings(url, jira)
        escalation = load_escalation(json.dumps(payload("redaction")).encode())
        draft = decide(escalation, settings.content, received_at=datetime.now(UTC)).draft
        async with metadata(settings) as (client, meta):
            await client.create_issue(await meta.build_create_body(draft))
    [issue] = [jira.view(issue) for issue in jira.issues]
    by_name = issue["fields_by_name"]
    [sent] = recorder.creates()
    assert sent["fields"]["components"] == [{"name": "Policy"}]
    assert sent["fields"]["assignee"] == {"accountId": HUMAN.account_id}
    assert (issue["project"], issue["priority"]) == ("AIGOV", "Low")
    notes = by_name["Investigation Notes"]
    assert "Redacted on gateway gw_prod_east for user_789." in json.dumps(notes)


async def test_preview_online_reports_what_the_create_would_fail_on() -> None:
    """A component the project lacks fails the online preview with the rule to fix, before
    anything is created."""
    recorder = Recorder()
    jira = sandbox(recorder)
    async with serve_app(jira.app) as url:
        settings = routing_settings(url, jira)
        rules = [rule.model_dump() for rule in settings.rules]
        rules[2]["set"]["components"] = ["Billing"]
        broken = settings.model_copy(
            update={"rules": Settings.model_validate({"rules": rules}).rules}
        )
        with pytest.raises(DraftError, match=r"set\.components of rule 'redactions'"):
            await preview_online(broken, payload("redaction"))
    assert jira.issues == []


async def test_bridge_sends_exactly_the_previewed_body(tmp_path: Path) -> None:
    """Through the whole bridge (signed webhook, queue, worker), Jira receives the body that
    preview showed."""
    recorder = Recorder()
    jira = sandbox(recorder)
    async with serve_app(jira.app) as url:
        settings = routing_settings(url, jira, f"sqlite:///{tmp_path / 'bridge.db'}")
        body = payload("compliance")
        previewed = await preview_online(settings, body)
        raw = json.dumps(body).encode()
        headers = {
            "Content-Type": "application/json",
            **sign(WEBHOOK_SECRET, raw, KEEPTRUSTS_DEFAULT),
        }
        async with Bridge.open(settings, migrate=True) as bridge:
            transport = httpx.ASGITransport(app=bridge.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bridge") as http:
                answer = await http.post("/webhooks/keeptrusts", content=raw, headers=headers)
                assert answer.status_code == 202, answer.text
            for _ in range(200):
                if recorder.creates():
                    break
                if not await bridge.worker.run_once():
                    await asyncio.sleep(0.02)
    assert recorder.creates() == [previewed]
    assert len(jira.issues) == 1


@contextlib.contextmanager
def threaded_site() -> Iterator[tuple[JiraSandbox, Recorder, str]]:
    """A sandbox served from a thread, for CLI runs (which call asyncio.run themselves)."""
    recorder = Recorder()
    jira = sandbox(recorder)
    with serve_app_in_thread(jira.app) as url:
        yield jira, recorder, url


def test_cli_preview_online_matches_the_create(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`kt-jira preview --online --format json` prints the body the create then sends."""
    monkeypatch.setenv("KT_TEST_JIRA_TOKEN", "sandbox-jira-token")
    monkeypatch.setenv("KEEPTRUSTS_WEBHOOK_SECRET", WEBHOOK_SECRET)
    with threaded_site() as (jira, recorder, url):
        data = yaml.safe_load(ROUTING.read_text(encoding="utf-8"))
        data["jira"].update(url=url, email=jira.settings.email, api_token="env:KT_TEST_JIRA_TOKEN")
        config = tmp_path / "kt-jira.yaml"
        config.write_text(yaml.safe_dump(data), encoding="utf-8")
        event = tmp_path / "event.json"
        event.write_text(json.dumps(payload("safety")), encoding="utf-8")
        result = invoke(
            "preview", "-c", str(config), "--event", str(event), "--online", "--format", "json"
        )
        assert result.exit_code == 0, result.output
        shown = json.loads(result.output)
        assert (shown["rule"], shown["online"], shown["field_keys"]) == (
            "safety-blocks",
            True,
            "ids",
        )
        assert recorder.creates() == []
        settings = routing_settings(url, jira)
        escalation = load_escalation(event.read_bytes())

        async def create() -> None:
            draft = decide(escalation, settings.content, received_at=datetime.now(UTC)).draft
            async with metadata(settings) as (client, meta):
                await client.create_issue(await meta.build_create_body(draft))

        asyncio.run(create())
    assert recorder.creates() == [shown["request"]["body"]]
    assert shown["request"]["body"]["fields"]["project"] == {"key": "SAFETY"}
