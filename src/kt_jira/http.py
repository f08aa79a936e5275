"""The outbound HTTP session shared by the Jira and Keeptrusts clients.

One place decides how kt-jira talks HTTP to the outside: JSON accepted, a recognisable
User-Agent, never following redirects (a redirect could carry credentials elsewhere), and an
``async with`` lifecycle. The clients translate errors themselves.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

import httpx


def outbound_client(
    *,
    base_url: str,
    timeout_seconds: float,
    transport: httpx.AsyncBaseTransport | None,
    auth: httpx.Auth | None = None,
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url.rstrip("/"),
        auth=auth,
        timeout=httpx.Timeout(timeout_seconds),
        transport=transport,
        headers={"Accept": "application/json", "User-Agent": "kt-jira"},
        follow_redirects=False,
    )


class HttpSession:
    """``async with`` opens ``self._http`` from ``_connect()`` and closes it on exit."""

    _http: httpx.AsyncClient | None = None

    def _connect(self) -> httpx.AsyncClient:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        self._http = self._connect()
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
