"""``RecentPause``: another replica's pause is seen within ``max_age``, without a read of the
shared store before every request; this process's own pause is known at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kt_jira.jira.pause import MemoryPauseStore, RecentPause

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class CountingStore(MemoryPauseStore):
    """The shared store, counting reads."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def get_pause(self, name: str) -> datetime | None:
        self.reads += 1
        return await super().get_pause(name)


async def test_reads_are_kept_for_max_age_then_refreshed() -> None:
    """Many requests within max_age cost one read; another replica's pause shows after it."""
    shared, clock = CountingStore(), [0.0]
    view = RecentPause(shared, max_age=0.25, clock=lambda: clock[0])
    for _ in range(50):
        assert await view.get_pause("jira") is None
    assert shared.reads == 1
    await shared.set_pause("jira", until=T0 + timedelta(seconds=30), reason="other replica")
    clock[0] = 0.2
    assert await view.get_pause("jira") is None  # not yet: still the read of t=0
    clock[0] = 0.26
    assert await view.get_pause("jira") == T0 + timedelta(seconds=30)
    assert shared.reads == 2


async def test_its_own_pause_is_known_at_once_and_never_shortened() -> None:
    """set_pause writes through and answers with the store's effective end."""
    shared, clock = CountingStore(), [0.0]
    view = RecentPause(shared, max_age=10, clock=lambda: clock[0])
    assert await view.get_pause("jira") is None
    await shared.set_pause("jira", until=T0 + timedelta(seconds=60), reason="other replica")
    effective = await view.set_pause("jira", until=T0 + timedelta(seconds=5), reason="429")
    assert effective == T0 + timedelta(seconds=60)
    assert await view.get_pause("jira") == effective
    assert shared.reads == 1
