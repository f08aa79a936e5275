"""docs/configuration.md on the false-positive loop says what the code does: its defaults block
is the defaults, and its false-positives file previews."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from kt_jira.commands.story_preview import load_false_positives
from kt_jira.config.loader import settings_from_dict
from kt_jira.config.sla import FalsePositiveSettings

CONFIGURATION = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(path: Path, language: str) -> list[str]:
    """The fenced blocks of ``language`` in a Markdown file (as tests/unit/config reads them)."""
    return [
        body for lang, body in FENCE.findall(path.read_text(encoding="utf-8")) if lang == language
    ]


def test_the_documented_defaults_are_the_defaults() -> None:
    """The ``feedback.false_positive`` block in the docs is exactly the default settings, key
    for key (a key added to the model must be documented)."""
    [block] = [b for b in blocks(CONFIGURATION, "yaml") if b.startswith("# feedback.false_pos")]
    documented = yaml.safe_load(block)
    assert settings_from_dict(documented).feedback.false_positive == FalsePositiveSettings()
    assert set(documented["feedback"]["false_positive"]) == set(FalsePositiveSettings.model_fields)


def test_the_documented_false_positives_file_loads() -> None:
    """The ``--false-positives`` example is a file the preview takes, as the docs describe it."""
    [block] = blocks(CONFIGURATION, "jsonc")
    found, resolved = load_false_positives(block.encode())
    assert resolved == 12
    assert [(fp.issue_key, fp.model) for fp in found] == [("AIGOV-41", "gpt-4o"), ("AIGOV-44", "")]
