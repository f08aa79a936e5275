"""``Counts`` (``store.counts``): totals for the demo and ``/metrics``, by state; read-only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from kt_jira.store.database import Database
from kt_jira.store.models import DeliveryStatus, EscalationStatus, JobStatus, LinkState
from kt_jira.store.tables import deliveries, escalations, jobs, links


class Counts:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def totals(self) -> dict[str, int]:
        """Flat keys: ``escalations``, ``escalations_<status>``, ``links_<state>``,
        ``jobs_<status>``, ``deliveries_<status>``; every known state present, zeros included."""
        result: dict[str, int] = {}
        async with self._db.read() as conn:
            by_status = await _grouped(conn, escalations.c.status)
            result["escalations"] = sum(by_status.values())
            for status in EscalationStatus:
                result[f"escalations_{status.value}"] = by_status.get(status.value, 0)
            by_state = await _grouped(conn, links.c.state)
            for state in LinkState:
                result[f"links_{state.value}"] = by_state.get(state.value, 0)
            by_status = await _grouped(conn, jobs.c.status)
            for job_status in JobStatus:
                result[f"jobs_{job_status.value}"] = by_status.get(job_status.value, 0)
            by_status = await _grouped(conn, deliveries.c.status)
            for delivery_status in DeliveryStatus:
                result[f"deliveries_{delivery_status.value}"] = by_status.get(
                    delivery_status.value, 0
                )
        return result


async def _grouped(conn: AsyncConnection, column: Any) -> dict[str, int]:
    rows = await conn.execute(select(column, func.count()).group_by(column))
    return {str(key): int(count) for key, count in rows}
