"""``KeeptrustsClient``: async httpx for the Keeptrusts API, errors mapped at one boundary.

``_request`` is the only place httpx exceptions and HTTP statuses become kt_jira errors:

    RetryableError      network failures, 408, 5xx; RateLimited for 429 (``Retry-After``)
    PermanentError      400, 401, 403, 404, 422, ...: the text says what to fix

A resolve is safe to repeat: Keeptrusts resolves are irreversible, so "already resolved" (409,
or a 400/422 saying so) is a success, and a retry after an unknown outcome finds it so. Nothing
here writes the token or the Authorization header into a message or a log.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote

import httpx
import structlog

from kt_jira.config.models import KeeptrustsSettings
from kt_jira.errors import ConfigError, KtJiraError, PermanentError, RateLimited, RetryableError
from kt_jira.http import HttpSession, certificate_problem, outbound_client

log = structlog.get_logger("kt_jira.keeptrusts")
_ADVICE = {
    400: "the request was refused; check keeptrusts.resolve_path and the sync mapping",
    401: "Keeptrusts did not accept the token: check keeptrusts.api_token",
    403: "the API token may not resolve escalations: give it that permission",
    404: "no such escalation (or path): check keeptrusts.api_url and keeptrusts.resolve_path",
    422: "Keeptrusts refused the values: check sync.resolution_to_keeptrusts and sync.actor_map",
}


class ResolveOutcome(StrEnum):
    RESOLVED = "resolved"  #: this call resolved it
    ALREADY_CLOSED = "already_closed"  #: resolved or expired before: nothing left to do


class KeeptrustsClient(HttpSession):
    """Talks to one Keeptrusts tenant; open it with ``async with KeeptrustsClient(...)``.

    ``transport`` is the test seam (``httpx.MockTransport``, or none for the network).
    """

    def __init__(
        self, settings: KeeptrustsSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.settings = settings
        self._transport = transport
        self._http: httpx.AsyncClient | None = None

    def _connect(self) -> httpx.AsyncClient:
        return outbound_client(
            base_url=self.settings.api_url,
            timeout_seconds=self.settings.timeout_seconds,
            transport=self._transport,
            proxy=self.settings.proxy,
            ca_bundle=self.settings.ca_bundle,
        )

    async def resolve(
        self, escalation_id: str, *, resolution: str, notes: str, actor_id: str
    ) -> ResolveOutcome:
        """``POST {resolve_path}`` with ``{resolution, notes}`` as ``X-Actor-Id: actor_id``."""
        path = self.settings.resolve_path.replace("{id}", quote(escalation_id, safe=""))
        response = await self._request(
            "POST",
            path,
            json={"resolution": resolution, "notes": notes},
            headers={"X-Actor-Id": actor_id},
            accept=(409, 400, 422),
        )
        if response.is_success:
            return ResolveOutcome.RESOLVED
        if response.status_code == 409 or _says_already_closed(response):
            log.info("keeptrusts.already_closed", escalation_id=escalation_id)
            return ResolveOutcome.ALREADY_CLOSED
        raise _status_error(response, what=f"POST {path}")

    async def escalation_page(self, path: str, params: Mapping[str, Any]) -> Any:
        """One page of ``GET {path}`` (an escalations listing), as raw JSON.

        The path and parameter names come from ``reconcile:``: Keeptrusts documents none.
        """
        return _json(await self._request("GET", path, params=params))

    async def get_escalation(self, escalation_id: str, *, path: str) -> dict[str, Any] | None:
        """``GET {path}/{id}`` as raw JSON; ``None`` when Keeptrusts answers 404."""
        url = f"{path.rstrip('/')}/{quote(escalation_id, safe='')}"
        response = await self._request("GET", url, accept=(404,))
        if response.status_code == 404:
            return None
        data = _json(response)
        return data if isinstance(data, dict) else {}

    # -- webhook registration (``kt-jira setup keeptrusts``) -------------------------------

    async def webhooks(self) -> list[dict[str, Any]]:
        """Every registered webhook, following ``next_cursor``."""
        hooks: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(100):
            params = {"cursor": cursor} if cursor else None
            page = _json(await self._request("GET", "/v1/webhooks", params=params))
            items = page.get("data") if isinstance(page, dict) else page
            hooks += [h for h in items or [] if isinstance(h, dict)]
            cursor = page.get("next_cursor") if isinstance(page, dict) else None
            if not cursor:
                break
        return hooks

    async def create_webhook(self, body: dict[str, Any]) -> dict[str, Any]:
        created = _json(await self._request("POST", "/v1/webhooks", json=body))
        return created if isinstance(created, dict) else {}

    async def delete_webhook(self, webhook_id: str) -> None:
        await self._request("DELETE", f"/v1/webhooks/{quote(webhook_id, safe='')}")

    # -- the boundary ----------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        accept: tuple[int, ...] = (),
    ) -> httpx.Response:
        """Send one request; a 2xx or a status in ``accept`` is returned, the rest raised."""
        if self._http is None:
            raise RuntimeError("KeeptrustsClient is not open; use 'async with'")
        if self.settings.api_token is None:
            raise ConfigError(
                "keeptrusts.api_token is not set: the Keeptrusts API needs an API token "
                "(e.g. env:KEEPTRUSTS_API_TOKEN)"
            )
        what = f"{method} {path}"
        sent = {"Authorization": f"Bearer {self.settings.api_token.reveal()}", **(headers or {})}
        try:
            response = await self._http.request(
                method, path, json=json, params=params, headers=sent
            )
        except httpx.HTTPError as exc:
            log.warning("keeptrusts.request_failed", request=what, error=type(exc).__name__)
            untrusted = certificate_problem(exc)
            if untrusted is not None:
                raise PermanentError(
                    f"cannot send {what}: the Keeptrusts API's TLS certificate is not trusted "
                    f"({untrusted}); set keeptrusts.ca_bundle to the PEM file of the CA that "
                    "signs it, or check keeptrusts.api_url"
                ) from exc
            if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
                raise PermanentError(
                    f"cannot send {what} ({type(exc).__name__}); check keeptrusts.api_url"
                ) from exc
            raise RetryableError(
                f"Keeptrusts did not answer {what} ({type(exc).__name__}: {exc}); "
                "it will be retried"
            ) from exc
        if response.is_success or response.status_code in accept:
            return response
        raise _status_error(response, what=what)


def _status_error(response: httpx.Response, *, what: str) -> KtJiraError:
    status = response.status_code
    detail = _detail(response)
    head = f"Keeptrusts answered {status} to {what}" + (f": {detail}" if detail else "")
    log.warning("keeptrusts.request_rejected", request=what, status=status)
    if status == 429:
        seconds = _retry_after(response)
        return RateLimited(f"{head}; waiting {seconds:g} s", retry_after=seconds)
    if status == 408 or status >= 500:
        return RetryableError(f"{head}; it will be retried", retry_after=_retry_after(response))
    advice = _ADVICE.get(status, "retrying cannot help; check the request")
    return PermanentError(f"{head}; {advice}", status=status)


def _says_already_closed(response: httpx.Response) -> bool:
    text = _detail(response).casefold() + " " + response.text[:500].casefold()
    return "already" in text and any(w in text for w in ("resolved", "closed", "expired"))


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _detail(response: httpx.Response) -> str:
    data = _json(response)
    if isinstance(data, dict):
        parts = [str(data[k]) for k in ("error", "detail", "message") if data.get(k)]
        return ": ".join(parts)[:300]
    return " ".join(response.text.split())[:300]


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after", "").strip()
    if not raw:
        return None if response.status_code != 429 else 1.0
    if raw.replace(".", "", 1).isdigit():
        return max(1.0, float(raw))
    try:
        moment = parsedate_to_datetime(raw)
        date = parsedate_to_datetime(response.headers.get("date", raw))
    except (TypeError, ValueError):
        return 1.0
    return max(1.0, (moment - date).total_seconds())
