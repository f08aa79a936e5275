"""``kt-jira preview --feedback-story POLICY``: the "Policy improvement" Story the false-positive
loop would create for a policy, from sample false positives or a JSON file, sending nothing.

The Story is ``feedback.plan.story_draft`` of those false positives, so the preview shows the
summary, labels, marker and body the loop sends. Offline the body keys fields by name; online it
comes from the real ``JiraMetadata.build_create_body`` (reads only), passed in by the caller.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from kt_jira.commands.preview import offline_body
from kt_jira.config.models import Settings
from kt_jira.errors import PayloadError
from kt_jira.feedback.plan import FalsePositive, Pattern, marker, policy_key, story_draft
from kt_jira.jira.client import API_PREFIX
from kt_jira.tickets.draft import IssueDraft

__all__ = [
    "StoryPreview",
    "build_story_preview",
    "load_false_positives",
    "sample_false_positives",
    "story_preview_json",
    "story_preview_text",
]

Flavor = Literal["cloud", "datacenter"]
BodyBuilder = Callable[[IssueDraft], Awaitable[dict[str, Any]]]
_MODELS = ("gpt-4o", "gpt-4o", "claude-3-5-sonnet")
_GATEWAYS = ("gw_prod_east", "gw_prod_west")


@dataclass(frozen=True, kw_only=True)
class StoryPreview:
    """The Story of one policy, and the request that would create it."""

    pattern: Pattern
    marker: str
    link_type: str
    flavor: Flavor
    online: bool
    body: dict[str, Any]

    @property
    def path(self) -> str:
        return f"{API_PREFIX[self.flavor]}/issue"


def sample_false_positives(count: int, *, now: datetime) -> tuple[list[FalsePositive], int]:
    """``count`` made-up false positives over the last hours, and twice as many resolved."""
    fps = [
        FalsePositive(
            escalation_id=f"esc_sample_{n}",
            issue_key=f"AIGOV-{100 + n}",
            model=_MODELS[n % len(_MODELS)],
            gateway_id=_GATEWAYS[n % len(_GATEWAYS)],
            resolved_at=now - timedelta(hours=count - n),
        )
        for n in range(1, count + 1)
    ]
    return fps, 2 * count


def load_false_positives(body: bytes) -> tuple[list[FalsePositive], int]:
    """False positives from JSON: a list of ``{escalation_id, issue_key, model, gateway_id,
    resolved_at}``, or ``{"false_positives": [...], "resolved": N}`` (``resolved``: every
    ticket of the policy resolved over the same dates; default, the false positives)."""
    try:
        data = json.loads(body)
        items = data["false_positives"] if isinstance(data, dict) else data
        fps = [_false_positive(item) for item in items]
        resolved = int(data.get("resolved", len(fps))) if isinstance(data, dict) else len(fps)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PayloadError(
            "give a JSON list of false positives, each with escalation_id, issue_key and "
            f"resolved_at (ISO 8601 with a time zone), model and gateway_id optional: {exc}"
        ) from None
    if not fps:
        raise PayloadError("the list of false positives is empty; give at least one")
    return fps, resolved


def _false_positive(item: Any) -> FalsePositive:
    resolved_at = datetime.fromisoformat(str(item["resolved_at"]))
    if resolved_at.tzinfo is None:
        raise ValueError(f"resolved_at {item['resolved_at']!r} has no time zone")
    return FalsePositive(
        escalation_id=str(item["escalation_id"]),
        issue_key=str(item["issue_key"]),
        model=str(item.get("model", "")),
        gateway_id=str(item.get("gateway_id", "")),
        resolved_at=resolved_at,
    )


async def build_story_preview(
    policy: str,
    false_positives: list[FalsePositive],
    resolved: int,
    settings: Settings,
    *,
    flavor: Flavor,
    build_body: BodyBuilder | None = None,
) -> StoryPreview:
    """Story 1 of ``policy``; the body from ``build_body`` (online) or with names (offline)."""
    config = settings.feedback.false_positive
    pattern = Pattern(policy=policy, false_positives=tuple(false_positives), resolved=resolved)
    label = marker(policy_key(policy), 1)
    project = config.project or settings.jira.project
    draft = story_draft(pattern, settings=config, project=project, marker=label)
    body = await build_body(draft) if build_body is not None else offline_body(draft, flavor=flavor)
    return StoryPreview(
        pattern=pattern,
        marker=label,
        link_type=config.link_type,
        flavor=flavor,
        online=build_body is not None,
        body=body,
    )


def story_preview_json(preview: StoryPreview) -> dict[str, Any]:
    """The stable JSON form, for scripts."""
    pattern = preview.pattern
    return {
        "policy": pattern.policy,
        "false_positives": len(pattern.false_positives),
        "resolved": pattern.resolved,
        "marker": preview.marker,
        "link_type": preview.link_type,
        "links": [fp.issue_key for fp in pattern.false_positives],
        "flavor": preview.flavor,
        "online": preview.online,
        "request": {"method": "POST", "path": preview.path, "body": preview.body},
    }


def story_preview_text(preview: StoryPreview) -> str:
    """The human form: what the Story counts, what it links, then the request."""
    pattern = preview.pattern
    keys = ", ".join(fp.issue_key for fp in pattern.false_positives)
    flavor = "Jira Cloud" if preview.flavor == "cloud" else "Jira Data Center"
    how = "field ids from the live site" if preview.online else "offline: names, nothing checked"
    return "\n".join(
        (
            f"Story for policy {pattern.policy}: {len(pattern.false_positives)} false positives "
            f"of {max(pattern.resolved, len(pattern.false_positives))} resolved tickets",
            f"Marker label (found again after an unknown outcome): {preview.marker}",
            f"Then linked ({preview.link_type}) to: {keys}",
            f"Request to {flavor} ({how}; nothing was sent):",
            f"POST {preview.path}",
            json.dumps(preview.body, indent=2, ensure_ascii=False),
        )
    )
