"""Ticket templates: sandboxed Jinja2 rendered to one line of text or to a document tree.

Escalation values are always text, never markup: in a description every ``{{ … }}`` output
becomes an opaque private-use token while the template's own Markdown is parsed, and the tokens
come back as ``Text`` (or as a checked link target). Nothing is rendered to a string and parsed
again. Pure: no I/O, no clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from kt_jira.errors import ConfigError
from kt_jira.events.keeptrusts import Escalation
from kt_jira.render.markdown import parse_markdown
from kt_jira.render.nodes import Document
from kt_jira.render.tokens import fill, hold, strip_tokens
from kt_jira.render.truncate import DESCRIPTION_LIMIT, truncate_document
from kt_jira.tickets.sla import Deadlines

__all__ = [
    "DEFAULT_DESCRIPTION",
    "DEFAULT_SUMMARY",
    "render_document",
    "render_text",
    "strip_tokens",
    "syntax_problem",
    "template_context",
]

DEFAULT_SUMMARY = (
    'AI Escalation: {{ escalation.policy_name or "unknown policy" }} — '
    '{{ escalation.action or "unknown action" }} ({{ escalation.model or "unknown model" }})'
)
DEFAULT_DESCRIPTION = """\
## AI Governance Escalation

| Field | Value |
|---|---|
| Policy | {{ escalation.policy_name or "—" }} |
| Category | {{ category or "—" }} |
| Action | {{ escalation.action or "—" }} |
| Severity | {{ escalation.severity or "—" }} |
| Model | {{ escalation.model or "—" }} |
| Gateway | {{ escalation.gateway_id or "—" }} |
| User | {{ escalation.user_id or "—" }} |
| Time | {{ escalation.occurred_at or "—" }} |
| Escalation ID | {{ escalation.escalation_id or "—" }} |
{% if sla.resolution_due %}
| Resolution due | {{ sla.resolution_due }} |
{% endif %}

[View in Keeptrusts Console]({{ console_url }})

### Investigation Steps

1. Open the console link above
2. Review the event context and conversation history
3. Determine if the violation is genuine or a false positive
4. Update this ticket with findings
5. Resolve the escalation in Keeptrusts
"""

_SLOTS = "kt:slots"  # not an identifier, so no template can read or replace it


def _stringify(value: Any) -> str:
    return "" if value is None else str(value)


def _finalize_text(value: Any) -> str:
    return strip_tokens(_stringify(value))


@pass_context
def _finalize_document(context: Context, value: Any) -> str:
    return hold(context[_SLOTS], _stringify(value))


def _environment(finalize: Any) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )


_ENVIRONMENTS = {"text": _environment(_finalize_text), "document": _environment(_finalize_document)}


@lru_cache(maxsize=1024)
def _compiled(kind: Literal["text", "document"], source: str) -> Template:
    return _ENVIRONMENTS[kind].from_string(strip_tokens(source))


def syntax_problem(source: str) -> str | None:
    """``"line N: message"`` when ``source`` is not a valid template, else ``None``."""
    try:
        _compiled("document", source)
    except TemplateSyntaxError as exc:
        return f"line {exc.lineno}: {(exc.message or 'invalid syntax').rstrip('.')}"
    return None


def _template_line(exc: BaseException) -> int | None:
    line = None
    trace = exc.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<template>":
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


def _render(
    kind: Literal["text", "document"],
    source: str,
    context: Mapping[str, Any],
    where: str,
    slots: list[str],
) -> str:
    try:
        return _compiled(kind, source).render({**context, _SLOTS: slots})
    except Exception as exc:  # syntax, undefined names, sandbox refusals, errors in expressions
        line = getattr(exc, "lineno", None) or _template_line(exc)
        at = f" line {line}" if line else ""
        message = (getattr(exc, "message", None) or str(exc) or type(exc).__name__).rstrip(".")
        raise ConfigError(
            f"{where}: template{at}: {message}; fix the template "
            "(kt-jira check-config lists every template problem)"
        ) from exc


def render_text(source: str, context: Mapping[str, Any], *, where: str) -> str:
    """``source`` rendered as plain text (summary, labels, field values)."""
    return _render("text", source, context, where, [])


def render_document(
    source: str, context: Mapping[str, Any], *, where: str, limit: int = DESCRIPTION_LIMIT
) -> Document:
    """``source`` as a document: its Markdown is structure, every value in it is text."""
    slots: list[str] = []
    marked = _render("document", source, context, where, slots)
    return truncate_document(fill(parse_markdown(marked), slots), limit)


# -- the template context ---------------------------------------------------------------------


def _iso(moment: datetime | None, timespec: str = "auto") -> str:
    return moment.isoformat(timespec=timespec) if moment is not None else ""


def template_context(
    escalation: Escalation,
    *,
    category: str,
    category_source: str,
    rule: str,
    console_url: str,
    deadlines: Deadlines,
    project: str,
    issue_type: str,
    priority: str | None,
) -> dict[str, Any]:
    """What templates see; every string is stripped of token characters."""
    values: dict[str, str] = {}
    for item in dataclasses.fields(escalation):
        value = getattr(escalation, item.name)
        values[item.name] = _iso(value) if isinstance(value, datetime | None) else str(value)
    sla = {
        "started_at": _iso(deadlines.started_at, "minutes"),
        "first_response_due": _iso(deadlines.first_response_due, "minutes"),
        "resolution_due": _iso(deadlines.resolution_due, "minutes"),
    }
    context: dict[str, Any] = {
        "escalation": {key: strip_tokens(value) for key, value in values.items()},
        "category": strip_tokens(category),
        "category_source": category_source,
        "rule": strip_tokens(rule),
        "console_url": strip_tokens(console_url),
        "sla": sla,
        "project": strip_tokens(project),
        "issue_type": strip_tokens(issue_type),
        "priority": strip_tokens(priority or ""),
    }
    return context
