"""The ``jira`` section of the config tree: the site, how the bridge logs in, its field names
and how a ticket is found again (``correlation``). Re-exported by ``kt_jira.config.models``."""

from __future__ import annotations

import string
from typing import Literal

from pydantic import Field, model_validator

from kt_jira.config.base import Strict
from kt_jira.config.network import Network
from kt_jira.config.oauth import JiraOAuth
from kt_jira.config.secrets import Secret


class JiraFieldNames(Strict):
    """Concept -> Jira field NAME. ``null`` leaves a concept out of the ticket."""

    escalation_id: str | None = "Escalation ID"
    policy_name: str | None = "Policy Name"
    model: str | None = "Model"
    gateway_id: str | None = "Gateway ID"
    console_url: str | None = "Console URL"


# What a ``jira.correlation.jql`` template may use; each value is inserted as a quoted JQL string.
JQL_PLACEHOLDERS = ("project", "escalation_id", "label")


def jql_template_names(template: str) -> list[str]:
    """The placeholders of a lookup template; ``ValueError`` names anything else it contains."""
    names: list[str] = []
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"not a valid template ({exc}); write braces as {{{{ }}}}") from None
    for literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in JQL_PLACEHOLDERS or spec or conversion:
            shown = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            allowed = ", ".join(f"{{{p}}}" for p in JQL_PLACEHOLDERS)
            raise ValueError(f"unknown placeholder {{{shown}}}; use {allowed}")
        if literal.endswith(('"', "'")):
            raise ValueError(f"{{{name}}} is inserted already quoted; remove the quotes around it")
        names.append(name)
    return names


class CorrelationSettings(Strict):
    """The exactly-once marker an uncertain create searches for (see ``jira/correlation.py``).

    ``label``: the ``kt-esc-<id>`` label, matched exactly. ``field``: the Escalation ID field
    (``jira.fields.escalation_id``), searched with ``~`` and compared exactly. ``jql``: the
    ``jql`` template, results compared exactly on the field or the label.
    """

    marker: Literal["label", "field", "jql"] = "label"
    # With marker field or jql the label is still added (harmless) unless this is false.
    add_label: bool = True
    jql: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> CorrelationSettings:
        if self.marker == "label" and not self.add_label:
            raise ValueError("add_label: false needs marker field or jql (the label IS the marker)")
        if self.marker != "jql":
            if self.jql is not None:
                raise ValueError("jql is used only with marker: jql")
            return self
        if not self.jql or not self.jql.strip():
            raise ValueError(
                "marker: jql needs a jql template, e.g. "
                "'project = {project} AND \"Escalation ID\" ~ {escalation_id}'"
            )
        if not {"escalation_id", "label"} & set(jql_template_names(self.jql)):
            raise ValueError("the jql template must use {escalation_id} or {label}")
        return self


class JiraSettings(Strict, Network):
    url: str = "https://example.atlassian.net"
    flavor: Literal["cloud", "datacenter"] = "cloud"
    email: str | None = None
    api_token: Secret | None = None
    pat: Secret | None = None
    # A service account's OAuth 2.0 client credentials, instead of email + api_token or pat.
    oauth: JiraOAuth | None = None
    project: str = Field("AIGOV", min_length=1, max_length=255)
    webhook_secret: Secret | None = None
    # Extra secrets accepted too, for rotation (the old and the new one, for a while).
    webhook_secrets: list[Secret] = Field(default_factory=list)
    # Jira does not bind its signature to a time: older deliveries are replays (0: no limit).
    webhook_max_age_seconds: int = Field(24 * 3600, ge=0)
    fields: JiraFieldNames = JiraFieldNames()
    timeout_seconds: float = Field(30.0, gt=0)
    # Client-side budget, kept below the site's limit so Jira rarely has to say 429.
    max_requests_per_second: float = Field(10.0, gt=0)
    # Search is eventually consistent: after an uncertain create, wait this long before trusting
    # a "not found" and creating again.
    search_consistency_delay_seconds: float = Field(15.0, ge=0)
    retry_after_floor_seconds: float = Field(1.0, ge=0)
    metadata_cache_seconds: float = Field(300.0, ge=0)
    correlation: CorrelationSettings = CorrelationSettings()

    def browse_url(self, key: str) -> str:
        """The issue's page for people: ``<url>/browse/<KEY>``."""
        return f"{self.url.rstrip('/')}/browse/{key}"

    @model_validator(mode="after")
    def _one_way_to_log_in(self) -> JiraSettings:
        if self.oauth is None:
            return self
        others = [f"jira.{k}" for k in ("email", "api_token", "pat") if getattr(self, k)]
        if others:
            raise ValueError(
                f"jira.oauth replaces {' and '.join(others)}: remove {' and '.join(others)} "
                "(or jira.oauth); the bridge logs in one way"
            )
        if self.flavor == "datacenter" and self.oauth.api_url is not None:
            raise ValueError(
                "jira.oauth.api_url is the Cloud API gateway; remove it on Data Center"
            )
        return self

    @model_validator(mode="after")
    def _marker_is_comparable(self) -> JiraSettings:
        marker = self.correlation
        if self.fields.escalation_id is None and (
            marker.marker == "field" or (marker.marker == "jql" and not marker.add_label)
        ):
            raise ValueError(
                f"correlation.marker: {marker.marker} compares the Escalation ID field exactly, "
                "but fields.escalation_id is null; name the field or use marker: label"
            )
        return self
