"""The public surface of kt_jira.jira."""

from __future__ import annotations

import kt_jira.jira


def test_exports_are_listed_once_and_importable() -> None:
    """__all__ lists every public name once, and each one exists."""
    names = kt_jira.jira.__all__
    assert len(set(names)) == len(names)
    for name in names:
        assert hasattr(kt_jira.jira, name)
