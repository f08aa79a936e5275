"""Run an ASGI app (a sandbox, or the bridge) on a real loopback socket.

`serve_app` runs uvicorn inside the current event loop; `serve_app_in_thread` runs it on its own
loop in a thread, for tests that put the app beside a subprocess. Port 0 picks a free port and
the yielded base URL carries the real one. `serve_app(..., certfile=PEM)` serves HTTPS with that
certificate (and its key, in the same file or ``keyfile``), as a site behind an internal CA
does. Quiet by default; nothing happens at import.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

import uvicorn
from starlette.types import ASGIApp


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP: asyncio only sets TCP_NODELAY on accepted sockets that say so,
    # and without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.setblocking(False)
    return sock


def _url(host: str, sock: socket.socket, scheme: str = "http") -> str:
    port = sock.getsockname()[1]
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def _config(
    app: ASGIApp, host: str, port: int, log_level: str, **tls: str | None
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        log_config=None,
        access_log=False,
        lifespan="off",
        ws="none",
        timeout_graceful_shutdown=1,
        ssl_certfile=tls.get("certfile"),
        ssl_keyfile=tls.get("keyfile"),
    )


async def _stop(server: uvicorn.Server, grace: float) -> None:
    """Close listeners, let in-flight requests finish for ``grace`` seconds, cancel the rest."""
    for listener in server.servers:
        listener.close()
    for connection in list(server.server_state.connections):
        connection.shutdown()
    for _ in range(max(1, int(grace / 0.01))):
        if not server.server_state.connections:
            break
        await asyncio.sleep(0.01)
    pending = list(server.server_state.tasks)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for listener in server.servers:
        await listener.wait_closed()


@contextlib.asynccontextmanager
async def serve_app(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    log_level: str = "warning",
    grace: float = 1.0,
    certfile: str | None = None,
    keyfile: str | None = None,
) -> AsyncIterator[str]:
    """Serve ``app`` on ``host:port`` in this event loop (HTTPS with ``certfile``); yields the
    base URL."""
    sock = _bind(host, port)
    config = _config(app, host, port, log_level, certfile=certfile, keyfile=keyfile)
    config.load()
    server = uvicorn.Server(config)
    server.lifespan = config.lifespan_class(config)
    try:
        await server.startup(sockets=[sock])
        await server.on_tick(0)  # sets the Date header like a running server
        yield _url(host, sock, "https" if certfile else "http")
    finally:
        if getattr(server, "servers", None) is not None:
            await _stop(server, grace)
        sock.close()


@contextlib.contextmanager
def serve_app_in_thread(
    app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning"
) -> Iterator[str]:
    """Serve ``app`` from a daemon thread with its own event loop; yields the base URL."""
    sock = _bind(host, port)
    server = uvicorn.Server(_config(app, host, port, log_level))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="sandbox-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.01)
    try:
        yield _url(host, sock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
