"""The reconcile harness (bridge, database, both sandboxes) serves the end-to-end setup tests."""

from tests.integration.reconcile.conftest import database_url, make_world

__all__ = ["database_url", "make_world"]
