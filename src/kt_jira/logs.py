"""structlog set-up: JSON lines for machines, readable lines for a terminal.

Standard-library loggers (uvicorn, SQLAlchemy, Alembic, httpx) go through the same renderer
(``structlog.stdlib.ProcessorFormatter`` on the root logger), so a deployment reads one stream of
JSON lines, each with ``event``, ``level``, ``timestamp`` and, for those, ``logger``.
"""

from __future__ import annotations

import logging
import os
import sys

import structlog


def configure(*, level: str = "info", json: bool | None = None) -> None:
    if json is None:
        json = os.environ.get("KT_JIRA_LOG_FORMAT", "").lower() == "json" or not sys.stderr.isatty()
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    stamp = structlog.processors.TimeStamper(fmt="iso", utc=True)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            stamp,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(_CurrentStderr())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                stamp,
                structlog.processors.format_exc_info,
            ],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    handler.set_name(_HANDLER)
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != _HANDLER] + [handler]
    root.setLevel(max(logging.getLevelNamesMapping()[level.upper()], logging.WARNING))


_HANDLER = "kt-jira"  # configure() replaces its own handler, never another's


class _CurrentStderr:
    """A stream that is whatever ``sys.stderr`` is at write time."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class _StderrLogger:
    """Writes to whatever ``sys.stderr`` is at log time (test runners swap and close streams)."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    debug = info = warning = warn = error = critical = exception = fatal = msg


def _stderr_logger(*args: object) -> _StderrLogger:
    return _StderrLogger()
