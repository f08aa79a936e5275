"""Database URLs and engines: the one place that knows which async driver serves which dialect.

SQLite gets WAL, ``synchronous=NORMAL``, a busy timeout and foreign keys on every connection,
and SQLAlchemy (not the sqlite3 module) emits BEGIN, so write transactions can ask for
``BEGIN IMMEDIATE`` and take the write lock up front instead of failing at their first write.
"""

from __future__ import annotations

import os
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from kt_jira.errors import ConfigError

SQLITE_DRIVER: Final = "sqlite+aiosqlite"
POSTGRES_DRIVER: Final = "postgresql+psycopg"
SQLITE_BUSY_TIMEOUT_MS: Final = 5000
# Execution option that marks a write transaction (Database.write): BEGIN IMMEDIATE on SQLite.
WRITE_OPTION: Final = "kt_jira_write"
# PostgreSQL connections show as "kt-jira/<pid>" in pg_stat_activity (see application_name).
APPLICATION_NAME: Final = "kt-jira"


def normalise_url(database_url: str) -> URL:
    """Map the configured URL onto the async driver of its dialect.

    ``sqlite:///kt-jira.db`` (relative), ``sqlite:////abs.db``, ``sqlite:///:memory:``,
    ``postgresql://…`` and ``postgresql+psycopg://…`` are accepted; other drivers are refused.
    """
    try:
        url = make_url(database_url)
    except Exception as exc:
        raise ConfigError(f"database_url is not a database URL: {exc}") from exc
    backend, _, driver = url.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "aiosqlite", "pysqlite"):
        return url.set(drivername=SQLITE_DRIVER)
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg", "psycopg_async"):
        return url.set(drivername=POSTGRES_DRIVER)
    raise ConfigError(
        f"database_url driver {url.drivername!r} is not supported: "
        "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
    )


def is_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def identity(url: URL) -> str:
    """A process-wide name for the database behind ``url`` (absolute path for SQLite files)."""
    if url.get_backend_name() == "sqlite" and not is_memory(url):
        return "sqlite:" + os.path.abspath(str(url.database))
    return url.render_as_string(hide_password=True)


def create_engine(url: URL) -> AsyncEngine:
    """An engine for ``url`` (already normalised); the caller disposes of it."""
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url)
        _configure_sqlite(engine, memory=is_memory(url))
        return engine
    # pre_ping: a connection the server dropped (a restart, a failover) is replaced on checkout
    # instead of failing the statement that drew it.
    return create_async_engine(
        url, pool_pre_ping=True, connect_args={"application_name": application_name(url)}
    )


def application_name(url: URL) -> str:
    """What PostgreSQL shows for this process's connections: ``kt-jira/<pid>``, so an operator
    can tell which replica holds an advisory lock or runs a query (``pg_locks`` joined with
    ``pg_stat_activity``). An ``application_name`` in the URL's query wins."""
    given = url.query.get("application_name")
    if isinstance(given, str) and given:
        return given
    return f"{APPLICATION_NAME}/{os.getpid()}"


def _configure_sqlite(engine: AsyncEngine, *, memory: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 module; _on_begin emits it instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
