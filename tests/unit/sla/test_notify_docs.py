"""The SLA notification examples in docs/configuration.md are what the bridge sends: the
documented webhook delivery is byte for byte the event's body, its id is the job's, and its
signature verifies with the documented secret; the Slack fallback line is the real one."""

from __future__ import annotations

from datetime import UTC, datetime

from kt_jira import jobs
from kt_jira.signing import Verifier
from kt_jira.sla.notify import slack_message, webhook_body, webhook_id
from tests.support.notifications import STANDARD, sample_event
from tests.unit.config.test_examples import CONFIGURATION, blocks

DOC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def documented_delivery() -> tuple[dict[str, str], bytes]:
    """The headers (lower-cased) and body of the one ``http`` block."""
    [block] = blocks(CONFIGURATION, "http")
    head, body = block.split("\n\n", 1)
    lines = head.splitlines()[1:]  # after the request line
    headers = {name.lower(): value.strip() for name, value in (h.split(":", 1) for h in lines)}
    return headers, body.rstrip("\n").encode("utf-8")


def test_the_documented_webhook_delivery_is_real_and_verifies() -> None:
    """Body, webhook-id and signature in the docs are those of the sample breach."""
    headers, body = documented_delivery()
    event = sample_event()
    assert body == webhook_body(event)
    new = jobs.sla_notify("webhook", event, run_at=datetime.now(UTC))
    assert headers["webhook-id"] == webhook_id(new.job_key)
    sent = datetime.fromisoformat(event["at"])
    assert headers["webhook-timestamp"] == str(int(sent.timestamp()))
    verified = Verifier(STANDARD, (DOC_SECRET,)).verify(
        source="keeptrusts", body=body, headers=headers, now=sent
    )
    assert verified.delivery_id == headers["webhook-id"]


def test_the_documented_slack_fallback_is_the_real_one() -> None:
    """The ``text`` example of the Slack section is the sample breach's fallback line."""
    [shown] = [b for b in blocks(CONFIGURATION, "text") if b.startswith("SLA breached:")]
    assert shown.strip() == slack_message(sample_event())["text"]
