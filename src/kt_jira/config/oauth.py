"""``jira.oauth``: an Atlassian service account's OAuth 2.0 client credentials, instead of
email + API token (Cloud) or a personal access token (Data Center). Re-exported by
``kt_jira.config.models``.

Only the values live here; ``jira/oauth.py`` fetches and renews the token. The secret (and the
client id, when it is given as a reference) is read again on every token request, so a rotated
credential is picked up without a restart.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, field_validator

from kt_jira.config.secrets import SCHEMES, Secret, SecretRef


def _secret_or_text(value: Any) -> Any:
    if isinstance(value, str) and value.strip().startswith(SCHEMES):
        return SecretRef(value.strip())
    return value.strip() if isinstance(value, str) else value


def _shown(value: SecretRef | str) -> str:
    return value.reference if isinstance(value, SecretRef) else value


#: A value that is not secret on its own but may be kept beside the secret (``env:``, ``file:``).
SecretOrText = Annotated[SecretRef | str, BeforeValidator(_secret_or_text), PlainSerializer(_shown)]


def _http_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value.strip().rstrip("/")


class JiraOAuth(BaseModel):
    """Client credentials of a service account (``jira.oauth``).

    ``token_url`` defaults to ``https://auth.atlassian.com/oauth/token`` on Cloud and to
    ``<jira.url>/rest/oauth2/latest/token`` on Data Center; ``api_url`` is the Cloud API
    gateway's base (``https://api.atlassian.com``), through which every call then goes.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    client_id: SecretOrText
    client_secret: Secret
    token_url: str | None = None
    scopes: list[str] = Field(default_factory=list)
    api_url: str | None = None

    @field_validator("client_id")
    @classmethod
    def _client_id(cls, value: SecretRef | str) -> SecretRef | str:
        if isinstance(value, str) and not value:
            raise ValueError("must not be empty: the service account credential's client id")
        return value

    @field_validator("token_url", "api_url")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        return _http_url(value)

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[str]) -> list[str]:
        for scope in value:
            if not scope or any(c.isspace() for c in scope):
                raise ValueError(f"{scope!r} is not a scope (one word each, e.g. read:jira-work)")
        return value

    def client_id_value(self) -> str:
        """The client id, read from its reference when it is one."""
        return self.client_id.reveal() if isinstance(self.client_id, SecretRef) else self.client_id
