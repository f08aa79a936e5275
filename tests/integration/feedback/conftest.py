"""Fixtures for the false-positive loop end to end: the bridge on a real database (SQLite and
PostgreSQL) between the contract-checked sandbox Jira and the sandbox Keeptrusts, as in the sync
suite (whose fixtures these build on), with the loop configured and a clock the test moves
(``tests.support.feedback``)."""

from __future__ import annotations

import pytest

from tests.integration.sync.conftest import jira, keeptrusts, make_harness
from tests.support.feedback import FeedbackFactory, FeedbackHarness, feedback_factory
from tests.support.sync import HarnessFactory

__all__ = ["feedback", "jira", "keeptrusts", "make_feedback", "make_harness"]


@pytest.fixture
def make_feedback(make_harness: HarnessFactory) -> FeedbackFactory:
    return feedback_factory(make_harness)


@pytest.fixture
async def feedback(make_feedback: FeedbackFactory) -> FeedbackHarness:
    return await make_feedback()
