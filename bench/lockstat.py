"""``kt-jira`` with the store's transactions timed: a diagnostic wrapper for the benchmarks.

    python -m bench.lockstat serve --config FILE [--no-worker]

Runs the normal CLI after wrapping ``Database``'s transaction context managers (nothing in
``src/`` changes). On exit it prints, per store method (``queue.claim``…), how many
transactions ran, the mean time spent waiting for SQLite's in-process write lock, and the mean
and total time the transaction held it (``write``) or ran (``read``). ``bench.ingest
--lockstat`` and ``bench.drain --lockstat`` use it instead of ``python -m kt_jira``, and keep
the report.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any

from kt_jira.store import (
    audit,
    counts,
    database,
    deliveries,
    escalations,
    links,
    pauses,
    queue,
    reconcile,
    sync,
)

# The objects a Store holds, by attribute: methods are reported as "queue.claim" and so on.
CONCEPTS: dict[str, type] = {
    "db": database.Database,
    "deliveries": deliveries.Deliveries,
    "escalations": escalations.Escalations,
    "queue": queue.Queue,
    "links": links.Links,
    "pauses": pauses.Pauses,
    "sync": sync.Sync,
    "reconcile": reconcile.Reconcile,
    "audit": audit.Audit,
    "counts": counts.Counts,
}

_method: contextvars.ContextVar[str] = contextvars.ContextVar("method", default="?")
# method -> [count, lock wait s, held s, max held s]
_stats: defaultdict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0])


def _timed(kind: str, original: Callable[..., Any]) -> Callable[..., Any]:
    @contextlib.asynccontextmanager
    async def wrapper(self: Any) -> AsyncIterator[Any]:
        lock = self._write_lock if kind == "write" else self._read_lock
        asked = time.perf_counter()
        async with database._maybe(lock):
            got = time.perf_counter()
            engine = self._writer if kind == "write" else self.engine
            cm = engine.begin() if kind == "write" else engine.connect()
            async with cm as conn:
                yield conn
            done = time.perf_counter()
        row = _stats[(kind, _method.get())]
        row[0] += 1
        row[1] += got - asked
        row[2] += done - got
        row[3] = max(row[3], done - got)

    del original
    return wrapper


def _labelled(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = _method.set(name)
        try:
            return await original(*args, **kwargs)
        finally:
            _method.reset(token)

    return wrapper


def install() -> None:
    for attribute, cls in CONCEPTS.items():
        for name, value in list(vars(cls).items()):
            if name.startswith("_") or not callable(value):
                continue
            if getattr(value, "__code__", None) and value.__code__.co_flags & 0x80:  # coroutine
                setattr(cls, name, _labelled(f"{attribute}.{name}", value))
    db = database.Database
    db.write = _timed("write", db.write)  # type: ignore[method-assign]
    db.read = _timed("read", db.read)  # type: ignore[method-assign]
    atexit.register(report)


def report() -> None:
    lines = ["kind   method                         count  wait ms  held ms  max ms  total held s"]
    for (kind, method), (n, wait, held, peak) in sorted(
        _stats.items(), key=lambda item: -item[1][2]
    ):
        lines.append(
            f"{kind:6} {method:30} {int(n):6} {1000 * wait / n:8.2f} {1000 * held / n:8.2f} "
            f"{1000 * peak:7.1f} {held:13.2f}"
        )
    text = "\n".join(lines)
    print(text, file=sys.stderr, flush=True)


def main() -> None:
    install()
    from kt_jira.cli import main as cli_main

    sys.argv = ["kt-jira", *sys.argv[1:]]
    cli_main()


if __name__ == "__main__":
    main()
