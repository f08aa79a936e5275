"""Real databases for tests: SQLite files and throwaway PostgreSQL databases, one per test.

Public test helper; any suite that needs a database uses it:

    @pytest.fixture(params=databases.KIND_PARAMS)
    async def store(request, tmp_path):
        async with databases.migrated_store(request.param, tmp_path) as store:
            yield store

PostgreSQL comes from ``KT_JIRA_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``); each test gets a fresh database
``kt_jira_<random>`` created through that URL and dropped afterwards. When the server cannot be
reached the test is skipped with the reason, unless ``KT_JIRA_REQUIRE_POSTGRES=1``, which turns
the skip into a failure (CI sets it, so a broken database never passes as "skipped").
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from kt_jira.store import Store, open_store

POSTGRES_URL_ENV = "KT_JIRA_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "KT_JIRA_REQUIRE_POSTGRES"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT = 3  # seconds
DATABASE_PREFIX = "kt_jira_"

KINDS = ("sqlite", "postgresql")
# Parametrise a fixture with these to run a test on both dialects.
KIND_PARAMS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def postgres_admin_url() -> URL:
    """The server's maintenance database URL, from the environment or the default."""
    return make_url(os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL)


def postgres_required() -> bool:
    return os.environ.get(REQUIRE_POSTGRES_ENV, "") == "1"


def postgres_unavailable(reason: str) -> NoReturn:
    """Skip with ``reason`` or, when PostgreSQL is required, fail with it."""
    if postgres_required():
        pytest.fail(f"{reason} ({REQUIRE_POSTGRES_ENV}=1 requires PostgreSQL)", pytrace=False)
    pytest.skip(f"{reason} (set {POSTGRES_URL_ENV}, or {REQUIRE_POSTGRES_ENV}=1 to fail instead)")


def sqlite_url(directory: Path, name: str = "kt-jira.db") -> str:
    """A file database in ``directory`` (file databases get WAL; ``:memory:`` does not)."""
    return f"sqlite:///{(directory / name).resolve()}"


def libpq_url(url: str | URL) -> str:
    """``url`` as libpq (and plain psycopg) takes it: no ``+driver`` in the scheme."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin_connection(admin: URL) -> psycopg.AsyncConnection[tuple[object, ...]]:
    try:
        return await psycopg.AsyncConnection.connect(
            libpq_url(admin), autocommit=True, connect_timeout=CONNECT_TIMEOUT
        )
    except psycopg.OperationalError as exc:
        where = admin.render_as_string(hide_password=True)
        postgres_unavailable(f"PostgreSQL at {where} is unreachable: {exc}".strip())


@asynccontextmanager
async def temporary_postgres_database(admin_url: str | URL | None = None) -> AsyncIterator[str]:
    """Create an empty database, yield its ``postgresql+psycopg://`` URL, drop it on exit."""
    admin = make_url(admin_url) if admin_url is not None else postgres_admin_url()
    name = DATABASE_PREFIX + secrets.token_hex(6)
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    async with await _admin_connection(admin) as conn:
        await conn.execute(statement)
    try:
        url = admin.set(drivername="postgresql+psycopg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        async with await _admin_connection(admin) as conn:
            await conn.execute(drop)


@asynccontextmanager
async def database_url(kind: str, directory: Path) -> AsyncIterator[str]:
    """A fresh, empty database of ``kind`` (``sqlite`` or ``postgresql``) for one test."""
    if kind == "sqlite":
        yield sqlite_url(directory)
    elif kind == "postgresql":
        async with temporary_postgres_database() as url:
            yield url
    else:
        raise ValueError(f"unknown database kind {kind!r}; expected one of {KINDS}")


@asynccontextmanager
async def migrated_store(kind: str, directory: Path) -> AsyncIterator[Store]:
    """An open ``Store`` on a fresh database of ``kind`` with the schema at head."""
    async with database_url(kind, directory) as url, open_store(url) as store:
        await store.db.migrate()
        yield store
