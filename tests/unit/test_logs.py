"""One stream of JSON lines: the bridge's own events and the standard-library loggers'."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from kt_jira import logs


def test_stdlib_loggers_are_json_lines_like_ours(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure(level="info", json=True)
    structlog.get_logger("kt_jira.test").info("bridge.event", escalation_id="esc_1")
    logging.getLogger("uvicorn.error").warning("port %s busy", 8080)
    logging.getLogger("httpx").info("HTTP Request: POST https://hooks.example.com/secret-path")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    ours, theirs = lines  # httpx's INFO lines (URLs, maybe credentials) are below the floor
    assert (ours["event"], ours["escalation_id"], ours["level"]) == (
        "bridge.event",
        "esc_1",
        "info",
    )
    assert (theirs["event"], theirs["level"], theirs["logger"]) == (
        "port 8080 busy",
        "warning",
        "uvicorn.error",
    )
    assert "timestamp" in theirs
