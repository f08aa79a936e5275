"""Report tests run on the two-way sync arrangement (fixtures shared with sync)."""

from tests.integration.sync.conftest import harness, jira, keeptrusts, make_harness

__all__ = ["harness", "jira", "keeptrusts", "make_harness"]
