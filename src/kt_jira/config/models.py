"""The configuration tree: strict pydantic models loaded once from YAML at the edge.

Unknown keys and bad values fail with the key, the file and the line. Secrets are
``SecretRef`` values that never print. ``KT_JIRA__SECTION__KEY`` environment variables override
the file. Key paths here are a public contract (DESIGN.md): do not rename them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from kt_jira.config.base import Strict as Strict
from kt_jira.config.jira import CorrelationSettings as CorrelationSettings
from kt_jira.config.jira import JiraFieldNames as JiraFieldNames
from kt_jira.config.jira import JiraSettings as JiraSettings
from kt_jira.config.jira import jql_template_names as jql_template_names
from kt_jira.config.network import Network
from kt_jira.config.oauth import JiraOAuth as JiraOAuth
from kt_jira.config.rules import Categories as Categories  # re-exported: part of the tree
from kt_jira.config.rules import Rule as Rule
from kt_jira.config.rules import RuleMatch as RuleMatch
from kt_jira.config.rules import RuleSet as RuleSet
from kt_jira.config.rules import Templates as Templates
from kt_jira.config.secrets import Secret, SecretRef
from kt_jira.config.sla import Duration
from kt_jira.config.sla import FeedbackSettings as FeedbackSettings
from kt_jira.config.sla import SlaSettings as SlaSettings
from kt_jira.config.storm import StormSettings as StormSettings
from kt_jira.tickets.calendar import BusinessCalendar
from kt_jira.tickets.sla import parse_duration

ENV_PREFIX = "KT_JIRA__"


class ServerSettings(Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    admin_token: Secret | None = None
    # The bridge's base URL as Jira and Keeptrusts reach it (``doctor`` checks the webhooks).
    public_url: str | None = None
    max_body_bytes: int = Field(1024 * 1024, ge=1024, le=64 * 1024 * 1024)


class SignatureSettings(Strict):
    scheme: Literal["hmac-sha256", "standard-webhooks"] = "hmac-sha256"
    header: str = "X-Keeptrusts-Signature"
    encoding: Literal["hex", "base64"] = "hex"
    timestamp_header: str | None = None
    tolerance_seconds: int = Field(300, ge=1)
    delivery_id_header: str = "X-Keeptrusts-Delivery"


class KeeptrustsWebhookSettings(Strict):
    secrets: list[Secret] = Field(default_factory=list)
    insecure_allow_unsigned: bool = False
    signature: SignatureSettings = SignatureSettings()


class KeeptrustsSettings(Strict, Network):
    api_url: str = "https://api.keeptrusts.com"
    api_token: Secret | None = None
    console_url: str = "https://console.keeptrusts.com"
    webhook: KeeptrustsWebhookSettings = KeeptrustsWebhookSettings()
    timeout_seconds: float = Field(15.0, gt=0)
    # The docs show no REST path for resolve; ``{id}`` is the escalation id (URL-quoted).
    resolve_path: str = Field("/v1/escalations/{id}/resolve", pattern=r"^/.*\{id\}")


class WorkerSettings(Strict):
    concurrency: int = Field(4, ge=1, le=256)
    lease_seconds: float = Field(60.0, ge=1)
    poll_interval_seconds: float = Field(0.5, gt=0)
    max_attempts: int = Field(12, ge=1)
    backoff_base_seconds: float = Field(2.0, gt=0)
    backoff_max_seconds: float = Field(600.0, gt=0)
    shutdown_grace_seconds: float = Field(20.0, ge=0)


class ReconcileSettings(Strict):
    """``kt-jira reconcile`` and its periodic run in the worker (see ``reconcile.py``)."""

    # How often the worker reconciles (one replica at a time); null or "0" turns it off.
    interval: str | None = "15m"
    # How far back Jira search looks for changed issues (`updated >= -since`).
    since: str = "7d"
    # Issues of the bridge carry this label; the Jira search is narrowed to it.
    jira_label: str = "ai-governance"
    # Keeptrusts' list-escalations API; names are configurable because the docs show none.
    escalations_path: str = "/v1/escalations"
    status_param: str = "status"
    open_status: str = "open"
    cursor_param: str = "cursor"
    limit_param: str = "limit"
    page_size: int = Field(100, ge=1, le=1000)
    data_key: str = "data"
    next_cursor_key: str = "next_cursor"
    max_pages: int = Field(1000, ge=1)
    # The resolution a folded duplicate gets, when the transition screen offers it.
    duplicate_resolution: str = "Duplicate"

    @field_validator("interval", mode="before")
    @classmethod
    def _interval(cls, value: Any) -> str | None:
        if value is None or str(value).strip() in ("", "0"):
            return None
        parse_duration(str(value).strip())
        return str(value).strip()

    @field_validator("since")
    @classmethod
    def _since(cls, value: str) -> str:
        parse_duration(value)
        return value.strip()


class SyncSettings(Strict):
    """Two-way status sync (``sync.py``); each direction has its own switch.

    Outbound is Keeptrusts -> Jira (an upstream resolution moves the issue to done); inbound is
    Jira -> Keeptrusts (an issue entering a done status resolves the escalation).
    """

    status_outbound: bool = True
    status_inbound: bool = True
    # Jira resolution name -> Keeptrusts outcome; a name not listed passes through (the guide).
    resolution_to_keeptrusts: dict[str, str] = Field(default_factory=dict)
    # Keeptrusts outcome -> Jira resolution name; unlisted: Done, Fixed, ... if the screen has it.
    resolution_to_jira: dict[str, str] = Field(default_factory=dict)
    # The Jira-side resolution assumed when an issue is done without one.
    default_resolution: str = Field("Done", min_length=1)
    # Jira accountId -> Keeptrusts user id sent as X-Actor-Id; anyone else is default_actor_id.
    actor_map: dict[str, str] = Field(default_factory=dict)
    default_actor_id: str = Field("kt-jira", min_length=1)
    # Added (with a comment) when the workflow has no path to a done status.
    resolved_upstream_label: str = Field(
        "kt-resolved-upstream", min_length=1, max_length=255, pattern=r"^\S+$"
    )
    max_transition_hops: int = Field(5, ge=1, le=20)
    # Jira webhooks that name no author count as echoes this long after the bridge's own writes.
    echo_window_seconds: float = Field(120.0, ge=0)
    # A resolve that finds the issue not created yet looks again after this long.
    pending_create_retry_seconds: float = Field(5.0, gt=0)


class SecretsSettings(Strict):
    """How secret references resolve (``config.secrets``)."""

    # How long an ssm: value is used before it is fetched again (rotation without a restart).
    ssm_ttl: Duration = "5m"

    @property
    def ssm_ttl_seconds(self) -> float:
        return parse_duration(self.ssm_ttl).total_seconds()


@dataclass(frozen=True, kw_only=True)
class Content:
    """What decides a ticket's content: all ``tickets.rules.decide`` may read of the config."""

    rules: tuple[Rule, ...]
    categories: Categories
    templates: Templates
    project: str  #: the default project, for rules that name none
    console_url: str
    fields: JiraFieldNames
    #: Business calendars by name (``sla.calendars``), for rules that name one.
    calendars: Mapping[str, BusinessCalendar] = field(default_factory=dict)
    #: The label every ticket carries (``reconcile.jira_label``), searched by reconcile and jql.
    bridge_label: str = "ai-governance"


class Settings(Strict):
    database_url: str = "sqlite:///kt-jira.db"
    # The PostgreSQL password as a secret reference, for a database_url that carries none.
    database_password: Secret | None = None
    secrets: SecretsSettings = SecretsSettings()
    server: ServerSettings = ServerSettings()
    keeptrusts: KeeptrustsSettings = KeeptrustsSettings()
    jira: JiraSettings = JiraSettings()
    worker: WorkerSettings = WorkerSettings()
    reconcile: ReconcileSettings = ReconcileSettings()
    sync: SyncSettings = SyncSettings()
    rules: list[Rule] = Field(default_factory=list)
    # Policy name (case-insensitive glob or re:regex) -> category, for payloads without one.
    categories: Categories = Field(default_factory=dict)
    templates: Templates = Templates()
    sla: SlaSettings = SlaSettings()
    feedback: FeedbackSettings = FeedbackSettings()
    storm: StormSettings = StormSettings()

    @field_validator("database_password")
    @classmethod
    def _one_password(cls, value: SecretRef | None, info: ValidationInfo) -> SecretRef | None:
        url = urlsplit(str(info.data.get("database_url", "")))
        if value is not None and url.scheme.startswith("sqlite"):
            raise ValueError("database_url is SQLite, which takes no password; remove this key")
        if value is not None and url.password is not None:
            raise ValueError(
                "database_url already carries a password: remove it from database_url and keep "
                "it only here"
            )
        return value

    @model_validator(mode="after")
    def _calendars_exist(self) -> Settings:
        known = set(self.sla.calendars)
        missing = [
            f"rule '{rule.name}': set.sla_calendar {rule.set.sla_calendar!r} is not defined; "
            f"add it under sla.calendars (defined: {', '.join(sorted(known)) or 'none'})"
            for rule in self.rules
            if rule.set.sla_calendar is not None and rule.set.sla_calendar not in known
        ]
        if missing:
            raise ValueError("; ".join(missing))
        return self

    @property
    def content(self) -> Content:
        return Content(
            rules=tuple(self.rules),
            categories=self.categories,
            templates=self.templates,
            project=self.jira.project,
            console_url=self.keeptrusts.console_url,
            fields=self.jira.fields,
            calendars={name: c.calendar() for name, c in self.sla.calendars.items()},
            bridge_label=self.reconcile.jira_label,
        )
