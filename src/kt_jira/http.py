"""The outbound HTTP session shared by the Jira and Keeptrusts clients and the SLA notifier.

One place decides how kt-jira talks HTTP to the outside: JSON accepted, a recognisable
User-Agent, never following redirects (a redirect could carry credentials elsewhere), the
service's proxy and CA bundle, and an ``async with`` lifecycle. The clients translate errors
themselves; ``certificate_problem`` tells them when a failure was an untrusted certificate.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from kt_jira.config.network import ProxyUrl

HEADERS = {"Accept": "application/json", "User-Agent": "kt-jira"}


def outbound_client(
    *,
    base_url: str,
    timeout_seconds: float,
    transport: httpx.AsyncBaseTransport | None,
    auth: httpx.Auth | None = None,
    proxy: ProxyUrl | None = None,
    ca_bundle: Path | None = None,
) -> httpx.AsyncClient:
    """A client for one service. ``proxy`` sends every request through it (without one, httpx
    honours ``HTTPS_PROXY``/``NO_PROXY``); ``ca_bundle`` is the only trust store. A
    ``transport`` (the test seam: ASGI or mock) is the whole network: proxy, CA bundle and the
    environment do not apply to it."""
    direct = transport is None
    verify: ssl.SSLContext | bool = True
    if direct and ca_bundle is not None:
        # httpx 0.28 deprecates verify=<path>: an SSL context is its way to name a CA file.
        verify = ssl.create_default_context(cafile=str(ca_bundle))
    return httpx.AsyncClient(
        base_url=base_url.rstrip("/"),
        auth=auth,
        timeout=httpx.Timeout(timeout_seconds),
        transport=transport,
        proxy=proxy.reveal() if direct and proxy is not None else None,
        verify=verify,
        trust_env=direct,
        headers=HEADERS,
        follow_redirects=False,
    )


def certificate_problem(exc: BaseException) -> str | None:
    """Why the service's certificate was refused, when that is what ``exc`` came from (httpx
    chains the ``ssl`` error under its ``ConnectError``); else ``None``."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"{seen.reason}: {seen.verify_message}" if seen.verify_message else str(seen)
        seen = seen.__cause__ or seen.__context__
    return None


class HttpSession:
    """``async with`` opens ``self._http`` from ``_connect()``, lets ``_opened`` read what it
    needs once (none by default), and closes it on exit."""

    _http: httpx.AsyncClient | None = None

    def _connect(self) -> httpx.AsyncClient:
        raise NotImplementedError

    async def _opened(self, http: httpx.AsyncClient) -> None:
        """Called once the session is open; a failure closes it again."""

    async def __aenter__(self) -> Self:
        http = self._connect()
        try:
            await self._opened(http)
        except BaseException:
            await http.aclose()
            raise
        self._http = http
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
