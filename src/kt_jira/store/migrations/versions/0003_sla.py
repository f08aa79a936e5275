"""SLA clocks and the false-positive loop: each link's targets, the signals, the breach actions
taken, and the improvement Stories with their members.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types in tables.py: a migration must not change when the model does.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)
LINK_COLUMNS = (
    ("sla_started_at", TS),
    ("sla_first_response_seconds", sa.Integer()),
    ("sla_resolution_seconds", sa.Integer()),
    ("sla_calendar", sa.String(100)),
    ("sla_settled_at", TS),
    ("jira_resolution", sa.Text()),
    ("resolved_in_jira_at", TS),
)


def _id() -> sa.Column[int]:
    return sa.Column("id", ID, primary_key=True, autoincrement=True)


def upgrade() -> None:
    for name, kind in LINK_COLUMNS:
        op.add_column("links", sa.Column(name, kind, nullable=True))
    op.create_index("ix_links_sla_settled_at", "links", ["sla_settled_at"])
    op.create_table(
        "sla_signals",
        _id(),
        sa.Column(
            "escalation_id",
            sa.String(200),
            sa.ForeignKey("links.escalation_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.UniqueConstraint("escalation_id", "kind", "at"),
    )
    op.create_table(
        "sla_actions",
        _id(),
        sa.Column(
            "escalation_id",
            sa.String(200),
            sa.ForeignKey("links.escalation_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("target", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("due", TS, nullable=False),
        sa.Column("acted_at", TS, nullable=False),
        sa.UniqueConstraint("escalation_id", "target", "action"),
    )
    op.create_table(
        "feedback_stories",
        _id(),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column("policy_key", sa.String(64), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("project", sa.String(100), nullable=False),
        sa.Column("marker", sa.String(255), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempt_started_at", TS, nullable=True),
        sa.Column("issue_id", sa.String(64), nullable=True),
        sa.Column("issue_key", sa.String(64), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("policy_key", "sequence"),
    )
    op.create_table(
        "feedback_members",
        _id(),
        sa.Column(
            "story_id",
            ID,
            sa.ForeignKey("feedback_stories.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("escalation_id", sa.String(200), nullable=False),
        sa.Column("issue_key", sa.String(64), nullable=False),
        sa.Column("added_at", TS, nullable=False),
        sa.Column("linked_at", TS, nullable=True),
        sa.UniqueConstraint("story_id", "escalation_id"),
    )


def downgrade() -> None:
    op.drop_table("feedback_members")
    op.drop_table("feedback_stories")
    op.drop_table("sla_actions")
    op.drop_table("sla_signals")
    op.drop_index("ix_links_sla_settled_at", table_name="links")
    with op.batch_alter_table("links") as batch:
        for name, _ in reversed(LINK_COLUMNS):
            batch.drop_column(name)
