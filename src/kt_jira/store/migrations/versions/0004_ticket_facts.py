"""What each ticket was created as (priority, issue type), for reports, and an index on when.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (("priority", sa.String(100)), ("issue_type", sa.String(100)))


def upgrade() -> None:
    for name, kind in COLUMNS:
        op.add_column("links", sa.Column(name, kind, nullable=True))
    op.create_index("ix_links_created_at", "links", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_links_created_at", table_name="links")
    with op.batch_alter_table("links") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
