"""The ``storm`` section: the runaway guard that stops one misfiring policy from opening a ticket
per escalation. Re-exported by ``kt_jira.config.models``.

The key paths ``storm.max_tickets_per_policy`` and ``storm.window`` are a public contract.
``max_tickets_per_policy: 0`` (or null) turns the guard off.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from kt_jira.tickets.sla import parse_duration


def _window(value: Any) -> str:
    text = str(value).strip()
    if parse_duration(text).total_seconds() <= 0:
        raise ValueError("the window must be longer than 0")
    return text


class StormSettings(BaseModel):
    """When one policy opens more than ``max_tickets_per_policy`` tickets within ``window``,
    its further escalations are grouped into one ticket per policy for one ``window``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_tickets_per_policy: int | None = Field(50, ge=0)  # 0 or null: the guard is off
    window: Annotated[str, BeforeValidator(_window)] = "10m"

    @property
    def enabled(self) -> bool:
        return bool(self.max_tickets_per_policy)

    @property
    def span(self) -> timedelta:
        return parse_duration(self.window)
