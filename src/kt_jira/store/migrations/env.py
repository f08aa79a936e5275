"""Alembic environment for kt-jira: always online, on the connection Database.migrate() passes."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from kt_jira.store.tables import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations with `kt-jira migrate` (db.migrate), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds tables for later migrations.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
