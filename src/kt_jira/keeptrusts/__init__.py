"""The Keeptrusts side of the bridge: an async client for its control-plane API.

KeeptrustsClient    resolve (and read) escalations; errors mapped at one boundary
ResolveOutcome      resolved now, or already closed upstream (both are success)
"""

from kt_jira.keeptrusts.client import KeeptrustsClient, ResolveOutcome

__all__ = ["KeeptrustsClient", "ResolveOutcome"]
