"""Migrations, engines and URLs: the schema the code expects is the one Alembic builds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, make_url, text

from kt_jira.errors import ConfigError
from kt_jira.store import Store, normalise_url, open_store
from kt_jira.store.tables import metadata
from tests.support import databases


async def test_migrate_from_empty_reaches_head(database_url: str) -> None:
    """An empty database has no revision; after migrate() it is at head, and again is a no-op."""
    async with open_store(database_url) as store:
        current, head = await store.db.migration_status()
        assert current is None
        assert head == "0005"
        await store.db.migrate()
        assert await store.db.migration_status() == (head, head)
        await store.db.migrate()
        assert await store.db.migration_status() == (head, head)
        await store.db.ping()


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_migrations_build_exactly_the_table_model(store: Store) -> None:
    """Autogenerate finds no difference between the migrated schema and tables.py."""
    async with store.db.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path: Path) -> None:
    """A SQLite file store runs in WAL mode with foreign keys, NORMAL sync and a busy timeout."""
    async with open_store(f"sqlite:///{tmp_path / 'x.db'}") as store:
        await store.db.migrate()
        async with store.db.engine.connect() as conn:
            pragmas = [
                (await conn.execute(text(f"PRAGMA {name}"))).scalar_one()
                for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
            ]
    assert pragmas == ["wal", 1, 1, 5000]


async def test_memory_database_works_for_quick_tests() -> None:
    """sqlite:///:memory: migrates and answers, with reads and writes sharing one connection."""
    async with open_store("sqlite:///:memory:") as store:
        await store.db.migrate()
        assert (await store.db.migration_status())[0] == "0005"
        assert (await store.counts.totals())["escalations"] == 0


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///kt-jira.db", "sqlite+aiosqlite:///kt-jira.db"),
        ("sqlite:////var/lib/kt.db", "sqlite+aiosqlite:////var/lib/kt.db"),
        ("sqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
        ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_database_urls_are_normalised_to_async_drivers(given: str, expected: str) -> None:
    """Configured URLs map onto aiosqlite and psycopg 3."""
    assert normalise_url(given) == make_url(expected)


@pytest.mark.parametrize("given", ["mysql://u@h/db", "postgresql+asyncpg://u@h/db", "nonsense"])
def test_unsupported_database_urls_are_config_errors(given: str) -> None:
    """Drivers the store does not support are refused with a ConfigError naming what to use."""
    with pytest.raises(ConfigError, match="database_url"):
        normalise_url(given)


@pytest.mark.postgres
async def test_postgres_connections_name_their_process(tmp_path: Path) -> None:
    """PostgreSQL sees each connection as ``kt-jira/<pid>`` (which replica holds a lock is one
    pg_stat_activity look-up away), unless the URL names the application itself."""
    show = text("SELECT current_setting('application_name')")
    async with databases.database_url("postgresql", tmp_path) as url:
        async with open_store(url) as store, store.db.read() as conn:
            assert (await conn.execute(show)).scalar_one() == f"kt-jira/{os.getpid()}"
        named = make_url(url).update_query_dict({"application_name": "billing-replica"})
        other = named.render_as_string(hide_password=False)
        async with open_store(other) as store, store.db.read() as conn:
            assert (await conn.execute(show)).scalar_one() == "billing-replica"
