"""Jira Cloud's burst rate limit (a token bucket per method and endpoint), the Retry-After
windows announced to the client, and the request statistics tests assert on. No I/O.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GLOBAL = "*"
# Requests arriving this early are still counted as honouring the window (clock jitter).
SLACK = 0.01


@dataclass
class Bucket:
    tokens: float
    stamp: float


@dataclass
class Decision:
    """The rate limiter's answer: allowed, or 429 with the headers to send."""

    allowed: bool
    headers: dict[str, str]


class RateLimiter:
    """Token bucket per ``(method, path template)``; ``rate`` None switches it off."""

    def __init__(self, rate: float | None, burst: int, retry_after: int) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self.retry_after = max(1, retry_after)
        self.buckets: dict[str, Bucket] = {}

    def check(self, scope: str, now: float) -> Decision:
        if self.rate is None:
            return Decision(True, {})
        bucket = self.buckets.setdefault(scope, Bucket(float(self.burst), now))
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        headers = {"X-RateLimit-Limit": str(self.burst)}
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            headers["X-RateLimit-Remaining"] = str(int(bucket.tokens))
            if bucket.tokens < 0.2 * self.burst:
                headers["X-RateLimit-NearLimit"] = "true"
            return Decision(True, headers)
        refill = (1 - bucket.tokens) / self.rate
        wait = max(self.retry_after, math.ceil(refill))
        reset = datetime.fromtimestamp(now + wait, UTC).strftime("%Y-%m-%dT%H:%MZ")
        headers |= {
            "Retry-After": str(wait),
            "RateLimit-Reason": "jira-burst-based",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset,
        }
        return Decision(False, headers)


@dataclass
class RetryWindows:
    """Retry-After windows announced to the client, per scope (a bucket, or GLOBAL)."""

    until: dict[str, float] = field(default_factory=dict)
    violations: int = 0
    violation_log: list[dict[str, Any]] = field(default_factory=list)

    def announce(self, scope: str, now: float, seconds: float) -> None:
        self.until[scope] = max(self.until.get(scope, 0.0), now + seconds)

    def is_open(self, scope: str, now: float) -> bool:
        return self.until.get(scope, 0.0) - SLACK > now

    def arrive(self, scope: str, now: float) -> bool:
        """Record an arrival; True (and counted) when it ignores an open window."""
        for which in (scope, GLOBAL):
            if self.is_open(which, now):
                self.violations += 1
                early = round(self.until[which] - now, 3)
                self.violation_log.append({"scope": scope, "window": which, "early_by": early})
                return True
        return False


@dataclass
class Stats:
    """Counts by ``"METHOD /path/template"`` and status."""

    by_route: defaultdict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    rate_limited: int = 0

    def record(self, scope: str, status: int) -> None:
        self.by_route[scope][status] += 1
        if status == 429:
            self.rate_limited += 1

    def count(self, scope: str, status: int | None = None) -> int:
        counts = self.by_route.get(scope, Counter())
        return counts[status] if status is not None else sum(counts.values())

    @property
    def total(self) -> int:
        return sum(sum(c.values()) for c in self.by_route.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests_total": self.total,
            "rate_limited": self.rate_limited,
            "by_route": {
                route: {str(status): n for status, n in sorted(counts.items())}
                for route, counts in sorted(self.by_route.items())
            },
        }
