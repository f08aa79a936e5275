"""kt-jira preview --feedback-story: the false-positive loop's Story for a policy, from samples
or a JSON file, as the request the loop would send (Cloud or Data Center); nothing is sent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kt_jira.commands.story_preview import (
    build_story_preview,
    load_false_positives,
    sample_false_positives,
    story_preview_json,
)
from kt_jira.config.loader import settings_from_dict
from kt_jira.errors import PayloadError
from kt_jira.feedback.plan import marker, policy_key
from tests.support.contracts import validate_adf
from tests.unit.tickets.support import invoke

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
FPS = [
    {
        "escalation_id": f"esc_{n}",
        "issue_key": f"AIGOV-{n}",
        "model": "gpt-4o",
        "gateway_id": "gw-eu",
        "resolved_at": f"2026-12-0{n}T10:00:00+00:00",
    }
    for n in (1, 2, 3)
]


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = data["request"]["body"]["fields"]
    return fields


async def test_the_sample_story_is_what_the_loop_sends_on_cloud() -> None:
    """Offline on Cloud: POST /rest/api/3/issue with the summary, the Story type, the labels
    plus the marker, and a valid ADF body counting the threshold's samples."""
    settings = settings_from_dict({"feedback": {"false_positive": {"threshold": 4}}})
    found, resolved = sample_false_positives(4, now=NOW)
    shown = await build_story_preview("pii-detector", found, resolved, settings, flavor="cloud")
    data = story_preview_json(shown)
    assert (data["false_positives"], data["resolved"], data["link_type"]) == (4, 8, "Relates")
    assert data["request"]["path"] == "/rest/api/3/issue"
    fields = _fields(data)
    assert fields["summary"] == "Policy improvement: pii-detector"
    assert fields["issuetype"] == {"name": "Story"}
    assert fields["project"] == {"key": "AIGOV"}
    assert fields["labels"] == ["ai-policy-tuning", marker(policy_key("pii-detector"), 1)]
    validate_adf(fields["description"])
    assert data["links"] == ["AIGOV-101", "AIGOV-102", "AIGOV-103", "AIGOV-104"]


def test_given_false_positives_on_data_center(tmp_path: Path) -> None:
    """--false-positives FILE with --flavor datacenter: wiki markup naming the three tickets,
    the configured project, type, priority and labels."""
    config = tmp_path / "kt-jira.yaml"
    config.write_text(
        "feedback:\n  false_positive:\n    project: SAFETY\n    issue_type: Improvement\n"
        "    priority: Low\n    labels: [tuning]\n",
        encoding="utf-8",
    )
    path = tmp_path / "fps.json"
    path.write_text(json.dumps({"false_positives": FPS, "resolved": 6}), encoding="utf-8")
    args = ("--feedback-story", "toxicity", "--false-positives", str(path), "-c", str(config))
    result = invoke("preview", *args, "--flavor", "datacenter", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    fields = _fields(data)
    assert data["request"]["path"] == "/rest/api/2/issue"
    assert (fields["project"], fields["issuetype"], fields["priority"]) == (
        {"key": "SAFETY"},
        {"name": "Improvement"},
        {"name": "Low"},
    )
    assert fields["labels"][0] == "tuning"
    assert fields["description"].startswith(
        "3 tickets of policy *toxicity* were resolved as false positives between 2026\\-12\\-01 "
        "and 2026\\-12\\-03: 3 of 6 resolved tickets (50%)."
    )


def test_the_text_form_names_the_marker_and_the_links() -> None:
    """The default text form: the count, the marker, the tickets it links, then the request."""
    result = invoke("preview", "--feedback-story", "pii-detector")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Story for policy pii-detector: 5 false positives of 10 resolved tickets"
    assert lines[1].endswith(marker(policy_key("pii-detector"), 1))
    assert lines[2] == (
        "Then linked (Relates) to: AIGOV-101, AIGOV-102, AIGOV-103, AIGOV-104, AIGOV-105"
    )
    assert "POST /rest/api/3/issue" in lines


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"[]", "is empty"),
        (b"{nope", "give a JSON list"),
        (json.dumps([{"escalation_id": "e"}]).encode(), "give a JSON list"),
        (json.dumps([{**FPS[0], "resolved_at": "2026-12-01T10:00"}]).encode(), "no time zone"),
    ],
)
def test_bad_false_positive_files_say_what_to_give(body: bytes, fragment: str) -> None:
    """A file that is not a list of dated false positives is a PayloadError saying what to give."""
    with pytest.raises(PayloadError, match=fragment):
        load_false_positives(body)


def test_a_bad_file_exits_2(tmp_path: Path) -> None:
    """The CLI turns a bad or missing file into one error line and exit code 2."""
    path = tmp_path / "fps.json"
    path.write_text("[]", encoding="utf-8")
    for given in (str(path), str(tmp_path / "missing.json")):
        result = invoke("preview", "--feedback-story", "p", "--false-positives", given)
        assert result.exit_code == 2
        assert result.output.startswith("error: ")
