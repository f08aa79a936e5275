"""Totals for the demo and ``/metrics``: escalations, links, jobs and deliveries by state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira.store import queue
from kt_jira.store.models import DeliveryStatus, EscalationStatus, LinkState
from kt_jira.store.tables import deliveries, escalations, links


async def counts(conn: AsyncConnection) -> dict[str, int]:
    """Flat keys: ``escalations``, ``escalations_<status>``, ``links_<state>``,
    ``jobs_<status>``, ``deliveries_<status>``; every known state present, zeros included."""
    result: dict[str, int] = {}
    by_status = await _grouped(conn, escalations.c.status)
    result["escalations"] = sum(by_status.values())
    for status in EscalationStatus:
        result[f"escalations_{status.value}"] = by_status.get(status.value, 0)
    by_state = await _grouped(conn, links.c.state)
    for state in LinkState:
        result[f"links_{state.value}"] = by_state.get(state.value, 0)
    for status_name, count in (await queue.job_counts(conn)).items():
        result[f"jobs_{status_name}"] = count
    by_status = await _grouped(conn, deliveries.c.status)
    for delivery_status in DeliveryStatus:
        result[f"deliveries_{delivery_status.value}"] = by_status.get(delivery_status.value, 0)
    return result


async def _grouped(conn: AsyncConnection, column: Any) -> dict[str, int]:
    rows = await conn.execute(select(column, func.count()).group_by(column))
    return {str(key): int(count) for key, count in rows}
