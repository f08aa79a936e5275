"""After a run that includes the contract tests, a summary section when a contract is not checked
as pinned: missing (with the one command that fetches it), damaged, or another version in use.

A terminal-summary note, not a Python warning: the suite runs with ``filterwarnings = error``, and
an unpinned copy was chosen on purpose (``$KT_JIRA_*`` or ../shared/reference), so it must not fail.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from tests.support.contracts import contract_notes


# An outermost wrapper, so the section comes after the short test summary's per-test lines,
# just above the final counts, where it is read.
@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> Generator[None]:
    """Say once, after the per-test lines, what is wrong with each contract and how to fix it."""
    yield
    notes = contract_notes()
    if notes:
        terminalreporter.section("Atlassian contracts")
        for note in notes:
            terminalreporter.write_line(note)
