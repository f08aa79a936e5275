"""Initial schema: deliveries, escalations, links, jobs, pauses, audit.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types in tables.py: a migration must not change when the model does.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)
ACCEPTED_WITH_KEY = sa.text("status = 'accepted' AND event_key <> ''")


def _id() -> sa.Column[int]:
    return sa.Column("id", ID, primary_key=True, autoincrement=True)


def _text(name: str, length: int | None = None) -> sa.Column[str]:
    kind = sa.String(length) if length else sa.Text()
    return sa.Column(name, kind, nullable=False, server_default="")


def upgrade() -> None:
    op.create_table(
        "deliveries",
        _id(),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("delivery_id", sa.String(255), nullable=False),
        _text("event_key", 500),
        _text("event_type", 100),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("headers", JSON, nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        _text("verified_by", 100),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("escalation_id", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.UniqueConstraint("source", "delivery_id", name="uq_deliveries_source_delivery_id"),
    )
    op.create_index("ix_deliveries_source_event_key", "deliveries", ["source", "event_key"])
    op.create_index("ix_deliveries_status_received_at", "deliveries", ["status", "received_at"])
    op.create_index(
        "uq_deliveries_accepted_event_key",
        "deliveries",
        ["source", "event_key"],
        unique=True,
        sqlite_where=ACCEPTED_WITH_KEY,
        postgresql_where=ACCEPTED_WITH_KEY,
    )

    op.create_table(
        "escalations",
        sa.Column("escalation_id", sa.String(200), nullable=False),
        _text("policy_name"),
        _text("action"),
        _text("model"),
        _text("gateway_id"),
        _text("user_id"),
        _text("org_id"),
        _text("severity"),
        _text("category"),
        sa.Column("occurred_at", TS, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        _text("resolution"),
        _text("resolution_notes"),
        _text("resolved_by"),
        sa.Column("resolved_at", TS, nullable=True),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("escalation_id", name="pk_escalations"),
    )
    op.create_index("ix_escalations_status", "escalations", ["status"])

    op.create_table(
        "links",
        sa.Column("escalation_id", sa.String(200), nullable=False),
        sa.Column("project", sa.String(100), nullable=False),
        sa.Column("correlation_label", sa.String(255), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("attempt_started_at", TS, nullable=True),
        sa.Column("issue_id", sa.String(64), nullable=True),
        sa.Column("issue_key", sa.String(64), nullable=True),
        sa.Column("adopted", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("created_at", TS, nullable=True),
        sa.Column("first_response_due", TS, nullable=True),
        sa.Column("resolution_due", TS, nullable=True),
        sa.Column("first_response_at", TS, nullable=True),
        sa.Column("breached_at", TS, nullable=True),
        sa.Column("last_origin", sa.String(50), nullable=True),
        sa.Column("last_synced_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("escalation_id", name="pk_links"),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.escalation_id"],
            name="fk_links_escalation_id_escalations",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("issue_id", name="uq_links_issue_id"),
    )
    op.create_index("ix_links_state", "links", ["state"])

    op.create_table(
        "jobs",
        _id(),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("job_key", sa.String(500), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False, server_default="10"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("run_at", TS, nullable=False),
        sa.Column("locked_by", sa.String(200), nullable=True),
        sa.Column("locked_until", TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sa.UniqueConstraint("job_key", name="uq_jobs_job_key"),
    )
    op.create_index("ix_jobs_status_priority_run_at", "jobs", ["status", "priority", "run_at"])

    op.create_table(
        "pauses",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("until", TS, nullable=False),
        _text("reason"),
        sa.PrimaryKeyConstraint("name", name="pk_pauses"),
    )

    op.create_table(
        "audit",
        _id(),
        sa.Column("at", TS, nullable=False),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("entity_id", sa.String(200), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit"),
    )
    op.create_index("ix_audit_entity_id", "audit", ["entity_id"])


def downgrade() -> None:
    for table in ("audit", "pauses", "jobs", "links", "escalations", "deliveries"):
        op.drop_table(table)
