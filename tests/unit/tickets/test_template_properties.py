"""Property tests of ticket templates: for any payload values and any template of the Markdown
subset, the ADF validates, the structure is the template's alone, and wiki markup stays inert."""

from __future__ import annotations

import json
import re
from dataclasses import fields, is_dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kt_jira.events.keeptrusts import Escalation
from kt_jira.render.adf import to_adf
from kt_jira.render.nodes import CodeBlock, Link, Text
from kt_jira.render.sanitise import one_line
from kt_jira.render.wiki import to_wiki
from kt_jira.tickets.templates import DEFAULT_DESCRIPTION, DEFAULT_SUMMARY, render_text
from tests.support.contracts import validate_adf
from tests.unit.render.strategies import HOSTILE, clean, payload_text
from tests.unit.render.test_wiki import unwiki
from tests.unit.tickets.test_templates import context, doc, escalation

JINJA_IN_VALUES = ["{{ 7*7 }}", "{% raw %}x{% endraw %}", "{% for a in b %}", "{# c #}", "{{"]
values = st.one_of(payload_text, st.sampled_from(JINJA_IN_VALUES + HOSTILE))

_VALID: set[str] = set()
_TEXT_BLOCKS = frozenset({"paragraph", "heading", "codeBlock"})


def validate_adf_in_parts(adf: dict[str, Any]) -> None:
    """``validate_adf``, split so hundreds of examples stay fast (a table costs ~1 s whole).

    Sound because the schema checks a paragraph's, heading's or code block's content through the
    same definitions wherever the block sits: the document with those contents emptied is
    validated (once per distinct structure), then each such block as a document of its own."""
    blocks: list[dict[str, Any]] = []

    def hollow(node: Any) -> Any:
        if isinstance(node, list):
            return [hollow(item) for item in node]
        if not isinstance(node, dict):
            return node
        if node.get("type") in _TEXT_BLOCKS:
            blocks.append(node)
            return {**node, "content": []}
        return {key: hollow(value) for key, value in node.items()}

    parts = [hollow(adf)] + [{"type": "doc", "version": 1, "content": [b]} for b in blocks]
    for part in parts:
        key = json.dumps(part, sort_keys=True)
        if key not in _VALID:
            validate_adf(part)
            _VALID.add(key)


def shape(value: object) -> object:
    """The structure of a tree with every text replaced by its marks: what markup decided."""
    if isinstance(value, Text):
        return ("Text", value.marks)
    if isinstance(value, CodeBlock):
        return ("Code",)
    if isinstance(value, Link):
        return ("Link",)
    if is_dataclass(value):
        return (type(value).__name__, *(shape(getattr(value, f.name)) for f in fields(value)))
    if isinstance(value, tuple):
        return tuple(shape(item) for item in value)
    return value


def _hostile_escalation(draw: st.DrawFn) -> Escalation:
    return escalation(
        escalation_id=draw(values) or "esc_1",
        policy_name=draw(values),
        action=draw(values),
        model=draw(values),
        gateway_id=draw(values),
        user_id=draw(values),
        org_id=draw(values),
        severity=draw(values),
        category=draw(values),
    )


hostile_escalations = st.composite(_hostile_escalation)()


@settings(max_examples=150, deadline=None)
@given(hostile_escalations)
def test_default_templates_hold_any_values(esc: Escalation) -> None:
    """For any payload values: valid ADF, the guide's structure, an inert wiki table, and a
    one-line summary within 255 characters."""
    rendered = doc(DEFAULT_DESCRIPTION, esc, category=esc.category)
    validate_adf_in_parts(to_adf(rendered))
    assert shape(rendered) == shape(doc(DEFAULT_DESCRIPTION))
    wiki = to_wiki(rendered)
    [policy_row] = [line for line in wiki.split("\n") if line.startswith("|Policy|")]
    cell = policy_row.removeprefix("|Policy|").removesuffix("|")
    shown = esc.policy_name.replace("\ue000", "").replace("\ue001", "")
    assert unwiki(cell) == ("—" if not shown else clean(shown) or " ")
    summary = one_line(render_text(DEFAULT_SUMMARY, context(esc), where="t"), 255)
    assert len(summary) <= 255
    assert "\n" not in summary
    assert "\ue000" not in summary


def _inline_piece() -> st.SearchStrategy[str]:
    words = st.sampled_from(["alpha", "beta gamma", "x_y", "a*b", "1.", "#", "|", ">"])
    value = st.sampled_from(
        ["{{ escalation.policy_name }}", "{{ escalation.model }}", "{{ category }}"]
    )
    return st.one_of(
        words,
        value,
        value.map(lambda v: f"**{v}**"),
        value.map(lambda v: f"*{v}*"),
        value.map(lambda v: f"`{v}`"),
        value.map(lambda v: f"[{v}](https://ex.example/p)"),
        st.just("[{{ escalation.model }}]({{ console_url }})"),
    )


inline_lines = st.lists(_inline_piece(), min_size=1, max_size=4).map(" ".join)


def _block(line: str, kind: int) -> str:
    return [
        f"## {line}",
        line,
        f"- {line}\n  - {line}",
        f"1. {line}\n2. {line}",
        f"| h | {line} |\n|---|---|\n| {line} | c |",
        f"```\n{line}\n```",
        f"> {line}",
        f":::note\n{line}\n:::",
        "---",
    ][kind]


templates = st.lists(
    st.tuples(inline_lines, st.integers(min_value=0, max_value=8)).map(lambda p: _block(*p)),
    min_size=1,
    max_size=6,
).map("\n\n".join)


@settings(max_examples=100, deadline=None)
@given(templates, hostile_escalations)
def test_generated_templates_hold_any_values(source: str, esc: Escalation) -> None:
    """Any template of the subset gives valid ADF and the same structure for hostile values as
    for plain ones, and renders to wiki markup without control characters."""
    rendered = doc(source, esc, category=esc.category)
    validate_adf_in_parts(to_adf(rendered))
    assert shape(rendered) == shape(doc(source))
    assert "\x00" not in to_wiki(rendered)


@settings(max_examples=2, deadline=None)
@given(hostile_escalations)
def test_default_description_validates_whole(esc: Escalation) -> None:
    """A few hostile examples validated as whole documents, without the split above."""
    validate_adf(to_adf(doc(DEFAULT_DESCRIPTION, esc, category=esc.category)))


def test_split_validation_catches_what_the_whole_does() -> None:
    """The split validator rejects an invalid text node inside a table cell, as the whole does."""
    adf = to_adf(doc(DEFAULT_DESCRIPTION))
    adf["content"][1]["content"][1]["content"][1]["content"][0]["content"][0]["text"] = ""
    with pytest.raises(AssertionError):
        validate_adf_in_parts(adf)


@settings(max_examples=200, deadline=None)
@given(values)
def test_values_in_link_targets_are_web_urls_or_text(value: str) -> None:
    """A value opening a link target links only as an http(s) URL (else the label is text); a
    value later in a target is percent-encoded into it."""
    source = "[label]({{ escalation.policy_name }}) [p](https://e.example/{{ escalation.model }})"
    [paragraph] = doc(source, escalation(policy_name=value, model=value)).content
    first, _, second = paragraph.content  # type: ignore[attr-defined]
    if isinstance(first, Link):
        assert urlsplit(first.href).scheme.lower() in ("http", "https")
    else:
        assert first == Text(text="label")
    assert isinstance(second, Link)
    assert re.fullmatch(r"https://e\.example/[A-Za-z0-9%._~-]*", second.href)
    validate_adf_in_parts(to_adf(doc(source, escalation(policy_name=value, model=value))))
