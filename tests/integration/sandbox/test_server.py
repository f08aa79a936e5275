"""serve_app and serve_app_in_thread run an ASGI app on a real loopback socket."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from kt_jira.sandbox import JiraSandbox, serve_app, serve_app_in_thread


async def test_serve_app_picks_a_free_port_and_stops_cleanly() -> None:
    """Port 0 yields the real port; after the block the port refuses connections."""
    sandbox = JiraSandbox()
    async with serve_app(sandbox.app) as url, httpx.AsyncClient(base_url=url) as http:
        assert not url.endswith(":0")
        response = await http.get("/_sandbox/stats")
        assert response.status_code == 200
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as http:
            await http.get(f"{url}/_sandbox/stats")


def test_serve_app_in_thread_serves_a_subprocess() -> None:
    """The thread variant answers a separate process while this thread blocks on it."""
    sandbox = JiraSandbox()
    with serve_app_in_thread(sandbox.app) as url:
        code = (
            "import sys, urllib.request;"
            f"r = urllib.request.urlopen('{url}/_sandbox/stats');"
            "sys.exit(0 if r.status == 200 else 1)"
        )
        done = subprocess.run([sys.executable, "-c", code], timeout=30, check=False)
        assert done.returncode == 0
        assert httpx.get(f"{url}/_sandbox/issues").json() == {"issues": []}
    assert sandbox.stats.total == 0  # admin routes are not counted as /rest traffic
