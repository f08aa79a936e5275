"""kt-jira preview, offline: the rule, why, the category and its source, and the request body
with field names, for Cloud or Data Center, from a sample or a JSON file; nothing is sent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kt_jira.commands.preview import (
    SAMPLES,
    build_preview,
    load_escalation,
    preview_json,
    preview_text,
    sample_escalation,
)
from kt_jira.config.loader import settings_from_dict
from kt_jira.errors import PayloadError
from kt_jira.sandbox import envelope, escalation_payload, resolved_payload
from tests.unit.tickets.support import invoke

ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
KEYS = {
    "escalation_id",
    "rule",
    "reasons",
    "skipped",
    "category",
    "category_source",
    "category_reason",
    "sla",
    "watchers",
    "group",
    "flavor",
    "online",
    "field_keys",
    "request",
}


def run(*args: str) -> Any:
    """Invoke the CLI and return its result."""
    return invoke(*args)


async def test_offline_cloud_request() -> None:
    """Offline on Cloud: POST /rest/api/3/issue, ADF description, custom fields by NAME."""
    settings = settings_from_dict({})
    shown = await build_preview(
        sample_escalation("compliance"), settings, flavor="cloud", received_at=NOW
    )
    data = preview_json(shown)
    assert set(data) == KEYS
    assert (data["rule"], data["category"], data["category_source"]) == (
        "compliance-block",
        "Compliance",
        "categories",
    )
    assert data["request"]["method"] == "POST"
    assert data["request"]["path"] == "/rest/api/3/issue"
    fields = data["request"]["body"]["fields"]
    assert fields["description"]["type"] == "doc"
    assert fields["issuetype"] == {"name": "Bug"}
    assert fields["Policy Name"] == "hipaa-compliance"
    assert data["field_keys"] == "names"
    assert data["sla"]["resolution_due"] == "2026-11-26T14:00+00:00"


async def test_offline_datacenter_request() -> None:
    """On Data Center: REST v2, wiki markup and the assignee by user name."""
    settings = settings_from_dict(
        {"rules": [{"name": "mine", "set": {"assignee": "jdoe", "components": ["Gateway"]}}]}
    )
    shown = await build_preview(
        sample_escalation("redact"), settings, flavor="datacenter", received_at=NOW
    )
    assert shown.path == "/rest/api/2/issue"
    fields = shown.body["fields"]
    assert isinstance(fields["description"], str)
    assert fields["description"].startswith("h2. AI Governance Escalation")
    assert fields["assignee"] == {"name": "jdoe"}
    assert fields["components"] == [{"name": "Gateway"}]


async def test_text_form_says_why() -> None:
    """The text form names the rule, each reason, skipped rules, the category source, the
    request line and says it was not checked."""
    settings = settings_from_dict({})
    text = preview_text(
        await build_preview(sample_escalation("compliance"), settings, flavor="cloud",
                            received_at=NOW)
    )  # fmt: skip
    assert text.splitlines()[:4] == [
        "Rule: compliance-block",
        "  because action 'block' matches 'block'",
        "  because category 'Compliance' matches 'Compliance'",
        "  skipped content-safety-block: category 'Compliance' matches none of 'Content safety'",
    ]
    assert "Category: Compliance (from the categories map: policy 'hipaa-compliance'" in text
    assert "POST /rest/api/3/issue" in text
    assert "keyed by NAME" in text


@pytest.mark.parametrize("shape", ["flat", "envelope", "nested"])
def test_event_files_flat_or_enveloped(tmp_path: Path, shape: str) -> None:
    """--event takes the guide's flat payload or an envelope, and previews it as JSON."""
    flat = escalation_payload("esc_file", action="escalate", policy_name="human-oversight")
    body = {
        "flat": flat,
        "envelope": envelope("escalation.created", flat),
        "nested": {"type": "escalation.created", "data": {"escalation": flat}},
    }[shape]
    path = tmp_path / "event.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    result = run("preview", "--event", str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["escalation_id"], data["rule"]) == ("esc_file", "escalate")
    assert data["category_source"] == "categories"


def test_flavor_override_and_config(tmp_path: Path) -> None:
    """--flavor overrides jira.flavor; --config rules apply."""
    config = tmp_path / "kt-jira.yaml"
    config.write_text(
        "jira: {flavor: cloud}\nrules:\n  - name: only\n    set: {project: OPS}\n", encoding="utf-8"
    )
    result = run("preview", "-c", str(config), "--flavor", "datacenter", "--format", "json")
    data = json.loads(result.output)
    assert (data["rule"], data["flavor"], data["request"]["path"]) == (
        "only",
        "datacenter",
        "/rest/api/2/issue",
    )
    assert data["request"]["body"]["fields"]["project"] == {"key": "OPS"}


def test_every_sample_previews() -> None:
    """Each built-in sample previews in text form."""
    for name in SAMPLES:
        result = run("preview", "--sample", name)
        assert result.exit_code == 0, result.output
        assert result.output.startswith("Rule: ")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--sample", "nope"), "no sample named 'nope'"),
        (("--flavor", "server"), "--flavor takes cloud or datacenter"),
        (("--format", "xml"), "--format text or json"),
        (("--event", "/nonexistent/event.json"), "No such file"),
    ],
)
def test_bad_arguments_exit_2(args: tuple[str, ...], fragment: str) -> None:
    """Bad arguments are one clear error line and exit code 2."""
    result = run("preview", *args)
    assert result.exit_code == 2
    assert fragment in " ".join(result.output.split())


def test_resolved_events_are_not_previewed() -> None:
    """An escalation.resolved delivery has nothing to create: a PayloadError says so."""
    body = json.dumps(envelope("escalation.updated", resolved_payload("esc_1"))).encode()
    with pytest.raises(PayloadError, match="not an escalation"):
        load_escalation(body)


NESTED_EMPHASIS = (
    "*foo**bar**baz*\n\n*a **b** c*\n\n**a *b* c**\n\n*a `*` b* {{ escalation.model }}"
)


@pytest.mark.parametrize(
    ("flavor", "expected"),
    [
        (
            "cloud",
            [
                [("foo", ["em"]), ("bar", ["strong", "em"]), ("baz", ["em"])],
                [("a ", ["em"]), ("b", ["strong", "em"]), (" c", ["em"])],
                [("a ", ["strong"]), ("b", ["strong", "em"]), (" c", ["strong"])],
                [("a ", ["em"]), ("*", ["code"]), (" b", ["em"]), (" **x**", [])],
            ],
        ),
        (
            "datacenter",
            "{_}foo{_}{*}_bar_{*}_baz_\n\n_a_ *_b_* _c_\n\n*a* *_b_* *c*\n\n"
            r"_a_ _{{\*}}_ _b_ \*\*x\*\*",
        ),
    ],
)
def test_preview_shows_nested_emphasis_as_commonmark(
    tmp_path: Path, flavor: str, expected: object
) -> None:
    """kt-jira preview renders a template's nested emphasis as CommonMark nests it, nothing lost,
    in ADF (Cloud) and wiki markup (Data Center); a value beside it stays text."""
    config = tmp_path / "kt-jira.yaml"
    config.write_text(
        json.dumps({"jira": {"flavor": flavor}, "templates": {"description": NESTED_EMPHASIS}}),
        encoding="utf-8",
    )
    event = tmp_path / "event.json"
    event.write_text(json.dumps(escalation_payload("esc_em", model="**x**")), encoding="utf-8")
    result = run("preview", "-c", str(config), "--event", str(event), "--format", "json")
    assert result.exit_code == 0, result.output
    description = json.loads(result.output)["request"]["body"]["fields"]["description"]
    if flavor == "datacenter":
        assert description == expected
        return
    shown = [
        [(node["text"], [mark["type"] for mark in node.get("marks", [])]) for node in p["content"]]
        for p in description["content"]
    ]
    assert shown == expected
