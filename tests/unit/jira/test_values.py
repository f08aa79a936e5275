"""Converting a draft's field values into what each Jira field schema accepts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from kt_jira.errors import DraftError
from kt_jira.jira.models import AllowedValue, CreateField
from kt_jira.jira.values import convert_value
from kt_jira.render.adf import to_adf
from kt_jira.render.wiki import to_wiki

CF = "com.atlassian.jira.plugin.system.customfieldtypes:"


def _field(
    schema_type: str, *, custom: str = "", items: str | None = None, allowed: tuple[str, ...] = ()
) -> CreateField:
    return CreateField(
        field_id="customfield_1",
        key="customfield_1",
        name="F",
        required=False,
        schema_type=schema_type,
        schema_custom=CF + custom if custom else None,
        schema_items=items,
        allowed_values=tuple(AllowedValue(id=str(i), value=v) for i, v in enumerate(allowed)),
    )


def _convert(meta: CreateField, value: Any, **kw: Any) -> Any:
    return convert_value(meta, value, render=to_adf, where="field 'F' (customfield_1)", **kw)


@pytest.mark.parametrize(
    ("meta", "value", "expected"),
    [
        (_field("string", custom="textfield"), "esc_1", "esc_1"),
        (_field("string", custom="url"), "https://c.example/e/1", "https://c.example/e/1"),
        (_field("number", custom="float"), "2.5", 2.5),
        (_field("number", custom="float"), 3, 3.0),
        (_field("date", custom="datepicker"), date(2025, 6, 1), "2025-06-01"),
        (_field("date", custom="datepicker"), "2025-06-01", "2025-06-01"),
        (
            _field("datetime", custom="datetime"),
            datetime(2025, 6, 1, 12, 30, 5, 123000, tzinfo=UTC),
            "2025-06-01T12:30:05.123+0000",
        ),
        (_field("option", custom="select", allowed=("Block", "Log")), "Block", {"value": "Block"}),
        (
            _field("array", custom="multiselect", items="option", allowed=("a", "b")),
            ("a", "b"),
            [{"value": "a"}, {"value": "b"}],
        ),
        (_field("array", custom="labels", items="string"), ("x", "y"), ["x", "y"]),
        (_field("array", custom="labels", items="string"), "x", ["x"]),
        (_field("user", custom="userpicker"), "5b10ac", {"accountId": "5b10ac"}),
    ],
)
def test_values_take_the_shape_of_their_schema(
    meta: CreateField, value: Any, expected: Any
) -> None:
    """Each supported schema type gets the JSON shape Jira expects for it."""
    assert _convert(meta, value) == expected


def test_textarea_on_cloud_is_an_adf_paragraph() -> None:
    """A multi-line custom field on Cloud v3 takes an ADF document, not a plain string."""
    doc = _convert(_field("string", custom="textarea"), "line *not bold*")
    assert doc["type"] == "doc"
    assert doc["content"][0]["type"] == "paragraph"
    assert doc["content"][0]["content"][0]["text"] == "line *not bold*"


def test_datacenter_uses_wiki_text_and_user_names() -> None:
    """On Data Center a textarea takes wiki markup and a user is named, not an accountId."""
    meta = _field("string", custom="textarea")
    value = convert_value(meta, "a*b", render=to_wiki, where="f", flavor="datacenter")
    assert isinstance(value, str)
    user = convert_value(_field("user"), "jdoe", render=to_wiki, where="f", flavor="datacenter")
    assert user == {"name": "jdoe"}


@pytest.mark.parametrize(
    ("meta", "value", "message"),
    [
        (_field("number"), "many", "takes a number"),
        (_field("date"), "tomorrow", "takes a date"),
        (_field("option", allowed=("Block", "Log")), "Redact", "allowed: Block, Log"),
        (_field("string"), ("a", "b"), "takes one value"),
        (_field("sd-customerrequesttype"), "x", "type 'sd-customerrequesttype'"),
        (_field("array", items="component"), ("x",), "type 'array of component'"),
    ],
)
def test_values_that_cannot_fit_name_the_field(meta: CreateField, value: Any, message: str) -> None:
    """A value that does not fit the field is a DraftError naming the field and the problem."""
    with pytest.raises(DraftError, match=message) as caught:
        _convert(meta, value)
    assert "field 'F' (customfield_1)" in str(caught.value)
