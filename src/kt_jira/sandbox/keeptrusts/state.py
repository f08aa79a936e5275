"""State of the simulated Keeptrusts control plane: settings, escalations, list cursors.

Pure data; the HTTP surface is `keeptrusts.KeeptrustsSandbox`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]
STATUSES = ("open", "resolved", "expired")


@dataclass(frozen=True, kw_only=True)
class KeeptrustsSandboxSettings:
    api_token: str = "sandbox-keeptrusts-token"  # noqa: S105 - a throwaway credential for the fake
    org_id: str = "org_sandbox"
    seed: int = 0


@dataclass
class SandboxEscalation:
    """One escalation; ``resolve_calls`` records every resolve attempt, successful or not."""

    id: str
    payload: JsonDict
    status: str = "open"
    resolution: str | None = None
    notes: str | None = None
    resolved_by: str | None = None
    resolved_at: str | None = None
    resolve_calls: list[JsonDict] = field(default_factory=list)

    def as_json(self) -> JsonDict:
        data = {k: v for k, v in self.payload.items() if k != "escalation_id"}
        return {
            "id": self.id,
            **data,
            "status": self.status,
            "resolution": self.resolution,
            "notes": self.notes,
            "resolved_by": self.resolved_by,
            "resolved_at": self.resolved_at,
        }


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(cursor) from exc
    kind, _, number = raw.partition(":")
    if kind != "o" or not number.isdigit():
        raise ValueError(cursor)
    return int(number)
