"""The shared outbound client: a test transport is the whole network, whatever the proxy."""

from __future__ import annotations

import httpx

from kt_jira.config.network import ProxyUrl
from kt_jira.http import outbound_client


async def test_a_transport_is_used_even_when_a_proxy_is_configured() -> None:
    """The proxy (here one that does not exist) does not replace the test seam, and neither
    does HTTPS_PROXY from the environment."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"ok": True})

    proxy = ProxyUrl(url="http://127.0.0.1:9")
    async with outbound_client(
        base_url="https://jira.example",
        timeout_seconds=5,
        transport=httpx.MockTransport(answer),
        proxy=proxy,
    ) as http:
        response = await http.get("/rest/api/3/myself")
    assert response.json() == {"ok": True}
    assert seen == ["https://jira.example/rest/api/3/myself"]
