"""A measured prototype for docs/performance.md, finding 1: the intake transaction rebuilt.

``current`` runs ``store.deliveries.ingest`` as the webhook does; ``prototype`` writes the same
rows (one delivery, one escalation, one job, three audit rows) with statements built once with
``bindparam()``, the escalation upsert ``RETURNING created_at`` instead of a SELECT before it,
and the three audit rows in one ``executemany``. It reuses the store's own transaction
(``store.db.write()``: ``BEGIN IMMEDIATE`` and the write lock on SQLite). Nothing in ``src/``
changes; this is evidence for a proposed change, not a replacement.

    .venv/bin/python -m bench.intake_prototype                       # SQLite, both variants
    .venv/bin/python -m bench.intake_prototype --database postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Insert, bindparam, case, func
from sqlalchemy.dialects import postgresql, sqlite

from bench.common import escalation_body, scratch_postgres
from kt_jira.events.keeptrusts import EscalationEvent, parse_event
from kt_jira.jobs import Kind, NewJob, key
from kt_jira.signing import SignatureScheme, VerifiedDelivery, sign, verify
from kt_jira.store import Store, open_store
from kt_jira.store.escalations import DESCRIPTIVE
from kt_jira.store.tables import audit, deliveries, escalations, jobs

CREATE_ISSUE = Kind.CREATE_ISSUE.value


def create_job_key(escalation_id: str) -> str:
    return key(Kind.CREATE_ISSUE, escalation_id)


SCHEME = SignatureScheme()
SECRET = "prototype-secret"


def statements(dialect: str) -> tuple[Insert, Insert, Insert]:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    def params(table: Any, names: list[str]) -> dict[str, Any]:
        return {name: bindparam(name, type_=table.c[name].type) for name in names}

    delivery = (
        insert(deliveries)
        .values(
            params(
                deliveries,
                [
                    "source",
                    "delivery_id",
                    "event_key",
                    "event_type",
                    "status",
                    "headers",
                    "body",
                    "verified_by",
                    "received_at",
                    "duplicates",
                    "escalation_id",
                ],
            )
        )
        .on_conflict_do_nothing()
        .returning(deliveries.c.id)
    )
    upsert = insert(escalations).values(
        params(
            escalations,
            [
                "escalation_id",
                *DESCRIPTIVE,
                "occurred_at",
                "status",
                "resolution",
                "resolution_notes",
                "resolved_by",
                "resolved_at",
                "payload",
                "created_at",
                "updated_at",
            ],
        )
    )
    new, old = upsert.excluded, escalations.c
    set_: dict[str, Any] = {n: case((new[n] != "", new[n]), else_=old[n]) for n in DESCRIPTIVE}
    set_ |= {
        "occurred_at": func.coalesce(new.occurred_at, old.occurred_at),
        "updated_at": new.updated_at,
        "payload": new.payload,
    }
    escalation = upsert.on_conflict_do_update(
        index_elements=[old.escalation_id], set_=set_
    ).returning(old.created_at)
    job = (
        insert(jobs)
        .values(
            params(
                jobs,
                [
                    "kind",
                    "job_key",
                    "payload",
                    "status",
                    "priority",
                    "attempts",
                    "run_at",
                    "created_at",
                    "updated_at",
                ],
            )
        )
        .on_conflict_do_nothing(index_elements=[jobs.c.job_key])
        .returning(jobs.c.id)
    )
    return delivery, escalation, job


def delivery_for(n: int, prefix: str) -> tuple[VerifiedDelivery, EscalationEvent]:
    body = escalation_body(f"{prefix}_{n:07d}", n)
    headers = {**sign(SECRET, body, SCHEME), "X-Keeptrusts-Delivery": f"dlv_{prefix}_{n}"}
    delivery = verify(
        source="keeptrusts",
        body=body,
        headers=headers,
        secrets=[SECRET],
        scheme=SCHEME,
        now=datetime.now(UTC),
    )
    return delivery, parse_event(body)


async def measure(store: Store, variant: str, count: int) -> str:
    delivery_sql, escalation_sql, job_sql = statements(store.db.dialect)
    prefix = f"esc_proto_{variant}_{time.monotonic_ns() % 10**9}"

    async def current(n: int) -> None:
        delivery, event = delivery_for(n, prefix)
        assert event.escalation is not None
        eid = event.escalation.escalation_id
        job = NewJob(
            kind=CREATE_ISSUE,
            job_key=create_job_key(eid),
            payload={"escalation_id": eid},
            priority=0,
            run_at=delivery.received_at,
        )
        await store.deliveries.ingest(
            delivery,
            event_key=event.dedup_key,
            escalation=event.escalation,
            resolution=None,
            event_type=event.type.value,
            jobs=[job],
        )

    async def prototype(n: int) -> None:
        delivery, event = delivery_for(n, prefix)
        esc = event.escalation
        assert esc is not None
        at = delivery.received_at
        async with store.db.write() as conn:
            row_id = (
                await conn.execute(
                    delivery_sql,
                    {
                        "source": delivery.source,
                        "delivery_id": delivery.delivery_id,
                        "event_key": event.dedup_key,
                        "event_type": event.type.value,
                        "status": "accepted",
                        "headers": dict(delivery.headers),
                        "body": delivery.body,
                        "verified_by": delivery.verified_by,
                        "received_at": at,
                        "duplicates": 0,
                        "escalation_id": esc.escalation_id,
                    },
                )
            ).scalar_one_or_none()
            assert row_id is not None
            created = (
                await conn.execute(
                    escalation_sql,
                    {
                        "escalation_id": esc.escalation_id,
                        **{name: getattr(esc, name) for name in DESCRIPTIVE},
                        "occurred_at": esc.occurred_at,
                        "status": "open",
                        "resolution": "",
                        "resolution_notes": "",
                        "resolved_by": "",
                        "resolved_at": None,
                        "payload": json.loads(delivery.body),
                        "created_at": at,
                        "updated_at": at,
                    },
                )
            ).scalar_one()
            job_id = (
                await conn.execute(
                    job_sql,
                    {
                        "kind": CREATE_ISSUE,
                        "job_key": create_job_key(esc.escalation_id),
                        "payload": {"escalation_id": esc.escalation_id},
                        "status": "queued",
                        "priority": 0,
                        "attempts": 0,
                        "run_at": at,
                        "created_at": at,
                        "updated_at": at,
                    },
                )
            ).scalar_one_or_none()
            await conn.execute(
                audit.insert(),
                [
                    {
                        "at": at,
                        "entity": "escalation",
                        "entity_id": esc.escalation_id,
                        "action": "created" if created == at else "updated",
                        "detail": {"delivery_id": delivery.delivery_id},
                    },
                    {
                        "at": at,
                        "entity": "job",
                        "entity_id": str(job_id),
                        "action": "enqueued",
                        "detail": {"kind": CREATE_ISSUE},
                    },
                    {
                        "at": at,
                        "entity": "delivery",
                        "entity_id": str(row_id),
                        "action": "accepted",
                        "detail": {"event_type": event.type.value},
                    },
                ],
            )

    run: Callable[[int], Awaitable[None]] = current if variant == "current" else prototype
    for n in range(100):  # warm-up: caches, prepared statements
        await run(n)
    wall, loop_cpu, cpu = time.perf_counter(), time.thread_time(), time.process_time()
    for n in range(100, 100 + count):
        await run(n)
    wall, loop_cpu, cpu = (
        time.perf_counter() - wall,
        time.thread_time() - loop_cpu,
        time.process_time() - cpu,
    )
    return (
        f"{store.db.dialect:10} {variant:9} {1000 * wall / count:6.2f} ms wall "
        f"{1000 * loop_cpu / count:6.2f} ms loop-thread CPU {1000 * cpu / count:6.2f} ms "
        f"process CPU per delivery, {count / wall:5.0f}/s sequential"
    )


async def main_async(database: str, count: int) -> None:
    for variant in ("current", "prototype", "current", "prototype"):
        with tempfile.TemporaryDirectory() as tmp:
            if database == "sqlite":
                url = f"sqlite:///{tmp}/proto.db"
                async with open_store(url) as store:
                    await store.db.migrate()
                    print(await measure(store, variant, count), flush=True)
            else:
                with scratch_postgres(database) as url:
                    async with open_store(url) as store:
                        await store.db.migrate()
                        print(await measure(store, variant, count), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--count", type=int, default=1500)
    args = parser.parse_args(argv)
    asyncio.run(main_async(args.database, min(args.count, 20_000)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
