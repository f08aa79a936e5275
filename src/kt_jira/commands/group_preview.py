"""``kt-jira preview``'s grouping part: the group an escalation would open or join (its key
values and window) and, read from the bridge's database when there is one, the open group's
ticket it would become a comment on.

The database is only read: never created, never migrated. Without one (no ``--config``, no
SQLite file yet, a schema behind this version, or it cannot be reached) the preview says so and
shows the group from the rules alone.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from kt_jira.config.models import Settings
from kt_jira.store import GroupRecord, StormRecord, open_store
from kt_jira.tickets.groups import GroupChoice, storm_key
from kt_jira.tickets.storms import storm_policy_key


@dataclass(frozen=True)
class GroupLookup:
    """Reads of the bridge's database for a preview: the open group of a key, and the storm a
    policy is in (with its open group)."""

    open_group: Callable[[str], Awaitable[GroupRecord | None]]
    storm: Callable[[str], Awaitable[tuple[StormRecord, GroupRecord | None] | None]]


@dataclass(frozen=True, kw_only=True)
class GroupPreview:
    """The group an escalation belongs to, and what the database says about it now."""

    choice: GroupChoice
    window: str  #: as configured (``group_window``)
    open_group: GroupRecord | None = None  #: the open group it would join
    database: str = "read"  #: "read", or why the database was not read

    def as_json(self) -> dict[str, Any]:
        group = self.open_group
        return {
            "reason": self.choice.reason,
            "by": dict(self.choice.values),
            "window": self.window,
            "key": self.choice.key,
            "joins": None
            if group is None
            else {
                "issue_key": group.issue_key,
                "escalations": group.size,
                "until": group.window_ends_at.isoformat(timespec="minutes"),
            },
            "database": self.database,
        }

    def lines(self) -> list[str]:
        by = ", ".join(f"{key}={value!r}" for key, value in self.choice.values)
        window = self.window if self.choice.reason == "storm" else f"window {self.window}"
        head = f"Group: by {by} ({window})"
        group = self.open_group
        if group is not None:
            ticket = group.issue_key or "its ticket (being created)"
            until = group.window_ends_at.strftime("%Y-%m-%d %H:%M UTC")
            return [
                head,
                f"  joins {ticket} as a comment ({group.size} escalations so far, open until "
                f"{until}); no ticket of its own is created",
            ]
        where = "no open group in the database" if self.database == "read" else self.database
        return [head, f"  opens a new group: this ticket, and later ones comment on it ({where})"]


@contextlib.asynccontextmanager
async def group_lookup(
    settings: Settings | None, *, now: datetime
) -> AsyncIterator[GroupLookup | str]:
    """A reader of the open group for a key, or why the database is not read."""
    if settings is None:
        yield "database not read: no --config"
        return
    missing = _missing_sqlite_file(settings.database_url)
    if missing is not None:
        yield f"database not read: {missing} does not exist yet"
        return
    stack = contextlib.AsyncExitStack()
    try:
        store = await stack.enter_async_context(open_store(settings.database_url))
        status = await store.db.schema_status()
    except Exception as exc:  # a preview must work without the bridge's database
        await stack.aclose()
        yield f"database not read: {type(exc).__name__}"
        return
    async with stack:
        if status.state == "behind":
            yield "database not read: its schema is behind (run `kt-jira migrate`)"
            return

        async def open_group(key: str) -> GroupRecord | None:
            return await store.groups.open_group(key, now=now)

        async def storm(policy: str) -> tuple[StormRecord, GroupRecord | None] | None:
            running = await store.storms.active(storm_policy_key(policy), now=now)
            if running is None:
                return None
            return running, await store.groups.open_group(storm_key(policy), now=now)

        yield GroupLookup(open_group=open_group, storm=storm)


def _missing_sqlite_file(database_url: str) -> str | None:
    """The SQLite file ``database_url`` names when it does not exist (opening would create it)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return None if Path(url.database).exists() else url.database
