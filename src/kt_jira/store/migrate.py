"""Alembic, configured in code: no alembic.ini, scripts found inside the installed package.

Migrations run on a connection the store hands over (``Database.migrate`` wraps this in its
write transaction, under an advisory lock on PostgreSQL), so there is no offline mode. It
holds no statement of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    # ConfigParser interpolates '%'; a path may contain one.
    config.set_main_option("script_location", str(SCRIPT_LOCATION).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Bring the schema on ``connection`` up to ``revision``; the caller commits."""
    command.upgrade(alembic_config(connection), revision)


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


@cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {SCRIPT_LOCATION}")
    return head


@cache
def known_revisions() -> frozenset[str]:
    return frozenset(
        s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    )


@dataclass(frozen=True)
class SchemaStatus:
    """The database's revision against this version's head.

    ``ahead`` is a database migrated by a newer kt-jira: during a rolling upgrade the old
    processes keep working on it, as every migration only adds (nullable or defaulted columns,
    new tables and indexes; a test holds each revision to that). ``behind`` needs ``migrate``.
    """

    current: str | None
    head: str

    @property
    def state(self) -> Literal["current", "behind", "ahead"]:
        if self.current == self.head:
            return "current"
        if self.current is not None and self.current not in known_revisions():
            return "ahead"
        return "behind"
