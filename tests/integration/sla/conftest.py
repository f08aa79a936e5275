"""SLA tests run on the two-way sync arrangement: the bridge on a real database, the sandbox
Jira sending signed webhooks back, and the sandbox Keeptrusts (fixtures shared with sync)."""

from tests.integration.sync.conftest import harness, jira, keeptrusts, make_harness

__all__ = ["harness", "jira", "keeptrusts", "make_harness"]
