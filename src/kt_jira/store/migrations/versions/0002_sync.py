"""Two-way sync: the Jira status a link last saw, echo window, sync progress, deletion.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of the type in tables.py: a migration must not change when the model does.
TS = sa.DateTime(timezone=True)
COLUMNS = (
    ("jira_status_id", sa.String(64)),
    ("jira_status_category", sa.String(32)),
    ("jira_status_at", TS),
    ("jira_changelog_id", sa.BigInteger()),
    ("bridge_busy_until", TS),
    ("synced_to_keeptrusts_at", TS),
    ("synced_to_jira_at", TS),
    ("deleted_at", TS),
)


def upgrade() -> None:
    # Nullable columns without defaults: a plain ADD COLUMN on both dialects, no table rebuild.
    for name, kind in COLUMNS:
        op.add_column("links", sa.Column(name, kind, nullable=True))
    op.create_index("ix_links_correlation_label", "links", ["correlation_label"])


def downgrade() -> None:
    op.drop_index("ix_links_correlation_label", table_name="links")
    with op.batch_alter_table("links") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
