"""Storm control: groups of escalations that share one ticket, their members, and the storms of
the runaway guard. Only adds tables, so a process one version older keeps working.

Revision ID: 0005
Revises: 0004
Create Date: 2027-01-10 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types in tables.py: a migration must not change when the model does.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)
ESCALATION = "escalations.escalation_id"
OPEN = sa.text("closed_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "ticket_groups",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("group_key", sa.String(255), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False, server_default=""),
        sa.Column("policy_name", sa.Text(), nullable=False, server_default=""),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column(
            "opener_id",
            sa.String(200),
            sa.ForeignKey(ESCALATION, ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("summary", sa.Text(), nullable=False, server_default=""),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("window_ends_at", TS, nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("closed_at", TS, nullable=True),
        sa.UniqueConstraint("opener_id", name="uq_ticket_groups_opener_id"),
    )
    op.create_index(
        "uq_ticket_groups_open_group_key",
        "ticket_groups",
        ["group_key"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_table(
        "group_members",
        sa.Column(
            "escalation_id",
            sa.String(200),
            sa.ForeignKey(ESCALATION, ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "group_id",
            ID,
            sa.ForeignKey("ticket_groups.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("joined_at", TS, nullable=False),
        sa.Column("comment_state", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("commented_at", TS, nullable=True),
        sa.Column("comment_id", sa.String(64), nullable=True),
        sa.Column("last_origin", sa.String(50), nullable=True),
        sa.Column("synced_to_keeptrusts_at", TS, nullable=True),
        sa.Column("synced_to_jira_at", TS, nullable=True),
    )
    op.create_index("ix_group_members_group_id", "group_members", ["group_id"])
    op.create_table(
        "storms",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("policy_name", sa.Text(), nullable=False),
        sa.Column("policy_key", sa.String(64), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column(
            "group_id",
            ID,
            sa.ForeignKey("ticket_groups.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.UniqueConstraint("policy_key", "started_at", name="uq_storms_policy_key_started_at"),
    )
    op.create_index("ix_storms_ends_at", "storms", ["ends_at"])


def downgrade() -> None:
    op.drop_index("ix_storms_ends_at", table_name="storms")
    op.drop_table("storms")
    op.drop_index("ix_group_members_group_id", table_name="group_members")
    op.drop_table("group_members")
    op.drop_index("uq_ticket_groups_open_group_key", table_name="ticket_groups")
    op.drop_table("ticket_groups")
