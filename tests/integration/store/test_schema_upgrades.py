"""Rolling upgrades: every migration only adds, so a process one version older keeps working on
the migrated database, and the bridge tells "behind" (run migrate) from "ahead" (upgrade me)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, inspect, text

from kt_jira.errors import ConfigError
from kt_jira.store import migrate as migrations
from kt_jira.store import open_store

Schema = dict[str, dict[str, dict[str, Any]]]  # table -> column -> facts


def _schema(connection: Connection) -> Schema:
    found = inspect(connection)
    return {
        table: {
            column["name"]: {
                "type": str(column["type"]),
                "nullable": column["nullable"],
                "default": column.get("default"),
            }
            for column in found.get_columns(table)
        }
        for table in found.get_table_names()
        if table != "alembic_version"
    }


def _upgrade_to(revision: str) -> Any:
    def step(connection: Connection) -> None:
        migrations.upgrade(connection, revision)

    return step


def _order() -> list[str]:
    script = migrations.ScriptDirectory.from_config(migrations.alembic_config())
    return [s.revision for s in reversed(list(script.walk_revisions()))]


def additions_an_older_process_cannot_insert(before: Schema, after: Schema) -> list[str]:
    """What breaks the version before: a dropped table or column, a changed type, or a new
    NOT NULL column without a default (the older code's INSERTs do not name it)."""
    problems = []
    for table, columns in before.items():
        if table not in after:
            problems.append(f"table {table} dropped")
            continue
        for name, facts in columns.items():
            now = after[table].get(name)
            if now is None:
                problems.append(f"column {table}.{name} dropped")
            elif now["type"] != facts["type"]:
                problems.append(f"column {table}.{name}: {facts['type']} -> {now['type']}")
            elif facts["nullable"] and not now["nullable"]:
                problems.append(f"column {table}.{name} became NOT NULL")
        for name, facts in after[table].items():
            if name not in columns and not facts["nullable"] and facts["default"] is None:
                problems.append(f"new column {table}.{name} is NOT NULL without a default")
    return problems


def test_the_check_finds_what_would_break_an_older_process() -> None:
    """The rule itself: drops, type changes and a bare NOT NULL column are each reported."""
    before: Schema = {
        "jobs": {
            "id": {"type": "INTEGER", "nullable": False, "default": None},
            "kind": {"type": "VARCHAR(50)", "nullable": True, "default": None},
        },
        "old": {},
    }
    after: Schema = {
        "jobs": {
            "id": {"type": "BIGINT", "nullable": False, "default": None},
            "kind": {"type": "VARCHAR(50)", "nullable": False, "default": None},
            "lane": {"type": "VARCHAR(10)", "nullable": False, "default": None},
            "note": {"type": "TEXT", "nullable": True, "default": None},
            "tries": {"type": "INTEGER", "nullable": False, "default": "0"},
        },
    }
    assert additions_an_older_process_cannot_insert(before, after) == [
        "column jobs.id: INTEGER -> BIGINT",
        "column jobs.kind became NOT NULL",
        "new column jobs.lane is NOT NULL without a default",
        "table old dropped",
    ]


async def test_every_migration_only_adds(database_url: str) -> None:
    """Walking the history one revision at a time, no revision drops, retypes or adds a column
    the version before it could not insert rows without."""
    order = _order()
    assert order[-1] == migrations.head_revision()
    async with open_store(database_url) as store:
        previous: Schema | None = None
        problems: list[str] = []
        for revision in order:
            async with store.db.write() as conn:
                await conn.run_sync(_upgrade_to(revision))
            async with store.db.read() as conn:
                schema = await conn.run_sync(_schema)
            if previous is not None:
                problems += [
                    f"{revision}: {p}"
                    for p in additions_an_older_process_cannot_insert(previous, schema)
                ]
            previous = schema
    assert problems == []


async def _stamp(url: str, revision: str) -> None:
    async with open_store(url) as store:
        await store.db.migrate()
        async with store.db.write() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


async def test_a_database_migrated_by_a_newer_version_is_ahead_not_behind(
    database_url: str,
) -> None:
    """A revision this version does not know means a newer kt-jira migrated the database: the
    status says ahead, and migrate refuses to touch it, saying which version to run."""
    await _stamp(database_url, "0999")
    async with open_store(database_url) as store:
        status = await store.db.schema_status()
        assert (status.current, status.state) == ("0999", "ahead")
        with pytest.raises(ConfigError, match="newer than this kt-jira"):
            await store.db.migrate()
        assert (await store.db.schema_status()).current == "0999"


async def test_an_older_schema_is_behind(database_url: str) -> None:
    """A database at an earlier known revision needs migrate."""
    async with open_store(database_url) as store:
        async with store.db.write() as conn:
            await conn.run_sync(_upgrade_to(_order()[0]))
        status = await store.db.schema_status()
        assert status.state == ("current" if len(_order()) == 1 else "behind")
        await store.db.migrate()
        assert (await store.db.schema_status()).state == "current"
