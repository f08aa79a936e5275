"""How the bridge authenticates to Jira: Basic (email + API token) on Cloud, a Bearer PAT on DC.

The secret is revealed only here, into the request header; ``repr`` never shows it, and a
missing credential is a ``ConfigError`` that names the key to set.
"""

from __future__ import annotations

from typing import Any

import httpx

from kt_jira.config.models import JiraSettings
from kt_jira.errors import ConfigError


class BearerAuth(httpx.Auth):
    """Data Center personal access token; a PAT is not accepted as a Basic password."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(<redacted>)"


def auth_for(settings: JiraSettings) -> httpx.Auth:
    if settings.flavor == "datacenter":
        if settings.pat is None:
            raise ConfigError(
                "jira.pat is not set: Jira Data Center authenticates with a personal access "
                "token; set jira.pat (e.g. env:JIRA_PAT)"
            )
        return BearerAuth(settings.pat.reveal())
    if not settings.email:
        raise ConfigError(
            "jira.email is not set: Jira Cloud authenticates with the bot account's email and "
            "an API token; set jira.email"
        )
    if settings.api_token is None:
        raise ConfigError(
            "jira.api_token is not set: Jira Cloud needs the bot account's API token; "
            "set jira.api_token (e.g. env:JIRA_API_TOKEN)"
        )
    return httpx.BasicAuth(settings.email, settings.api_token.reveal())
