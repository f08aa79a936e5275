"""``database_password``: the secret reaches the PostgreSQL engine and nothing a person reads: not
the URL's repr or string, not the store's identity, not the one-line error of the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from kt_jira.config.loader import load_settings
from kt_jira.store import engine, open_store
from tests.integration.reconcile.test_cli import kt_jira
from tests.support.databases import temporary_postgres_database

PASSWORD = "pw-7f3a-never-to-be-shown"

pytestmark = pytest.mark.postgres


async def test_the_configured_password_reaches_the_engine_and_no_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """database_password: env:... is set on the engine's URL and used to connect (the test
    server trusts any password), while repr, str and the store's identity hide it."""
    monkeypatch.setenv("KT_TEST_DB_PASSWORD", PASSWORD)
    async with temporary_postgres_database() as url:
        config = tmp_path / "kt-jira.yaml"
        config.write_text(
            f"database_url: {url}\ndatabase_password: env:KT_TEST_DB_PASSWORD\n", encoding="utf-8"
        )
        settings = load_settings(config, environ={})
        async with open_store(settings.database_url, password=settings.database_password) as store:
            assert store.db.engine.url.password == PASSWORD
            await store.db.migrate()
            current, head = await store.db.migration_status()
            assert current == head
            shown = [
                repr(store.db.engine.url),
                str(store.db.engine.url),
                repr(store.db.engine),
                engine.identity(store.db.url),
                repr(settings),
                settings.model_dump_json(),
            ]
    assert all(PASSWORD not in text for text in shown), shown


async def test_a_database_that_cannot_be_reached_is_one_line_without_the_password(
    tmp_path: Path,
) -> None:
    """The CLI's "database is not ready" line for a server that refuses the connection names
    the problem and never the password."""
    config = tmp_path / "kt-jira.yaml"
    config.write_text(
        "database_url: postgresql+psycopg://kt_jira@127.0.0.1:1/kt_jira\n"
        "database_password: env:KT_TEST_DB_PASSWORD\n",
        encoding="utf-8",
    )
    env = {"KT_JIRA_CONFIG": str(config), "KT_TEST_DB_PASSWORD": PASSWORD}
    code, text = await kt_jira("jobs", "list", env=env)
    assert code == 2
    assert "the database is not ready" in text
    assert "Traceback" not in text
    assert PASSWORD not in text
