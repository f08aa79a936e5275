"""Suite-wide settings: property tests are reproducible in CI and never fail on a slow machine.

CI (``CI`` set) runs hypothesis derandomized, so a green main stays green and any failure
reproduces; locally the search stays random, to keep finding new cases. No test has a deadline:
timing is for the benchmarks in bench/, never for assertions.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
