"""Injectable faults shared by the Jira and Keeptrusts simulators.

A `Faults` object is mutable on purpose: tests flip it in-process, and a demo or an acceptance
test in another process flips it over HTTP (`POST /_sandbox/faults`). Randomness comes from a
seeded `random.Random`, so a failing run can be replayed. It never touches sandbox state.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field

GATEWAY_ERRORS = (502, 503, 504)


class FaultSpecError(ValueError):
    """A fault specification sent over HTTP is malformed."""


@dataclass
class Faults:
    """What goes wrong, and how often. Every field may be changed at any time."""

    latency: float = 0.0
    error_rate: float = 0.0
    outage: bool = False
    outage_retry_after: int | None = None
    slow_after_commit: int = 0  #: creates held (committed) past the client's timeout
    slow_comment_commits: int = 0  #: likewise for comments
    slow_seconds: float = 0.0
    fail_next: list[int] = field(default_factory=list)
    seed: int = 0
    rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def take_forced_status(self) -> int | None:
        """The status to answer before doing anything, or None to serve normally."""
        if self.fail_next:
            return self.fail_next.pop(0)
        if self.outage:
            return 503
        if self.error_rate > 0 and self.rng.random() < self.error_rate:
            return self.rng.choice(GATEWAY_ERRORS)
        return None

    def take_slow_commit(self) -> float:
        """Seconds to hold a committed create before answering (0.0 when not armed)."""
        if self.slow_after_commit <= 0:
            return 0.0
        self.slow_after_commit -= 1
        return self.slow_seconds

    def take_slow_comment(self) -> float:
        """Seconds to hold a committed comment before answering (0.0 when not armed)."""
        if self.slow_comment_commits <= 0:
            return 0.0
        self.slow_comment_commits -= 1
        return self.slow_seconds

    def reset(self) -> None:
        """Switch every fault off (the seed is kept and the generator restarted)."""
        self.latency = 0.0
        self.error_rate = 0.0
        self.outage = False
        self.outage_retry_after = None
        self.slow_after_commit = 0
        self.slow_comment_commits = 0
        self.slow_seconds = 0.0
        self.fail_next = []
        self.rng = random.Random(self.seed)

    def update(self, spec: Mapping[str, object]) -> None:
        """Apply a JSON fault specification; ``{"reset": true}`` clears first.

        Raises `FaultSpecError` naming the first bad key, leaving the object unchanged.
        """
        staged = Faults(
            latency=self.latency,
            error_rate=self.error_rate,
            outage=self.outage,
            outage_retry_after=self.outage_retry_after,
            slow_after_commit=self.slow_after_commit,
            slow_comment_commits=self.slow_comment_commits,
            slow_seconds=self.slow_seconds,
            fail_next=list(self.fail_next),
            seed=self.seed,
        )
        staged.rng = self.rng
        if spec.get("reset") is True:
            staged.reset()
        for key, value in spec.items():
            _apply(staged, key, value)
        if "seed" in spec:
            staged.rng = random.Random(staged.seed)
        self.__dict__.update(staged.__dict__)

    def as_dict(self) -> dict[str, object]:
        """The current faults as JSON-ready data."""
        return {
            "latency": self.latency,
            "error_rate": self.error_rate,
            "outage": self.outage,
            "outage_retry_after": self.outage_retry_after,
            "slow_after_commit": self.slow_after_commit,
            "slow_comment_commits": self.slow_comment_commits,
            "slow_seconds": self.slow_seconds,
            "fail_next": list(self.fail_next),
            "seed": self.seed,
        }


def _number(key: str, value: object, *, low: float, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultSpecError(f"fault '{key}' must be a number")
    if value < low or (high is not None and value > high):
        raise FaultSpecError(f"fault '{key}' must be between {low} and {high or 'any'}")
    return float(value)


def _integer(key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FaultSpecError(f"fault '{key}' must be a non-negative integer")
    return value


def _apply(faults: Faults, key: str, value: object) -> None:
    if key == "reset":
        return
    if key in ("latency", "slow_seconds"):
        setattr(faults, key, _number(key, value, low=0.0))
    elif key == "error_rate":
        faults.error_rate = _number(key, value, low=0.0, high=1.0)
    elif key == "outage":
        if not isinstance(value, bool):
            raise FaultSpecError("fault 'outage' must be true or false")
        faults.outage = value
    elif key == "outage_retry_after":
        faults.outage_retry_after = None if value is None else _integer(key, value)
    elif key in ("slow_after_commit", "slow_comment_commits", "seed"):
        setattr(faults, key, _integer(key, value))
    elif key == "fail_next":
        if not isinstance(value, list) or not all(
            isinstance(s, int) and not isinstance(s, bool) and 100 <= s <= 599 for s in value
        ):
            raise FaultSpecError("fault 'fail_next' must be a list of HTTP status codes")
        faults.fail_next = list(value)
    else:
        raise FaultSpecError(f"unknown fault '{key}'")
