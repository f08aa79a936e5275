"""The ingest baseline: a bare Starlette endpoint on the bridge's own server stack.

``POST /webhooks/keeptrusts`` reads the body and answers ``202 {"status":"accepted"}``; no
verification, no database. It is served exactly as ``kt-jira serve`` serves the bridge
(``Bridge.run``): one process, ``asyncio.run`` of a ``uvicorn.Server`` with the same
``uvicorn.Config`` arguments, so the ratio measures what the bridge adds per delivery.

    python -m bench.bare_server --port 8099
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Iterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp


async def accept(request: Request) -> JSONResponse:
    await request.body()
    return JSONResponse({"status": "accepted"}, status_code=202)


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def create_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/webhooks/keeptrusts", accept, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


async def serve(port: int) -> None:
    await serve_like_bridge(create_app(), port)


async def serve_like_bridge(app: ASGIApp, port: int) -> None:
    """Serve ``app`` on 127.0.0.1:``port`` until SIGTERM/SIGINT, as ``Bridge.run`` serves the
    bridge (also used by ``bench.guide_server``)."""
    # The same arguments as kt_jira.service.Bridge.run.
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    server = _Server(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
    await server.serve()


class _Server(uvicorn.Server):
    """Like the bridge's ``_Server``: signals are handled by the loop, not by uvicorn."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="bare Starlette baseline for bench.ingest")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
